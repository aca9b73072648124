// Package remotewrite decodes Prometheus remote write requests.
//
// Version 1.0 bodies are snappy block-compressed prompb.WriteRequest
// protobufs. Decoding turns them into store.Series for one tenant, ready for
// ingest's validation and the Kafka producer; it never validates label
// contents itself, so every protocol shares ingest's rules.
//
// remotewrite imports store for the data model and nothing else of Cairn's;
// ingest's receiver is its only user.
package remotewrite
