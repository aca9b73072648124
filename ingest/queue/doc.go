// Package queue is Cairn's only contact with Kafka.
//
// It wraps github.com/segmentio/kafka-go behind three small types, so a
// change of client library touches this package alone:
//
//   - Producer writes messages with acknowledgement from all in-sync
//     replicas and returns only once the broker has them. A message's key
//     carries its shard; the shard picks the partition, so one series (or
//     one log stream) always lands on one partition.
//   - Consumer reads a topic in a consumer group, hands out messages one
//     at a time and commits offsets only when told to: at-least-once, the
//     store's deduplication makes it exactly-once for readers.
//   - EnsureTopics creates missing topics with the configured partitions
//     and replication.
//
// Topic names are the configured prefix plus the kind: cairn.metrics,
// cairn.logs, cairn.builds and cairn.deadletter by default.
//
// queue imports nothing of Cairn's; ingest's receivers and writers use it.
package queue
