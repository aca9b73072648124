package store

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/prometheus/prometheus/model/labels"
)

const (
	msPerDay      = 86_400_000
	secondsPerDay = 86_400
	// maxDay is the last day every server handles as a Date, 2105-12-31:
	// 18.16 parses later dates as 0000-00-00 (modern ones go to 2149).
	maxDay = 49672
	// maxDaysPerInsert bounds the partitions one INSERT touches: every
	// partition becomes a part of its own, and modern servers refuse an
	// insert into more than 100 (max_partitions_per_insert_block).
	maxDaysPerInsert = 64
)

// MinTime and MaxTime bound the sample timestamps (ms) the schema stores:
// the Unix epoch to the end of 2105, the range of ClickHouse 18.16's Date. WriteSeries drops samples outside them; ingest should reject them
// first.
const (
	MinTime int64 = 0
	MaxTime int64 = (maxDay+1)*msPerDay - 1
)

// storableTime reports whether t is in [MinTime, MaxTime]: whether the
// schema stores a sample, change or event at t.
func storableTime(t int64) bool { return t >= MinTime && t <= MaxTime }

// DayOf is the UTC day number of a timestamp in [MinTime, MaxTime], by
// which every table is partitioned; ingest keys what it sent by it too.
func DayOf(t int64) int64 { return t / msPerDay }

// WriteSeries stores a batch of series: WriteMetrics with series only,
// and with no Rollups, so that ClickHouse aggregates the minutes of the
// batch's series from samples, a query per tenant and 4,000 series: for
// callers that write now and then, not for a writer's stream.
func (c *Client) WriteSeries(ctx context.Context, series []Series, token string) error {
	return c.WriteMetrics(ctx, &Metrics{Series: series}, token, nil)
}

// Metrics is a batch of metric samples for WriteMetrics: series, each
// with its labels or as a reference (Series.IsRef), and references in
// columns. A writer decodes the references that carry only samples into
// Refs, and the rest into Series.
type Metrics struct {
	Series []Series
	Refs   SampleRefs
}

// WriteMetrics stores a batch. For each series with labels and day it
// has samples on, it first inserts the series' labels into the series
// and series_labels tables, unless this client already did so, and then
// all the samples: a reader that finds a sample also finds its series.
// A reference's labels went before.
//
// token names the batch for exactly-once storage, such as a Kafka topic,
// partition and offset range. Servers that support it drop a repeated
// insert with the same token; on older ones the repeated rows are stored
// and merged away later, and readers never see them twice either way.
//
// Samples with timestamps outside [MinTime, MaxTime] are dropped and
// logged. Native histograms (Series.Histograms) go first, the same way,
// to their own tables (writeHistograms).
//
// After the samples, it writes their minute aggregates to rollups_1m,
// from what r holds of the caller's earlier batches (see Rollups), and
// updates r once everything is written. r may be nil; a caller that
// writes a stream of batches keeps one Rollups for all of them, and
// writes one batch at a time.
func (c *Client) WriteMetrics(ctx context.Context, m *Metrics, token string, r *Rollups) error {
	histograms, days := scanMetrics(m.Series, &m.Refs)
	if histograms {
		if err := c.writeHistograms(ctx, m.Series, token); err != nil {
			return err
		}
	}
	if days.span() < maxDaysPerInsert {
		return c.writeChunk(ctx, m.Series, &m.Refs, token, r)
	}
	series := m.Series
	if m.Refs.Len() > 0 {
		series = append(slices.Clip(series), m.Refs.Series()...)
	}
	chunks := splitByDays(series, maxDaysPerInsert)
	for i, chunk := range chunks {
		if err := c.writeChunk(ctx, chunk, nil, chunkToken(token, i, len(chunks)), r); err != nil {
			return err
		}
	}
	return nil
}

// scanMetrics reports whether a batch has native histograms and the days
// of its storable samples, in one pass: a batch of references is mostly
// the Series themselves, and every pass over them reads them from memory
// again.
func scanMetrics(series []Series, refs *SampleRefs) (histograms bool, days dayRange) {
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for i := range series {
		s := &series[i]
		histograms = histograms || len(s.Histograms) > 0
		for _, p := range s.Samples {
			if storableTime(p.T) {
				lo, hi = min(lo, p.T), max(hi, p.T)
			}
		}
	}
	if refs != nil {
		for _, t := range refs.T {
			if storableTime(t) {
				lo, hi = min(lo, t), max(hi, t)
			}
		}
	}
	if lo > hi {
		return histograms, dayRange{}
	}
	return histograms, dayRange{first: DayOf(lo), last: DayOf(hi)}
}

