package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/ingest/remotewrite"
	"github.com/cairn-dev/cairn/store"
)

// TestNativeHistogramsEndToEnd sends native histograms through every way
// in — remote write 1.0 and 2.0, an OTLP exponential histogram — to the
// real binary on real Kafka and ClickHouse, and reads them back with
// PromQL's histogram functions.
func TestNativeHistogramsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	listen := freeAddr(t)
	p := startCairn(t, listen, serveArgs(t, listen)...)
	now := time.Now().Add(-time.Minute)
	ms := now.UnixMilli()

	// 1 observation ≤ 1, 2 in (1, 2], 3 in (2, 4]: schema 0 buckets 0, 1, 2.
	h := func(scale uint64) *histogram.Histogram {
		return &histogram.Histogram{
			Schema: 0, Count: 6 * scale, Sum: 15 * float64(scale),
			PositiveSpans: []histogram.Span{{Offset: 0, Length: 3}}, PositiveBuckets: []int64{int64(scale), int64(scale), int64(scale)},
		}
	}
	series := func(name string) store.Series {
		return store.Series{Labels: labels.FromStrings("__name__", name, "job", "e2e"), Histograms: []store.HistogramSample{
			{T: ms - 60_000, H: h(1)}, {T: ms, H: h(3)},
		}}
	}
	for _, tc := range []struct {
		name, contentType string
		encode            func([]store.Series) ([]byte, error)
	}{
		{"rw1_seconds", "application/x-protobuf", remotewrite.EncodeV1},
		{"rw2_seconds", "application/x-protobuf;proto=io.prometheus.write.v2.Request", remotewrite.EncodeV2},
	} {
		body, err := tc.encode([]store.Series{series(tc.name)})
		require.NoError(t, err)
		req, err := http.NewRequest(http.MethodPost, p.base+"/api/v1/write", bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Encoding", "snappy")
		req.Header.Set("Content-Type", tc.contentType)
		resp, err := httpClient.Do(req)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusNoContent, resp.StatusCode, "%s: %s", tc.name, b)
		if tc.name == "rw2_seconds" {
			require.Equal(t, "2", resp.Header.Get("X-Prometheus-Remote-Write-Histograms-Written"))
			require.Equal(t, "0", resp.Header.Get("X-Prometheus-Remote-Write-Samples-Written"))
		}
	}

	// OTLP: scale 0, offset -1: buckets (0.5, 1], (1, 2], (2, 4].
	otlp := fmt.Sprintf(`{"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"e2e"}}]},"scopeMetrics":[{"metrics":[{"name":"otlp.latency","unit":"s","exponentialHistogram":{"aggregationTemporality":2,"dataPoints":[{"timeUnixNano":"%d","count":"6","sum":15,"scale":0,"positive":{"offset":-1,"bucketCounts":["1","2","3"]}}]}}]}]}]}`, now.UnixNano())
	resp, err := httpClient.Post(p.base+"/v1/metrics", "application/json", strings.NewReader(otlp))
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
	require.NotContains(t, string(b), "rejected", "partial success: %s", b)

	for q, want := range map[string]string{
		`histogram_count(rw1_seconds)`:                     "18",
		`histogram_sum(rw2_seconds)`:                       "45",
		`count_over_time(rw2_seconds[10m])`:                "2",
		`histogram_quantile(1, rw1_seconds)`:               "4",
		`histogram_count(otlp_latency_seconds{job="e2e"})`: "6",
		`histogram_fraction(0, 1, otlp_latency_seconds)`:   "0.16666666666666666",
		`histogram_quantile(0.5, otlp_latency_seconds)`:    "2",
	} {
		require.Eventually(t, func() bool {
			pr := promQuery(t, p.base, q)
			return len(pr.Data.Result) == 1 && pr.Data.Result[0].Value[1] == want
		}, 20*time.Second, 100*time.Millisecond, "PromQL %s = %s; last answer %+v", q, want, promQuery(t, p.base, q).Data.Result)
	}
	p.stop(t)
}
