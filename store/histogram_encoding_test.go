package store

import (
	"math"
	"slices"
	"testing"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/value"
	"github.com/stretchr/testify/require"
)

// histogramCases are histograms of every shape the encoding must keep.
func histogramCases() map[string]HistogramSample {
	stale := math.Float64frombits(value.StaleNaN)
	return map[string]HistogramSample{
		"empty int":   {T: 1, H: &histogram.Histogram{}},
		"empty float": {T: 2, FH: &histogram.FloatHistogram{}},
		"exponential int": {T: 3, H: &histogram.Histogram{
			CounterResetHint: histogram.NotCounterReset, Schema: 3, ZeroThreshold: 0.001, ZeroCount: 5,
			Count: 1<<63 + 7, Sum: -12.5,
			PositiveSpans:   []histogram.Span{{Offset: -2, Length: 2}, {Offset: 3, Length: 1}},
			NegativeSpans:   []histogram.Span{{Offset: math.MaxInt32, Length: math.MaxUint32}},
			PositiveBuckets: []int64{4, -2, math.MinInt64},
			NegativeBuckets: []int64{math.MaxInt64},
		}},
		"exponential float gauge": {T: -4, FH: &histogram.FloatHistogram{
			CounterResetHint: histogram.GaugeType, Schema: -4, ZeroThreshold: math.SmallestNonzeroFloat64,
			ZeroCount: 0.5, Count: math.Inf(1), Sum: math.NaN(),
			PositiveSpans:   []histogram.Span{{Offset: math.MinInt32, Length: 1}},
			PositiveBuckets: []float64{-0.0},
			NegativeSpans:   []histogram.Span{{Offset: 0, Length: 2}},
			NegativeBuckets: []float64{1e300, math.Inf(-1)},
		}},
		"custom buckets": {T: 5, H: &histogram.Histogram{
			CounterResetHint: histogram.CounterReset, Schema: histogram.CustomBucketsSchema, Count: 3, Sum: 2,
			PositiveSpans: []histogram.Span{{Offset: 0, Length: 3}}, PositiveBuckets: []int64{1, 0, 0},
			CustomValues: []float64{0.1, 1, math.Inf(1)},
		}},
		"custom buckets float": {T: 6, FH: &histogram.FloatHistogram{
			Schema: histogram.CustomBucketsSchema, Count: 3, Sum: 2,
			PositiveSpans: []histogram.Span{{Offset: 1, Length: 1}}, PositiveBuckets: []float64{3},
			CustomValues: []float64{5},
		}},
		"stale int":   {T: 7, H: &histogram.Histogram{Sum: stale}},
		"stale float": {T: 8, FH: &histogram.FloatHistogram{Sum: stale, Count: 2}},
	}
}

func TestHistogramEncodingRoundTrip(t *testing.T) {
	for name, in := range histogramCases() {
		t.Run(name, func(t *testing.T) {
			data, err := appendHistogram([]byte{0xaa}, in)
			require.NoError(t, err)
			require.Equal(t, byte(0xaa), data[0], "appends, does not overwrite")
			out := HistogramSample{T: in.T}
			require.NoError(t, decodeHistogram(data[1:], &out))
			requireSameHistogram(t, in, out)
			if value.IsStaleNaN(sumOf(in)) {
				require.True(t, value.IsStaleNaN(sumOf(out)), "stale marker lost")
			}
		})
	}
}

func TestHistogramEncodingRejects(t *testing.T) {
	good, err := appendHistogram(nil, histogramCases()["exponential int"])
	require.NoError(t, err)
	for name, data := range map[string][]byte{
		"empty":           nil,
		"unknown version": append([]byte{2}, good[1:]...),
		"unknown kind":    append([]byte{1, 7}, good[2:]...),
		"unknown hint":    append([]byte{1, 0, 9}, good[3:]...),
		"truncated":       good[:len(good)-1],
		"trailing bytes":  append(slices.Clone(good), 0),
		"huge list":       {1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f},
	} {
		t.Run(name, func(t *testing.T) {
			var s HistogramSample
			require.ErrorIs(t, decodeHistogram(data, &s), errHistogramEncoding)
		})
	}
	_, err = appendHistogram(nil, HistogramSample{T: 1})
	require.Error(t, err, "neither histogram")
	_, err = appendHistogram(nil, HistogramSample{T: 1, H: &histogram.Histogram{}, FH: &histogram.FloatHistogram{}})
	require.Error(t, err, "both histograms")
}

