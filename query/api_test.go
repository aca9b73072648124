package query

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/go-chi/chi/v5"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/tenant"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// t0 is the first sample of the fixture, in milliseconds.
const t0 = int64(1_700_000_000_000)

// sec renders t0 plus offset as the API's float seconds.
func sec(offset time.Duration) string {
	return strconv.FormatFloat(float64(t0+offset.Milliseconds())/1000, 'f', -1, 64)
}

// every returns samples from t0 every 15s for 10m, with values f(i).
func every(f func(i int) float64) []store.Sample {
	var out []store.Sample
	for i := 0; i <= 40; i++ {
		out = append(out, store.Sample{T: t0 + int64(i)*15_000, V: f(i)})
	}
	return out
}

// fixture returns a reader holding two tenants' series.
func fixture() *memReader {
	stale := math.Float64frombits(value.StaleNaN)
	return &memReader{series: map[string][]memSeries{
		tenant.Default: {
			{labels.FromStrings("__name__", "up", "job", "api", "instance", "a"), every(func(int) float64 { return 1 })},
			{labels.FromStrings("__name__", "up", "job", "api", "instance", "b"), every(func(int) float64 { return 0 })},
			{labels.FromStrings("__name__", "http_requests_total", "job", "api", "code", "200"), every(func(i int) float64 { return float64(10 * i) })},
			{labels.FromStrings("__name__", "temp", "room", "x"), []store.Sample{
				{T: t0, V: 20.5}, {T: t0 + 30_000, V: 21}, {T: t0 + 60_000, V: 21.5}, {T: t0 + 90_000, V: 22}, {T: t0 + 120_000, V: stale},
			}},
		},
		"other": {
			{labels.FromStrings("__name__", "up", "job", "other"), every(func(int) float64 { return 1 })},
		},
	}}
}

type testAPI struct {
	api     *API
	srv     *httptest.Server
	metrics *metrics.Set
}

func newTestAPI(t *testing.T, r Reader, mutate ...func(*Config)) *testAPI {
	t.Helper()
	cfg := testConfig(t)
	cfg.BuildInfo = BuildInfo{Version: "0.1.0", Revision: "abc123", Branch: "main", BuildUser: "ci@cairn", BuildDate: "20261101-00:00:00", GoVersion: "go1.26.0"}
	for _, f := range mutate {
		f(&cfg)
	}
	set := metrics.NewSet()
	api, err := New(cfg, r, slog.New(slog.DiscardHandler), set)
	require.NoError(t, err)
	router := chi.NewRouter()
	api.Register(router)
	srv := httptest.NewServer(router)
	t.Cleanup(srv.Close)
	return &testAPI{api: api, srv: srv, metrics: set}
}

// testConfig returns the flags' defaults.
func testConfig(t *testing.T) Config {
	t.Helper()
	var cfg Config
	cfg.RegisterFlags(testFlagSet())
	return cfg
}

func testFlagSet() *flag.FlagSet { return flag.NewFlagSet("test", flag.ContinueOnError) }

// get requests path with params and returns the status and body.
func (ta *testAPI) get(t *testing.T, path string, params url.Values, header ...string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, ta.srv.URL+path+"?"+params.Encode(), nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(t, req)
}

func (ta *testAPI) post(t *testing.T, path string, form url.Values) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, ta.srv.URL+path, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, body
}

// envelope is the Prometheus API response, for decoding in tests.
type envelope struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
	Warnings  []string        `json:"warnings"`
	Infos     []string        `json:"infos"`
}

type queryData struct {
	ResultType string          `json:"resultType"`
	Result     json.RawMessage `json:"result"`
}

func decode(t *testing.T, body []byte) envelope {
	t.Helper()
	var env envelope
	require.NoError(t, json.Unmarshal(body, &env), string(body))
	return env
}