// writeChunk writes series and refs (which may be nil) in one insert per
// table, and their rollups.
func (c *Client) writeChunk(ctx context.Context, series []Series, refs *SampleRefs, token string, r *Rollups) error {
	b := c.batches.get()
	defer func() {
		b.reset()
		c.batches.put(b)
	}()
	b.fill(series, refs, c.cache)
	if b.dropped > 0 {
		c.logger.Warn("dropped samples outside the storable time range",
			"samples", b.dropped, "min_time", MinTime, "max_time", MaxTime)
	}
	if len(b.keys) > 0 {
		if err := c.insert(ctx, "series", "tenant, date, fingerprint, metric_name, label_names, label_values", token,
			b.series.tenant, b.series.date, b.series.fp, b.series.name, b.series.labelNames, b.series.labelValues); err != nil {
			return err
		}
		if err := c.insertIndex(ctx, "series_labels", token, &b.index); err != nil {
			return err
		}
		c.cache.add(b.keys)
	}
	if len(b.samples.ts) > 0 {
		s := &b.samples
		if err := c.insert(ctx, "samples", "tenant, fingerprint, timestamp, value, flags", token,
			s.tenant, s.fp, s.ts, s.val, s.flags); err != nil {
			return err
		}
		r.observe(&b.rollups, s.tenant, s.fp, s.ts, s.val, s.flags)
		if err := c.writeRollups(ctx, &b.rollups, r, token); err != nil {
			return err
		}
		r.commit()
	}
	return nil
}

// noDedup, as an insert's token, turns off the deduplication of inserts
// (insert_deduplicate), by token or, without one, by the checksums of
// the blocks, which replicated tables and modern servers do.
const noDedup = "\x00no-dedup"

// insert sends one INSERT of whole columns into table. On modern servers a
// non-empty token becomes the insert's deduplication token, suffixed with
// the table so the inserts of a batch never collide; noDedup turns it off.
//
// Columns of more than blockRows rows go out in blocks of blockRows
// (sendBlocks), consecutive slices of the columns, which the server
// joins again before it writes a part, up to min_insert_block_size_rows
// (1,048,576 rows by default on 18.16, 1,048,449 on modern servers): a
// batch below that becomes one part per day, and sorted columns stay
// sorted, while the driver holds a copy of one block at a time instead
// of the whole batch. An insert of more rows than that is written as
// several parts, each as soon as the server has its rows, so a failure
// can leave some of them stored; the retry sends the same rows in the
// same blocks, and doc.go ("Duplicates") says why that stores none twice.
func (c *Client) insert(ctx context.Context, table, columns, token string, cols ...any) (err error) {
	ctx = c.insertContext(ctx, token, table)
	// The explicit column list is required by 18.16.
	batch, err := c.conn.PrepareBatch(ctx, "INSERT INTO "+c.table(table)+" ("+columns+")")
	if err != nil {
		return fmt.Errorf("prepare insert into %s: %w", table, err)
	}
	defer func() {
		if err != nil {
			// Close would end the INSERT, storing the blocks already
			// flushed; Abort drops the connection, and the server the
			// insert.
			_ = batch.Abort()
			return
		}
		_ = batch.Close()
	}()
	rows, err := sendBlocks(ctx, batch, cols, c.blockRows)
	if err != nil {
		return fmt.Errorf("insert into %s: %w", table, err)
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("insert %d rows into %s: %w", rows, table, err)
	}
	return nil
}

// insertBlockRows is Client.blockRows: small enough that the driver's
// copy of a block costs little memory (~7 MB for samples), large enough
// that blocks cost the server little.
const insertBlockRows = 1 << 17

// blockSender is the part of a driver batch that sendBlocks uses.
type blockSender interface {
	insertBatch
	Flush() error
}

