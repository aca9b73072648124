// Package remotewrite decodes Prometheus remote write requests.
//
// Version 1.0 bodies are snappy block-compressed prompb.WriteRequest
// protobufs; version 2.0 bodies are snappy block-compressed
// io.prometheus.write.v2.Request protobufs, whose series name their labels
// by reference into the request's symbols table. Decoding turns either into
// store.Series for one tenant, ready for ingest's validation and the Kafka
// producer; it never validates label contents itself, so every protocol
// shares ingest's rules. DecodeV2 also counts what 2.0 can carry that Cairn
// does not store (native histograms, exemplars) and the series whose label
// references are broken, so the receiver can answer with the 2.0
// partial-write semantics. Which version a request is, the receiver tells
// from its Content-Type.
//
// remotewrite imports store for the data model and nothing else of Cairn's;
// ingest's receiver is its only user.
package remotewrite
