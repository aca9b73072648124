package query

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/tenant"
)

func TestLimits(t *testing.T) {
	blocking := fixture()
	blocking.block = true
	at := url.Values{"time": {sec(5 * time.Minute)}}
	instant := func(q string) url.Values {
		v := url.Values{"query": {q}}
		for k, vs := range at {
			v[k] = vs
		}
		return v
	}
	tests := []struct {
		name     string
		reader   *memReader
		mutate   func(*Config)
		path     string
		params   url.Values
		code     int
		contains string
	}{
		{"fetched series", nil, func(c *Config) { c.MaxFetchedSeries = 1 }, "/api/v1/query", instant("up"),
			422, "the query selects at least 2 series, more than the limit -query.max-fetched-series=1 allows"},
		{"fetched series of all selectors", nil, func(c *Config) { c.MaxFetchedSeries = 2 }, "/api/v1/query",
			instant(`count(up) + count(up{instance="a"})`), 422, "-query.max-fetched-series=2"},
		{"fetched series within", nil, func(c *Config) { c.MaxFetchedSeries = 3 }, "/api/v1/query",
			instant(`count(up) + count(up{instance="a"})`), 200, ""},
		{"range selector", nil, func(c *Config) { c.MaxRange = time.Hour }, "/api/v1/query", instant("rate(up[2h])"),
			422, `the selector {__name__="up"} reads 2h of samples, more than the limit -query.max-range=1h allows`},
		{"range query", nil, func(c *Config) { c.MaxRange = time.Hour }, "/api/v1/query_range",
			url.Values{"query": {"up"}, "start": {sec(0)}, "end": {sec(2 * time.Hour)}, "step": {"60"}}, 422, "-query.max-range=1h"},
		{"range within", nil, func(c *Config) { c.MaxRange = time.Hour }, "/api/v1/query", instant("rate(up[50m])"), 200, ""},
		{"range off", nil, func(c *Config) { c.MaxRange = 0 }, "/api/v1/query", instant("rate(up[400d])"), 200, ""},
		{"samples", nil, func(c *Config) { c.MaxSamples = 10 }, "/api/v1/query_range",
			url.Values{"query": {"up"}, "start": {sec(0)}, "end": {sec(time.Minute)}, "step": {"1"}},
			422, "too many samples into memory in query execution, more than the limit -query.max-samples=10 allows"},
		{"engine timeout", blocking, func(c *Config) { c.Timeout = 50 * time.Millisecond }, "/api/v1/query", instant("up"),
			503, "(the limit is -query.timeout=50ms)"},
		{"request timeout", blocking, nil, "/api/v1/query", url.Values{"query": {"up"}, "timeout": {"50ms"}},
			503, "(the limit is the request's timeout=50ms)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.reader
			if r == nil {
				r = fixture()
			}
			var mutate []func(*Config)
			if tt.mutate != nil {
				mutate = append(mutate, tt.mutate)
			}
			code, body := newTestAPI(t, r, mutate...).get(t, tt.path, tt.params)
			require.Equal(t, tt.code, code, string(body))
			if tt.code == http.StatusOK {
				return
			}
			env := decode(t, body)
			require.Equal(t, map[int]string{422: "execution", 503: "timeout"}[tt.code], env.ErrorType)
			require.Contains(t, env.Error, tt.contains)
		})
	}
}

func TestLimitsApplyToInstantQuery(t *testing.T) {
	ta := newTestAPI(t, fixture(), func(c *Config) { c.MaxFetchedSeries = 1 })
	_, err := ta.api.InstantQuery(context.Background(), "anonymous", "up", time.UnixMilli(t0))
	var le *LimitError
	require.ErrorAs(t, err, &le)
	require.Equal(t, "-query.max-fetched-series", le.Flag)
}

// concurrencyReader tracks how many SelectSeries calls run at once; each
// takes a while, so that overlapping calls do overlap.
type concurrencyReader struct {
	Reader
	mu            sync.Mutex
	running, peak int
}

func (c *concurrencyReader) SelectSeries(ctx context.Context, tenant string, mint, maxt int64, ms ...*labels.Matcher) ([]store.SeriesRef, error) {
	c.mu.Lock()
	c.running++
	c.peak = max(c.peak, c.running)
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.running--
		c.mu.Unlock()
	}()
	select {
	case <-time.After(50 * time.Millisecond):
	case <-ctx.Done():
		return nil, errors.New("canceled")
	}
	return c.Reader.SelectSeries(ctx, tenant, mint, maxt, ms...)
}

// TestSelectorsReadConcurrently: the engine calls Select for each selector
// in turn, before evaluating any; the reads overlap, at most
// selectConcurrency at a time.
func TestSelectorsReadConcurrently(t *testing.T) {
	r := &concurrencyReader{Reader: fixture()}
	ta := newTestAPI(t, r)
	code, body := ta.get(t, "/api/v1/query", url.Values{
		"query": {`count(up) + count(temp) + count(http_requests_total) + count(up{instance="a"}) + count(up{instance="b"}) + count(up{job="api"})`},
		"time":  {sec(time.Minute)},
	})
	require.Equal(t, http.StatusOK, code, string(body))
	require.Equal(t, selectConcurrency, r.peak)
}

