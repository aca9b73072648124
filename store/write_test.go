package store

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/stretchr/testify/require"
)

func TestWriteBatchFill(t *testing.T) {
	const d = 19675 * msPerDay
	up := labels.FromStrings("__name__", "up", "job", "api", "zone", "")
	other := labels.FromStrings("instance", "x")
	cache := newSeriesCache(100)
	cache.add([]seriesKey{{tenant: "t", fp: Fingerprint(other), day: 19675}})

	var b writeBatch
	b.fill([]Series{
		{Tenant: "t", Labels: up, Samples: []Sample{{T: d + 1, V: 1}, {T: d + msPerDay, V: math.Float64frombits(value.StaleNaN)}, {T: -1}, {T: MaxTime + 1}}},
		{Tenant: "t", Labels: up, Samples: []Sample{{T: d + 2, V: 2}}}, // same series again
		{Tenant: "t", Labels: other, Samples: []Sample{{T: d + 3, V: 3}}},
	}, nil, cache)

	require.Equal(t, 2, b.dropped)
	// Rows in the table's sort order: by fingerprint, then timestamp.
	ts, val, flags := []int64{d + 1, d + 2, d + msPerDay, d + 3}, []float64{1, 2, 0, 3}, []uint8{0, 0, staleFlag, 0}
	if Fingerprint(other) < Fingerprint(up) {
		ts, val, flags = []int64{d + 3, d + 1, d + 2, d + msPerDay}, []float64{3, 1, 2, 0}, []uint8{0, 0, 0, staleFlag}
	}
	require.Equal(t, ts, b.samples.ts)
	require.Equal(t, val, b.samples.val)
	require.Equal(t, flags, b.samples.flags)

	// Series rows for up on both days; other is cached.
	fp := Fingerprint(up)
	require.Equal(t, []seriesKey{{"t", fp, 19675}, {"t", fp, 19676}}, b.keys)
	require.Equal(t, []string{"up", "up"}, b.series.name)
	require.Equal(t, []time.Time{time.Date(2023, 11, 14, 0, 0, 0, 0, time.UTC), time.Date(2023, 11, 15, 0, 0, 0, 0, time.UTC)}, b.series.date)
	require.Equal(t, [][]string{{"job", "zone"}, {"job", "zone"}}, b.series.labelNames)
	require.Equal(t, [][]string{{"api", ""}, {"api", ""}}, b.series.labelValues)
	// The index skips the empty label.
	require.Equal(t, []string{"__name__", "job", "__name__", "job"}, b.index.name)
	require.Equal(t, []string{"up", "api", "up", "api"}, b.index.value)

	b.reset()
	require.Empty(t, b.samples.ts)
	require.Empty(t, b.keys)
	require.Zero(t, b.dropped)
}

// TestWriteBatchFillSorted checks that the sample rows come in the
// samples table's sort key order (tenant, fingerprint, timestamp) when
// each series' samples are in time order, whatever order the series
// arrive in, so that the server need not sort the block.
func TestWriteBatchFillSorted(t *testing.T) {
	const d = 19675 * msPerDay
	var in []Series
	for round := range int64(3) {
		for i := range 50 {
			for _, tenant := range []string{"b", "a"} {
				in = append(in, Series{Tenant: tenant, Labels: labels.FromStrings("__name__", "m", "i", strconv.Itoa(i)),
					Samples: []Sample{{T: d + round*15_000, V: 1}, {T: d + round*15_000 + 1, V: 2}}})
			}
		}
	}
	var b writeBatch
	b.fill(in, nil, newSeriesCache(1000))
	s := &b.samples
	require.Len(t, s.ts, 600)
	for i := 1; i < len(s.ts); i++ {
		prev := []any{s.tenant[i-1], s.fp[i-1], s.ts[i-1]}
		require.True(t, s.tenant[i-1] < s.tenant[i] || s.tenant[i-1] == s.tenant[i] &&
			(s.fp[i-1] < s.fp[i] || s.fp[i-1] == s.fp[i] && s.ts[i-1] < s.ts[i]), "row %d %v after %v", i, []any{s.tenant[i], s.fp[i], s.ts[i]}, prev)
	}
}

