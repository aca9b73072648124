// Package ingest moves telemetry from the wire into the store, through
// Kafka.
//
//	client ──HTTP──► Receiver ──queue.Producer──► Kafka ──queue.Consumer──► Writer ──► store
//
// A Receiver decodes a protocol (subpackages remotewrite, otlp, influx),
// checks every series against Limits, groups the accepted series into one
// message per Kafka partition (a series always maps to the same one) and
// answers 2xx only after Kafka acknowledged every message. Kafka down →
// 503 with Retry-After; bad input → 4xx naming the field and the limit.
// Malformed input is never a 5xx. The metrics endpoints:
//
//	POST /api/v1/write, /api/v1/push  Prometheus remote write, snappy.
//	    Content-Type application/x-protobuf[;proto=prometheus.WriteRequest]
//	    is 1.0; ;proto=io.prometheus.write.v2.Request is 2.0, answered with
//	    X-Prometheus-Remote-Write-{Samples,Histograms,Exemplars}-Written.
//	    Other types get 415. Native histograms (1.0 and 2.0) are stored,
//	    once valid by Prometheus' rules (histogram.Validate); an invalid
//	    one makes the request a partial write. Exemplars are dropped.
//	POST /v1/metrics  OTLP/HTTP, protobuf or JSON, gzip or not; mapped to
//	    Prometheus series as Prometheus' own OTLP receiver maps them (see
//	    package otlp). 200 with an ExportMetricsServiceResponse in the
//	    request's encoding; partial_success counts the data points not
//	    stored (delta temporality, invalid histograms, limits) and
//	    names the first reason; errors are google.rpc.Status bodies.
//	POST /write (InfluxDB 1.x: db, precision), /api/v2/write (2.x: org,
//	    bucket, precision)  line protocol, gzip or not; a series per field,
//	    <measurement>_<field> (see package influx). 204 as InfluxDB; errors
//	    in InfluxDB's JSON shape, naming the line. db, org and bucket are
//	    ignored: the tenant is X-Scope-OrgID's, as for every receiver.
//	GET|HEAD /ping, POST /query  what InfluxDB 1.x clients call before
//	    writing: /ping answers 204 with X-Influxdb-Version; /query answers
//	    CREATE DATABASE (Telegraf's influxdb output sends it at start) as
//	    InfluxDB does, creating nothing; other InfluxQL is a 400.
//
// Per-tenant ingestion rate: a token bucket per tenant, sized by
// -limits.ingestion-rate and -limits.ingestion-burst or the tenant's
// entry in -limits.overrides-file (TenantLimits). A request is charged,
// once decoded and validated and before anything is produced, for its
// samples, log lines or build events; over the rate it gets 429 with
// Retry-After, naming the tenant, the limit, its value and where it is
// set, and nothing of it is stored. A request larger than the burst is
// refused whatever the rate. The limit holds per ingest process. Bodies
// over -ingest.max-request-bytes get 413.
//
// Partial acceptance: what passes is stored and what does not is named.
// Remote write (both versions) and Influx answer 400 with the count and the
// first reason, as Prometheus, Mimir and InfluxDB 1.x do; OTLP answers 200
// with partial_success, as its specification asks.
//
// Self-metrics, per protocol (prometheus, prometheus_v2, otlp, influx):
// cairn_ingest_samples_total{result="received"|"accepted"|"rejected",
// reason=…} and cairn_ingest_requests_failed_total{reason, code}; the
// rate limit's reasons are rate_limited and over_burst, a body too large
// is request_too_large. OTLP
// points dropped before conversion count one each; Influx string fields,
// skipped without failing the write, count as rejected with
// reason="string_field".
//
// OTLP logs:
//
//	POST /v1/logs  OTLP/HTTP, protobuf or JSON, gzip or not, answered as
//	    /v1/metrics is; partial_success counts the log records not stored.
//	    A record becomes a log entry as Loki's OTLP endpoint makes it: the
//	    resource attributes Loki indexes by default are the stream labels
//	    (service.name → service_name, "unknown_service" when there is none;
//	    service.namespace, service.instance.id, deployment.environment,
//	    k8s.namespace.name, k8s.pod.name, …), every other attribute and the
//	    trace context are structured metadata, and so is level, named from
//	    the severity ("info", "error", …), which Loki calls detected_level.
//	    See package otlp. Counted in cairn_ingest_log_lines_total with
//	    protocol="otlp_logs".
//
// The build and deploy endpoints (package builds says how each
// provider's fields map):
//
//	POST /api/v1/builds  Cairn's own events: a JSON object or an array of
//	    them, gzip or not. Each event is checked on its own: 204, or 400
//	    naming the first bad event by index and field (the rest are stored).
//	POST /api/v1/builds/github  GitHub webhooks, JSON or form content type:
//	    workflow_run, and workflow_job for jobs that deploy to an
//	    environment. With -github.webhook-secret set, X-Hub-Signature-256
//	    must match (401 naming the header otherwise);
//	    -github.deploy-workflows says which workflows' runs are deploys.
//	POST /api/v1/builds/gitlab  GitLab webhooks: Pipeline Hook, Deployment
//	    Hook, and Job Hook for jobs that deploy. With -gitlab.webhook-token
//	    set, X-Gitlab-Token must match (401 otherwise).
//
// The service of a webhook's run is the repository's (project's) name, or
// the endpoint URL's ?service=. Deliveries that record nothing (ping,
// other event types, jobs that do not deploy) get 200 with the reason, so
// the sender's delivery log shows why.
//
// Events go to the builds topic, keyed by a hash of the run's ID so that
// a run keeps to one partition, and a writer stores them with
// WriteBuilds. A finished run (success, failure, cancelled) also feeds
// metric series, one sample each at its finish, through the metrics path
// and its limits:
//
//	cairn_build_finished_timestamp_seconds{service,pipeline,kind,status,branch,environment}
//	cairn_build_duration_seconds{…}        when the run's start is known
//	cairn_deployment_lead_time_seconds{…}  successful deploys with a commit time
//
// They are not counters: a receiver keeps no running totals, and a sample
// that depends on its event alone is stored once however often the event
// is delivered, where a counter would double count or reset. Count runs
// over a range instead:
//
//	builds per day:     sum by (service, status) (count_over_time(cairn_build_finished_timestamp_seconds{kind="build"}[1d]))
//	deploys per day:    sum by (service, environment, status) (count_over_time(cairn_build_finished_timestamp_seconds{kind="deploy"}[1d]))
//	build failure rate: sum(count_over_time(cairn_build_finished_timestamp_seconds{kind="build",status="failure"}[1d]))
//	                      / sum(count_over_time(cairn_build_finished_timestamp_seconds{kind="build"}[1d]))
//	p90 duration:       quantile_over_time(0.9, cairn_build_duration_seconds{kind="build",pipeline="CI",status="success"}[7d])
//	since last deploy:  time() - max(max_over_time(cairn_build_finished_timestamp_seconds{kind="deploy",status="success"}[30d]))
//	median lead time:   quantile_over_time(0.5, cairn_deployment_lead_time_seconds{environment="prod"}[30d])
//
// These count completions: a GitLab pipeline retried after failing adds
// a failure and then a success, where the builds API shows one run in its
// latest state. Runs of one series finishing in the same millisecond
// count once. builds' TestSeriesQueries runs these queries.
//
// Self-metrics, per protocol (builds, github, gitlab):
// cairn_ingest_build_events_total{result="received"|"accepted"|
// "rejected"|"ignored", reason=…}, and the samples of finished runs in
// cairn_ingest_samples_total.
//
// A Writer is a consumer-group member: it batches messages by rows, bytes
// or time, writes the batch to the store, and only then commits the
// offsets. A message that cannot be decoded goes to the dead-letter topic
// with the reason and never blocks its partition. While the store is down
// the writer retries with backoff and Kafka keeps the data; on shutdown it
// drains what is left and commits. A batch written twice (a crash between
// insert and commit) is harmless: the store deduplicates on read.
//
// The writer keeps a store.Rollups, from which the store computes the
// minute rollups of each batch (store's doc.go, "Rollups"). It holds
// only while every sample of a series passes through this writer in
// order, so when a metrics partition's offsets do not follow on from the
// last message the writer read of it (a partition back after a rebalance,
// or read again from its last commit) the writer forgets every series,
// and the store aggregates each one from ClickHouse once more.
//
// Its self-metrics: cairn_writer_rows_total, cairn_writer_messages_total,
// cairn_writer_dead_letters_total, cairn_writer_retries_total{op},
// cairn_writer_flush_duration_seconds, cairn_writer_rollup_series (the
// series whose latest minutes it holds), cairn_writer_rollup_resets_total,
// cairn_writer_rollup_cold_series_total (series ClickHouse aggregated for
// it) and, per partition it has read,
// cairn_writer_consumer_lag_messages{topic, partition}: messages the
// partition held beyond the writer's last commit, as of its last fetch.
//
// A Bridge brings in telemetry that OpenTelemetry Collectors already put
// on Kafka: it reads the topics their Kafka exporter writes
// (-bridge.metrics-topics, -bridge.logs-topics: one
// ExportMetricsServiceRequest or ExportLogsServiceRequest per message,
// encoding otlp_proto or otlp_json), converts and validates each message
// as the OTLP receivers do, produces the result to Cairn's topics, and
// commits the source offsets only after Kafka acknowledged it. The tenant
// is the message's X-Scope-OrgID header (the exporter's
// include_metadata_keys), else -bridge.tenant. A message that does not
// decode goes to the dead-letter topic with the reason; data failing the
// limits is dropped and counted with protocol="kafka_otlp". Messages are
// counted in cairn_bridge_messages_total{topic, result="bridged"|
// "dead_letter"}.
//
// ingest imports store, ingest/queue, ingest/wire and the protocol
// decoders. Nothing imports ingest but cmd/cairn.
package ingest
