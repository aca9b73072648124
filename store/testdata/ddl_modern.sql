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
    tenant      String CODEC(ZSTD(3)),
    fingerprint UInt64 CODEC(Delta, ZSTD(3)),
    timestamp   Int64 CODEC(DoubleDelta, ZSTD(3)),
    value       Float64 CODEC(Delta, ZSTD(3)),
    flags       UInt8 CODEC(ZSTD(3))
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(intDiv(timestamp, 86400000))
ORDER BY (tenant, fingerprint, timestamp)
SETTINGS index_granularity = 8192, non_replicated_deduplication_window = 1000, min_compress_block_size = 262144;

CREATE TABLE IF NOT EXISTS cairn.series
(
    tenant       LowCardinality(String),
    date         Date,
    fingerprint  UInt64,
    metric_name  LowCardinality(String),
    label_names  Array(LowCardinality(String)),
    label_values Array(String) CODEC(ZSTD(3))
)
ENGINE = ReplacingMergeTree
PARTITION BY date
ORDER BY (tenant, metric_name, fingerprint, date)
SETTINGS index_granularity = 8192, non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS cairn.series_labels
(
    tenant      LowCardinality(String),
    date        Date,
    name        LowCardinality(String),
    value       String CODEC(ZSTD(3)),
    fingerprint UInt64 CODEC(Delta, ZSTD(3))
)
ENGINE = ReplacingMergeTree
PARTITION BY date
ORDER BY (tenant, name, value, fingerprint, date)
SETTINGS index_granularity = 8192, non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS cairn.log_records
(
    tenant          String CODEC(ZSTD(3)),
    fingerprint     UInt64 CODEC(Delta, ZSTD(1)),
    timestamp       Int64 CODEC(Delta, ZSTD(1)),
    line            String CODEC(ZSTD(1)),
    metadata_names  Array(String) CODEC(ZSTD(1)),
    metadata_values Array(String) CODEC(ZSTD(1)),
    INDEX line_ngrams line TYPE ngrambf_v1(4, 65536, 2, 0) GRANULARITY 1
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(intDiv(timestamp, 86400000000000))
ORDER BY (tenant, fingerprint, timestamp, cityHash64(line))
SETTINGS index_granularity = 8192, non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS cairn.log_streams
(
    tenant       LowCardinality(String),
    date         Date,
    fingerprint  UInt64,
    label_names  Array(LowCardinality(String)),
    label_values Array(String) CODEC(ZSTD(3))
)
ENGINE = ReplacingMergeTree
PARTITION BY date
ORDER BY (tenant, fingerprint, date)
SETTINGS index_granularity = 8192, non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS cairn.log_labels
(
    tenant      LowCardinality(String),
    date        Date,
    name        LowCardinality(String),
    value       String CODEC(ZSTD(3)),
    fingerprint UInt64 CODEC(Delta, ZSTD(3))
)
ENGINE = ReplacingMergeTree
PARTITION BY date
ORDER BY (tenant, name, value, fingerprint, date)
SETTINGS index_granularity = 8192, non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS cairn.build_events
(
    tenant       LowCardinality(String),
    id           String,
    version      UInt64,
    service      LowCardinality(String),
    pipeline     LowCardinality(String),
    kind         LowCardinality(String),
    status       LowCardinality(String),
    commit       String CODEC(ZSTD(1)),
    branch       LowCardinality(String),
    environment  LowCardinality(String),
    started_at   Int64 CODEC(Delta, ZSTD(1)),
    finished_at  Int64 CODEC(Delta, ZSTD(1)),
    commit_time  Int64 CODEC(Delta, ZSTD(1)),
    url          String CODEC(ZSTD(1)),
    trigger      LowCardinality(String),
    label_names  Array(LowCardinality(String)),
    label_values Array(String) CODEC(ZSTD(1))
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toDate(intDiv(started_at, 86400000))
ORDER BY (tenant, id)
SETTINGS index_granularity = 8192, non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS cairn.alert_states
(
    tenant       LowCardinality(String),
    service      LowCardinality(String),
    fingerprint  UInt64,
    timestamp    Int64 CODEC(Delta, ZSTD(1)),
    state        LowCardinality(String),
    rule_group   LowCardinality(String),
    alert_name   LowCardinality(String),
    severity     LowCardinality(String),
    active_at    Int64 CODEC(Delta, ZSTD(1)),
    fired_at     Int64 CODEC(Delta, ZSTD(1)),
    resolved_at  Int64 CODEC(Delta, ZSTD(1)),
    value        Float64 CODEC(Gorilla, ZSTD(1)),
    label_names  Array(LowCardinality(String)),
    label_values Array(String) CODEC(ZSTD(1))
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(intDiv(timestamp, 86400000))
ORDER BY (tenant, service, fingerprint, timestamp, state)
SETTINGS index_granularity = 8192, non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS cairn.samples_1m
(
    tenant         String CODEC(ZSTD(3)),
    fingerprint    UInt64 CODEC(Delta, ZSTD(3)),
    minute         Int64 CODEC(DoubleDelta, ZSTD(3)),
    value_min      AggregateFunction(min, Float64) CODEC(ZSTD(3)),
    value_max      AggregateFunction(max, Float64) CODEC(ZSTD(3)),
    value_sum      AggregateFunction(sum, Float64) CODEC(ZSTD(3)),
    value_count    AggregateFunction(count) CODEC(ZSTD(3)),
    value_last     AggregateFunction(argMax, Float64, Int64) CODEC(ZSTD(3)),
    last_timestamp AggregateFunction(max, Int64) CODEC(ZSTD(3))
)
ENGINE = AggregatingMergeTree
PARTITION BY toDate(intDiv(minute, 86400000))
ORDER BY (tenant, fingerprint, minute)
SETTINGS index_granularity = 8192, non_replicated_deduplication_window = 1000, min_compress_block_size = 262144;

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
    tenant      String CODEC(ZSTD(3)),
    fingerprint UInt64 CODEC(Delta, ZSTD(3)),
    timestamp   Int64 CODEC(DoubleDelta, ZSTD(3)),
    histogram   String CODEC(ZSTD(3))
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(intDiv(timestamp, 86400000))
ORDER BY (tenant, fingerprint, timestamp)
SETTINGS index_granularity = 8192, non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS cairn.histogram_series
(
    tenant      LowCardinality(String),
    date        Date,
    fingerprint UInt64 CODEC(Delta, ZSTD(3))
)
ENGINE = ReplacingMergeTree
PARTITION BY date
ORDER BY (tenant, fingerprint, date)
SETTINGS index_granularity = 8192, non_replicated_deduplication_window = 1000;

DROP TABLE IF EXISTS cairn.samples_1m_mv;

DROP TABLE IF EXISTS cairn.samples_1m;

CREATE TABLE IF NOT EXISTS cairn.rollups_1m
(
    tenant         String CODEC(ZSTD(3)),
    fingerprint    UInt64 CODEC(Delta, ZSTD(3)),
    minute         Int64 CODEC(DoubleDelta, ZSTD(3)),
    value_min      Float64 CODEC(ZSTD(3)),
    value_max      Float64 CODEC(ZSTD(3)),
    value_sum      Float64 CODEC(ZSTD(3)),
    value_count    UInt64 CODEC(ZSTD(3)),
    value_last     Float64 CODEC(ZSTD(3)),
    last_timestamp Int64 CODEC(DoubleDelta, ZSTD(3))
)
ENGINE = ReplacingMergeTree(value_count)
PARTITION BY toDate(intDiv(minute, 86400000))
ORDER BY (tenant, fingerprint, minute)
SETTINGS index_granularity = 8192, non_replicated_deduplication_window = 1000, min_compress_block_size = 262144;
