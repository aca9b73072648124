// Package ingest moves telemetry from the wire into the store, through
// Kafka.
//
//	client ──HTTP──► Receiver ──queue.Producer──► Kafka ──queue.Consumer──► Writer ──► store
//
// A Receiver decodes a protocol (subpackages such as remotewrite), checks
// every series against Limits, groups the accepted series into one message
// per Kafka partition (a series always maps to the same one) and answers
// 2xx only after Kafka acknowledged every message. Kafka down → 503 with
// Retry-After; bad input → 4xx naming the field and the limit.
//
// A Writer is a consumer-group member: it batches messages by rows, bytes
// or time, writes the batch to the store, and only then commits the
// offsets. A message that cannot be decoded goes to the dead-letter topic
// with the reason and never blocks its partition. While the store is down
// the writer retries with backoff and Kafka keeps the data; on shutdown it
// drains what is left and commits. A batch written twice (a crash between
// insert and commit) is harmless: the store deduplicates on read.
//
// ingest imports store, ingest/queue, ingest/wire and the protocol
// decoders. Nothing imports ingest but cmd/cairn.
package ingest
