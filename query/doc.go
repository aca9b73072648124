// Package query serves Cairn's metrics back out: the Prometheus HTTP query
// API, so that Grafana's built-in Prometheus data source and any other
// Prometheus API client work unmodified, and a PromQL query function for
// alerting.
//
// # What flows in
//
// HTTP requests, GET or form-encoded POST, with the tenant in the
// X-Scope-OrgID header (see store/tenant; absent means "anonymous", an
// invalid ID is a 400). Samples come from a Reader, which *store.Client
// implements over ClickHouse: SelectSeries finds series by label matchers,
// ReadSamples fetches their samples by fingerprint, LabelNames and
// LabelValues answer the label APIs. Every Reader call carries the tenant.
//
// # What flows out
//
// JSON in Prometheus' envelopes, byte for byte where clients could tell:
// {"status":"success","data":…,"warnings":[…]} and
// {"status":"error","errorType":…,"error":…} with Prometheus' statuses
// (400 bad_data, 422 execution, 499 canceled, 503 timeout, 500 internal).
// Routes, mounted by (*API).Register on a chi router:
//
//	/api/v1/query, /api/v1/query_range    PromQL, GET and POST
//	/api/v1/series                        series by match[], GET and POST
//	/api/v1/labels                        label names, GET and POST
//	/api/v1/label/{name}/values           label values, GET
//	/api/v1/metadata                      always {} (no metadata stored yet)
//	/api/v1/query_exemplars               always [] (no exemplars stored yet)
//	/api/v1/format_query                  the query, pretty-printed
//	/api/v1/status/buildinfo              Config.BuildInfo; Grafana probes it
//
// Self-metrics go to the injected *metrics.Set:
// cairn_query_requests_total{handler,code} and
// cairn_query_request_duration_seconds{handler}.
//
// # How a query runs
//
// Prometheus' own engine (promql.Engine, v0.315.0) evaluates PromQL. It reads
// through Queryable, a storage.Queryable scoped to one tenant and one query,
// whose Select bounds the read by the engine's hints, calls SelectSeries then
// ReadSamples, and hands the engine float samples with stale markers as
// value.StaleNaN; lookback and staleness are the engine's business. The
// engine calls Select for every selector before it evaluates any, one after
// another; Select starts the read in a goroutine and returns a series set
// that waits for it, so the selectors of a query are read concurrently, at
// most four at a time. Storage failures become 500 internal, an expired
// context 503 timeout. Series that SelectSeries flags as having native
// histograms also get ReadHistograms, with the counter reset hints
// Prometheus' TSDB would give them, and their iterator yields floats and
// histograms in time order (storage_histograms.go); the API writes
// histogram results as Prometheus does ("histogram", "histograms").
//
// # Results cache
//
// Range queries go through an in-process results cache, the one Mimir and
// Cortex keep in their query frontends (results_cache.go). A range query's
// value at one evaluation time does not depend on the others, so the cache
// keeps, per tenant, expression, step, grid phase and lookback, one extent:
// the matrix for a run of evaluation times. A request evaluates only the
// times its extent lacks, before or after it, and merges: a dashboard
// refreshing "the last 24 h" every minute evaluates a minute, not a day.
// Evaluation times newer than -query.results-cache.max-freshness (10m) are
// never stored, since samples may still arrive for them; an extent is
// served for -query.results-cache.ttl (1h), so a backfill into older times
// shows within that; -query.results-cache.max-bytes bounds the memory,
// least recently used extents going first. Queries with an @ modifier
// bypass it (@ start() and @ end() depend on the range), as does a request
// with Cache-Control: no-cache or no-store. TestResultsCacheAgreesWithEngine
// checks it answers byte for byte what the engine does, over sliding,
// growing and shrinking windows.
//
// # The head of recent samples
//
// With -query.head.window set, the query role keeps that much recent data
// in a head (package store/head: an embedded Prometheus TSDB per tenant)
// that ingest.Tail fills from the metrics topic: replayed from the
// window's start at boot, then followed as messages arrive, so samples are
// queryable as soon as Kafka acknowledged them, before any writer stored
// them. Once the replay has caught up, the head holds every sample from
// its From on, and Queryable.Querier reads [From, maxt] from it and only
// the older part from the Reader, merging the two by series (each
// querier bounded to its own part, whatever the hints ask). A selector's
// read from the head costs what it costs Prometheus: the same engine over
// the same chunks, without a round trip. -query.max-range applies to both
// parts, -query.max-fetched-series to the merged series (the Reader's
// part is also checked before its samples are read), and
// -query.max-samples is the engine's. The series and label
// APIs read ClickHouse, whose index is kept per day.
//
// A cold range query outside the head costs what reading its raw samples
// from ClickHouse costs: ReadSamples asks for them in no particular order, since ClickHouse
// 18.16 sorts tens of millions of rows many times slower than Go puts each
// series' few sorted runs (one per part) in order. Thinning per step or
// reading the minute rollups inside ClickHouse was measured on 18.16 and
// not adopted: its GROUP BY over the same rows costs more than sending them
// (docs/benchmarks.md).
//
// # Limits
//
// Each limit is a flag (Config). The first four are per tenant: the
// flag is every tenant's default, and Config.TenantLimits (the overrides
// file of package store/tenant, -limits.overrides-file) replaces it for
// some tenants as max_fetched_series, max_range, max_samples and timeout.
// The engine applies max_samples and timeout itself, so the API keeps an
// engine per distinct pair. A query over a limit fails with an error that
// names the flag and its value, or, when the tenant's override set it,
// the limit's name, the value, the tenant and the file
// (*TenantLimitError):
//
//	-query.max-fetched-series  series all selectors of a query select   422 execution
//	-query.max-range           time span one selector reads             422 execution
//	-query.max-samples         samples the engine holds at once         422 execution
//	-query.timeout             evaluation time (or the timeout param)   503 timeout
//	-query.max-concurrent      queries evaluated at once; others wait   503 timeout
//	-query.max-series          series/label API results, truncated with a warning
//
// 422 is what Prometheus answers for too many samples and Mimir for its
// query limits: the query is valid but too big, and clients should not
// retry it unchanged. The fetched-series and range limits are checked before
// any sample is read (*LimitError).
//
// # How it is checked
//
// Beyond unit tests over an in-memory Reader: TestPromQLSpec runs
// Prometheus' own PromQL test scripts with the data loaded through the
// store into ClickHouse (every failing case is listed, with its reason, in
// testdata/promqltest-failures.txt); TestSideBySide compares the answers of
// the queries in testdata/sidebyside-queries.txt with a real Prometheus of
// the engine's version (deploy/local/prometheus.sh); TestGrafanaReplay
// replays the requests of Grafana 11's Prometheus data source
// (testdata/grafana-requests.json) and reads the answers as Grafana does.
//
// # Loki API
//
// LokiAPI serves Loki's HTTP query API (/loki/api/v1/query, query_range,
// labels, label/{name}/values, series, index/stats, format_query) for
// Grafana's Loki data source, over a LogReader (*store.Client). LogQL is
// parsed and run by query/logql: the stream selector and the line filters
// that no earlier stage rewrites go down to ClickHouse as a
// store.LogQuery, and count_over_time, rate, bytes_over_time and
// bytes_rate over them are counted there (store.CountLogs); parser stages
// (json, logfmt, regexp, pattern), label filters, formats and unwrap run
// in Go over the rows ClickHouse returns, at most -loki.max-scan-lines of
// them. Errors are plain text as Loki sends them: 400 for the caller's
// mistakes, 504 on -loki.timeout. TestLokiGolden runs every supported
// construct on a seeded corpus in ClickHouse; TestLokiGrafanaReplay
// replays Grafana 11's Loki requests.
//
// # Who imports it
//
// cmd/cairn, to mount the routes. alerting depends on a query function of
// the shape func(ctx, expr, ts) (promql.Vector, error), which
// (*API).InstantQuery provides once a tenant is bound; alerting should
// declare that function type itself rather than import this package's
// internals. query imports store (for its types) and store/tenant, never
// ingest, alerting or cmd.
package query
