package query

import (
	"encoding/json"
	"math"
	"testing"

	jsoniter "github.com/json-iterator/go"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/util/jsonutil"
	"github.com/stretchr/testify/require"
)

func encodeHistogramCases() map[string]*histogram.FloatHistogram {
	return map[string]*histogram.FloatHistogram{
		"empty": {},
		"exponential": {
			Schema: 1, ZeroThreshold: 0.001, ZeroCount: 2, Count: 12, Sum: 18.4,
			PositiveSpans: []histogram.Span{{Offset: -1, Length: 2}, {Offset: 1, Length: 2}}, PositiveBuckets: []float64{1, 0, 3, 1.5},
			NegativeSpans: []histogram.Span{{Offset: 0, Length: 1}}, NegativeBuckets: []float64{4.5},
		},
		"custom buckets": {
			Schema: histogram.CustomBucketsSchema, Count: 5, Sum: math.Inf(1),
			PositiveSpans: []histogram.Span{{Offset: 0, Length: 3}}, PositiveBuckets: []float64{1, 0, 4},
			CustomValues: []float64{0.5, 1e-7},
		},
		"zero bucket only": {ZeroThreshold: 1e-128, ZeroCount: 3, Count: 3, Sum: math.NaN()},
	}
}

// The histogram format must be Prometheus' own: compare with the jsonutil
// function its API uses.
func TestAppendHistogramMatchesPrometheus(t *testing.T) {
	for name, h := range encodeHistogramCases() {
		t.Run(name, func(t *testing.T) {
			stream := jsoniter.ConfigCompatibleWithStandardLibrary.BorrowStream(nil)
			jsonutil.MarshalHistogram(h, stream)
			want := string(stream.Buffer())
			jsoniter.ConfigCompatibleWithStandardLibrary.ReturnStream(stream)
			require.Equal(t, want, string(appendHistogramJSON(nil, h)))
		})
	}
}

// Vectors and matrices with histograms round-trip through Prometheus'
// client model.
func TestQueryDataHistogramsRoundTrip(t *testing.T) {
	h := encodeHistogramCases()["exponential"]
	ls := labels.FromStrings("__name__", "latency")
	b, err := appendQueryData(nil, promql.Vector{
		{Metric: ls, T: 1435781451781, H: h},
		{Metric: labels.FromStrings("__name__", "up"), T: 1435781451781, F: 1},
	})
	require.NoError(t, err)
	var vec struct {
		Result model.Vector `json:"result"`
	}
	require.NoError(t, json.Unmarshal(b, &vec), string(b))
	require.Len(t, vec.Result, 2)
	require.NotNil(t, vec.Result[0].Histogram)
	require.Equal(t, model.FloatString(12), vec.Result[0].Histogram.Count)
	require.Equal(t, model.FloatString(18.4), vec.Result[0].Histogram.Sum)
	require.Len(t, vec.Result[0].Histogram.Buckets, 5, "zero, negative and three positive buckets; the empty one is left out")
	require.Nil(t, vec.Result[1].Histogram)
	require.Equal(t, model.SampleValue(1), vec.Result[1].Value)

	b, err = appendQueryData(nil, promql.Matrix{{
		Metric:     ls,
		Floats:     []promql.FPoint{{T: 1000, F: 2}},
		Histograms: []promql.HPoint{{T: 2000, H: h}, {T: 3000, H: &histogram.FloatHistogram{Count: 1, Sum: 1}}},
	}})
	require.NoError(t, err)
	var m struct {
		Result model.Matrix `json:"result"`
	}
	require.NoError(t, json.Unmarshal(b, &m), string(b))
	require.Len(t, m.Result, 1)
	require.Len(t, m.Result[0].Values, 1)
	require.Len(t, m.Result[0].Histograms, 2)
	require.Equal(t, model.Time(3000), m.Result[0].Histograms[1].Timestamp)
	require.Empty(t, m.Result[0].Histograms[1].Histogram.Buckets)
}
