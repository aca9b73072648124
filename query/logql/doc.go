// Package logql parses and evaluates LogQL, the query language of Loki,
// for the Loki-compatible HTTP API in package query.
//
// # What flows in
//
// A query string, parsed by Parse into an Expr: a *LogExpr (a stream
// selector and a pipeline of stages) or a SampleExpr (range aggregations
// such as rate and count_over_time, and vector aggregations such as sum by
// and topk over them). The parser is our own recursive-descent parser;
// Loki's would pull in 163 modules. Its errors read as Loki's do: "parse
// error at line 1, col 5: syntax error: …".
//
// Log entries come from a Reader, which *store.Client implements over
// ClickHouse: ReadLogs for lines and CountLogs for counts per step.
//
// # How a query runs
//
// Engine plans every query the same way: the stream selector and the line
// filters before the first parser stage go to ClickHouse as a
// store.LogQuery, so that filtering happens there; the stages from the
// first parser on (json, logfmt, regexp, pattern, label filters,
// line_format, label_format, drop, keep) run in Go, in a Pipeline, on the
// rows ClickHouse returns. A metric query whose pipeline is nothing but
// line filters and drops counts in ClickHouse (CountLogs): count_over_time,
// rate, bytes_over_time and bytes_rate then never bring a line into Go.
// Any other metric query reads lines, at most Limits.MaxScanLines of them,
// and aggregates in Go.
//
// Range semantics are Loki's: a range query is evaluated at start,
// start+step, … up to end; at each time t a range aggregation sees the
// samples in (t-range, t]; a vector aggregation groups the series of one
// time by its by or without labels.
//
// Labels are Loki's: the stream's, then structured metadata, then what
// parsers extract (a field that a stream label already names becomes
// <name>_extracted); errors set __error__ and __error_details__ (JSONParserErr,
// LogfmtParserErr, LabelFilterErr, TemplateFormatErr, SampleExtractionErr),
// and a metric query whose series keeps an __error__ fails with Loki's
// "pipeline error" message. One difference: series counted in ClickHouse
// are identified by their stream labels, without structured metadata,
// while series computed in Go include it, as in Loki; aggregations by
// stream labels agree either way.
//
// # What flows out
//
// Streams for log queries; promql.Matrix (range queries) and promql.Vector
// (instant queries) for metric queries, with millisecond timestamps.
//
// # Who imports it
//
// Package query, for its Loki HTTP API. logql imports store for the log
// reader's types and Prometheus' labels and promql value types; it imports
// no other Cairn package.
package logql