// tenantsFixture is fixture's data under tenants team-a and team-b.
func tenantsFixture() *memReader {
	r := fixture()
	r.series["team-a"] = r.series[tenant.Default]
	r.series["team-b"] = r.series[tenant.Default]
	return r
}

// withOverrides gives the API the per-tenant limits of an overrides file
// with content file, over the flags' defaults.
func withOverrides(t *testing.T, file string) func(*Config) {
	return func(c *Config) {
		path := filepath.Join(t.TempDir(), "overrides.yaml")
		require.NoError(t, os.WriteFile(path, []byte(file), 0o644))
		ov, err := tenant.NewOverrides(tenant.OverridesConfig{File: path, Period: time.Hour}, c.TenantDefaults(tenant.Limits{}), slog.New(slog.DiscardHandler), metrics.NewSet())
		require.NoError(t, err)
		c.TenantLimits = ov
	}
}

// TestTenantLimits: a tenant's overrides apply to that tenant only, and
// its errors name the limit, the tenant's value and the overrides file;
// another tenant keeps the flags' limits, and its errors name the flags.
func TestTenantLimits(t *testing.T) {
	const overrides = "overrides:\n  team-a:\n    max_fetched_series: 1\n    max_range: 1h\n    max_samples: 10\n    timeout: 50ms\n"
	flags := func(c *Config) { c.MaxRange = 90 * time.Minute }
	instant := func(q string) url.Values { return url.Values{"query": {q}, "time": {sec(5 * time.Minute)}} }
	samples := url.Values{"query": {"temp"}, "start": {sec(0)}, "end": {sec(time.Minute)}, "step": {"1"}}
	tests := []struct {
		name     string
		tenant   string
		block    bool
		path     string
		params   url.Values
		code     int
		contains string
	}{
		{"fetched series", "team-a", false, "/api/v1/query", instant("up"), 422,
			"the query selects at least 2 series, more than the limit max_fetched_series=1 for tenant team-a allows (-limits.overrides-file)"},
		{"fetched series, other tenant", "team-b", false, "/api/v1/query", instant("up"), 200, ""},
		{"range", "team-a", false, "/api/v1/query", instant("rate(temp[80m])"), 422,
			`the selector {__name__="temp"} reads 1h20m of samples, more than the limit max_range=1h for tenant team-a allows (-limits.overrides-file)`},
		{"range, other tenant", "team-b", false, "/api/v1/query", instant("rate(temp[80m])"), 200, ""},
		{"range, other tenant over the flag", "team-b", false, "/api/v1/query", instant("rate(temp[2h])"), 422,
			`reads 2h of samples, more than the limit -query.max-range=1h30m allows`},
		{"samples", "team-a", false, "/api/v1/query_range", samples, 422,
			"query processing would load too many samples into memory in query execution, more than the limit max_samples=10 for tenant team-a allows (-limits.overrides-file)"},
		{"samples, other tenant", "team-b", false, "/api/v1/query_range", samples, 200, ""},
		{"timeout", "team-a", true, "/api/v1/query", instant("temp"), 503,
			"(the limit is timeout=50ms for tenant team-a, -limits.overrides-file)"},
		{"timeout, other tenant's request", "team-b", true, "/api/v1/query", url.Values{"query": {"temp"}, "timeout": {"50ms"}}, 503,
			"(the limit is the request's timeout=50ms)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tenantsFixture()
			r.block = tt.block
			ta := newTestAPI(t, r, flags, withOverrides(t, overrides))
			code, body := ta.get(t, tt.path, tt.params, "X-Scope-OrgID", tt.tenant)
			require.Equal(t, tt.code, code, string(body))
			if tt.code == http.StatusOK {
				return
			}
			env := decode(t, body)
			require.Equal(t, map[int]string{422: "execution", 503: "timeout"}[tt.code], env.ErrorType)
			require.Contains(t, env.Error, tt.contains)
		})
	}
}

// TestTenantLimitsApplyToInstantQuery: the rule evaluator's queries keep
// their tenant's limits too.
func TestTenantLimitsApplyToInstantQuery(t *testing.T) {
	ta := newTestAPI(t, tenantsFixture(), withOverrides(t, "overrides:\n  team-a:\n    max_fetched_series: 1\n"))
	_, err := ta.api.InstantQuery(context.Background(), "team-a", "up", time.UnixMilli(t0))
	var tle *TenantLimitError
	require.ErrorAs(t, err, &tle)
	require.Equal(t, "team-a", tle.Tenant)
	require.Equal(t, "max_fetched_series", tle.Flag)
	var le *LimitError
	require.ErrorAs(t, err, &le, "the API answers it as any LimitError")
	v, err := ta.api.InstantQuery(context.Background(), "team-b", "up", time.UnixMilli(t0))
	require.NoError(t, err)
	require.Len(t, v, 2)
}
