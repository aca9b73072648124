package query

import (
	"testing"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

// TestMixedIterator walks float samples and histograms merged in time
// order, with Next and Seek.
func TestMixedIterator(t *testing.T) {
	ih := func(n uint64) *histogram.Histogram { return &histogram.Histogram{Count: n, Sum: float64(n)} }
	fh := func(n float64) *histogram.FloatHistogram { return &histogram.FloatHistogram{Count: n, Sum: n} }
	s := &mixedSeries{
		samples: []store.Sample{{T: 10, V: 1}, {T: 30, V: 3}, {T: 40, V: 4}},
		histograms: []store.HistogramSample{
			{T: 20, H: ih(2)}, {T: 40, H: ih(99)}, // 40: the float wins
			{T: 50, FH: fh(5)}, {T: 60, H: ih(6)},
		},
	}
	type step struct {
		seek int64 // 0: Next
		typ  chunkenc.ValueType
		t    int64
	}
	for name, steps := range map[string][]step{
		"next": {
			{0, chunkenc.ValFloat, 10}, {0, chunkenc.ValHistogram, 20}, {0, chunkenc.ValFloat, 30},
			{0, chunkenc.ValFloat, 40}, {0, chunkenc.ValFloatHistogram, 50}, {0, chunkenc.ValHistogram, 60},
			{0, chunkenc.ValNone, 0}, {0, chunkenc.ValNone, 0}, {70, chunkenc.ValNone, 0},
		},
		"seek": {
			{15, chunkenc.ValHistogram, 20}, {20, chunkenc.ValHistogram, 20}, {5, chunkenc.ValHistogram, 20},
			{21, chunkenc.ValFloat, 30}, {0, chunkenc.ValFloat, 40}, {45, chunkenc.ValFloatHistogram, 50},
			{61, chunkenc.ValNone, 0}, {0, chunkenc.ValNone, 0},
		},
		"seek to a tie": {{40, chunkenc.ValFloat, 40}, {0, chunkenc.ValFloatHistogram, 50}},
	} {
		t.Run(name, func(t *testing.T) {
			it := s.Iterator(nil)
			for i, st := range steps {
				var typ chunkenc.ValueType
				if st.seek != 0 {
					typ = it.Seek(st.seek)
				} else {
					typ = it.Next()
				}
				require.Equal(t, st.typ, typ, "step %d", i)
				if typ != chunkenc.ValNone {
					require.Equal(t, st.t, it.AtT(), "step %d", i)
				}
			}
			require.Same(t, it, s.Iterator(it), "reused")
		})
	}
}

// TestMixedIteratorCopies checks that the engine gets copies it may
// change, and integer histograms as float ones when it asks.
func TestMixedIteratorCopies(t *testing.T) {
	stored := &histogram.Histogram{Count: 3, Sum: 4, Schema: 1,
		PositiveSpans: []histogram.Span{{Length: 1}}, PositiveBuckets: []int64{3}}
	s := &mixedSeries{histograms: []store.HistogramSample{{T: 1, H: stored}}}
	it := s.Iterator(nil)
	require.Equal(t, chunkenc.ValHistogram, it.Next())

	_, h := it.AtHistogram(nil)
	require.Equal(t, stored, h)
	h.PositiveBuckets[0] = 100
	reuse := &histogram.Histogram{}
	_, h2 := it.AtHistogram(reuse)
	require.Same(t, reuse, h2)
	require.Equal(t, int64(3), h2.PositiveBuckets[0], "the stored histogram is unchanged")

	_, f := it.AtFloatHistogram(nil)
	require.Equal(t, stored.ToFloat(nil), f)
	ts, v := it.At()
	require.Equal(t, int64(1), ts)
	require.Zero(t, v)
}
