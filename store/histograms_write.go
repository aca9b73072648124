package store

import (
	"context"
	"time"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
)

// histogramsDDL creates the native histogram tables (migration 6):
// histograms, one encoded histogram per row (histogram_encoding.go),
// laid out like samples; and histogram_series, one row per series and day
// that has histograms, which SelectSeries reads to tell the series whose
// histograms a query must read. doc.go explains both.
func histogramsDDL(s schema) []string {
	histograms := s.createTable("histograms", `(
    tenant      String`+s.codec("ZSTD(3)")+`,
    fingerprint UInt64`+s.codec("Delta, ZSTD(3)")+`,
    timestamp   Int64`+s.codec("DoubleDelta, ZSTD(3)")+`,
    histogram   String`+s.codec("ZSTD(3)")+`
)`, "ReplacingMergeTree", "", `PARTITION BY toDate(intDiv(timestamp, 86400000))
ORDER BY (tenant, fingerprint, timestamp)
`+s.tableSettings(), "fingerprint")

	series := s.createTable("histogram_series", `(
    tenant      `+s.lowCard("String")+`,
    date        Date,
    fingerprint UInt64`+s.codec("Delta, ZSTD(3)")+`
)`, "ReplacingMergeTree", "", `PARTITION BY date
ORDER BY (tenant, fingerprint, date)
`+s.tableSettings(), "fingerprint")
	return append(histograms, series...)
}

// histogramRow is one histogram sample of a series, as the writer
// flattens a batch.
type histogramRow struct {
	tenant string
	labels labels.Labels
	fp     uint64
	HistogramSample
	hint histogram.CounterResetHint // to store (histogram_hints.go)
}

// histogramDay is the day of a row, and whether the schema can store it.
func histogramDay(r histogramRow) (int64, bool) {
	return DayOf(r.T), storableTime(r.T)
}

// writeHistograms stores the native histogram samples of a batch, as
// WriteSeries does its float samples: for each series and day, the
// series and label index rows and a histogram_series row unless this
// client already wrote them, and then the histograms, with the counter
// reset hints Prometheus' TSDB would read them with where the batch tells
// (histogram_hints.go). The inserts'
// tokens derive from token with a "/histograms" suffix, apart from the
// float path's inserts into the same series tables.
func (c *Client) writeHistograms(ctx context.Context, series []Series, token string) error {
	var rows []histogramRow
	for _, s := range series {
		if len(s.Histograms) == 0 {
			continue
		}
		fp := s.ResolvedFingerprint()
		hints := batchHints(s)
		for i, h := range s.Histograms {
			rows = append(rows, histogramRow{tenant: s.Tenant, labels: s.Labels, fp: fp, HistogramSample: h, hint: hints[i]})
		}
	}
	if len(rows) == 0 {
		return nil
	}
	if token != "" {
		token += "/histograms"
	}
	chunks := splitByDay(rows, maxDaysPerInsert, histogramDay)
	for i, chunk := range chunks {
		if err := c.writeHistogramChunk(ctx, chunk, chunkToken(token, i, len(chunks))); err != nil {
			return err
		}
	}
	return nil
}

// histogramColumns are the columns of one insert into histograms and
// histogram_series.
type histogramColumns struct {
	tenant    []string
	fp        []uint64
	ts        []int64
	histogram []string
	// histogram_series rows, and the keys they stand for.
	marks struct {
		tenant []string
		date   []time.Time
		fp     []uint64
		keys   []seriesKey
		seen   map[seriesKey]struct{}
	}
	dropped int
}

func (c *Client) writeHistogramChunk(ctx context.Context, rows []histogramRow, token string) error {
	var (
		b    writeBatch // the series and index rows
		cols histogramColumns
		buf  []byte
		err  error
	)
	for _, r := range rows {
		d, ok := histogramDay(r)
		if !ok {
			cols.dropped++
			continue
		}
		start := len(buf)
		if buf, err = appendHistogram(buf, r.HistogramSample); err != nil {
			return err
		}
		buf[start+histogramHintOffset] = byte(r.hint)
		cols.tenant = append(cols.tenant, r.tenant)
		cols.fp = append(cols.fp, r.fp)
		cols.ts = append(cols.ts, r.T)
		cols.histogram = append(cols.histogram, string(buf[start:]))
		k := seriesKey{tenant: r.tenant, fp: r.fp, day: d}
		if !r.labels.IsEmpty() && !c.cache.has(k) && !b.has(k) {
			names, values := splitLabels(r.labels)
			b.addSeries(k, r.labels, names, values)
		}
		cols.mark(c.cache, k)
	}
	if cols.dropped > 0 {
		c.logger.Warn("dropped histograms outside the storable time range",
			"histograms", cols.dropped, "min_time", MinTime, "max_time", MaxTime)
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
	m := &cols.marks
	if len(m.keys) > 0 {
		if err := c.insert(ctx, "histogram_series", "tenant, date, fingerprint", token, m.tenant, m.date, m.fp); err != nil {
			return err
		}
		c.cache.add(m.keys)
	}
	if len(cols.ts) == 0 {
		return nil
	}
	return c.insert(ctx, "histograms", "tenant, fingerprint, timestamp, histogram", token,
		cols.tenant, cols.fp, cols.ts, cols.histogram)
}

// mark adds the histogram_series row of series key k unless cache or
// this batch has it. The cache holds these rows under the bitwise
// complement of the day, a negative number that no series table key has.
func (cols *histogramColumns) mark(cache *seriesCache, k seriesKey) {
	mk := seriesKey{tenant: k.tenant, fp: k.fp, day: ^k.day}
	m := &cols.marks
	if _, ok := m.seen[mk]; ok || cache.has(mk) {
		return
	}
	if m.seen == nil {
		m.seen = make(map[seriesKey]struct{})
	}
	m.seen[mk] = struct{}{}
	m.keys = append(m.keys, mk)
	m.tenant = append(m.tenant, k.tenant)
	m.date = append(m.date, time.Unix(k.day*secondsPerDay, 0).UTC())
	m.fp = append(m.fp, k.fp)
}
