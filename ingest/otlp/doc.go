// Package otlp decodes OTLP/HTTP metrics requests and maps them to
// Prometheus series.
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
//     _count); a summary is its quantile series, _sum and _count. Points
//     flagged "no recorded value" become stale markers.
//   - Not converted, counted by reason in Result.Dropped: delta (and
//     unspecified) temporality, which Prometheus rejects by default too;
//     exponential histograms, which would need native histograms; points
//     without a timestamp; metric names or attribute keys with nothing
//     usable left once sanitized.
//   - Resources: service.name, prefixed with "service.namespace/" when
//     set, becomes job; service.instance.id becomes instance. The other
//     resource attributes are not copied onto every series but onto one
//     target_info series per resource (value 1, a sample every 2.5
//     minutes across the request's points and one at the last), which
//     queries join on job and instance. Scope attributes and exemplars
//     are not kept.
//
// Convert does not validate what it makes against Cairn's limits: ingest's
// receiver does, for every protocol alike. Result.Origin ties each series
// to its data point so the receiver can answer OTLP's partial_success in
// data points.
//
// otlp imports store for the data model and nothing else of Cairn's;
// ingest's receiver is its only user.
package otlp
