package query

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/storetest"
	"github.com/cairn-dev/cairn/store/tenant"
)

// TestHistogramsOverAPI stores native histograms and floats in the real
// store and reads them through the HTTP API: instant and range queries
// return histogram samples as Prometheus writes them, and functions over
// them compute from the stored counts.
func TestHistogramsOverAPI(t *testing.T) {
	client := storetest.OpenTest(t)
	hist := func(n uint64) *histogram.Histogram {
		return &histogram.Histogram{Count: n, Sum: float64(n) / 2, Schema: 0,
			PositiveSpans: []histogram.Span{{Offset: 0, Length: 2}}, PositiveBuckets: []int64{int64(n / 2), 0}}
	}
	var hs []store.HistogramSample
	for i := range 5 { // every 30s, 10 observations more each time
		hs = append(hs, store.HistogramSample{T: t0 + int64(i)*30_000, H: hist(uint64(10 * (i + 1)))})
	}
	require.NoError(t, client.WriteSeries(context.Background(), []store.Series{
		{Tenant: tenant.Default, Labels: labels.FromStrings("__name__", "latency", "job", "api"), Histograms: hs},
		{Tenant: tenant.Default, Labels: labels.FromStrings("__name__", "up", "job", "api"), Samples: []store.Sample{{T: t0, V: 1}}},
	}, ""))
	ta := newTestAPI(t, client)

	code, body := ta.get(t, "/api/v1/query", url.Values{"query": {"latency"}, "time": {sec(2 * time.Minute)}})
	v := vector(t, code, body)
	require.Len(t, v, 1)
	require.NotNil(t, v[0].Histogram, string(body))
	require.Equal(t, model.FloatString(50), v[0].Histogram.Count)
	require.Equal(t, model.FloatString(25), v[0].Histogram.Sum)
	require.Len(t, v[0].Histogram.Buckets, 2)
	for _, b := range v[0].Histogram.Buckets {
		require.Equal(t, model.FloatString(25), b.Count, "buckets (0.5,1] and (1,2], 25 each")
	}

	code, body = ta.get(t, "/api/v1/query", url.Values{"query": {"histogram_count(increase(latency[2m]))"}, "time": {sec(2 * time.Minute)}})
	v = vector(t, code, body)
	require.Len(t, v, 1)
	require.Nil(t, v[0].Histogram)
	require.InDelta(t, 40, float64(v[0].Value), 1e-9, "from 10 to 50 observations over the 2m")

	code, body = ta.get(t, "/api/v1/query_range", url.Values{"query": {"latency"},
		"start": {sec(0)}, "end": {sec(2 * time.Minute)}, "step": {"30"}})
	m := matrix(t, code, body)
	require.Len(t, m, 1)
	require.Empty(t, m[0].Values)
	require.Len(t, m[0].Histograms, 5)
	for i, p := range m[0].Histograms {
		require.Equal(t, model.FloatString(10*(i+1)), p.Histogram.Count, "step %d", i)
	}
}