// success decodes a successful query response and returns the result type
// and the raw result.
func success(t *testing.T, code int, body []byte) (string, json.RawMessage) {
	t.Helper()
	require.Equal(t, http.StatusOK, code, string(body))
	env := decode(t, body)
	require.Equal(t, "success", env.Status)
	var d queryData
	require.NoError(t, json.Unmarshal(env.Data, &d))
	return d.ResultType, d.Result
}

func vector(t *testing.T, code int, body []byte) model.Vector {
	t.Helper()
	typ, raw := success(t, code, body)
	require.Equal(t, "vector", typ)
	var v model.Vector
	require.NoError(t, json.Unmarshal(raw, &v))
	return v
}

func matrix(t *testing.T, code int, body []byte) model.Matrix {
	t.Helper()
	typ, raw := success(t, code, body)
	require.Equal(t, "matrix", typ)
	var m model.Matrix
	require.NoError(t, json.Unmarshal(raw, &m))
	return m
}

// golden compares body with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, body []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, append(body, '\n'), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, string(bytes.TrimSuffix(want, []byte("\n"))), string(body))
}

func TestInstantQueryVector(t *testing.T) {
	ta := newTestAPI(t, fixture())
	code, body := ta.get(t, "/api/v1/query", url.Values{"query": {"up"}, "time": {sec(5 * time.Minute)}})
	v := vector(t, code, body)
	require.Len(t, v, 2)
	require.Equal(t, model.LabelValue("a"), v[0].Metric["instance"])
	require.Equal(t, model.SampleValue(1), v[0].Value)
	require.Equal(t, model.LabelValue("b"), v[1].Metric["instance"])
	require.Equal(t, model.SampleValue(0), v[1].Value)
	require.Equal(t, model.Time(t0+300_000), v[0].Timestamp)
}

func TestInstantQueryGolden(t *testing.T) {
	ta := newTestAPI(t, fixture())
	f := func(name string, params url.Values) {
		t.Helper()
		code, body := ta.get(t, "/api/v1/query", params)
		require.Equal(t, http.StatusOK, code, string(body))
		golden(t, name, body)
	}
	// Millisecond timestamps; +Inf and NaN values.
	f("query_vector.json", url.Values{"query": {"up / 0"}, "time": {"1700000030.781"}})
	f("query_scalar.json", url.Values{"query": {"1 + 1"}, "time": {"1700000000.5"}})
	f("query_string.json", url.Values{"query": {`"hello"`}, "time": {"2023-11-14T22:13:20Z"}})
	f("query_empty.json", url.Values{"query": {"nothing_here"}, "time": {sec(0)}})
}

func TestRangeQueryGolden(t *testing.T) {
	ta := newTestAPI(t, fixture())
	code, body := ta.get(t, "/api/v1/query_range", url.Values{
		"query": {`up{instance="a"} or temp`},
		"start": {sec(0)},
		"end":   {sec(time.Minute)},
		"step":  {"15s"},
	})
	require.Equal(t, http.StatusOK, code, string(body))
	golden(t, "query_range.json", body)

	m := matrix(t, code, body)
	require.Len(t, m, 2)
	require.Equal(t, model.LabelValue("temp"), m[0].Metric["__name__"])
	require.Len(t, m[1].Values, 5)
	for i, p := range m[1].Values {
		require.Equal(t, model.Time(t0+int64(i)*15_000), p.Timestamp)
	}
}

func TestRangeQueryRate(t *testing.T) {
	ta := newTestAPI(t, fixture())
	code, body := ta.get(t, "/api/v1/query_range", url.Values{
		"query": {"rate(http_requests_total[1m])"},
		"start": {sec(2 * time.Minute)},
		"end":   {sec(4 * time.Minute)},
		"step":  {"60"},
	})
	m := matrix(t, code, body)
	require.Len(t, m, 1)
	require.Equal(t, model.Metric{"job": "api", "code": "200"}, m[0].Metric)
	require.Len(t, m[0].Values, 3)
	for _, p := range m[0].Values {
		require.InDelta(t, 10.0/15, float64(p.Value), 1e-9)
	}
}

