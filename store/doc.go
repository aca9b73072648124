// Package store holds Cairn's data model and keeps it in ClickHouse: the
// schema and its migrations, the writer that ingest's Kafka consumers call,
// and the readers behind the query APIs.
//
// # Role and boundaries
//
// In: ingest's writers consume Kafka and call [Client.WriteMetrics] with
// batches of [Series] and of references' samples in columns
// ([SampleRefs]), a deduplication token naming the Kafka offsets, and
// their [Rollups]; [Client.WriteSeries] takes series alone.
// Out: query's Prometheus storage.Queryable calls [Client.SelectSeries] to
// resolve matchers to series, then [Client.ReadSamples] for their samples;
// the /labels and /label/<name>/values APIs call [Client.LabelNames] and
// [Client.LabelValues]. Logs go in through [Client.WriteLogs] and out
// through [Client.SelectStreams], [Client.ReadLogs], [Client.CountLogs],
// [Client.LogLabelNames] and [Client.LogLabelValues]. CI/CD runs go in
// through [Client.WriteBuilds] and out through [Client.ReadBuilds]; the
// alert state history through [Client.WriteAlertStates] and
// [Client.ReadAlertStates]. Long-range metric queries read minute
// rollups with [Client.ReadRollup]. cmd/cairn runs a [Retainer] for
// retention. cmd/cairn calls [Open] and [Client.Migrate], and
// prints [Config.DDL] for `cairn migrate -dry-run`.
//
// store imports no other Cairn package; ingest, query, alerting and
// cmd/cairn import it. Its subpackage storetest gives other packages'
// integration tests a fresh database; tenant names tenants.
//
// A [Client] is one connection pool to one database; it is safe for
// concurrent use and starts no goroutines. Lifecycle: Open (connects,
// creates the database if missing, detects the server version), Migrate,
// use, Close.
//
// # Series identity
//
// A series is a tenant plus a label set. Its fingerprint ([Fingerprint]) is
// a 64-bit xxhash of the labels sorted by name, each written as name, 0xff,
// value, 0xff; the tenant is not part of it, and every table keys on
// (tenant, fingerprint), so two tenants' identical series stay apart. The
// function is fixed forever: a change would split every stored series in
// two. A collision of two label sets in one tenant would merge them; at 64
// bits that takes billions of series of one tenant to become likely.
// Labels must be valid Prometheus labels, which ingest is to ensure: no
// label with an empty value (in Prometheus, an empty value is no label),
// and a __name__. The store keeps what it is given.
//
// # Tables
//
// All three metrics tables use ReplacingMergeTree and partition by UTC
// day (a row's day is part of its sort key, directly or through its
// timestamp), so retention can drop whole days (ALTER TABLE … DROP
// PARTITION) from all of them alike, and a query's time range prunes whole
// partitions before any index is read.
//
// samples holds every sample, one row each:
//
//	tenant String, fingerprint UInt64, timestamp Int64 (ms), value Float64, flags UInt8
//	PARTITION BY toDate(intDiv(timestamp, 86400000))   -- UTC day, timezone-free
//	ORDER BY (tenant, fingerprint, timestamp)
//
// Sorting by series then time keeps a series' samples contiguous on disk,
// which is what both compression (runs of one fingerprint, regular
// timestamps, slowly changing values) and reads (one series over a time
// range) want. flags bit 0 marks a Prometheus stale marker, stored with
// value 0 so that the marker is explicit rather than hidden in the payload
// bits of a NaN, which SQL cannot tell from other NaNs; readers turn it
// back into value.StaleNaN. Rows with equal
// (tenant, fingerprint, timestamp) are duplicates, merged away in the
// background; if two differ in value, which one survives is unspecified.
//
// series holds one row per series per day the series had samples:
//
//	tenant String, date Date, fingerprint UInt64, metric_name String,
//	label_names Array(String), label_values Array(String)
//	PARTITION BY date
//	ORDER BY (tenant, metric_name, fingerprint, date)
//
// The metric name has its own column, first in the key after the tenant,
// because nearly every selector names one. The other labels are parallel
// arrays sorted by name; label x of a row is
// label_values[indexOf(label_names, 'x')], which is "" when the series has
// no x (index 0 yields the default value) — exactly the Prometheus meaning
// of a missing label. Rows per day let time ranges prune series that did
// not exist then, at the cost of one row per active series per day.
//
// series_labels is the label index, one row per label (the metric name
// included, as __name__) per series per day:
//
//	tenant String, date Date, name String, value String, fingerprint UInt64
//	PARTITION BY date
//	ORDER BY (tenant, name, value, fingerprint, date)
//
// It answers "which values does label x have" from a contiguous key range,
// and "which series have x=v" (a posting list) likewise.
//
// histograms holds native histograms (Series.Histograms), one row each,
// laid out, partitioned and deduplicated like samples:
//
//	tenant String, fingerprint UInt64, timestamp Int64 (ms), histogram String
//	PARTITION BY toDate(intDiv(timestamp, 86400000))
//	ORDER BY (tenant, fingerprint, timestamp)
//
// The histogram column is Cairn's own versioned binary encoding of a
// histogram.Histogram or FloatHistogram (histogram_encoding.go): kind,
// counter reset hint, schema, zero bucket, count, sum, spans, buckets
// (deltas for integer counts, as Prometheus holds them) and custom bounds
// (NHCB); floats keep their bits, so a stale marker (sum StaleNaN)
// survives. Counter reset hints are stored as Prometheus' TSDB would
// read them back (histogram_hints.go). histogram_series has one row per
// series per day with histograms (tenant, date, fingerprint), so that
// SelectSeries can flag those series (SeriesRef.Histograms) in the same
// query, and queries of float-only series never read histograms.
//
// schema_migrations records the migrations applied (see Migrations below).
//
// The other signals have their own tables in the same database, named
// signal first (log_records, log_streams, log_labels, build_events,
// alert_states); the metrics tables keep the Prometheus terms samples and
// series. Every table's sort key starts with the tenant, and every table
// is partitioned by UTC day.
//
// # Rollups
//
// rollups_1m holds per-series minute aggregates of samples, stale
// markers excluded, as plain numbers (migration 7):
//
//	tenant String, fingerprint UInt64, minute Int64 (ms, start),
//	value_min, value_max, value_sum Float64, value_count UInt64,
//	value_last Float64, last_timestamp Int64
//	ReplacingMergeTree(value_count)
//	PARTITION BY toDate(intDiv(minute, 86400000))
//	ORDER BY (tenant, fingerprint, minute)
//
// The writer computes them as it writes samples: WriteMetrics, after
// inserting a batch's samples, inserts a row for every series and minute
// the batch touched, holding the aggregate of all the minute's samples
// so far, from what the caller's [Rollups] holds of the series' latest
// two minutes. A minute thus gets a row per write that touched it, each
// counting more samples than the one before; the engine keeps the row
// with the highest count (of equal ones, the last written), and
// ReadRollup reads with FINAL, so it sees the most complete row whatever
// the merges have done. At 15 s scrapes a minute's rows merge into one,
// a quarter of the samples' rows.
//
// A Rollups vouches for a series only while every sample of it passes
// through it in order, which ingest gives: a series' samples go to one
// Kafka partition, and one writer reads it. It counts a sample of the
// latest two minutes, or of a later one, that is later than its
// minute's latest, or in a second of it with none counted yet (a late
// sample: requests that crossed on the way); it skips a minute's latest
// sample delivered again. Anything else is left to ClickHouse: a series
// it does not hold (a new writer, a new series, one idle for 15 minutes,
// or after Forget, which the writer calls when a metrics partition's
// offsets do not follow on from what it read), a late sample in a second
// with one counted, a sample older than the latest minute and not of the
// one before, and a stale marker that may have replaced a counted
// sample. After the insert, WriteMetrics aggregates such series from
// samples read with FINAL, from the earliest minute concerned on,
// inserts those rows, and holds the series again from its latest two
// minutes there. A Rollups changes only once all of a write's inserts
// succeeded, so a retried batch computes the same rows. It takes about
// 200 bytes of the writer's memory per series it holds (measured with
// 100,000 series), and lets go of series idle for 15 minutes.
//
// So every aggregate, sum and count included, counts each sample once,
// on 18.16 as on modern servers, and a redelivered batch changes no row
// (a retried write computes the same rows; one split by days, whose
// first chunks were written, finds their series cold). The exceptions,
// which RecomputeRollups(day) repairs by rebuilding the day from
// samples:
//
//   - A row never loses to one that counts fewer samples, so a value
//     replaced by a stale marker at its timestamp stays counted until
//     the minute's count grows past it. Prometheus never sends that.
//   - Adding partitions to the metrics topic routes a series to two
//     partitions, and two writers, for up to a minute (the receivers'
//     cached partition count): minutes written in that time may keep a
//     row that misses the other writer's samples.
//   - In cluster mode with more than one replica per shard, the read of
//     a cold series may reach a replica that has not fetched the batch
//     just inserted, and start the series from too few samples.
//
// Rollups of days written before migration 7 are not carried over, nor
// are those of samples written between migration 7 and the start of
// writers of this version (older writers relied on the view):
// RecomputeRollups rebuilds them from samples, a day at a time, and
// `cairn migrate -recompute-rollups-days N` does so for the last N days;
// run it again once the new writers run.
//
// Until migration 7 a materialized view, samples_1m_mv, aggregated every
// insert into samples into samples_1m as AggregatingMergeTree states.
// On ClickHouse 18.16 it took two thirds of the server's ingest CPU
// (writing a second table through the view cost about as much as the
// first, and its states cost more to write and merge than numbers), and
// sum and count counted a redelivered batch twice. Migration 7 drops the
// view and samples_1m; rollups_1m is a new name because a replicated
// table's ZooKeeper path names the table, and modern servers free a
// dropped table's path only minutes later.
//
// 18.16's modulo of an Int64 by a constant takes the constant's type
// (timestamp % 60000 overflows an Int16): the SQL here computes a
// sample's second as intDiv(timestamp, 1000) - intDiv(timestamp, 60000) * 60.
//
// # Logs
//
// A log stream is a tenant plus a label set (Loki's stream labels), with
// the same fingerprint function as a series. log_records holds every
// entry:
//
//	tenant String, fingerprint UInt64, timestamp Int64 (ns), line String,
//	metadata_names Array(String), metadata_values Array(String)
//	PARTITION BY toDate(intDiv(timestamp, 86400000000000))
//	ORDER BY (tenant, fingerprint, timestamp, cityHash64(line))
//
// The sort key puts a stream's entries together, in time order, rather
// than sorting all of a tenant's entries by time as (tenant, timestamp)
// would. Every LogQL query has a stream selector, so a read names its
// streams and reads only their granules within the time range, however
// many other streams were busy then; and a stream's lines resemble one
// another, so they compress better side by side. The cost falls on
// selectors that match many streams with a small limit: ClickHouse must
// read the matching streams over the whole range to find the newest (or
// oldest) rows, where a time-first key could stop early; ReadLogs
// narrows that by reading in growing time windows (below). The line's
// hash ends the key so that ReplacingMergeTree collapses exact
// duplicates — same stream, timestamp and line, as Loki deduplicates —
// and keeps two different lines at one timestamp. Structured metadata (Loki's, or OTLP
// attributes that are not stream labels) are parallel name-sorted arrays
// on the entry; they are not part of its identity. A level or severity
// has no column of its own: it is a stream label or metadata, wherever
// the source put it, and LogQL reads it from there.
//
// log_streams is to streams what series is to series — one row per
// stream per day with its labels as arrays, ORDER BY (tenant,
// fingerprint, date) — and log_labels is its label index, shaped exactly
// like series_labels. Stream labels have no metric name, so log_streams
// has no such column and its key leads with the fingerprint, which is how
// stream resolution reads it.
//
// On modern servers log_records also has an n-gram bloom filter index on
// line (ngrambf_v1 of 4-grams, 64 KiB per 8192 rows), which lets |= and
// |~ filters with a literal of four or more bytes skip granules that
// cannot contain it. Line filters are written as LIKE and match, the
// forms the index serves; position() would not use it.
//
// # Builds and deploys
//
// build_events holds the reported states of CI/CD runs, one row per
// report:
//
//	tenant, id, version UInt64, service, pipeline, kind, status, commit,
//	branch, environment, started_at/finished_at/commit_time Int64 (ms),
//	url, trigger, label_names/label_values Array(String)
//	ENGINE = ReplacingMergeTree(version)
//	PARTITION BY toDate(intDiv(started_at, 86400000))
//	ORDER BY (tenant, id)
//
// A run reports several times (queued, running, finished) and a webhook
// may come twice; id (provider, run, attempt) names the run, and the
// highest version is its current state. The sort key is the identity, so
// merges keep one row per run and version; the version defaults to
// max(started_at, finished_at), so a finished report beats a running one
// in whatever order they arrive. Partitions are days of the start, for
// retention. ReadBuilds picks the latest version of every run with a
// version in the time range (looked up by id, the sort key, so versions
// in other partitions count too), then applies the filters to that
// version, then sorts newest first and limits: a run once "running",
// now "failure", is found by status "failure" only. The table is small
// (thousands of rows a day at most), so reading the tenant's id column
// for the lookup is cheap.
//
// # Alert state history
//
// alert_states holds every state change of every alert:
//
//	tenant, service, fingerprint UInt64, timestamp Int64 (ms), state,
//	rule_group, alert_name, severity, active_at/fired_at/resolved_at Int64
//	(ms), value Float64, label_names/label_values Array(String)
//	PARTITION BY toDate(intDiv(timestamp, 86400000))
//	ORDER BY (tenant, service, fingerprint, timestamp, state)
//
// An alert is a label set (alertname included), fingerprinted like a
// series. The service leads the key after the tenant because DORA's time
// to restore reads one service's firing and resolved changes over a
// range; the rest of the key is the change's identity, so a repeated
// report collapses and ReadAlertStates reads each change once (LIMIT 1 BY
// fingerprint, timestamp, state), in time order.
//
// # Writing
//
// For each series and each UTC day it has samples on in the batch,
// WriteSeries inserts a series row and its series_labels rows unless this
// Client has already written that (tenant, fingerprint, day); then it
// inserts all the samples. Series rows go first, so a reader that finds a
// sample also finds its series. Each table gets one INSERT of whole
// columns (the driver's columnar append), so a batch costs four inserts
// at most and, once every active series has been seen today, two: the
// samples and their rollup rows (see Rollups; a batch with series the
// writer's Rollups does not hold adds a query and an insert).
// The sample rows go in the table's sort order (tenant, fingerprint,
// timestamp; write_sort.go): a server checks an inserted block for order
// before sorting it, and on 18.16 that sort was the largest part of an
// insert's CPU.
//
// An INSERT of more than 131,072 rows goes out as several blocks,
// consecutive slices of its columns (Client.insert). The server joins
// the blocks of an insert again, up to min_insert_block_size_rows
// (1,048,576 by default on 18.16, 1,048,449 on modern servers), before
// it writes them, so a writer's batch of a million rows becomes one part
// per day it spans, still sorted, while the driver copies one block at a
// time: parts that size halve what ClickHouse merges, against parts of a
// quarter million
// (docs/benchmarks.md). Cluster mode's inserts into Distributed tables
// were not measured.
//
// A reference (Series.IsRef: a fingerprint without labels, or a row of
// SampleRefs, WriteMetrics' columns of them) writes its samples only. Ingest sends a series' labels before any reference to it,
// on the same Kafka partition, and again for every new day, so its series
// rows are written first by whichever batch held the labels.
//
// Native histograms (Series.Histograms) go first, the same way, through
// their own inserts (histograms_write.go): series and series_labels rows
// for the days the series has histograms on, then histogram_series rows
// (remembered in the same cache), then the histograms, with tokens
// suffixed "/histograms" so they never collide with the float inserts'.
// The writer sets each histogram's counter reset hint to the one
// Prometheus' TSDB would read it with when an earlier sample of its
// series is in the batch; the reader does the same within the range it
// reads (DeriveCounterResetHints).
//
// The memory of written (tenant, fingerprint, day) triples is a bounded
// two-generation cache (-clickhouse.series-cache-size). A miss, after a
// restart or with several writers, writes the rows again; the duplicates
// are merged away and readers never see them twice.
//
// A batch spanning more than 64 days is split into inserts of at most 64
// days each, because each touched partition becomes a part of its own and
// modern servers refuse inserts into more than 100 partitions.
// Timestamps before 1970 or after 2105 (the Date range 18.16 handles,
// [MinTime] to [MaxTime]) are dropped with a warning.
//
// WriteLogs works the same way for log entries: log_streams and
// log_labels rows for (tenant, stream, day) triples this Client has not
// written (a second cache of the same size), then the entries, one INSERT
// per table. Consecutive entries of one stream share a fingerprint
// computation. Entries outside [MinLogTime, MaxLogTime] are dropped.
// WriteBuilds and WriteAlertStates insert once into their one table.
// Every Write method splits a batch into inserts of at most 64 days, the
// same split for the same batch, so a redelivered batch gets the same
// tokens.
//
// # Duplicates
//
// Kafka delivers at least once, so the same batch may be written twice.
// Three layers keep that invisible, the first two optional:
//
//   - On modern servers the token passed to a Write method becomes each
//     insert's insert_deduplication_token (suffixed with the table, and a
//     chunk number when split), and the tables keep the last 1000 tokens
//     (non_replicated_deduplication_window), so a repeated insert is
//     dropped on arrival. In cluster mode the Replicated tables do the
//     same on every server version, 18.16 included: they drop an insert
//     whose token, or without one whose block (the same rows in the same
//     order), is among the last 1000 (replicated_deduplication_window).
//   - ReplacingMergeTree collapses rows with equal sort keys when parts
//     merge, eventually.
//   - Every read deduplicates: LIMIT 1 BY fingerprint, timestamp on
//     samples, LIMIT 1 BY fingerprint on series and streams, DISTINCT on
//     labels, LIMIT 1 BY fingerprint, timestamp, line on log entries
//     (before the query's LIMIT), GROUP BY fingerprint, timestamp,
//     cityHash64(line) before counting them, the latest version of each
//     run of build events (ORDER BY version DESC LIMIT 1 BY id), and
//     LIMIT 1 BY fingerprint, timestamp, state on alert state changes.
//
// An insert of more rows than the server's min_insert_block_size_rows is
// stored a part at a time (Client.insert), so one that fails may leave
// some of its parts stored. Its retry sends the same rows in the same
// blocks, which the server joins at the same boundaries: tokens drop the
// repeated parts on modern servers, and block checksums on Replicated
// tables; elsewhere the merges and the reads hide them, as they do any
// repeated insert, and so they do everywhere when insertBlockRows or the
// server's min_insert_block_size_* changed between the failure and the
// retry.
//
// Correctness rests on the last alone; rollups, which the writer
// computes, are read with FINAL (see Rollups).
//
// # Reading: what each query reads
//
// Every query is restricted to one tenant and a time range; mint and maxt
// are milliseconds (nanoseconds for logs), inclusive, turned into the UTC
// days that overlap them for the series and stream tables. testdata/queries.sql shows each shape's SQL.
//
// SelectSeries reads the series table in the partitions of those days.
// A metric-name equality (or a set regexp such as up|down) narrows the
// read to that name's range of the sort key. Without one, an equality or
// set matcher on another label (job="api", job=~"api|db") is first
// resolved through series_labels, reading only the key range (tenant,
// job, value), and applied as PREWHERE fingerprint IN (…), so ClickHouse
// reads the label arrays only of granules holding matching series. Every
// matcher is then also evaluated on the rows themselves: = and != compare
// the label expression above, =~ and !~ use match() with the pattern
// anchored as ^(?s:…)$ (RE2, as in Go; "." matches newlines, as in
// Prometheus), and set regexps become IN. Matchers that match the empty
// string thus match series without the label, as in Prometheus. The
// result is one SeriesRef per fingerprint, sorted by labels.
//
// ReadSamples reads samples by (tenant, fingerprint IN (…), timestamp
// range): the timestamp range prunes day partitions through the
// partition's min/max index, and the sort key narrows each partition to
// the granules of those series, then of that time range. Rows come back
// sorted by fingerprint and timestamp, one per timestamp. Fingerprints
// go 4000 per query to stay under max_query_size.
//
// ReadHistograms reads histograms the way ReadSamples reads samples;
// Queryable asks it only for the series SelectSeries flagged.
//
// LabelNames and LabelValues without matchers read only series_labels:
// LabelValues the key range (tenant, name) in the days' partitions, and
// LabelNames the tenant's whole range there, column name only — one row
// per series and label per day, so it is the most expensive of the two.
// With matchers, both read the matching rows of the series table as
// SelectSeries does and take names or values from their arrays.
//
// SelectStreams, LogLabelNames and LogLabelValues read log_streams and
// log_labels the way the metrics methods read series and series_labels,
// with one difference: any matcher that does not match the empty string
// can be resolved through log_labels, an equality or set as a point
// lookup, a regexp (app=~"api-.*") or app!="" as a scan of that one
// label's values, and LogQL demands such a matcher in every selector. So
// log_streams is always read by fingerprint, through PREWHERE
// fingerprint IN (…).
//
// ReadLogs resolves the selector with SelectStreams, then reads
// log_records by (tenant, fingerprint IN (…), timestamp range) with the
// line filters in the WHERE clause, ordered by timestamp (descending for
// Backward) and limited in ClickHouse, 4000 streams per query; results of
// several queries are merged and limited again. With a limit it reads
// the range in windows, starting at the end its direction starts from:
// the first 1/32 of the range, then windows twice as long each, at most
// six, stopping once the limit is met. The newest 1000 lines of a busy
// day then usually cost one query over the last 45 minutes. Line filters: |= is
// LIKE '%…%' with %, _ and \ escaped, != its negation, |~ is
// match(line, '(?-s:…)') — unanchored, "." not matching newlines, as in
// Loki — and !~ its negation. CountLogs reads the same rows without
// returning lines: entries and bytes per stream and step bucket
// (intDiv on the timestamp), for count_over_time, bytes_over_time, rate,
// log volume and index stats.
//
// # Retention
//
// Each kind of data has a retention in whole days ([RetentionConfig],
// flags -retention.metrics 90d, -retention.logs 30d, -retention.builds
// 365d, -retention.alerts 365d; 0 keeps forever): a row of UTC day D is
// kept while D >= today - retention, so 30d keeps today and the 30 days
// before it. Every table belongs to exactly one kind and is partitioned by
// day, so retention never deletes rows, only whole partitions. A
// [Retainer] enforces it:
//
//   - on every server, once an hour (Run), it lists the database's
//     partitions in system.parts and drops the expired ones with ALTER
//     TABLE … DROP PARTITION ID; a second Retainer, or a second pass,
//     finds nothing left to drop.
//   - on modern servers it also sets each table's TTL to match when it
//     starts (ApplyTTL): TTL <day> + toIntervalDay(retention + 1), with
//     ttl_only_drop_parts = 1 so that expired parts, each inside one
//     day, are dropped rather than rewritten. It compares with the TTL in
//     system.tables.engine_full first and alters only tables whose TTL
//     differs, since a change recomputes TTL information for every part.
//     TTLs are not in the migrations because they depend on flags.
//
// The server compares a TTL's Date with its own clock in its own time
// zone, so on a server not running in UTC a TTL may act some hours
// before or after the hourly pass; either way, no data younger than its
// retention is dropped by the pass.
//
// # Server versions
//
// ClickHouse 18.16 (Debian's package) and current releases are both
// supported; the schema comes in two flavours, chosen when a migration runs
// from the server's version, in one place (featuresOf):
//
//   - baseline, for servers before 23.8: the tables above with plain types
//     and LZ4. Valid on 18.16 and every later release.
//   - modern, from 23.8, the oldest LTS production users run: the same
//     columns and keys, plus LowCardinality for the index tables' tenant,
//     metric_name and label names, codecs (DoubleDelta+ZSTD on sample
//     timestamps, Delta+ZSTD on sample values, log timestamps and
//     fingerprints, ZSTD on tenants, lines and label values), 256 KiB
//     compressed blocks for samples and rollups_1m, the n-gram index on
//     log lines, and non_replicated_deduplication_window. Inserts then
//     carry insert_deduplication_token.
//
// On node_exporter-like data a day of samples takes 1.94 bytes per
// sample in the modern flavour and 7.84 in the baseline; log lines of 255
// bytes take 45 and 66 (TestFootprint; docs/benchmarks.md has the data
// set, the command and the codecs tried).
//
// Both flavours have the same column names and meanings, so every query
// is the same SQL on both; queries use only functions 18.16 has.
// TestModernServerAgrees checks this: it creates the modern schema in
// chdb (a current ClickHouse engine embedded in Python), the baseline on
// the 18.16 test server, loads the same rows into both and compares the
// answers of every query shape in testdata/queries.sql; make test runs
// it, with a pinned chdb that deploy/local/chdb.sh installs. Tables
// keep the flavour they were created with (schema_migrations records it);
// upgrading the server later does not convert them. Settings sent to an
// 18.16 server must be integers or booleans, and an INSERT needs an
// explicit column list, which every insert here has. Over the native
// protocol 18.16 waits for data blocks after any INSERT, even one with
// inline VALUES, so even the migration record goes through a batch.
//
// # Cluster mode
//
// With [Config.Cluster] (-clickhouse.cluster) naming a cluster of the
// servers' remote_servers, the schema spans the cluster. Every DDL
// statement runs ON CLUSTER, and every table T of the single-server
// schema becomes two on each server:
//
//   - T_local, the same table with a Replicated engine
//     (ReplicatedReplacingMergeTree and so on) whose ZooKeeper path is
//     /clickhouse/tables/<cluster>/{shard}/<database>/T_local and whose
//     replica is {replica}, the servers' macros. It holds the rows of the
//     server's shard.
//   - T, a Distributed table over the T_local of every shard, with the
//     single-server name. Its sharding key is the fingerprint for every
//     table of series, streams and alerts, cityHash64(id) for
//     build_events and the version for schema_migrations. So a series'
//     samples, series rows, label index rows and rollups are on one
//     shard, and so are a stream's entries and labels, a run's versions
//     and an alert's changes.
//
// Writes insert into the Distributed tables with insert_distributed_sync,
// so a Write returns once every shard it touched has stored its rows; a
// shard down fails the batch, and ingest retries it.
//
// Reads are the single-server SQL on the Distributed tables, which send
// each query to one replica of every shard and merge the answers. Every
// deduplication (LIMIT 1 BY, DISTINCT, GROUP BY) compares rows with equal
// sharding keys, which are on one shard, so it holds per shard and after
// the merge. The subqueries that resolve matchers through a label index
// (and ReadBuilds' lookup of a run's versions) name the local tables,
// fingerprint IN (SELECT fingerprint FROM series_labels_local …): each
// shard resolves them from its own rows, which is exact because the
// label index is sharded like the table it indexes, and ships nothing,
// unlike GLOBAL IN. A subquery on a Distributed table inside a query on
// one is refused anyway (distributed_product_mode = deny).
//
// Partitions exist only on the local tables: RecomputeRollups drops the
// day from rollups_1m_local ON CLUSTER and inserts the recomputed minutes
// through the Distributed table; the Retainer lists the partitions of all
// shards through the cluster table function on system.parts and drops
// expired ones ON CLUSTER, and sets TTLs on the local tables ON CLUSTER.
//
// An ON CLUSTER statement waits for every server of the cluster
// (distributed_ddl_task_timeout, 180 s by default), so Migrate stalls
// while a server is down, and applies the rest when run again. The
// servers need ZooKeeper, the distributed DDL queue, the macros and the
// cluster with internal_replication (deploy/local/cluster.sh writes such
// a config; docs/storage.md shows it). An 18.16 server that has no
// ZooKeeper session yet, just started or with ZooKeeper still loading,
// fails ON CLUSTER statements and was seen to crash on one (a NULL
// session in zkutil::ZooKeeper::createImpl): cluster.sh reports a server
// ready only once system.zookeeper answers. Adding shards to a populated
// cluster is not supported: the key modulo the new shard count would put
// new rows of existing series on other shards than their old rows.
// TestCluster runs the baseline flavour on a two-shard 18.16 cluster; the
// modern flavour's cluster DDL is golden-tested only, since chdb has no
// ZooKeeper or Distributed tables.
//
// # Migrations
//
// Migrations are numbered 1 (metrics), 2 (logs), 3 (builds), 4 (alerts),
// 5 (rollups), 6 (histograms), 7 (rollup rows), … and append-only; each
// is a list of idempotent statements (IF NOT EXISTS, IF EXISTS), so a crash between applying one
// and recording it in schema_migrations is repaired by running Migrate
// again. A database that records a higher number than this binary knows
// makes Migrate fail with [ErrSchemaTooNew]: an old binary must not write
// to tables it does not understand. [DDL] renders all statements for a
// given server version without a connection, and [Config.DDL] for a
// cluster too.
package store