// sendBlocks appends cols to batch in blocks of at most blockRows rows,
// flushing each block but the last, which the caller's Send sends, and
// returns the rows. Columns go in one block when blockRows is 0 or they
// are not all slices of one length. The driver's Flush, unlike Send,
// does not watch ctx, which sendBlocks checks between blocks.
func sendBlocks(ctx context.Context, batch blockSender, cols []any, blockRows int) (int, error) {
	rows, sliceable := columnRows(cols)
	step := rows
	if sliceable && blockRows > 0 {
		step = blockRows
	}
	for lo := 0; ; {
		hi := min(rows, lo+step)
		block := cols
		if lo > 0 || hi < rows {
			block = sliceColumns(cols, lo, hi)
		}
		if err := appendColumns(batch, block); err != nil {
			return rows, err
		}
		if lo = hi; lo >= rows {
			return rows, nil
		}
		if err := ctx.Err(); err != nil {
			return rows, err
		}
		if err := batch.Flush(); err != nil {
			return rows, fmt.Errorf("after sending %d of %d rows: %w", lo, rows, err)
		}
	}
}

// columnRows returns the rows of an insert's columns (those of the first)
// and whether sliceColumns can slice every one of them.
func columnRows(cols []any) (rows int, sliceable bool) {
	sliceable = true
	for i, col := range cols {
		v := reflect.ValueOf(col)
		if v.Kind() != reflect.Slice {
			return 0, false
		}
		if i == 0 {
			rows = v.Len()
		}
		sliceable = sliceable && v.Len() == rows
	}
	return rows, sliceable
}

// sliceColumns returns rows [lo, hi) of every column.
func sliceColumns(cols []any, lo, hi int) []any {
	out := make([]any, len(cols))
	for i, col := range cols {
		out[i] = reflect.ValueOf(col).Slice(lo, hi).Interface()
	}
	return out
}

// insertContext carries the settings of an insert into table. In cluster
// mode the Distributed table forwards the rows to their shards before the
// insert returns (insert_distributed_sync), so an acknowledged write is
// stored, and readable, on every shard it touches.
func (c *Client) insertContext(ctx context.Context, token, table string) context.Context {
	settings := clickhouse.Settings{}
	switch {
	case token == noDedup:
		settings["insert_deduplicate"] = 0
	case c.feat.modern && token != "":
		settings["insert_deduplication_token"] = token + ":" + table
	}
	if c.cluster != "" {
		settings["insert_distributed_sync"] = 1
	}
	if len(settings) == 0 {
		return ctx
	}
	return clickhouse.Context(ctx, clickhouse.WithSettings(settings))
}

// writeBatch holds the columns of one write; Client pools them so the
// steady state allocates little.
type writeBatch struct {
	samples struct {
		tenant []string
		fp     []uint64
		ts     []int64
		val    []float64
		flags  []uint8
	}
	series struct {
		tenant      []string
		date        []time.Time
		fp          []uint64
		name        []string
		labelNames  [][]string
		labelValues [][]string
	}
	index   indexRows
	keys    []seriesKey            // series rows in this batch
	seen    map[seriesKey]struct{} // keys, for series repeated in a batch
	days    []int64                // scratch: days of one series
	sort    sortScratch            // scratch of sortRows
	rollups rollupRows             // of the samples
	dropped int                    // samples outside [MinTime, MaxTime]
}

// batchPool keeps up to maxPooledBatches writeBatches between inserts.
// A sync.Pool would not do: the writer allocates enough between two
// batches for a garbage collection or two to run, which empty a
// sync.Pool, and a batch regrown from nothing costs its columns' growth
// (a twentieth of the writer's CPU) and garbage of several times their
// size.
type batchPool struct {
	mu   sync.Mutex
	free []*writeBatch
}

// maxPooledBatches bounds the batches kept: one per insert running at
// once is what is reused; about 20 MB each per 250,000 rows.
const maxPooledBatches = 4

func (p *batchPool) get() *writeBatch {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free[n-1] = nil
		p.free = p.free[:n-1]
		return b
	}
	return &writeBatch{}
}

func (p *batchPool) put(b *writeBatch) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.free) < maxPooledBatches {
		p.free = append(p.free, b)
	}
}

func (b *writeBatch) reset() {
	s := &b.samples
	s.tenant, s.fp, s.ts, s.val, s.flags = s.tenant[:0], s.fp[:0], s.ts[:0], s.val[:0], s.flags[:0]
	// Series and index rows are rare after warm-up; let them go.
	b.series = struct {
		tenant      []string
		date        []time.Time
		fp          []uint64
		name        []string
		labelNames  [][]string
		labelValues [][]string
	}{}
	b.index = indexRows{}
	b.keys = b.keys[:0]
	clear(b.seen)
	b.rollups.reset()
	b.dropped = 0
}

