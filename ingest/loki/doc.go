// Package loki decodes Loki push requests (POST /loki/api/v1/push), as
// Promtail, Grafana Alloy, Fluent Bit and Loki's own clients send them.
//
// Two encodings exist: snappy-compressed protobuf (the push.PushRequest of
// github.com/grafana/loki/pkg/push, stream labels as a selector string
// such as {app="web"}) and JSON ({"streams":[{"stream":{…},"values":[
// ["<unix ns>","<line>",{<structured metadata>}]]}]}). Both decode into
// store.LogEntry values for one tenant; validating them is ingest's job,
// shared with every other log protocol.
//
// loki imports store for the data model and nothing else of Cairn's.
package loki