// TestWriteBatchFillFingerprint checks that a fingerprint ingest carried
// is used as it is, and that one is computed when none came.
func TestWriteBatchFillFingerprint(t *testing.T) {
	const d = 19675 * msPerDay
	ls := labels.FromStrings("__name__", "up")
	for _, tc := range []struct {
		name string
		in   uint64
		want uint64
	}{
		{"carried", 42, 42},
		{"computed", 0, Fingerprint(ls)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b writeBatch
			b.fill([]Series{{Tenant: "t", Labels: ls, Fingerprint: tc.in, Samples: []Sample{{T: d, V: 1}}}}, nil, newSeriesCache(10))
			require.Equal(t, []uint64{tc.want}, b.samples.fp)
			require.Equal(t, []uint64{tc.want}, b.series.fp)
			require.Equal(t, []uint64{tc.want}, b.index.fp)
		})
	}
}

// TestWriteBatchFillReference checks that a reference (a fingerprint
// without labels) stores its samples under the fingerprint and writes no
// series or index rows, whatever the cache holds: its labels were written
// when they came.
func TestWriteBatchFillReference(t *testing.T) {
	const d = 19675 * msPerDay
	ls := labels.FromStrings("__name__", "up")
	var b writeBatch
	b.fill([]Series{
		{Tenant: "t", Fingerprint: 42, Samples: []Sample{{T: d, V: 1}, {T: d + msPerDay, V: 2}}},
		{Tenant: "t", Labels: ls, Samples: []Sample{{T: d, V: 3}}},
	}, nil, newSeriesCache(10))
	require.ElementsMatch(t, []uint64{42, 42, Fingerprint(ls)}, b.samples.fp)
	require.Equal(t, []uint64{Fingerprint(ls)}, b.series.fp, "series rows only for the series with labels")
	require.Equal(t, []uint64{Fingerprint(ls)}, b.index.fp)
}

// BenchmarkWriteBatchFill turns 10,000 one-sample series whose series
// rows are cached into columns: the writer's steady state.
func BenchmarkWriteBatchFill(b *testing.B) {
	const d = 19675 * msPerDay
	series := make([]Series, 100_000) // a batch of one sample per series
	cache := newSeriesCache(len(series) * 2)
	for i := range series {
		ls := labels.FromStrings("__name__", "node_cpu_seconds_total", "cpu", strconv.Itoa(i%8), "instance", fmt.Sprintf("host-%05d:9100", i/8), "job", "node", "mode", "idle")
		series[i] = Series{Tenant: "t", Labels: ls, Samples: []Sample{{T: d + int64(i), V: float64(i)}}}
		cache.add([]seriesKey{{tenant: "t", fp: Fingerprint(ls), day: 19675}})
	}
	for _, carried := range []bool{false, true} {
		for i := range series {
			series[i].Fingerprint = 0
			if carried {
				series[i].Fingerprint = Fingerprint(series[i].Labels)
			}
		}
		b.Run(fmt.Sprintf("fingerprint_carried=%t", carried), func(b *testing.B) {
			b.ReportAllocs()
			var wb writeBatch
			for b.Loop() {
				wb.fill(series, nil, cache)
				wb.reset()
			}
		})
	}
}

func TestSplitByDays(t *testing.T) {
	ls := labels.FromStrings("__name__", "x")
	at := func(days ...int64) []Sample {
		var ss []Sample
		for _, d := range days {
			ss = append(ss, Sample{T: d*msPerDay + 5})
		}
		return ss
	}
	days := func(chunk []Series) []int64 {
		var out []int64
		for _, s := range chunk {
			for _, p := range s.Samples {
				out = append(out, DayOf(p.T))
			}
		}
		return out
	}

	one := []Series{{Tenant: "t", Labels: ls, Samples: at(10, 11, 12)}}
	require.Equal(t, [][]Series{one}, splitByDays(one, 3), "within the limit: unchanged")

	chunks := splitByDays([]Series{
		{Tenant: "t", Labels: ls, Samples: at(17, 10, 13, 11), Fingerprint: 42},
		{Tenant: "u", Labels: ls, Samples: at(12)},
	}, 3)
	require.Len(t, chunks, 3)
	require.Equal(t, []int64{10, 11, 12}, days(chunks[0]))
	require.Equal(t, []int64{13}, days(chunks[1]))
	require.Equal(t, []int64{17}, days(chunks[2]))
	require.Equal(t, "u", chunks[0][1].Tenant, "series order kept")
	require.Equal(t, uint64(42), chunks[1][0].Fingerprint, "a carried fingerprint is kept")
}

