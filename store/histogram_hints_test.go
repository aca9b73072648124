package store

import (
	"context"
	"math"
	"testing"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/util/teststorage"
	"github.com/stretchr/testify/require"
)

// TestCounterResetHintsAsTSDB appends series of histograms and floats to a
// Prometheus test TSDB and checks that the hints it reads back are the
// ones DeriveCounterResetHints and batchHints give, for every sample but
// the first (which the store keeps as given).
func TestCounterResetHintsAsTSDB(t *testing.T) {
	h := func(count uint64, buckets ...int64) *histogram.Histogram {
		return &histogram.Histogram{Count: count, Sum: float64(count), Schema: 0,
			PositiveSpans: []histogram.Span{{Offset: 0, Length: uint32(len(buckets))}}, PositiveBuckets: buckets}
	}
	with := func(x *histogram.Histogram, f func(*histogram.Histogram)) *histogram.Histogram { f(x); return x }
	gauge := func(x *histogram.Histogram) { x.CounterResetHint = histogram.GaugeType }
	reset := func(x *histogram.Histogram) { x.CounterResetHint = histogram.CounterReset }
	custom := func(bounds ...float64) func(*histogram.Histogram) {
		return func(x *histogram.Histogram) { x.Schema, x.CustomValues = histogram.CustomBucketsSchema, bounds }
	}
	stale := &histogram.Histogram{Sum: math.Float64frombits(value.StaleNaN)}
	// A sample is a histogram, or with none a float.
	type sample struct {
		h  *histogram.Histogram
		fh *histogram.FloatHistogram
	}
	for name, seq := range map[string][]sample{
		"counter":                {{h: h(1, 1)}, {h: h(2, 2)}, {h: h(4, 2, 0)}},
		"reset":                  {{h: h(4, 4)}, {h: h(2, 2)}, {h: h(3, 3)}},
		"bucket reset":           {{h: h(4, 2, 0)}, {h: h(4, 4)}, {h: h(5, 5)}},
		"explicit reset":         {{h: h(1, 1)}, {h: with(h(2, 2), reset)}, {h: h(3, 3)}},
		"gauge":                  {{h: with(h(4, 4), gauge)}, {h: with(h(2, 2), gauge)}, {h: h(3, 3)}, {h: with(h(1, 1), gauge)}},
		"schema change":          {{h: h(1, 1)}, {h: with(h(2, 2), func(x *histogram.Histogram) { x.Schema = 1 })}, {h: h(3, 3)}},
		"custom bounds":          {{h: with(h(1, 1), custom(1))}, {h: with(h(2, 2), custom(1))}, {h: with(h(3, 3), custom(2))}},
		"float between":          {{h: h(1, 1)}, {}, {h: h(2, 2)}, {h: h(3, 3)}},
		"int then float":         {{h: h(1, 1)}, {fh: h(2, 2).ToFloat(nil)}, {fh: h(3, 3).ToFloat(nil)}, {h: h(4, 4)}},
		"stale marker":           {{h: h(1, 1)}, {h: stale}, {h: h(2, 2)}, {h: h(3, 3)}},
		"float histogram resets": {{fh: h(3, 3).ToFloat(nil)}, {fh: h(1, 1).ToFloat(nil)}, {fh: h(2, 2).ToFloat(nil)}},
	} {
		t.Run(name, func(t *testing.T) {
			db := teststorage.New(t)
			app := db.Appender(context.Background())
			ls := labels.FromStrings("__name__", "x")
			var (
				samples []Sample
				hs      []HistogramSample
			)
			for i, s := range seq {
				ts := int64(i+1) * 1000
				var err error
				switch {
				case s.h != nil:
					_, err = app.AppendHistogram(0, ls, ts, s.h.Copy(), nil)
					hs = append(hs, HistogramSample{T: ts, H: s.h.Copy()})
				case s.fh != nil:
					_, err = app.AppendHistogram(0, ls, ts, nil, s.fh.Copy())
					hs = append(hs, HistogramSample{T: ts, FH: s.fh.Copy()})
				default:
					_, err = app.Append(0, ls, ts, float64(i))
					samples = append(samples, Sample{T: ts, V: float64(i)})
				}
				require.NoError(t, err)
			}
			require.NoError(t, app.Commit())

			want := tsdbHints(t, db)
			written := batchHints(Series{Samples: samples, Histograms: hs})
			DeriveCounterResetHints(samples, hs)
			for i, x := range hs {
				if value.IsStaleNaN(x.sum()) {
					continue // the TSDB returns a bare stale marker; the engine reads only its sum
				}
				if i == 0 && (len(samples) == 0 || samples[0].T > x.T) {
					continue // the first sample keeps the hint it was given
				}
				require.Equal(t, want[x.T], x.hint(), "derived hint of the histogram at %d", x.T)
				require.Equal(t, want[x.T], written[i], "written hint of the histogram at %d", x.T)
			}
		})
	}
}

// tsdbHints reads the hints of series x's histograms from db, by time.
func tsdbHints(t *testing.T, db *teststorage.TestStorage) map[int64]histogram.CounterResetHint {
	q, err := db.Querier(0, math.MaxInt64)
	require.NoError(t, err)
	defer q.Close()
	set := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "x"))
	out := map[int64]histogram.CounterResetHint{}
	for set.Next() {
		it := set.At().Iterator(nil)
		for typ := it.Next(); typ != chunkenc.ValNone; typ = it.Next() {
			switch typ {
			case chunkenc.ValHistogram:
				ts, h := it.AtHistogram(nil)
				out[ts] = h.CounterResetHint
			case chunkenc.ValFloatHistogram:
				ts, h := it.AtFloatHistogram(nil)
				out[ts] = h.CounterResetHint
			}
		}
		require.NoError(t, it.Err())
	}
	require.NoError(t, set.Err())
	return out
}
