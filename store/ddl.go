package store

// The tables of migrations 2 and later; metricsDDL (schema.go) holds
// migration 1. doc.go explains each table: its sort key, partitions and
// what reads it.

// logsDDL creates the log tables: records, the stream index (one row per
// stream per day) and the label index. log_records.tenant and the
// metadata names stay plain Strings even on modern servers, for the same
// reason as samples.tenant: they are on the hot insert path, and sorted
// or repeated they compress to little anyway.
func logsDDL(f features, db string) []string {
	records := `CREATE TABLE IF NOT EXISTS ` + db + `.log_records
(
    tenant          String` + f.codec("ZSTD(3)") + `,
    fingerprint     UInt64` + f.codec("Delta, ZSTD(1)") + `,
    timestamp       Int64` + f.codec("Delta, ZSTD(1)") + `,
    line            String` + f.codec("ZSTD(1)") + `,
    metadata_names  Array(String)` + f.codec("ZSTD(1)") + `,
    metadata_values Array(String)` + f.codec("ZSTD(1)") + f.index(`
    INDEX line_ngrams line TYPE ngrambf_v1(4, 65536, 2, 0) GRANULARITY 1`) + `
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(intDiv(timestamp, 86400000000000))
ORDER BY (tenant, fingerprint, timestamp, cityHash64(line))
` + f.tableSettings()

	streams := `CREATE TABLE IF NOT EXISTS ` + db + `.log_streams
(
    tenant       ` + f.lowCard("String") + `,
    date         Date,
    fingerprint  UInt64,
    label_names  Array(` + f.lowCard("String") + `),
    label_values Array(String)` + f.codec("ZSTD(3)") + `
)
ENGINE = ReplacingMergeTree
PARTITION BY date
ORDER BY (tenant, fingerprint, date)
` + f.tableSettings()

	return []string{records, streams, labelIndexDDL(f, db, "log_labels")}
}

// labelIndexDDL creates a label index table shaped like series_labels.
func labelIndexDDL(f features, db, table string) string {
	return `CREATE TABLE IF NOT EXISTS ` + db + `.` + table + `
(
    tenant      ` + f.lowCard("String") + `,
    date        Date,
    name        ` + f.lowCard("String") + `,
    value       String` + f.codec("ZSTD(3)") + `,
    fingerprint UInt64` + f.codec("Delta, ZSTD(3)") + `
)
ENGINE = ReplacingMergeTree
PARTITION BY date
ORDER BY (tenant, name, value, fingerprint, date)
` + f.tableSettings()
}

// index is a skip index declaration, the last item of a column list, on
// modern servers; 18.16 has data skipping indexes only as an experimental
// feature.
func (f features) index(decl string) string {
	if f.modern {
		return "," + decl
	}
	return ""
}

// buildsDDL creates build_events. A run is one ID; ReplacingMergeTree
// keeps the row with the highest version of each (tenant, id) in a
// partition, and readers pick it across partitions.
func buildsDDL(f features, db string) []string {
	return []string{`CREATE TABLE IF NOT EXISTS ` + db + `.build_events
(
    tenant       ` + f.lowCard("String") + `,
    id           String,
    version      UInt64,
    service      ` + f.lowCard("String") + `,
    pipeline     ` + f.lowCard("String") + `,
    kind         ` + f.lowCard("String") + `,
    status       ` + f.lowCard("String") + `,
    commit       String` + f.codec("ZSTD(1)") + `,
    branch       ` + f.lowCard("String") + `,
    environment  ` + f.lowCard("String") + `,
    started_at   Int64` + f.codec("Delta, ZSTD(1)") + `,
    finished_at  Int64` + f.codec("Delta, ZSTD(1)") + `,
    commit_time  Int64` + f.codec("Delta, ZSTD(1)") + `,
    url          String` + f.codec("ZSTD(1)") + `,
    trigger      ` + f.lowCard("String") + `,
    label_names  Array(` + f.lowCard("String") + `),
    label_values Array(String)` + f.codec("ZSTD(1)") + `
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toDate(intDiv(started_at, 86400000))
ORDER BY (tenant, id)
` + f.tableSettings()}
}

// alertsDDL creates alert_states, the history of alert state changes. A
// change is identified by alert, time and state, so a repeated report
// collapses.
func alertsDDL(f features, db string) []string {
	return []string{`CREATE TABLE IF NOT EXISTS ` + db + `.alert_states
(
    tenant       ` + f.lowCard("String") + `,
    service      ` + f.lowCard("String") + `,
    fingerprint  UInt64,
    timestamp    Int64` + f.codec("Delta, ZSTD(1)") + `,
    state        ` + f.lowCard("String") + `,
    rule_group   ` + f.lowCard("String") + `,
    alert_name   ` + f.lowCard("String") + `,
    severity     ` + f.lowCard("String") + `,
    active_at    Int64` + f.codec("Delta, ZSTD(1)") + `,
    fired_at     Int64` + f.codec("Delta, ZSTD(1)") + `,
    resolved_at  Int64` + f.codec("Delta, ZSTD(1)") + `,
    value        Float64` + f.codec("Gorilla, ZSTD(1)") + `,
    label_names  Array(` + f.lowCard("String") + `),
    label_values Array(String)` + f.codec("ZSTD(1)") + `
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(intDiv(timestamp, 86400000))
ORDER BY (tenant, service, fingerprint, timestamp, state)
` + f.tableSettings()}
}

// rollupsDDL creates samples_1m, per-series minute aggregates of
// samples, and the materialized view that fills it on every insert into
// samples. Stale markers are not values and stay out. doc.go explains
// which aggregates survive a redelivered batch.
func rollupsDDL(f features, db string) []string {
	table := `CREATE TABLE IF NOT EXISTS ` + db + `.samples_1m
(
    tenant         String` + f.codec("ZSTD(3)") + `,
    fingerprint    UInt64` + f.codec("Delta, ZSTD(3)") + `,
    minute         Int64` + f.codec("DoubleDelta, ZSTD(3)") + `,
    value_min      AggregateFunction(min, Float64)` + f.codec("ZSTD(3)") + `,
    value_max      AggregateFunction(max, Float64)` + f.codec("ZSTD(3)") + `,
    value_sum      AggregateFunction(sum, Float64)` + f.codec("ZSTD(3)") + `,
    value_count    AggregateFunction(count)` + f.codec("ZSTD(3)") + `,
    value_last     AggregateFunction(argMax, Float64, Int64)` + f.codec("ZSTD(3)") + `,
    last_timestamp AggregateFunction(max, Int64)` + f.codec("ZSTD(3)") + `
)
ENGINE = AggregatingMergeTree
PARTITION BY toDate(intDiv(minute, 86400000))
ORDER BY (tenant, fingerprint, minute)
` + f.bulkTableSettings()

	view := `CREATE MATERIALIZED VIEW IF NOT EXISTS ` + db + `.samples_1m_mv TO ` + db + `.samples_1m
AS SELECT ` + rollupSelect + `
FROM ` + db + `.samples
WHERE flags = 0
GROUP BY tenant, fingerprint, minute`
	return []string{table, view}
}

// rollupSelect computes samples_1m's columns from samples rows.
const rollupSelect = `tenant, fingerprint, intDiv(timestamp, 60000) * 60000 AS minute,
    minState(value) AS value_min, maxState(value) AS value_max,
    sumState(value) AS value_sum, countState() AS value_count,
    argMaxState(value, timestamp) AS value_last, maxState(timestamp) AS last_timestamp`
