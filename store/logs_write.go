package store

import (
	"context"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

const nsPerDay = 86_400 * 1_000_000_000

// MinLogTime and MaxLogTime bound the log timestamps (ns) the schema
// stores, the same days as MinTime and MaxTime. WriteLogs drops entries
// outside them; ingest should reject them first.
const (
	MinLogTime int64 = 0
	MaxLogTime int64 = (maxDay+1)*nsPerDay - 1
)

// logDayOf is the UTC day number of a log timestamp in [MinLogTime,
// MaxLogTime].
func logDayOf(t int64) int64 { return t / nsPerDay }

func validLogTime(t int64) bool { return t >= MinLogTime && t <= MaxLogTime }

// WriteLogs stores a batch of log entries. For each stream and day it has
// entries on, it first inserts the stream's labels into log_streams and
// log_labels, unless this client already did so, and then the entries:
// a reader that finds an entry also finds its stream.
//
// token names the batch, as for WriteSeries. An entry equal to a stored
// one in tenant, stream, timestamp and line is a duplicate and is never
// read twice; its metadata does not count.
//
// Entries with timestamps outside [MinLogTime, MaxLogTime] are dropped and
// logged.
func (c *Client) WriteLogs(ctx context.Context, entries []LogEntry, token string) error {
	chunks := splitLogsByDays(entries, maxDaysPerInsert)
	for i, chunk := range chunks {
		if err := c.writeLogChunk(ctx, chunk, chunkToken(token, i, len(chunks))); err != nil {
			return err
		}
	}
	return nil
}

func (c *Client) writeLogChunk(ctx context.Context, entries []LogEntry, token string) error {
	var b logBatch
	b.fill(entries, c.streams)
	if b.dropped > 0 {
		c.logger.Warn("dropped log entries outside the storable time range",
			"entries", b.dropped, "min_time", MinLogTime, "max_time", MaxLogTime)
	}
	if len(b.keys) > 0 {
		s := &b.streams
		if err := c.insert(ctx, "log_streams", "tenant, date, fingerprint, label_names, label_values", token,
			s.tenant, s.date, s.fp, s.names, s.values); err != nil {
			return err
		}
		if err := c.insertIndex(ctx, "log_labels", token, &b.index); err != nil {
			return err
		}
		c.streams.add(b.keys)
	}
	if len(b.records.ts) == 0 {
		return nil
	}
	r := &b.records
	return c.insert(ctx, "log_records", "tenant, fingerprint, timestamp, line, metadata_names, metadata_values", token,
		r.tenant, r.fp, r.ts, r.line, r.mdNames, r.mdValues)
}

// logBatch holds the columns of one log write.
type logBatch struct {
	records struct {
		tenant, line      []string
		fp                []uint64
		ts                []int64
		mdNames, mdValues [][]string
	}
	streams struct {
		tenant        []string
		date          []time.Time
		fp            []uint64
		names, values [][]string
	}
	index   indexRows
	keys    []seriesKey            // stream rows in this batch
	seen    map[seriesKey]struct{} // keys, for streams repeated in a batch
	dropped int
}

// fill turns entries into rows: every entry, and stream and index rows for
// the (stream, day) pairs cache does not hold. Consecutive entries of one
// stream, the usual order, share one fingerprint computation.
func (b *logBatch) fill(entries []LogEntry, cache *seriesCache) {
	r := &b.records
	n := len(entries)
	r.tenant, r.line, r.fp, r.ts = make([]string, 0, n), make([]string, 0, n), make([]uint64, 0, n), make([]int64, 0, n)
	r.mdNames, r.mdValues = make([][]string, 0, n), make([][]string, 0, n)
	var (
		prev labels.Labels
		fp   uint64
	)
	for i, e := range entries {
		if !validLogTime(e.T) {
			b.dropped++
			continue
		}
		if i == 0 || !labels.Equal(prev, e.Stream) {
			prev, fp = e.Stream, Fingerprint(e.Stream)
		}
		names, values := labelArrays(e.Metadata)
		r.tenant = append(r.tenant, e.Tenant)
		r.fp = append(r.fp, fp)
		r.ts = append(r.ts, e.T)
		r.line = append(r.line, e.Line)
		r.mdNames = append(r.mdNames, names)
		r.mdValues = append(r.mdValues, values)
		k := seriesKey{tenant: e.Tenant, fp: fp, day: logDayOf(e.T)}
		if !b.has(k) && !cache.has(k) {
			b.addStream(k, e.Stream)
		}
	}
}

func (b *logBatch) has(k seriesKey) bool {
	_, ok := b.seen[k]
	return ok
}

// addStream adds the stream and index rows of one stream on one day.
func (b *logBatch) addStream(k seriesKey, ls labels.Labels) {
	if b.seen == nil {
		b.seen = make(map[seriesKey]struct{})
	}
	b.seen[k] = struct{}{}
	b.keys = append(b.keys, k)
	date := time.Unix(k.day*secondsPerDay, 0).UTC()
	names, values := labelArrays(ls)
	s := &b.streams
	s.tenant = append(s.tenant, k.tenant)
	s.date = append(s.date, date)
	s.fp = append(s.fp, k.fp)
	s.names = append(s.names, names)
	s.values = append(s.values, values)
	b.index.add(k.tenant, date, k.fp, ls)
}

// labelArrays returns labels as parallel, name-sorted arrays.
func labelArrays(ls labels.Labels) (names, values []string) {
	n := ls.Len()
	names, values = make([]string, 0, n), make([]string, 0, n)
	ls.Range(func(l labels.Label) {
		names = append(names, l.Name)
		values = append(values, l.Value)
	})
	return names, values
}

// splitLogsByDays splits a batch of entries that span more than limit
// days (see splitByDay).
func splitLogsByDays(entries []LogEntry, limit int64) [][]LogEntry {
	return splitByDay(entries, limit, func(e LogEntry) (int64, bool) {
		return logDayOf(e.T), validLogTime(e.T)
	})
}
