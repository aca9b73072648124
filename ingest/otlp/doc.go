// Package otlp decodes OTLP metrics and logs requests and maps them to
// Cairn's data model: metrics to Prometheus series as Prometheus does,
// logs to log entries as Loki does.
//
// # Metrics
//
// Decode unmarshals an ExportMetricsServiceRequest, protobuf or JSON, with
// the OpenTelemetry Collector's pdata. Convert maps its metrics the way
// Prometheus' own OTLP receiver does by default, so that dashboards and
// alerts written for one work on the other:
//
//   - Names: runs of characters outside [a-zA-Z0-9:] become "_"; the unit
//     is appended in words ("s" → "_seconds", "By/s" →
//     "_bytes_per_second", "{request}" → nothing); monotonic sums end in
//     "_total", gauges of unit "1" in "_ratio". Attribute keys become
//     label names the same way ("http.route" → "http_route"); keys that
//     collide once sanitized have their values joined with ";".
//   - Types: a gauge is a gauge; a cumulative monotonic sum is a counter,
//     a cumulative non-monotonic sum a gauge; an explicit-bucket histogram
//     is a classic histogram (_bucket{le} cumulative, le="+Inf", _sum,
//     _count); a summary is its quantile series, _sum and _count; an
//     exponential histogram is a native histogram of the metric's name
//     (scale as schema, merged down to schema 8 above it; OTLP bucket
//     index i as Prometheus' i+1; a zero bucket 1e-128 wide, as
//     Prometheus'). Points flagged "no recorded value" become stale
//     markers.
//   - Not converted, counted by reason in Result.Dropped: delta (and
//     unspecified) temporality, which Prometheus rejects by default too;
//     exponential histograms of a scale below -4; points without a
//     timestamp; metric names or attribute keys with nothing
//     usable left once sanitized.
//   - Resources: service.name, prefixed with "service.namespace/" when
//     set, becomes job; service.instance.id becomes instance. The other
//     resource attributes are not copied onto every series but onto one
//     target_info series per resource (value 1, a sample every 2.5
//     minutes across the request's points and one at the last), which
//     queries join on job and instance. Scope attributes and exemplars
//     are not kept.
//
// Result.Origin ties each series to its data point so the receiver can
// answer OTLP's partial_success in data points.
//
// # Logs
//
// DecodeLogs unmarshals an ExportLogsServiceRequest, protobuf or JSON.
// ConvertLogs makes one store.LogEntry per log record, the way Loki's OTLP
// endpoint (/otlp/v1/logs) maps them with its default configuration, so
// that LogQL queries and Grafana dashboards written for one work on the
// other:
//
//   - Stream labels: the resource attributes Loki indexes by default —
//     service.name, service.namespace, service.instance.id,
//     deployment.environment(.name), cloud.region,
//     cloud.availability_zone, k8s.cluster.name, k8s.namespace.name,
//     k8s.pod.name, k8s.container.name, container.name and the k8s
//     workload names (replicaset, deployment, statefulset, daemonset,
//     cronjob, job) — their keys sanitized as for metrics
//     ("service.name" → service_name). A resource without service.name
//     gets service_name from the first of Loki's usual service labels it
//     has (k8s_container_name, container_name, k8s_job_name, …), else
//     "unknown_service".
//   - Structured metadata (store.LogEntry.Metadata): every other
//     resource attribute, the scope's attributes, scope_name and
//     scope_version, the record's attributes, and the record's fields as
//     Loki names them — severity_text, severity_number, trace_id and
//     span_id (hex), flags, observed_timestamp (when the record also has
//     a time), dropped_attributes_count. Attributes holding maps are
//     flattened ({"http": {"method": "GET"}} → http_method="GET"); arrays
//     are JSON. Empty values and keys with nothing usable once sanitized
//     are left out. When names collide, the record's fields win over its
//     attributes, which win over the scope's, which win over the
//     resource's.
//   - level: Level derives it from severity_text (canonical names for the
//     usual spellings: "WARNING" → "warn"), else from severity_number
//     ("9"–"12" → "info"), and it is stored as structured metadata. Loki
//     derives the same value into detected_level (from severity_number
//     first); Cairn stores it as level only.
//   - Line: the body; a string as it is, other types as OTLP renders
//     them (maps and arrays as JSON, bytes as base64).
//   - Time: time_unix_nano, else observed_time_unix_nano, else the
//     receiver's clock.
//
// # Limits
//
// Neither Convert nor ConvertLogs validates what it makes against
// Cairn's limits: ingest's receivers do, for every protocol alike.
//
// otlp imports store for the data model and nothing else of Cairn's;
// ingest's OTLP receivers and its Kafka bridge are its only users.
package otlp
