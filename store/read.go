package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
)

// readChunk is how many fingerprints one samples query names: 4000 of up
// to 20 digits stay well under ClickHouse's 256 KiB max_query_size.
const readChunk = 4000

// dayRange is an inclusive range of UTC day numbers.
type dayRange struct{ first, last int64 }

// span is how many days r covers, less one.
func (r dayRange) span() int64 { return r.last - r.first }

// daysOf is the range of days holding [mint, maxt], clamped to what the
// schema stores; ok is false when nothing can be stored there.
func daysOf(mint, maxt int64) (r dayRange, ok bool) {
	mint, maxt = max(mint, MinTime), min(maxt, MaxTime)
	if mint > maxt {
		return dayRange{}, false
	}
	return dayRange{first: DayOf(mint), last: DayOf(maxt)}, true
}

func (r dayRange) sql() string {
	if r.first == r.last {
		return "date = " + dateLiteral(r.first)
	}
	return "date >= " + dateLiteral(r.first) + " AND date <= " + dateLiteral(r.last)
}

// seriesQuery is the FROM … WHERE part of a query over the series table:
// rows of tenant within days whose labels satisfy every matcher. When no
// metric name narrows the sort key, the label index resolves one matcher
// to fingerprints first, in PREWHERE, so ClickHouse reads label arrays
// only of rows that can match.
func (c *Client) seriesQuery(tenant string, days dayRange, ms []*labels.Matcher) string {
	var b strings.Builder
	b.WriteString(" FROM ")
	b.WriteString(c.table("series"))
	if name, values := postingsMatcher(ms); name != "" {
		b.WriteString(" PREWHERE fingerprint IN (SELECT fingerprint FROM ")
		b.WriteString(c.localTable("series_labels"))
		b.WriteString(" WHERE tenant = " + quoteString(tenant) + " AND " + days.sql())
		b.WriteString(" AND name = " + quoteString(name))
		if len(values) == 1 {
			b.WriteString(" AND value = " + quoteString(values[0]))
		} else {
			b.WriteString(" AND value IN (" + quoteStrings(values) + ")")
		}
		b.WriteString(")")
	}
	b.WriteString(" WHERE tenant = " + quoteString(tenant) + " AND " + days.sql())
	for _, m := range ms {
		b.WriteString(" AND ")
		b.WriteString(matcherSQL(m))
	}
	return b.String()
}

// SelectSeries returns the series of tenant that match every matcher and
// may have samples in [mint, maxt] (ms): they have samples on a day that
// overlaps it. Matchers have Prometheus semantics: "" matches a missing
// label, and regular expressions are fully anchored. The result is sorted
// by labels.
func (c *Client) SelectSeries(ctx context.Context, tenant string, mint, maxt int64, matchers ...*labels.Matcher) ([]SeriesRef, error) {
	days, ok := daysOf(mint, maxt)
	if !ok {
		return nil, nil
	}
	rows, err := c.conn.Query(ctx, c.selectSeriesSQL(tenant, days, matchers))
	if err != nil {
		return nil, fmt.Errorf("select series: %w", err)
	}
	defer rows.Close()
	var (
		out           []SeriesRef
		fp            uint64
		name          string
		names, values []string
		hist          uint8
		sb            = labels.NewScratchBuilder(0)
	)
	for rows.Next() {
		if err := rows.Scan(&fp, &name, &names, &values, &hist); err != nil {
			return nil, fmt.Errorf("select series: scan: %w", err)
		}
		out = append(out, SeriesRef{Fingerprint: fp, Labels: seriesLabels(&sb, name, names, values), Histograms: hist != 0})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select series: %w", err)
	}
	slices.SortFunc(out, func(a, b SeriesRef) int { return labels.Compare(a.Labels, b.Labels) })
	return out, nil
}

// selectSeriesSQL reads each matching series once, whatever number of days
// and unmerged duplicate rows it has, and whether it has histograms
// (histogramSeriesSQL).
func (c *Client) selectSeriesSQL(tenant string, days dayRange, ms []*labels.Matcher) string {
	return "SELECT fingerprint, metric_name, label_names, label_values, " + c.histogramSeriesSQL(tenant, days) +
		c.seriesQuery(tenant, days, ms) + " LIMIT 1 BY fingerprint"
}