func TestStaleMarkerEndsSeries(t *testing.T) {
	ta := newTestAPI(t, fixture())
	code, body := ta.get(t, "/api/v1/query_range", url.Values{
		"query": {"temp"},
		"start": {sec(0)},
		"end":   {sec(5 * time.Minute)},
		"step":  {"30s"},
	})
	m := matrix(t, code, body)
	require.Len(t, m, 1)
	// Without the stale marker at 120s the lookback would carry 22 on to 390s.
	var got []model.Time
	for _, p := range m[0].Values {
		got = append(got, p.Timestamp)
	}
	require.Equal(t, []model.Time{model.Time(t0), model.Time(t0 + 30_000), model.Time(t0 + 60_000), model.Time(t0 + 90_000)}, got)
	require.Equal(t, model.SampleValue(22), m[0].Values[3].Value)

	// An instant query just after the marker finds nothing.
	code, body = ta.get(t, "/api/v1/query", url.Values{"query": {"temp"}, "time": {sec(125 * time.Second)}})
	require.Empty(t, vector(t, code, body))
}

func TestQueryDefaultsToNow(t *testing.T) {
	ta := newTestAPI(t, fixture())
	ta.api.now = func() time.Time { return time.UnixMilli(t0 + 60_000) }
	code, body := ta.get(t, "/api/v1/query", url.Values{"query": {"up"}})
	v := vector(t, code, body)
	require.Len(t, v, 2)
	require.Equal(t, model.Time(t0+60_000), v[0].Timestamp)
}

func TestQueryLimit(t *testing.T) {
	ta := newTestAPI(t, fixture())
	code, body := ta.get(t, "/api/v1/query", url.Values{"query": {"up"}, "time": {sec(time.Minute)}, "limit": {"1"}})
	require.Len(t, vector(t, code, body), 1)
	require.Equal(t, []string{"results truncated due to limit"}, decode(t, body).Warnings)
}

func TestPostForm(t *testing.T) {
	ta := newTestAPI(t, fixture())
	code, body := ta.post(t, "/api/v1/query", url.Values{"query": {`up{instance="b"}`}, "time": {sec(time.Minute)}})
	v := vector(t, code, body)
	require.Len(t, v, 1)
	require.Equal(t, model.LabelValue("b"), v[0].Metric["instance"])

	code, body = ta.post(t, "/api/v1/query_range", url.Values{"query": {"up"}, "start": {sec(0)}, "end": {sec(time.Minute)}, "step": {"30s"}})
	require.Len(t, matrix(t, code, body), 2)
}

func TestTenantScoping(t *testing.T) {
	r := fixture()
	ta := newTestAPI(t, r)
	code, body := ta.get(t, "/api/v1/query", url.Values{"query": {"up"}, "time": {sec(time.Minute)}}, tenant.Header, "other")
	v := vector(t, code, body)
	require.Len(t, v, 1)
	require.Equal(t, model.LabelValue("other"), v[0].Metric["job"])
	for _, id := range r.seenTenants() {
		require.Equal(t, "other", id)
	}

	code, body = ta.get(t, "/api/v1/label/job/values", nil, tenant.Header, "other")
	require.Equal(t, http.StatusOK, code)
	require.JSONEq(t, `{"status":"success","data":["other"]}`, string(body))

	code, body = ta.get(t, "/api/v1/query", url.Values{"query": {"up"}}, tenant.Header, "a/b")
	require.Equal(t, http.StatusBadRequest, code)
	env := decode(t, body)
	require.Equal(t, "bad_data", env.ErrorType)
	require.Contains(t, env.Error, tenant.Header)
}

