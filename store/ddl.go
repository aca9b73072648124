package store

import "slices"

// The tables of migrations 2 and later; metricsDDL (schema.go) holds
// migration 1. doc.go explains each table: its sort key, partitions and
// what reads it.

// logsDDL creates the log tables: records, the stream index (one row per
// stream per day) and the label index. log_records.tenant and the
// metadata names stay plain Strings even on modern servers, for the same
// reason as samples.tenant: they are on the hot insert path, and sorted
// or repeated they compress to little anyway.
func logsDDL(s schema) []string {
	records := s.createTable("log_records", `(
    tenant          String`+s.codec("ZSTD(3)")+`,
    fingerprint     UInt64`+s.codec("Delta, ZSTD(1)")+`,
    timestamp       Int64`+s.codec("Delta, ZSTD(1)")+`,
    line            String`+s.codec("ZSTD(1)")+`,
    metadata_names  Array(String)`+s.codec("ZSTD(1)")+`,
    metadata_values Array(String)`+s.codec("ZSTD(1)")+s.index(`
    INDEX line_ngrams line TYPE ngrambf_v1(4, 65536, 2, 0) GRANULARITY 1`)+`
)`, "ReplacingMergeTree", "", `PARTITION BY toDate(intDiv(timestamp, 86400000000000))
ORDER BY (tenant, fingerprint, timestamp, cityHash64(line))
`+s.tableSettings(), "fingerprint")

	streams := s.createTable("log_streams", `(
    tenant       `+s.lowCard("String")+`,
    date         Date,
    fingerprint  UInt64,
    label_names  Array(`+s.lowCard("String")+`),
    label_values Array(String)`+s.codec("ZSTD(3)")+`
)`, "ReplacingMergeTree", "", `PARTITION BY date
ORDER BY (tenant, fingerprint, date)
`+s.tableSettings(), "fingerprint")

	return slices.Concat(records, streams, labelIndexDDL(s, "log_labels"))
}

