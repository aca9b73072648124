package query

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/go-chi/chi/v5"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/tenant"
)

func BenchmarkAppendMatrix(b *testing.B) {
	m := make(promql.Matrix, 1000)
	for i := range m {
		m[i].Metric = labels.FromStrings("__name__", "http_requests_total", "instance", "host-"+strconv.Itoa(i), "job", "api")
		for j := range 240 {
			m[i].Floats = append(m[i].Floats, promql.FPoint{T: t0 + int64(j)*15_000, F: float64(i*j) / 7})
		}
	}
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		var err error
		buf, err = appendQueryData(buf[:0], m)
		require.NoError(b, err)
	}
	b.SetBytes(int64(len(buf)))
}

// BenchmarkRangeQuery runs rate() over 100 series of an hour of 15s
// samples through the whole handler, store double aside.
func BenchmarkRangeQuery(b *testing.B) {
	r := &memReader{series: map[string][]memSeries{}}
	for i := range 100 {
		var samples []store.Sample
		for j := range 240 {
			samples = append(samples, store.Sample{T: t0 + int64(j)*15_000, V: float64(j * i)})
		}
		r.series[tenant.Default] = append(r.series[tenant.Default], memSeries{
			labels.FromStrings("__name__", "http_requests_total", "instance", "host-"+strconv.Itoa(i)), samples,
		})
	}
	var cfg Config
	cfg.RegisterFlags(testFlagSet())
	api, err := New(cfg, r, slog.New(slog.DiscardHandler), metrics.NewSet())
	require.NoError(b, err)
	router := chi.NewRouter()
	api.Register(router)
	target := "/api/v1/query_range?" + url.Values{
		"query": {"rate(http_requests_total[1m])"},
		"start": {sec(0)}, "end": {sec(time.Hour)}, "step": {"15"},
	}.Encode()
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		router.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		require.Equal(b, http.StatusOK, rec.Code)
	}
}
