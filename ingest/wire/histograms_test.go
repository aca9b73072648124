package wire

import (
	"fmt"
	"math"
	"testing"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

// histogramSeries returns series with native histograms of every shape
// the wire carries, and one without.
func histogramSeries() []store.Series {
	intH := &histogram.Histogram{
		CounterResetHint: histogram.NotCounterReset, Schema: 1, ZeroThreshold: 0.001, ZeroCount: 2, Count: 12, Sum: 18.5,
		PositiveSpans: []histogram.Span{{Offset: 0, Length: 2}, {Offset: 1, Length: 2}}, PositiveBuckets: []int64{1, 1, -1, 0},
		NegativeSpans: []histogram.Span{{Offset: 0, Length: 1}}, NegativeBuckets: []int64{5},
	}
	floatH := &histogram.FloatHistogram{
		Schema: -1, Count: 3.5, Sum: -2, ZeroCount: 0.5,
		PositiveSpans: []histogram.Span{{Offset: -2, Length: 2}}, PositiveBuckets: []float64{1, 2},
	}
	nhcb := &histogram.FloatHistogram{
		Schema: histogram.CustomBucketsSchema, Count: 6, Sum: 10,
		PositiveSpans: []histogram.Span{{Offset: 0, Length: 3}}, PositiveBuckets: []float64{1, 2, 3},
		CustomValues: []float64{0.1, 0.5, 1},
	}
	// Big enough that its encoding needs a two-byte length.
	wide := &histogram.Histogram{Schema: 3, Count: 200, Sum: 1, PositiveSpans: []histogram.Span{{Offset: 0, Length: 100}}}
	wide.PositiveBuckets = append(wide.PositiveBuckets, 2) // deltas: every bucket counts 2
	for range 99 {
		wide.PositiveBuckets = append(wide.PositiveBuckets, 0)
	}
	stale := &histogram.Histogram{Sum: math.Float64frombits(value.StaleNaN)}
	return []store.Series{
		{Labels: labels.FromStrings("__name__", "rpc_duration_seconds", "job", "api"),
			Histograms: []store.HistogramSample{{T: 1000, H: intH}, {T: 2000, FH: floatH}, {T: 3000, H: wide}, {T: 4000, H: stale}}},
		{Labels: labels.FromStrings("__name__", "up", "job", "api"), Samples: []store.Sample{{T: 1000, V: 1}}},
		{Labels: labels.FromStrings("__name__", "mixed", "job", "api"), Samples: []store.Sample{{T: 500, V: 2}},
			Histograms: []store.HistogramSample{{T: 900, FH: nhcb}}},
	}
}

func TestMetricsHistogramsRoundTrip(t *testing.T) {
	in := histogramSeries()
	b := AppendMetrics(make([]byte, 0, MetricsSize("team-a", in)), "team-a", in)
	require.Equal(t, byte(v3), b[1], "histograms make a version 3 message")
	got, err := DecodeMetrics(nil, b)
	require.NoError(t, err)
	require.Len(t, got, len(in))
	for i := range in {
		require.Equal(t, "team-a", got[i].Tenant)
		require.Equal(t, in[i].Labels, got[i].Labels)
		require.Equal(t, len(in[i].Samples), len(got[i].Samples))
		require.Len(t, got[i].Histograms, len(in[i].Histograms))
		for j, want := range in[i].Histograms {
			h := got[i].Histograms[j]
			require.Equal(t, want.T, h.T)
			if want.H != nil {
				require.Nil(t, h.FH)
				if value.IsStaleNaN(want.H.Sum) {
					require.True(t, value.IsStaleNaN(h.H.Sum), "stale marker")
					continue
				}
				require.Equal(t, want.H, h.H)
			} else {
				require.Nil(t, h.H)
				require.Equal(t, want.FH, h.FH)
			}
		}
	}

	// Without histograms the message stays version 2.
	plain := AppendMetrics(nil, "t", in[1:2])
	require.Equal(t, byte(v2), plain[1])
}

func TestMetricsHistogramsCorrupt(t *testing.T) {
	// A histogram that decodes but is not valid refuses the message.
	bad := histogramSeries()[:1]
	bad[0].Histograms = []store.HistogramSample{{T: 1, H: &histogram.Histogram{Count: 3, PositiveSpans: []histogram.Span{{Length: 2}}, PositiveBuckets: []int64{1}}}}
	_, err := DecodeMetrics(nil, AppendMetrics(nil, "t", bad))
	require.ErrorIs(t, err, ErrCorrupt)
	require.ErrorContains(t, err, "histogram 0")

	good := AppendMetrics(nil, "t", histogramSeries()[:1])
	for n := range len(good) - 1 {
		_, err := DecodeMetrics(nil, good[:n])
		require.ErrorIs(t, err, ErrCorrupt, "truncated to %d bytes", n)
	}
	future := append([]byte(nil), good...)
	future[1] = latest + 1
	_, err = DecodeMetrics(nil, future)
	require.ErrorContains(t, err, fmt.Sprintf("unsupported version %d", latest+1))
}

func FuzzDecodeMetricsHistograms(f *testing.F) {
	f.Add(AppendMetrics(nil, "t", histogramSeries()))
	f.Fuzz(func(t *testing.T, b []byte) {
		series, err := DecodeMetrics(nil, b)
		checkDecodeMetricsTo(t, b, series, err)
		if err != nil {
			require.ErrorIs(t, err, ErrCorrupt)
			return
		}
		if len(series) == 0 {
			return
		}
		again, err := DecodeMetrics(nil, AppendMetrics(nil, series[0].Tenant, series))
		require.NoError(t, err)
		require.Len(t, again, len(series))
		for i := range series {
			require.Len(t, again[i].Histograms, len(series[i].Histograms))
		}
	})
}