// seriesLabels rebuilds a series' labels from its row.
func seriesLabels(sb *labels.ScratchBuilder, name string, names, values []string) labels.Labels {
	sb.Reset()
	if name != "" {
		sb.Add(labels.MetricName, name)
	}
	for i := range min(len(names), len(values)) {
		sb.Add(names[i], values[i])
	}
	sb.Sort()
	return sb.Labels()
}

// ReadSamples returns the samples of tenant's series fps with timestamps in
// [mint, maxt] (ms), by fingerprint: one per timestamp however often it
// was written, sorted by time, stale markers as value.StaleNaN. Series
// without samples there are absent from the map. The slices may share
// backing arrays, each capped at its own length: appending to one copies
// it.
func (c *Client) ReadSamples(ctx context.Context, tenant string, fps []uint64, mint, maxt int64) (map[uint64][]Sample, error) {
	mint, maxt = max(mint, MinTime), min(maxt, MaxTime)
	if len(fps) == 0 || mint > maxt {
		return map[uint64][]Sample{}, nil
	}
	var a sampleArena
	for chunk := range slices.Chunk(fps, readChunk) {
		if err := c.readSamples(ctx, tenant, chunk, mint, maxt, &a); err != nil {
			return nil, err
		}
	}
	return a.bySeries(), nil
}

func (c *Client) readSamples(ctx context.Context, tenant string, fps []uint64, mint, maxt int64, a *sampleArena) error {
	rows, err := c.conn.Query(ctx, c.samplesSQL(tenant, fps, mint, maxt))
	if err != nil {
		return fmt.Errorf("read samples of %d series: %w", len(fps), err)
	}
	defer rows.Close()
	var (
		fp    uint64
		t     int64
		v     float64
		flags uint8
		// One destination slice for every row: rows.Scan(&fp, …) would
		// allocate the variadic slice per row.
		dest = []any{&fp, &t, &v, &flags}
	)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("read samples: scan: %w", err)
		}
		a.add(fp, Sample{T: t, V: decodeValue(v, flags)})
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read samples of %d series: %w", len(fps), err)
	}
	return nil
}

// sampleArena collects the rows of a read in blocks that never grow, as
// runs: consecutive rows of one series. ClickHouse sends rows part by
// part, granule by granule, so a series arrives as one sorted run per
// part it has rows in. A series read as a single run keeps a slice of a
// block; only series with several runs, or split across two blocks, are
// copied. Growing a slice per series instead cost more than decoding the
// rows (30% of a 31 M-sample read in allocation, clearing and copying).
type sampleArena struct {
	block []Sample // the current block; rows go to block[len(block)]
	runs  []sampleRun
	open  bool // the last run is still growing
}

type sampleRun struct {
	fp    uint64
	start int // index of the run's first sample in its block
	block []Sample
}

// Blocks start small, for reads of a few series, and double up to 1 MiB.
const (
	minArenaBlock = 256
	maxArenaBlock = 1 << 16
)

func (a *sampleArena) add(fp uint64, s Sample) {
	if len(a.block) == cap(a.block) {
		a.block = make([]Sample, 0, min(max(2*cap(a.block), minArenaBlock), maxArenaBlock))
		a.open = false
	}
	if !a.open || a.runs[len(a.runs)-1].fp != fp {
		a.runs = append(a.runs, sampleRun{fp: fp, start: len(a.block)})
		a.open = true
	}
	a.block = append(a.block, s)
	a.runs[len(a.runs)-1].block = a.block
}

// bySeries returns the runs by series, each series' samples sorted by
// time and without repeated timestamps.
func (a *sampleArena) bySeries() map[uint64][]Sample {
	out := make(map[uint64][]Sample)
	for _, r := range a.runs {
		ss := r.block[r.start:len(r.block):len(r.block)]
		if prev, ok := out[r.fp]; ok {
			// prev is capped or already a copy: the block is never overwritten.
			ss = append(prev, ss...)
		}
		out[r.fp] = ss
	}
	for fp, ss := range out {
		out[fp] = sortSamples(ss)
	}
	return out
}

