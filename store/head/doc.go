// Package head keeps the most recent samples of every tenant in the query
// process, in an embedded Prometheus TSDB per tenant (as Mimir's
// ingesters keep one TSDB per tenant), so that queries over recent data
// read neither ClickHouse nor the network.
//
// A query role fills it by tailing the metrics topic (ingest.Tail): at
// start it replays the topic from the messages of Window ago, and from
// then on appends each message as it arrives, before any writer has
// stored it. Once the replay has caught up, the head is complete for
// every sample newer than From: everything acknowledged since then is in
// it. Queries read [From, now] from the head and anything older from
// ClickHouse (query.Queryable merges the two by series).
//
// From only promises what the tail has read: the head trails the topic
// by cairn_head_tail_lag_messages{topic,partition}. If the topic's
// retention had already deleted messages newer than the replay's start,
// From moves up to the oldest message left. A message the head cannot
// take, or partitions added to the topic after the start, invalidate the
// head (cairn_head_invalidated 1): From is never ready again and queries
// read ClickHouse only, until the process restarts.
//
// Receivers send a series' labels to the topic only now and then (at
// least every -ingest.labels-interval, and on each new UTC day of its
// samples) and references in between: the series' fingerprint
// (store.Fingerprint) and samples alone. The head keeps, per tenant (the
// same labels in two tenants have the same fingerprint), the labels of
// every series it appended to in the last Window (and at least an hour
// longer than LabelsInterval), sharing the TSDB's copy, and appends a
// reference under them. A reference to labels it has not read, as at
// start for a series whose labels came before the replay, is skipped and
// counted in cairn_head_unresolved_samples_total. So the replay makes the
// head complete only from its start plus the labels interval (plus the
// future skew): by then every series has had its labels sent again. A
// reference it cannot resolve later on (receivers that send labels less
// often than the query role's -ingest.labels-interval says, a tail far
// behind) moves that start past the dropped sample, so that queries read
// what the head lacks from ClickHouse instead.
//
// Each tenant's TSDB runs without a write-ahead log (Kafka is the log: a
// restarted process replays it into an emptied Dir), accepts samples out
// of order within Window (plus -ingest.max-future-skew, since the newest
// sample may be that far ahead), compacts its in-memory head into
// two-hour blocks memory-mapped from Dir and those into larger ones, and
// deletes blocks older than Window. A sample older than that behind its
// tenant's newest is refused and counted in
// cairn_head_samples_refused_total: it is outside what From promises
// anyway. (Samples the TSDB drops when committing, such as a second value
// for a timestamp, are not counted there.)
//
// Dir is emptied at start only if it is missing, empty or marked by a
// .cairn-head file that New writes; anything else is refused.
//
// Memory: Prometheus' head (about the last three hours: ~1.5 bytes per
// sample in XOR chunks, a few hundred bytes per series) plus the page
// cache of the blocks; disk: ~1.5 bytes per sample of Window, and up to
// one more block's worth (blocks of up to 18 h are deleted whole, once all
// their samples are older than Window).
package head