func TestScanSeries(t *testing.T) {
	ls := labels.FromStrings("__name__", "x")
	for _, tc := range []struct {
		name       string
		in         []Series
		histograms bool
		span       int64
	}{
		{"empty", nil, false, 0},
		{"one day", []Series{{Labels: ls, Samples: []Sample{{T: 10*msPerDay + 5}, {T: 10*msPerDay + 9}}}}, false, 0},
		{"three days", []Series{{Labels: ls, Samples: []Sample{{T: 12 * msPerDay}}}, {Fingerprint: 1, Samples: []Sample{{T: 10 * msPerDay}}}}, false, 2},
		{"unstorable samples ignored", []Series{{Labels: ls, Samples: []Sample{{T: -1}, {T: 5 * msPerDay}, {T: MaxTime + 1}}}}, false, 0},
		{"histograms only", []Series{{Labels: ls, Histograms: []HistogramSample{{T: 1}}}}, true, 0},
		{"histograms and samples", []Series{{Labels: ls, Samples: []Sample{{T: 1}}}, {Labels: ls, Histograms: []HistogramSample{{T: 1}}}}, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			histograms, days := scanMetrics(tc.in, nil)
			require.Equal(t, tc.histograms, histograms)
			require.Equal(t, tc.span, days.span())
		})
	}
}

// TestSortRows checks sortRows on random rows: the result is a
// permutation of the input, ordered by (tenant, fingerprint, timestamp),
// and rows with equal keys keep their order. One batch is reused
// throughout, as the client's pool reuses them.
func TestSortRows(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	var b writeBatch
	for _, tc := range []struct {
		name    string
		rows    int
		tenants int
		fps     int
		fp      func(uint64) uint64     // spreads the drawn number over a fingerprint
		late    bool                    // timestamps drawn at random, with repeats, instead of in arrival order
		order   func(i, rows int) int64 // timestamps in another order than arrival
	}{
		{"empty", 0, 1, 1, nil, false, nil},
		{"one row", 1, 1, 1, nil, false, nil},
		{"one tenant", 1000, 1, 50, nil, false, nil},
		{"three tenants", 1000, 3, 50, nil, false, nil},
		{"one series", 100, 1, 1, nil, false, nil},
		{"one fingerprint, three tenants", 300, 3, 1, nil, false, nil}, // every radix pass skipped
		{"high bytes only", 1000, 2, 200, func(n uint64) uint64 { return n << 56 }, false, nil},
		{"low bytes only", 1000, 1, 200, func(n uint64) uint64 { return n }, false, nil},
		{"many series", 5000, 2, 100_000, nil, false, nil},
		{"one tenant again", 700, 1, 50, nil, false, nil},
		{"late samples", 1000, 1, 50, nil, true, nil},
		{"late samples, three tenants", 3000, 3, 20, nil, true, nil},
		{"late samples, one series", 200, 1, 1, nil, true, nil},
		// Fingerprints that differ below the radix sort's bits only: the
		// sort of tied rows does all the work.
		{"ties on the radix bits", 2000, 2, 300, func(n uint64) uint64 { return n%3<<62 | n*0x9E3779B97F4A7C15>>30 }, false, nil},
		{"ties on the radix bits, late samples", 2000, 3, 300, func(n uint64) uint64 { return n%3<<62 | n*0x9E3779B97F4A7C15>>30 }, true, nil},
		// Nearly in order, as when senders' requests cross: insertion
		// alone. Reversed: past insertion's budget, a general sort.
		{"neighbours crossed", 5000, 2, 40, nil, false, func(i, _ int) int64 { return int64(i ^ 1) }},
		{"reversed", 5000, 1, 3, nil, false, func(i, rows int) int64 { return int64(rows - i) }},
		{"reversed, ties on the radix bits", 3000, 2, 5, func(n uint64) uint64 { return n % 3 }, false, func(i, rows int) int64 { return int64(rows - i) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spread := tc.fp
			if spread == nil {
				spread = func(n uint64) uint64 { return n * 0x9E3779B97F4A7C15 } // over every byte
			}
			b.reset()
			s := &b.samples
			for i := range tc.rows {
				ts := int64(i) // arrival order
				if tc.late {
					ts = rnd.Int64N(int64(tc.rows/10 + 1))
				}
				if tc.order != nil {
					ts = tc.order(i, tc.rows)
				}
				s.tenant = append(s.tenant, "tenant-"+strconv.Itoa(rnd.IntN(tc.tenants)))
				s.fp = append(s.fp, spread(rnd.Uint64N(uint64(tc.fps))))
				s.ts = append(s.ts, ts)
				s.val = append(s.val, float64(i)) // the arrival index
				s.flags = append(s.flags, uint8(i%2))
			}
			type row struct {
				tenant string
				fp     uint64
				ts     int64
				i      int
			}
			var want []row
			for i := range s.ts {
				want = append(want, row{s.tenant[i], s.fp[i], s.ts[i], i})
			}
			slices.SortStableFunc(want, func(x, y row) int {
				return cmp.Or(strings.Compare(x.tenant, y.tenant), cmp.Compare(x.fp, y.fp), cmp.Compare(x.ts, y.ts))
			})
			b.sortRows()
			require.True(t, rowsSorted(s.tenant, s.fp, s.ts))
			require.Len(t, s.ts, len(want))
			for i, w := range want {
				require.Equal(t, w, row{s.tenant[i], s.fp[i], s.ts[i], int(s.val[i])}, "row %d: the row, its value moved with it", i)
				require.Equal(t, uint8(w.i%2), s.flags[i], "row %d: flags move with their row", i)
			}
		})
	}
}

