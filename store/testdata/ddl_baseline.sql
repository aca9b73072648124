CREATE DATABASE IF NOT EXISTS cairn;

CREATE TABLE IF NOT EXISTS cairn.schema_migrations
(
    version    UInt32,
    name       String,
    flavour    String,
    applied_at DateTime
)
ENGINE = MergeTree
ORDER BY version;

CREATE TABLE IF NOT EXISTS cairn.samples
(
    tenant      String,
    fingerprint UInt64,
    timestamp   Int64,
    value       Float64,
    flags       UInt8
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(intDiv(timestamp, 86400000))
ORDER BY (tenant, fingerprint, timestamp)
SETTINGS index_granularity = 8192;

CREATE TABLE IF NOT EXISTS cairn.series
(
    tenant       String,
    date         Date,
    fingerprint  UInt64,
    metric_name  String,
    label_names  Array(String),
    label_values Array(String)
)
ENGINE = ReplacingMergeTree
PARTITION BY date
ORDER BY (tenant, metric_name, fingerprint, date)
SETTINGS index_granularity = 8192;

CREATE TABLE IF NOT EXISTS cairn.series_labels
(
    tenant      String,
    date        Date,
    name        String,
    value       String,
    fingerprint UInt64
)
ENGINE = ReplacingMergeTree
PARTITION BY date
ORDER BY (tenant, name, value, fingerprint, date)
SETTINGS index_granularity = 8192;

CREATE TABLE IF NOT EXISTS cairn.log_records
(
    tenant          String,
    fingerprint     UInt64,
    timestamp       Int64,
    line            String,
    metadata_names  Array(String),
    metadata_values Array(String)
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(intDiv(timestamp, 86400000000000))
ORDER BY (tenant, fingerprint, timestamp, cityHash64(line))
SETTINGS index_granularity = 8192;

CREATE TABLE IF NOT EXISTS cairn.log_streams
(
    tenant       String,
    date         Date,
    fingerprint  UInt64,
    label_names  Array(String),
    label_values Array(String)
)
ENGINE = ReplacingMergeTree
PARTITION BY date
ORDER BY (tenant, fingerprint, date)
SETTINGS index_granularity = 8192;

CREATE TABLE IF NOT EXISTS cairn.log_labels
(
    tenant      String,
    date        Date,
    name        String,
    value       String,
    fingerprint UInt64
)
ENGINE = ReplacingMergeTree
PARTITION BY date
ORDER BY (tenant, name, value, fingerprint, date)
SETTINGS index_granularity = 8192;

CREATE TABLE IF NOT EXISTS cairn.build_events
(
    tenant       String,
    id           String,
    version      UInt64,
    service      String,
    pipeline     String,
    kind         String,
    status       String,
    commit       String,
    branch       String,
    environment  String,
    started_at   Int64,
    finished_at  Int64,
    commit_time  Int64,
    url          String,
    trigger      String,
    label_names  Array(String),
    label_values Array(String)
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toDate(intDiv(started_at, 86400000))
ORDER BY (tenant, id)
SETTINGS index_granularity = 8192;

CREATE TABLE IF NOT EXISTS cairn.alert_states
(
    tenant       String,
    service      String,
    fingerprint  UInt64,
    timestamp    Int64,
    state        String,
    rule_group   String,
    alert_name   String,
    severity     String,
    active_at    Int64,
    fired_at     Int64,
    resolved_at  Int64,
    value        Float64,
    label_names  Array(String),
    label_values Array(String)
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(intDiv(timestamp, 86400000))
ORDER BY (tenant, service, fingerprint, timestamp, state)
SETTINGS index_granularity = 8192;

CREATE TABLE IF NOT EXISTS cairn.samples_1m
(
    tenant         String,
    fingerprint    UInt64,
    minute         Int64,
    value_min      AggregateFunction(min, Float64),
    value_max      AggregateFunction(max, Float64),
    value_sum      AggregateFunction(sum, Float64),
    value_count    AggregateFunction(count),
    value_last     AggregateFunction(argMax, Float64, Int64),
    last_timestamp AggregateFunction(max, Int64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toDate(intDiv(minute, 86400000))
ORDER BY (tenant, fingerprint, minute)
SETTINGS index_granularity = 8192;

CREATE MATERIALIZED VIEW IF NOT EXISTS cairn.samples_1m_mv TO cairn.samples_1m
AS SELECT tenant, fingerprint, intDiv(timestamp, 60000) * 60000 AS minute,
    minState(value) AS value_min, maxState(value) AS value_max,
    sumState(value) AS value_sum, countState() AS value_count,
    argMaxState(value, timestamp) AS value_last, maxState(timestamp) AS last_timestamp
FROM cairn.samples
WHERE flags = 0
GROUP BY tenant, fingerprint, minute;

CREATE TABLE IF NOT EXISTS cairn.histograms
(
    tenant      String,
    fingerprint UInt64,
    timestamp   Int64,
    histogram   String
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(intDiv(timestamp, 86400000))
ORDER BY (tenant, fingerprint, timestamp)
SETTINGS index_granularity = 8192;

CREATE TABLE IF NOT EXISTS cairn.histogram_series
(
    tenant      String,
    date        Date,
    fingerprint UInt64
)
ENGINE = ReplacingMergeTree
PARTITION BY date
ORDER BY (tenant, fingerprint, date)
SETTINGS index_granularity = 8192;

DROP TABLE IF EXISTS cairn.samples_1m_mv;

DROP TABLE IF EXISTS cairn.samples_1m;

CREATE TABLE IF NOT EXISTS cairn.rollups_1m
(
    tenant         String,
    fingerprint    UInt64,
    minute         Int64,
    value_min      Float64,
    value_max      Float64,
    value_sum      Float64,
    value_count    UInt64,
    value_last     Float64,
    last_timestamp Int64
)
ENGINE = ReplacingMergeTree(value_count)
PARTITION BY toDate(intDiv(minute, 86400000))
ORDER BY (tenant, fingerprint, minute)
SETTINGS index_granularity = 8192;