// labelIndexDDL creates a label index table shaped like series_labels.
func labelIndexDDL(s schema, table string) []string {
	return s.createTable(table, `(
    tenant      `+s.lowCard("String")+`,
    date        Date,
    name        `+s.lowCard("String")+`,
    value       String`+s.codec("ZSTD(3)")+`,
    fingerprint UInt64`+s.codec("Delta, ZSTD(3)")+`
)`, "ReplacingMergeTree", "", `PARTITION BY date
ORDER BY (tenant, name, value, fingerprint, date)
`+s.tableSettings(), "fingerprint")
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
func buildsDDL(s schema) []string {
	return s.createTable("build_events", `(
    tenant       `+s.lowCard("String")+`,
    id           String,
    version      UInt64,
    service      `+s.lowCard("String")+`,
    pipeline     `+s.lowCard("String")+`,
    kind         `+s.lowCard("String")+`,
    status       `+s.lowCard("String")+`,
    commit       String`+s.codec("ZSTD(1)")+`,
    branch       `+s.lowCard("String")+`,
    environment  `+s.lowCard("String")+`,
    started_at   Int64`+s.codec("Delta, ZSTD(1)")+`,
    finished_at  Int64`+s.codec("Delta, ZSTD(1)")+`,
    commit_time  Int64`+s.codec("Delta, ZSTD(1)")+`,
    url          String`+s.codec("ZSTD(1)")+`,
    trigger      `+s.lowCard("String")+`,
    label_names  Array(`+s.lowCard("String")+`),
    label_values Array(String)`+s.codec("ZSTD(1)")+`
)`, "ReplacingMergeTree", "version", `PARTITION BY toDate(intDiv(started_at, 86400000))
ORDER BY (tenant, id)
`+s.tableSettings(), "cityHash64(id)")
}

// alertsDDL creates alert_states, the history of alert state changes. A
// change is identified by alert, time and state, so a repeated report
// collapses.
func alertsDDL(s schema) []string {
	return s.createTable("alert_states", `(
    tenant       `+s.lowCard("String")+`,
    service      `+s.lowCard("String")+`,
    fingerprint  UInt64,
    timestamp    Int64`+s.codec("Delta, ZSTD(1)")+`,
    state        `+s.lowCard("String")+`,
    rule_group   `+s.lowCard("String")+`,
    alert_name   `+s.lowCard("String")+`,
    severity     `+s.lowCard("String")+`,
    active_at    Int64`+s.codec("Delta, ZSTD(1)")+`,
    fired_at     Int64`+s.codec("Delta, ZSTD(1)")+`,
    resolved_at  Int64`+s.codec("Delta, ZSTD(1)")+`,
    value        Float64`+s.codec("Gorilla, ZSTD(1)")+`,
    label_names  Array(`+s.lowCard("String")+`),
    label_values Array(String)`+s.codec("ZSTD(1)")+`
)`, "ReplacingMergeTree", "", `PARTITION BY toDate(intDiv(timestamp, 86400000))
ORDER BY (tenant, service, fingerprint, timestamp, state)
`+s.tableSettings(), "fingerprint")
}

// rollupsDDL is migration 5: samples_1m, per-series minute aggregates of
// samples as AggregatingMergeTree states, and the materialized view that
// filled it on every insert into samples. Migration 7 drops both for
// rollups_1m (rollupRowsDDL), which costs ClickHouse 18.16 a fraction of
// what the view did; doc.go explains.
func rollupsDDL(s schema) []string {
	table := s.createTable("samples_1m", `(
    tenant         String`+s.codec("ZSTD(3)")+`,
    fingerprint    UInt64`+s.codec("Delta, ZSTD(3)")+`,
    minute         Int64`+s.codec("DoubleDelta, ZSTD(3)")+`,
    value_min      AggregateFunction(min, Float64)`+s.codec("ZSTD(3)")+`,
    value_max      AggregateFunction(max, Float64)`+s.codec("ZSTD(3)")+`,
    value_sum      AggregateFunction(sum, Float64)`+s.codec("ZSTD(3)")+`,
    value_count    AggregateFunction(count)`+s.codec("ZSTD(3)")+`,
    value_last     AggregateFunction(argMax, Float64, Int64)`+s.codec("ZSTD(3)")+`,
    last_timestamp AggregateFunction(max, Int64)`+s.codec("ZSTD(3)")+`
)`, "AggregatingMergeTree", "", `PARTITION BY toDate(intDiv(minute, 86400000))
ORDER BY (tenant, fingerprint, minute)
`+s.bulkTableSettings(), "fingerprint")

	// In cluster mode the view runs on every server, on the inserts into
	// its shard's samples, and writes to its shard's samples_1m: the
	// Distributed tables shard both by fingerprint.
	view := `CREATE MATERIALIZED VIEW IF NOT EXISTS ` + s.db + `.samples_1m_mv` + s.onCluster() +
		` TO ` + s.db + `.` + s.local("samples_1m") + `
AS SELECT ` + rollupSelect + `
FROM ` + s.db + `.` + s.local("samples") + `
WHERE flags = 0
GROUP BY tenant, fingerprint, minute`
	return append(table, view)
}

// rollupSelect computes samples_1m's columns from samples rows
// (migration 5).
const rollupSelect = `tenant, fingerprint, intDiv(timestamp, 60000) * 60000 AS minute,
    minState(value) AS value_min, maxState(value) AS value_max,
    sumState(value) AS value_sum, countState() AS value_count,
    argMaxState(value, timestamp) AS value_last, maxState(timestamp) AS last_timestamp`

// rollupRowsDDL is migration 7: it drops migration 5's view and
// samples_1m, and creates rollups_1m, the minute aggregates as plain
// numbers, one row per series, minute and write, replaced by the row
// that counts the most samples (the version column value_count): each
// row a writer inserts aggregates every sample of its minute so far
// (Rollups), so the most complete row is the minute's aggregate. doc.go
// explains. A table of a new name, because a replicated table's
// ZooKeeper path names the table, and modern servers free the path of a
// dropped one only minutes later.
func rollupRowsDDL(s schema) []string {
	stmts := []string{
		"DROP TABLE IF EXISTS " + s.db + ".samples_1m_mv" + s.onCluster(),
		"DROP TABLE IF EXISTS " + s.db + ".samples_1m" + s.onCluster(),
	}
	if s.cluster != "" {
		stmts = append(stmts, "DROP TABLE IF EXISTS "+s.db+"."+s.local("samples_1m")+s.onCluster())
	}
	return append(stmts, s.createTable("rollups_1m", `(
    tenant         String`+s.codec("ZSTD(3)")+`,
    fingerprint    UInt64`+s.codec("Delta, ZSTD(3)")+`,
    minute         Int64`+s.codec("DoubleDelta, ZSTD(3)")+`,
    value_min      Float64`+s.codec("ZSTD(3)")+`,
    value_max      Float64`+s.codec("ZSTD(3)")+`,
    value_sum      Float64`+s.codec("ZSTD(3)")+`,
    value_count    UInt64`+s.codec("ZSTD(3)")+`,
    value_last     Float64`+s.codec("ZSTD(3)")+`,
    last_timestamp Int64`+s.codec("DoubleDelta, ZSTD(3)")+`
)`, "ReplacingMergeTree", "value_count", `PARTITION BY toDate(intDiv(minute, 86400000))
ORDER BY (tenant, fingerprint, minute)
`+s.bulkTableSettings(), "fingerprint")...)
}
