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
// Each tenant's TSDB runs without a write-ahead log (Kafka is the log: a
// restarted process replays it into an emptied Dir), accepts samples out
// of order within Window, compacts its in-memory head into two-hour
// blocks memory-mapped from Dir, and deletes blocks older than Window.
// A sample older than Window behind its tenant's newest is refused and
// counted in cairn_head_samples_refused_total: such a sample is outside
// what From promises anyway.
//
// Memory: Prometheus' head (about the last three hours: ~1.5 bytes per
// sample in XOR chunks, a few hundred bytes per series) plus the page
// cache of the blocks; disk: ~1.5 bytes per sample of Window.
package head
