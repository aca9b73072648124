// Package wire is the binary encoding of telemetry on Kafka.
//
// Receivers encode what they accepted into messages; writers decode them
// on the other side of Kafka. A message holds one tenant's data of one kind
// (metrics or logs; builds will share the header), so a writer can batch
// messages without looking inside them.
//
// Layout of a metrics message, version 2 (all integers are varints
// unless noted):
//
//	magic 'C' | version 2 | kind 1 (metrics)
//	tenant:  len, bytes
//	series:  count, then for each series
//	  fingerprint: 8 bytes, little-endian (store.Fingerprint of the labels)
//	  labels:  byte length, then packed labels: name, value, name, value…
//	           in name order, each a length (one byte below 255, else 255
//	           and three bytes little-endian) and its bytes
//	  samples: count, then timestamp (zigzag delta from the previous one,
//	           the first from 0) and value (8 bytes, little-endian IEEE 754)
//
// The receiver computes the fingerprint anyway, to pick the partition;
// carrying it spares the writer hashing every label set again. Packed
// labels are the memory layout of Prometheus' labels.Labels, so the
// receiver copies a label set in one piece and the writer decodes it
// without copying (see packed.go). Writers trust the fingerprint: only
// Cairn's receivers write these topics, and Kafka checksums each batch.
//
// Version 3 adds, after each series' samples, its native histograms: a
// count, then per histogram its timestamp (varint delta) and its encoding
// in the store's format, length first.
//
// Version 4 is version 3 in which a series may be a reference: its
// fingerprint followed by a zero label length, for a series whose labels
// the receiver sent before (store.Series.IsRef; see ingest's
// labelsSent). A message is version 4 only when it holds a reference, 3
// only when it holds histograms, else 2, so writers of earlier releases
// keep reading what they can.
//
// Version 1, which receivers wrote before, differs only per series:
// no fingerprint, and labels as a count followed by name len, name,
// value len, value. Writers read both, since Kafka may hold version 1
// messages when a new writer starts; receivers write version 2 on, so
// upgrade writers and query roles (whose head reads the topic) before
// receivers: an old writer dead-letters versions it does not know, and
// an old head skips them.
//
// The version byte lets a writer refuse messages it does not understand
// (they go to the dead-letter topic) instead of misreading them. Kafka's
// batch compression takes care of repeated label strings, so the format
// keeps no symbol table. Decoders check every length against the bytes
// left and never allocate more than the message could hold.
//
// Logs and builds messages are version 1. A logs message groups entries
// into runs of one stream, so a stream's labels travel once per run; see
// AppendLogs.
//
// wire imports store for the data model and nothing else of Cairn's.
package wire
