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

// rollupsDDL creates samples_1m, per-series minute aggregates of
// samples as AggregatingMergeTree states, and the materialized view that
// fills it on every insert into samples. Stale markers are not values and
// stay out. Migration 7 replaced both (minuteRollupsDDL); samples_1m
// keeps what it held then.
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

	return append(table, rollupViewDDL(s, "samples_1m_mv", "samples_1m", rollupStatesSelect))
}

// rollupViewDDL creates the materialized view name, which aggregates the
// samples of every insert into samples with sel into target, by series
// and minute. In cluster mode the view runs on every server, on the
// inserts into its shard's samples, and writes to its shard's target: the
// Distributed tables shard both by fingerprint.
func rollupViewDDL(s schema, name, target, sel string) string {
	return `CREATE MATERIALIZED VIEW IF NOT EXISTS ` + s.db + `.` + name + s.onCluster() +
		` TO ` + s.db + `.` + s.local(target) + `
AS SELECT ` + sel + `
FROM ` + s.db + `.` + s.local("samples") + `
WHERE flags = 0
GROUP BY tenant, fingerprint, minute`
}

// rollupStatesSelect computes samples_1m's columns from samples rows.
const rollupStatesSelect = `tenant, fingerprint, intDiv(timestamp, 60000) * 60000 AS minute,
    minState(value) AS value_min, maxState(value) AS value_max,
    sumState(value) AS value_sum, countState() AS value_count,
    argMaxState(value, timestamp) AS value_last, maxState(timestamp) AS last_timestamp`

// minuteRollupsDDL replaces samples_1m and its view with rollups_1m: the
// same minute aggregates as plain numbers, one row per series, minute and
// insert block that had samples of it, which reads combine (doc.go,
// "Rollups"). On 18.16 states cost more than the samples insert itself to
// aggregate, sort, write and merge; plain columns merge like samples. The
// new view starts before the old one stops, so that no insert misses
// both, and then samples_1m's minutes are copied over, as rows of their
// own (samples_hash 0): a copy repeated after a crash collapses with the
// first. Both may count the blocks of that moment twice in sum and count,
// as a repeated insert did before; RecomputeRollups makes a day exact.
// samples_1m stays, unfed, until retention empties it.
func minuteRollupsDDL(s schema) []string {
	table := s.createTable("rollups_1m", `(
    tenant         String`+s.codec("ZSTD(3)")+`,
    fingerprint    UInt64`+s.codec("Delta, ZSTD(3)")+`,
    minute         Int64`+s.codec("DoubleDelta, ZSTD(3)")+`,
    samples_hash   UInt64`+s.codec("ZSTD(3)")+`,
    value_min      Float64`+s.codec("ZSTD(3)")+`,
    value_max      Float64`+s.codec("ZSTD(3)")+`,
    value_sum      Float64`+s.codec("ZSTD(3)")+`,
    value_count    UInt64`+s.codec("T64, ZSTD(3)")+`,
    value_last     Float64`+s.codec("ZSTD(3)")+`,
    last_timestamp Int64`+s.codec("DoubleDelta, ZSTD(3)")+`
)`, "ReplacingMergeTree", "", `PARTITION BY toDate(intDiv(minute, 86400000))
ORDER BY (tenant, fingerprint, minute, samples_hash)
`+s.bulkTableSettings(), "fingerprint")

	view := rollupViewDDL(s, "rollups_1m_mv", "rollups_1m", rollupSelect)
	dropOld := `DROP TABLE IF EXISTS ` + s.db + `.samples_1m_mv` + s.onCluster()
	copyOld := `INSERT INTO ` + s.db + `.rollups_1m (` + rollupColumns + `)
SELECT tenant, fingerprint, minute, 0, minMerge(value_min), maxMerge(value_max), sumMerge(value_sum),
    countMerge(value_count), argMaxMerge(value_last), maxMerge(last_timestamp)
FROM ` + s.db + `.samples_1m
GROUP BY tenant, fingerprint, minute`
	return append(table, view, dropOld, copyOld)
}

// rollupColumns are rollups_1m's columns, in rollupSelect's order.
const rollupColumns = "tenant, fingerprint, minute, samples_hash, value_min, value_max, value_sum, value_count, value_last, last_timestamp"

// rollupSelect computes rollups_1m's columns from samples rows, grouped
// by tenant, fingerprint and minute. samples_hash tells apart the rows of
// a minute from different inserts, and makes the rows of one insert
// repeated identical: a sum of hashes of the samples' timestamps, the
// same for the same samples in any order.
const rollupSelect = `tenant, fingerprint, intDiv(timestamp, 60000) * 60000 AS minute,
    sum(cityHash64(timestamp)) AS samples_hash,
    min(value) AS value_min, max(value) AS value_max,
    sum(value) AS value_sum, count() AS value_count,
    argMax(value, timestamp) AS value_last, max(timestamp) AS last_timestamp`