// fill turns series into rows: every sample, and series and index rows for
// the (series, day) pairs cache does not hold. The sample rows end up in
// the samples table's sort order (sortRows).
func (b *writeBatch) fill(series []Series, refs *SampleRefs, cache *seriesCache) {
	for i := range series {
		s := &series[i]
		fp := s.ResolvedFingerprint()
		b.days = b.days[:0]
		for _, p := range s.Samples {
			if !b.addSample(s.Tenant, fp, p.T, p.V) {
				continue
			}
			if d := DayOf(p.T); !slices.Contains(b.days, d) {
				b.days = append(b.days, d)
			}
		}
		if s.IsRef() {
			continue // its series rows went with its labels, earlier
		}
		var names, values []string // built once per series, when needed
		for _, d := range b.days {
			k := seriesKey{tenant: s.Tenant, fp: fp, day: d}
			if cache.has(k) || b.has(k) {
				continue
			}
			if names == nil {
				names, values = splitLabels(s.Labels)
			}
			b.addSeries(k, s.Labels, names, values)
		}
	}
	if refs != nil {
		b.fillRefs(refs)
	}
	b.sortRows()
}

// fillRefs adds the rows of refs: their series rows went with their
// labels, earlier.
func (b *writeBatch) fillRefs(refs *SampleRefs) {
	s := &b.samples
	n := len(s.fp) + refs.Len()
	s.tenant, s.fp, s.ts = slices.Grow(s.tenant, n-len(s.tenant)), slices.Grow(s.fp, n-len(s.fp)), slices.Grow(s.ts, n-len(s.ts))
	s.val, s.flags = slices.Grow(s.val, n-len(s.val)), slices.Grow(s.flags, n-len(s.flags))
	for si, sp := range refs.Spans {
		start := refs.spanStart(si)
		if !storable(refs.T[start:sp.End]) {
			for i := start; i < sp.End; i++ {
				b.addSample(sp.Tenant, refs.FP[i], refs.T[i], refs.V[i])
			}
			continue
		}
		// Every row is kept: whole columns at once.
		s.fp = append(s.fp, refs.FP[start:sp.End]...)
		s.ts = append(s.ts, refs.T[start:sp.End]...)
		for _, v := range refs.V[start:sp.End] {
			v, flags := encodeValue(v)
			s.val = append(s.val, v)
			s.flags = append(s.flags, flags)
		}
		for range sp.End - start {
			s.tenant = append(s.tenant, sp.Tenant)
		}
	}
}

// storable reports whether every timestamp of ts is in [MinTime, MaxTime].
func storable(ts []int64) bool {
	for _, t := range ts {
		if !storableTime(t) {
			return false
		}
	}
	return true
}

// addSample adds a sample row, or counts the sample dropped when its time
// is outside [MinTime, MaxTime]; it reports whether it added the row.
func (b *writeBatch) addSample(tenant string, fp uint64, t int64, v float64) bool {
	if !storableTime(t) {
		b.dropped++
		return false
	}
	v, flags := encodeValue(v)
	s := &b.samples
	s.tenant = append(s.tenant, tenant)
	s.fp = append(s.fp, fp)
	s.ts = append(s.ts, t)
	s.val = append(s.val, v)
	s.flags = append(s.flags, flags)
	return true
}

func (b *writeBatch) has(k seriesKey) bool {
	_, ok := b.seen[k]
	return ok
}

// addSeries adds the series and index rows of one series on one day.
func (b *writeBatch) addSeries(k seriesKey, ls labels.Labels, names, values []string) {
	if b.seen == nil {
		b.seen = make(map[seriesKey]struct{})
	}
	b.seen[k] = struct{}{}
	b.keys = append(b.keys, k)
	date := time.Unix(k.day*secondsPerDay, 0).UTC()
	sr := &b.series
	sr.tenant = append(sr.tenant, k.tenant)
	sr.date = append(sr.date, date)
	sr.fp = append(sr.fp, k.fp)
	sr.name = append(sr.name, ls.Get(labels.MetricName))
	sr.labelNames = append(sr.labelNames, names)
	sr.labelValues = append(sr.labelValues, values)
	b.index.add(k.tenant, date, k.fp, ls)
}

