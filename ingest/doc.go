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
//	    Other types get 415. Native histograms (2.0) are not stored yet:
//	    they make the request a partial write; exemplars are dropped.
//	POST /v1/metrics  OTLP/HTTP, protobuf or JSON, gzip or not; mapped to
//	    Prometheus series as Prometheus' own OTLP receiver maps them (see
//	    package otlp). 200 with an ExportMetricsServiceResponse in the
//	    request's encoding; partial_success counts the data points not
//	    stored (delta temporality, exponential histograms, limits) and
//	    names the first reason; errors are google.rpc.Status bodies.
//	POST /write (InfluxDB 1.x: db, precision), /api/v2/write (2.x: org,
//	    bucket, precision)  line protocol, gzip or not; a series per field,
//	    <measurement>_<field> (see package influx). 204 as InfluxDB; errors
//	    in InfluxDB's JSON shape, naming the line. db, org and bucket are
//	    ignored: the tenant is X-Scope-OrgID's, as for every receiver.
//
// Partial acceptance: what passes is stored and what does not is named.
// Remote write (both versions) and Influx answer 400 with the count and the
// first reason, as Prometheus, Mimir and InfluxDB 1.x do; OTLP answers 200
// with partial_success, as its specification asks.
//
// Self-metrics, per protocol (prometheus, prometheus_v2, otlp, influx):
// cairn_ingest_samples_total{result="received"|"accepted"|"rejected",
// reason=…} and cairn_ingest_requests_failed_total{reason, code}. OTLP
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
// A Writer is a consumer-group member: it batches messages by rows, bytes
// or time, writes the batch to the store, and only then commits the
// offsets. A message that cannot be decoded goes to the dead-letter topic
// with the reason and never blocks its partition. While the store is down
// the writer retries with backoff and Kafka keeps the data; on shutdown it
// drains what is left and commits. A batch written twice (a crash between
// insert and commit) is harmless: the store deduplicates on read.
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