// TestSortRowsLateSample: a series whose samples are not in time order is
// put in time order, rows with equal timestamps keeping the order they
// came in, so that the server has nothing left to sort.
func TestSortRowsLateSample(t *testing.T) {
	var b writeBatch
	s := &b.samples
	s.tenant = []string{"t", "t", "t", "t", "u"}
	s.fp = []uint64{2, 1, 2, 2, 2}
	s.ts = []int64{20, 5, 10, 10, 1}
	s.val = []float64{1, 2, 3, 4, 5}
	s.flags = []uint8{0, 0, 0, 1, 0}
	b.sortRows()
	require.Equal(t, []string{"t", "t", "t", "t", "u"}, s.tenant)
	require.Equal(t, []uint64{1, 2, 2, 2, 2}, s.fp)
	require.Equal(t, []int64{5, 10, 10, 20, 1}, s.ts)
	require.Equal(t, []float64{2, 3, 4, 1, 5}, s.val)
	require.Equal(t, []uint8{0, 0, 1, 0, 0}, s.flags)
	require.True(t, rowsSorted(s.tenant, s.fp, s.ts))
}

// refBatch is the writer's usual batch: rounds of one-sample references
// to the same series, one tenant, timestamps 15 s apart, the series in
// the same random fingerprint order every round. About 5% of the series
// have two consecutive rounds delivered swapped, as when two senders'
// requests cross.
func refBatch(series, rounds int) []Series {
	const start = 19675 * msPerDay
	rnd := rand.New(rand.NewPCG(3, 4))
	fps := make([]uint64, series)
	for i := range fps {
		fps[i] = rnd.Uint64() | 1 // never 0, which would not be a reference
	}
	ts := make([][]int64, series) // per series, the timestamp of each round
	for i := range ts {
		ts[i] = make([]int64, rounds)
		for r := range ts[i] {
			ts[i][r] = start + int64(r)*15_000
		}
		if rnd.IntN(20) == 0 {
			r := rnd.IntN(rounds - 1)
			ts[i][r], ts[i][r+1] = ts[i][r+1], ts[i][r]
		}
	}
	samples := make([]Sample, series*rounds)
	out := make([]Series, 0, series*rounds)
	for r := range rounds {
		for i, fp := range fps {
			n := len(out)
			samples[n] = Sample{T: ts[i][r], V: float64(rnd.IntN(1000))}
			out = append(out, Series{Tenant: "tenant-1", Fingerprint: fp, Samples: samples[n : n+1 : n+1]})
		}
	}
	return out
}

// BenchmarkWriteBatchRefs fills and sorts the columns of a batch of
// 998,400 reference samples (refBatch), about -writer.batch-rows' default:
// the writer's CPU per sample before the insert, in its steady state.
func BenchmarkWriteBatchRefs(b *testing.B) {
	series := refBatch(10_400, 96)
	cache := newSeriesCache(10)
	for _, columns := range []bool{false, true} {
		b.Run(fmt.Sprintf("columns=%t", columns), func(b *testing.B) {
			in, refs := series, (*SampleRefs)(nil)
			if columns {
				in, refs = nil, refsOf(series)
			}
			var wb writeBatch
			b.ReportAllocs()
			for b.Loop() {
				wb.fill(in, refs, cache)
				wb.reset()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(series)), "ns/sample")
		})
	}
}

