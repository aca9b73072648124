// Package wire is the binary encoding of telemetry on Kafka.
//
// Receivers encode what they accepted into messages; writers decode them
// on the other side of Kafka. A message holds one tenant's data of one kind
// (metrics or logs; builds will share the header), so a writer can batch
// messages without looking inside them.
//
// Layout of a metrics message (all integers are varints unless noted):
//
//	magic 'C' | version 1 | kind 1 (metrics)
//	tenant:  len, bytes
//	series:  count, then for each series
//	  labels:  count, then name len, name, value len, value
//	  samples: count, then timestamp (zigzag delta from the previous one,
//	           the first from 0) and value (8 bytes, little-endian IEEE 754)
//
// The version byte lets a writer refuse messages it does not understand
// (they go to the dead-letter topic) instead of misreading them. Kafka's
// batch compression takes care of repeated label strings, so the format
// keeps no symbol table. Decoders check every length against the bytes
// left and never allocate more than the message could hold.
//
// A logs message groups entries into runs of one stream, so a stream's
// labels travel once per run; see AppendLogs.
//
// wire imports store for the data model and nothing else of Cairn's.
package wire