func TestSelfMetrics(t *testing.T) {
	ta := newTestAPI(t, fixture())
	ta.get(t, "/api/v1/query", url.Values{"query": {"up"}})
	ta.get(t, "/api/v1/query", url.Values{"query": {"up("}})
	ta.get(t, "/api/v1/label/job/values", nil)
	var buf bytes.Buffer
	ta.metrics.WritePrometheus(&buf)
	out := buf.String()
	require.Contains(t, out, `cairn_query_requests_total{handler="/api/v1/query",code="200"} 1`)
	require.Contains(t, out, `cairn_query_requests_total{handler="/api/v1/query",code="400"} 1`)
	require.Contains(t, out, `cairn_query_requests_total{handler="/api/v1/label/{name}/values",code="200"} 1`)
	require.Contains(t, out, `cairn_query_request_duration_seconds_count{handler="/api/v1/query"} 2`)
}

func TestInstantQueryFunc(t *testing.T) {
	r := fixture()
	ta := newTestAPI(t, r)
	ctx := context.Background()
	ts := time.UnixMilli(t0 + 60_000)

	v, err := ta.api.InstantQuery(ctx, "other", `up == 1`, ts)
	require.NoError(t, err)
	require.Len(t, v, 1)
	require.Equal(t, "other", v[0].Metric.Get("job"))
	for _, id := range r.seenTenants() {
		require.Equal(t, "other", id)
	}

	v, err = ta.api.InstantQuery(ctx, tenant.Default, `scalar(sum(up))`, ts)
	require.NoError(t, err)
	require.Len(t, v, 1)
	require.Equal(t, 1.0, v[0].F)
	require.Equal(t, t0+60_000, v[0].T)
	require.True(t, v[0].Metric.IsEmpty())

	// A subquery without a step uses -query.default-subquery-step.
	v, err = ta.api.InstantQuery(ctx, tenant.Default, `max_over_time(up[1m:])`, ts)
	require.NoError(t, err)
	require.Len(t, v, 2)

	_, err = ta.api.InstantQuery(ctx, tenant.Default, `"text"`, ts)
	require.ErrorContains(t, err, "not a vector or scalar")
	_, err = ta.api.InstantQuery(ctx, "a/b", `up`, ts)
	require.Error(t, err)
	_, err = ta.api.InstantQuery(ctx, tenant.Default, `up(`, ts)
	require.Error(t, err)
}

func TestConfigValidate(t *testing.T) {
	cfg := testConfig(t)
	require.NoError(t, cfg.Validate())
	require.Equal(t, 2*time.Minute, cfg.Timeout)
	require.Equal(t, 50_000_000, cfg.MaxSamples)
	require.Equal(t, 5*time.Minute, cfg.LookbackDelta)
	require.Equal(t, 32*24*time.Hour, cfg.MaxRange)
	require.Equal(t, 100_000, cfg.MaxFetchedSeries)

	tests := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"timeout", func(c *Config) { c.Timeout = 0 }, "-query.timeout"},
		{"max samples", func(c *Config) { c.MaxSamples = 0 }, "-query.max-samples"},
		{"lookback", func(c *Config) { c.LookbackDelta = -time.Second }, "-query.lookback-delta"},
		{"subquery step", func(c *Config) { c.DefaultSubqueryStep = 0 }, "-query.default-subquery-step"},
		{"max series", func(c *Config) { c.MaxSeries = -1 }, "-query.max-series"},
		{"max concurrent", func(c *Config) { c.MaxConcurrent = 0 }, "-query.max-concurrent"},
		{"max fetched series", func(c *Config) { c.MaxFetchedSeries = -1 }, "-query.max-fetched-series"},
		{"max range", func(c *Config) { c.MaxRange = -time.Hour }, "-query.max-range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testConfig(t)
			tt.mutate(&c)
			require.ErrorContains(t, c.Validate(), tt.want)
			_, err := New(c, fixture(), slog.New(slog.DiscardHandler), metrics.NewSet())
			require.ErrorContains(t, err, tt.want)
		})
	}
}