// refsOf turns references, one sample each, into columns.
func refsOf(series []Series) *SampleRefs {
	var refs SampleRefs
	for _, s := range series {
		for _, p := range s.Samples {
			refs.Add(s.Tenant, s.Fingerprint, p.T, p.V)
		}
	}
	return &refs
}

// TestWriteBatchFillRefs checks that references in columns become the
// same rows as the same references as Series: stale markers flagged,
// samples out of the storable range dropped, tenants kept apart, rows in
// the table's order.
func TestWriteBatchFillRefs(t *testing.T) {
	const d = 19675 * msPerDay
	stale := math.Float64frombits(value.StaleNaN)
	series := []Series{
		{Tenant: "b", Fingerprint: 7, Samples: []Sample{{T: d + 2, V: 2}}},
		{Tenant: "b", Fingerprint: 3, Samples: []Sample{{T: d + 1, V: stale}}},
		{Tenant: "a", Fingerprint: 9, Samples: []Sample{{T: -1, V: 1}}},
		{Tenant: "a", Fingerprint: 9, Samples: []Sample{{T: d, V: 4}}},
		{Tenant: "b", Fingerprint: 7, Samples: []Sample{{T: d + 1, V: 1}}},
		{Tenant: "a", Fingerprint: 1, Samples: []Sample{{T: MaxTime + 1, V: 5}}},
	}
	var want, got writeBatch
	want.fill(series, nil, newSeriesCache(10))
	got.fill(nil, refsOf(series), newSeriesCache(10))
	require.Equal(t, want.samples, got.samples)
	require.Equal(t, 2, got.dropped)
	require.Equal(t, []string{"a", "b", "b", "b"}, got.samples.tenant)
	require.Equal(t, []uint64{9, 3, 7, 7}, got.samples.fp)
	require.Equal(t, []int64{d, d + 1, d + 1, d + 2}, got.samples.ts)
	require.Equal(t, []uint8{0, staleFlag, 0, 0}, got.samples.flags)
	require.Empty(t, got.keys, "references write no series rows")

	// Both at once: the series' rows and the references' together.
	var both writeBatch
	both.fill(series[:3], refsOf(series[3:]), newSeriesCache(10))
	require.Equal(t, want.samples, both.samples)
}

// TestSampleRefs checks Add's tenant spans, Truncate (a writer's undo of a
// message that failed to decode) and the conversion to Series.
func TestSampleRefs(t *testing.T) {
	var r SampleRefs
	r.Add("a", 1, 10, 1)
	r.Add("a", 2, 20, 2)
	r.Add("b", 3, 30, 3)
	r.Add("a", 4, 40, 4)
	require.Equal(t, []TenantSpan{{"a", 2}, {"b", 3}, {"a", 4}}, r.Spans)
	require.Equal(t, []Series{
		{Tenant: "a", Fingerprint: 1, Samples: []Sample{{T: 10, V: 1}}},
		{Tenant: "a", Fingerprint: 2, Samples: []Sample{{T: 20, V: 2}}},
		{Tenant: "b", Fingerprint: 3, Samples: []Sample{{T: 30, V: 3}}},
		{Tenant: "a", Fingerprint: 4, Samples: []Sample{{T: 40, V: 4}}},
	}, r.Series())

	r.Truncate(5) // nothing to undo
	require.Equal(t, 4, r.Len())
	r.Truncate(3)
	require.Equal(t, []TenantSpan{{"a", 2}, {"b", 3}}, r.Spans)
	r.Truncate(1)
	require.Equal(t, []TenantSpan{{"a", 1}}, r.Spans)
	require.Equal(t, []uint64{1}, r.FP)
	require.Equal(t, []int64{10}, r.T)
	require.Equal(t, []float64{1}, r.V)
	r.Truncate(0)
	require.Empty(t, r.Spans)
	require.Zero(t, r.Len())

	r.Add("c", 5, 50, 5)
	require.Equal(t, []TenantSpan{{"c", 1}}, r.Spans)
	r.Reset()
	require.Zero(t, r.Len())
	require.Empty(t, r.Spans)
}
