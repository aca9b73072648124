// Package ndjson decodes newline-delimited JSON logs (POST
// /api/v1/logs): one JSON object per line, as structured loggers, Vector
// and Fluent Bit write them.
//
// Each object becomes one store.LogEntry. Options name the fields that
// hold the message, the time and the stream labels; every other field is
// kept as structured metadata (nested values as their JSON text). Without
// options the message is the first of message, msg, log or line; the time
// the first of timestamp, time, ts or @timestamp (RFC 3339, or Unix
// seconds, milliseconds, microseconds or nanoseconds told apart by size;
// absent means the time of receipt); and the stream labels are service,
// job, host and level where present.
//
// ndjson imports store for the data model and nothing else of Cairn's.
package ndjson