// indexRows are the columns of rows for a label index table
// (series_labels, log_labels): one per label of a series or stream.
type indexRows struct {
	tenant, name, value []string
	date                []time.Time
	fp                  []uint64
}

// add adds a row for each label of ls with a value: a label with no value
// is no label.
func (ix *indexRows) add(tenant string, date time.Time, fp uint64, ls labels.Labels) {
	ls.Range(func(l labels.Label) {
		if l.Value == "" {
			return
		}
		ix.tenant = append(ix.tenant, tenant)
		ix.date = append(ix.date, date)
		ix.name = append(ix.name, l.Name)
		ix.value = append(ix.value, l.Value)
		ix.fp = append(ix.fp, fp)
	})
}

// insertIndex inserts index rows into table.
func (c *Client) insertIndex(ctx context.Context, table, token string, ix *indexRows) error {
	return c.insert(ctx, table, "tenant, date, name, value, fingerprint", token,
		ix.tenant, ix.date, ix.name, ix.value, ix.fp)
}

// splitLabels returns the labels other than the metric name as parallel,
// name-sorted arrays, the form of the series table.
func splitLabels(ls labels.Labels) (names, values []string) {
	n := ls.Len()
	names, values = make([]string, 0, n), make([]string, 0, n)
	ls.Range(func(l labels.Label) {
		if l.Name != labels.MetricName {
			names = append(names, l.Name)
			values = append(values, l.Value)
		}
	})
	return names, values
}

// splitByDays splits a batch whose samples span more than limit days into
// batches that each span at most limit, in time order. The split depends
// only on the batch, so a redelivered batch splits the same way and its
// derived tokens match.
func splitByDays(series []Series, limit int64) [][]Series {
	_, days := scanMetrics(series, nil)
	if days.span() < limit {
		return [][]Series{series}
	}
	lo := days.first
	window := func(t int64) int64 {
		if !storableTime(t) {
			return 0 // dropped by the writer, wherever it goes
		}
		return (DayOf(t) - lo) / limit
	}
	chunks := make(map[int64][]Series)
	for _, s := range series {
		parts := make(map[int64][]Sample)
		for _, p := range s.Samples {
			w := window(p.T)
			parts[w] = append(parts[w], p)
		}
		for w, ps := range parts {
			chunks[w] = append(chunks[w], Series{Tenant: s.Tenant, Labels: s.Labels, Samples: ps, Fingerprint: s.Fingerprint})
		}
	}
	ws := make([]int64, 0, len(chunks))
	for w := range chunks {
		ws = append(ws, w)
	}
	slices.Sort(ws)
	out := make([][]Series, 0, len(ws))
	for _, w := range ws {
		out = append(out, chunks[w])
	}
	return out
}

// splitByDay splits a batch of rows whose days span more than limit into
// batches that each span at most limit, in time order, keeping the rows'
// order within each. day returns a row's day and whether the row is
// storable; rows that are not go anywhere, since the writer drops them.
// Like splitByDays, the split depends only on the batch, so a redelivered
// batch gets the same derived tokens.
func splitByDay[T any](rows []T, limit int64, day func(T) (int64, bool)) [][]T {
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for _, r := range rows {
		if d, ok := day(r); ok {
			lo, hi = min(lo, d), max(hi, d)
		}
	}
	if hi-lo < limit {
		return [][]T{rows}
	}
	chunks := make(map[int64][]T)
	for _, r := range rows {
		var w int64
		if d, ok := day(r); ok {
			w = (d - lo) / limit
		}
		chunks[w] = append(chunks[w], r)
	}
	ws := make([]int64, 0, len(chunks))
	for w := range chunks {
		ws = append(ws, w)
	}
	slices.Sort(ws)
	out := make([][]T, 0, len(ws))
	for _, w := range ws {
		out = append(out, chunks[w])
	}
	return out
}

// chunkToken is the deduplication token of chunk i of n of a batch with
// token: the token itself for a whole batch.
func chunkToken(token string, i, n int) string {
	if n <= 1 || token == "" {
		return token
	}
	return token + "/" + strconv.Itoa(i)
}