// FuzzHistogramEncoding decodes arbitrary bytes: the decoder must not
// panic, and whatever it accepts must encode to bytes that decode to the
// same histogram.
func FuzzHistogramEncoding(f *testing.F) {
	for _, s := range histogramCases() {
		data, err := appendHistogram(nil, s)
		require.NoError(f, err)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var first HistogramSample
		if decodeHistogram(data, &first) != nil {
			return
		}
		again, err := appendHistogram(nil, first)
		require.NoError(t, err)
		var second HistogramSample
		require.NoError(t, decodeHistogram(again, &second))
		requireSameHistogram(t, first, second)
		third, err := appendHistogram(nil, second)
		require.NoError(t, err)
		require.Equal(t, again, third, "encoding is deterministic")
	})
}

func sumOf(s HistogramSample) float64 {
	if s.H != nil {
		return s.H.Sum
	}
	return s.FH.Sum
}

// requireSameHistogram compares two samples field by field, floats by
// their bits (NaNs included), an empty list equal to nil.
func requireSameHistogram(t *testing.T, want, got HistogramSample) {
	t.Helper()
	require.Equal(t, want.T, got.T)
	require.Equal(t, want.H == nil, got.H == nil, "kind")
	require.Equal(t, want.FH == nil, got.FH == nil, "kind")
	if want.H != nil {
		w, g := *want.H, *got.H
		requireSameFloats(t, []float64{w.ZeroThreshold, w.Sum}, []float64{g.ZeroThreshold, g.Sum})
		w.ZeroThreshold, w.Sum, g.ZeroThreshold, g.Sum = 0, 0, 0, 0
		requireSameFloats(t, w.CustomValues, g.CustomValues)
		w.CustomValues, g.CustomValues = nil, nil
		normalizeInt(&w)
		normalizeInt(&g)
		require.Equal(t, w, g)
		return
	}
	w, g := *want.FH, *got.FH
	requireSameFloats(t, []float64{w.ZeroThreshold, w.ZeroCount, w.Count, w.Sum}, []float64{g.ZeroThreshold, g.ZeroCount, g.Count, g.Sum})
	requireSameFloats(t, w.PositiveBuckets, g.PositiveBuckets)
	requireSameFloats(t, w.NegativeBuckets, g.NegativeBuckets)
	requireSameFloats(t, w.CustomValues, g.CustomValues)
	require.Equal(t, w.CounterResetHint, g.CounterResetHint)
	require.Equal(t, w.Schema, g.Schema)
	require.Equal(t, len(w.PositiveSpans), len(g.PositiveSpans))
	require.Equal(t, len(w.NegativeSpans), len(g.NegativeSpans))
	if len(w.PositiveSpans) > 0 {
		require.Equal(t, w.PositiveSpans, g.PositiveSpans)
	}
	if len(w.NegativeSpans) > 0 {
		require.Equal(t, w.NegativeSpans, g.NegativeSpans)
	}
}

func requireSameFloats(t *testing.T, want, got []float64) {
	t.Helper()
	require.Equal(t, len(want), len(got))
	for i := range want {
		require.Equal(t, math.Float64bits(want[i]), math.Float64bits(got[i]), "float %d: %v, %v", i, want[i], got[i])
	}
}

func normalizeInt(h *histogram.Histogram) {
	if len(h.PositiveSpans) == 0 {
		h.PositiveSpans = nil
	}
	if len(h.NegativeSpans) == 0 {
		h.NegativeSpans = nil
	}
	if len(h.PositiveBuckets) == 0 {
		h.PositiveBuckets = nil
	}
	if len(h.NegativeBuckets) == 0 {
		h.NegativeBuckets = nil
	}
}

func BenchmarkHistogramEncoding(b *testing.B) {
	h := HistogramSample{T: 1, H: &histogram.Histogram{
		Schema: 3, ZeroThreshold: 1e-128, ZeroCount: 4, Count: 1000, Sum: 12345.5,
		PositiveSpans:   []histogram.Span{{Offset: -10, Length: 20}, {Offset: 5, Length: 10}},
		PositiveBuckets: make([]int64, 30),
		NegativeSpans:   []histogram.Span{{Offset: 0, Length: 5}},
		NegativeBuckets: make([]int64, 5),
	}}
	data, err := appendHistogram(nil, h)
	require.NoError(b, err)
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		buf := make([]byte, 0, len(data))
		for b.Loop() {
			buf, _ = appendHistogram(buf[:0], h)
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		var s HistogramSample
		for b.Loop() {
			if err := decodeHistogram(data, &s); err != nil {
				b.Fatal(err)
			}
		}
	})
}