// sortSamples sorts ss by time and keeps one sample per timestamp. A
// series' rows arrive as one sorted run per part, so ss is sorted already
// unless the series has samples in parts not yet merged.
func sortSamples(ss []Sample) []Sample {
	sorted := true
	for i := 1; i < len(ss); i++ {
		if ss[i].T <= ss[i-1].T {
			sorted = false
			break
		}
	}
	if sorted {
		return ss
	}
	slices.SortStableFunc(ss, func(a, b Sample) int { return cmp.Compare(a.T, b.T) })
	return slices.CompactFunc(ss, func(a, b Sample) bool { return a.T == b.T })
}

// samplesSQL reads samples of fps in [mint, maxt], in no particular
// order: ClickHouse 18.16 sorts tens of millions of rows ten times slower
// than readSamples puts each series' runs in order, and rows written twice
// and not yet merged are dropped there too.
func (c *Client) samplesSQL(tenant string, fps []uint64, mint, maxt int64) string {
	var b strings.Builder
	b.WriteString("SELECT fingerprint, timestamp, value, flags FROM ")
	b.WriteString(c.table("samples"))
	writeSeriesWhere(&b, tenant, fps, "timestamp", mint, &maxt)
	return b.String()
}

// LabelNames returns the sorted label names of tenant's series with
// samples on days overlapping [mint, maxt] that match every matcher. With
// no matchers it reads only the label index.
func (c *Client) LabelNames(ctx context.Context, tenant string, mint, maxt int64, matchers ...*labels.Matcher) ([]string, error) {
	days, ok := daysOf(mint, maxt)
	if !ok {
		return nil, nil
	}
	names, err := c.queryStrings(ctx, c.labelNamesSQL(tenant, days, matchers))
	if err != nil {
		return nil, fmt.Errorf("label names: %w", err)
	}
	return names, nil
}

// labelNamesSQL reads the label index without matchers, else the labels
// of matching series, adding the metric name's label.
func (c *Client) labelNamesSQL(tenant string, days dayRange, ms []*labels.Matcher) string {
	if len(ms) == 0 {
		return "SELECT DISTINCT name FROM " + c.table("series_labels") +
			" WHERE tenant = " + quoteString(tenant) + " AND " + days.sql() + " ORDER BY name"
	}
	return "SELECT DISTINCT arrayJoin(if(metric_name = '', label_names, arrayPushFront(label_names, " +
		quoteString(labels.MetricName) + "))) AS n" + c.seriesQuery(tenant, days, ms) + " ORDER BY n"
}

// LabelValues returns the sorted values of label name in tenant's series
// with samples on days overlapping [mint, maxt] that match every matcher.
// With no matchers it reads only the label index's rows for name.
func (c *Client) LabelValues(ctx context.Context, tenant, name string, mint, maxt int64, matchers ...*labels.Matcher) ([]string, error) {
	days, ok := daysOf(mint, maxt)
	if !ok {
		return nil, nil
	}
	values, err := c.queryStrings(ctx, c.labelValuesSQL(tenant, name, days, matchers))
	if err != nil {
		return nil, fmt.Errorf("label values of %q: %w", name, err)
	}
	return values, nil
}

// labelValuesSQL reads the label index's rows for name without matchers,
// else the label of matching series.
func (c *Client) labelValuesSQL(tenant, name string, days dayRange, ms []*labels.Matcher) string {
	if len(ms) == 0 {
		return "SELECT DISTINCT value FROM " + c.table("series_labels") +
			" WHERE tenant = " + quoteString(tenant) + " AND " + days.sql() +
			" AND name = " + quoteString(name) + " ORDER BY value"
	}
	expr := labelExpr(name)
	return "SELECT DISTINCT " + expr + " AS v" + c.seriesQuery(tenant, days, ms) +
		" AND " + expr + " != '' ORDER BY v"
}

// queryStrings runs a query returning one String column.
func (c *Client) queryStrings(ctx context.Context, query string) ([]string, error) {
	rows, err := c.conn.Query(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var (
		out []string
		s   string
	)
	for rows.Next() {
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("scan: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
