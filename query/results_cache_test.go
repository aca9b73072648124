package query

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/util/annotations"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/tenant"
)

// fakeEval is an evalFunc over one series whose value at every
// evaluation time is that time; it records the ranges it evaluates.
type fakeEval struct {
	step  int64
	calls [][2]int64
	err   error
}

func (f *fakeEval) eval(lo, hi int64) (promql.Matrix, annotations.Annotations, error) {
	f.calls = append(f.calls, [2]int64{lo, hi})
	if f.err != nil {
		return nil, nil, f.err
	}
	s := promql.Series{Metric: labels.FromStrings("job", "a")}
	for t := lo; t <= hi; t += f.step {
		s.Floats = append(s.Floats, promql.FPoint{T: t, F: float64(t)})
	}
	return promql.Matrix{s}, nil, nil
}

// wantPoints is fakeEval's series over [lo, hi].
func wantPoints(lo, hi, step int64) []promql.FPoint {
	var out []promql.FPoint
	for t := lo; t <= hi; t += step {
		out = append(out, promql.FPoint{T: t, F: float64(t)})
	}
	return out
}

func TestResultsCacheEvaluatesOnlyMissingTimes(t *testing.T) {
	const step = 10
	now := time.UnixMilli(1000)
	type request struct {
		lo, hi  int64
		at      time.Time     // now; zero means the test's now
		evals   [][2]int64    // what the request evaluates
		freshen time.Duration // MaxFreshness
	}
	for _, tc := range []struct {
		name     string
		requests []request
	}{
		{"miss then hit", []request{
			{lo: 0, hi: 100, evals: [][2]int64{{0, 100}}},
			{lo: 0, hi: 100},
			{lo: 30, hi: 60},
		}},
		{"a sliding window evaluates the new times only", []request{
			{lo: 0, hi: 100, evals: [][2]int64{{0, 100}}},
			{lo: 20, hi: 120, evals: [][2]int64{{110, 120}}},
			{lo: 40, hi: 140, evals: [][2]int64{{130, 140}}},
			{lo: 0, hi: 140},
		}},
		{"earlier times are evaluated before the extent", []request{
			{lo: 50, hi: 100, evals: [][2]int64{{50, 100}}},
			{lo: 20, hi: 80, evals: [][2]int64{{20, 40}}},
			{lo: 10, hi: 110, evals: [][2]int64{{10, 10}, {110, 110}}},
		}},
		{"a disjoint range replaces the extent", []request{
			{lo: 0, hi: 50, evals: [][2]int64{{0, 50}}},
			{lo: 200, hi: 300, evals: [][2]int64{{200, 300}}},
			{lo: 0, hi: 50, evals: [][2]int64{{0, 50}}},
		}},
		{"fresh times are never cached", []request{
			{lo: 900, hi: 1000, freshen: 50 * time.Millisecond, evals: [][2]int64{{900, 1000}}},
			// 900..950 were cached; 960..1000 are within the freshness.
			{lo: 900, hi: 1000, freshen: 50 * time.Millisecond, evals: [][2]int64{{960, 1000}}},
		}},
		{"all fresh: nothing cached", []request{
			{lo: 990, hi: 1000, freshen: time.Second, evals: [][2]int64{{990, 1000}}},
			{lo: 990, hi: 1000, freshen: time.Second, evals: [][2]int64{{990, 1000}}},
		}},
		{"extending an extent keeps its age", []request{
			{lo: 0, hi: 100, evals: [][2]int64{{0, 100}}},
			{lo: 0, hi: 110, at: now.Add(30 * time.Minute), evals: [][2]int64{{110, 110}}},
			{lo: 0, hi: 110, at: now.Add(61 * time.Minute), evals: [][2]int64{{0, 110}}},
		}},
		{"expired extents are evaluated again", []request{
			{lo: 0, hi: 100, evals: [][2]int64{{0, 100}}},
			{lo: 0, hi: 100, at: now.Add(59 * time.Minute)},
			{lo: 0, hi: 100, at: now.Add(61 * time.Minute), evals: [][2]int64{{0, 100}}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := metrics.NewSet()
			c := newResultsCache(ResultsCacheConfig{MaxBytes: 1 << 20, TTL: time.Hour}, set)
			for i, r := range tc.requests {
				c.cfg.MaxFreshness = r.freshen
				at := r.at
				if at.IsZero() {
					at = now
				}
				f := &fakeEval{step: step}
				m, _, err := c.rangeResult("k", r.lo, r.hi, step, at, f.eval)
				require.NoError(t, err)
				require.Equal(t, r.evals, f.calls, "request %d evaluates", i)
				require.Len(t, m, 1, "request %d", i)
				require.Equal(t, wantPoints(r.lo, r.hi, step), m[0].Floats, "request %d", i)
			}
		})
	}
}

func TestResultsCacheEvictsBeyondMaxBytes(t *testing.T) {
	c := newResultsCache(ResultsCacheConfig{MaxBytes: 64 << 10, TTL: time.Hour}, metrics.NewSet())
	now := time.UnixMilli(1_000_000)
	f := &fakeEval{step: 1}
	// Each extent is ~8 KiB: eight fit, the ninth evicts the oldest.
	for i := range 9 {
		_, _, err := c.rangeResult(strconv.Itoa(i), 0, 499, 1, now, f.eval)
		require.NoError(t, err)
	}
	require.LessOrEqual(t, c.size, c.cfg.MaxBytes)
	f.calls = nil
	_, _, err := c.rangeResult("8", 0, 499, 1, now, f.eval)
	require.NoError(t, err)
	require.Empty(t, f.calls, "the newest extent is still cached")
	_, _, err = c.rangeResult("0", 0, 499, 1, now, f.eval)
	require.NoError(t, err)
	require.Equal(t, [][2]int64{{0, 499}}, f.calls, "the oldest extent was evicted")

	// An extent over a quarter of the cache is not stored at all.
	f.calls = nil
	for range 2 {
		_, _, err = c.rangeResult("big", 0, 9999, 1, now, f.eval)
		require.NoError(t, err)
	}
	require.Len(t, f.calls, 2)
}

func TestResultsCacheKeepsErrorsOut(t *testing.T) {
	c := newResultsCache(ResultsCacheConfig{MaxBytes: 1 << 20, TTL: time.Hour}, metrics.NewSet())
	now := time.UnixMilli(1000)
	f := &fakeEval{step: 10, err: errors.New("storage down")}
	_, _, err := c.rangeResult("k", 0, 100, 10, now, f.eval)
	require.ErrorContains(t, err, "storage down")
	f.err = nil
	_, _, err = c.rangeResult("k", 0, 100, 10, now, f.eval)
	require.NoError(t, err)
	require.Equal(t, [][2]int64{{0, 100}, {0, 100}}, f.calls)
}

func TestCacheable(t *testing.T) {
	p := parser.NewParser(parser.Options{})
	for q, want := range map[string]bool{
		`up`:                                true,
		`sum by (job) (rate(x[5m]))`:        true,
		`max_over_time(rate(x[1m])[1h:1m])`: true,
		`up offset 1h`:                      true,
		`up @ 1700000000`:                   false,
		`up @ end()`:                        false,
		`rate(x[5m] @ start())`:             false,
		`max_over_time(x[1h:1m] @ end())`:   false,
	} {
		expr, err := p.ParseExpr(q)
		require.NoError(t, err, q)
		require.Equal(t, want, cacheable(expr), q)
	}
}

// cacheFixture is two hours of 15 s samples: a counter that resets and
// has a gap, a gauge that goes stale and comes back, two jobs.
func cacheFixture() *memReader {
	stale := math.Float64frombits(value.StaleNaN)
	var counter, gauge, other []store.Sample
	for i := range 480 {
		ts := t0 + int64(i)*15_000
		if i < 200 || i > 230 { // a gap of ~8 minutes
			counter = append(counter, store.Sample{T: ts, V: float64((i % 150) * 7)}) // resets every 150
		}
		switch {
		case i == 300:
			gauge = append(gauge, store.Sample{T: ts, V: stale})
		case i < 300 || i > 340:
			gauge = append(gauge, store.Sample{T: ts, V: math.Sin(float64(i) / 10)})
		}
		other = append(other, store.Sample{T: ts, V: float64(i * 3)})
	}
	return &memReader{series: map[string][]memSeries{tenant.Default: {
		{labels.FromStrings("__name__", "requests_total", "job", "api"), counter},
		{labels.FromStrings("__name__", "requests_total", "job", "db"), other},
		{labels.FromStrings("__name__", "temp", "job", "api"), gauge},
	}}}
}

// TestResultsCacheAgreesWithEngine sends the same range queries, over
// windows that slide, grow and shrink, to an API with the cache and to
// one without: every answer must be byte for byte the same, and the
// cache must have answered most of them.
func TestResultsCacheAgreesWithEngine(t *testing.T) {
	r := cacheFixture()
	now := func() time.Time { return time.UnixMilli(t0).Add(3 * time.Hour) }
	cached := newTestAPI(t, r, func(c *Config) { c.ResultsCache.MaxFreshness = 0 })
	cached.api.now = now
	plain := newTestAPI(t, r, func(c *Config) { c.ResultsCache.MaxBytes = 0 })
	plain.api.now = now
	require.Nil(t, plain.api.cache)

	queries := []string{
		`rate(requests_total[5m])`,
		`sum by (job) (increase(requests_total[2m]))`,
		`temp`,
		`avg_over_time(temp[10m]) > 0`,
		`max_over_time(rate(requests_total[1m])[10m:1m])`,
		`requests_total offset 10m`,
		`resets(requests_total[30m])`,
		`label_replace(temp, "x", "$1", "job", "(.*)")`,
	}
	windows := [][2]time.Duration{ // start, end from t0
		{30 * time.Minute, 90 * time.Minute},
		{35 * time.Minute, 95 * time.Minute},  // slides
		{20 * time.Minute, 100 * time.Minute}, // grows both ways
		{40 * time.Minute, 60 * time.Minute},  // inside
		{0, 2 * time.Hour},
		{110 * time.Minute, 130 * time.Minute}, // past the data
	}
	for _, q := range queries {
		for _, step := range []string{"15", "60", "37"} {
			for _, w := range windows {
				params := url.Values{"query": {q}, "start": {sec(w[0])}, "end": {sec(w[1])}, "step": {step}}
				code, want := plain.get(t, "/api/v1/query_range", params)
				require.Equal(t, 200, code, string(want))
				code, got := cached.get(t, "/api/v1/query_range", params)
				require.Equal(t, 200, code, string(got))
				require.JSONEq(t, string(want), string(got), fmt.Sprintf("%s step %s over %v", q, step, w))
			}
		}
	}
	hits := cached.metrics.GetOrCreateCounter(`cairn_query_results_cache_requests_total{result="hit"}`).Get()
	partial := cached.metrics.GetOrCreateCounter(`cairn_query_results_cache_requests_total{result="partial"}`).Get()
	misses := cached.metrics.GetOrCreateCounter(`cairn_query_results_cache_requests_total{result="miss"}`).Get()
	require.Equal(t, uint64(len(queries)*3*len(windows)), hits+partial+misses)
	require.Greater(t, hits+partial, misses, "hits %d, partial %d, misses %d", hits, partial, misses)
}

// TestResultsCacheSeesFreshSamples: samples that arrive for times within
// -query.results-cache.max-freshness show on the next request.
func TestResultsCacheSeesFreshSamples(t *testing.T) {
	r := cacheFixture()
	ta := newTestAPI(t, r) // default freshness, 10m
	last := t0 + 479*15_000
	ta.api.now = func() time.Time { return time.UnixMilli(last).Add(5 * time.Minute) }
	params := url.Values{"query": {`requests_total{job="db"}`}, "start": {sec(time.Hour)}, "end": {sec(2*time.Hour + 5*time.Minute)}, "step": {"60"}}
	code, body := ta.get(t, "/api/v1/query_range", params)
	before := matrix(t, code, body)
	require.Len(t, before, 1)
	// A late sample lands after the data's end, within the freshness.
	s := &r.series[tenant.Default][1]
	s.samples = append(s.samples, store.Sample{T: last + 2*60_000, V: 99999})
	code, body = ta.get(t, "/api/v1/query_range", params)
	after := matrix(t, code, body)
	require.Len(t, after, 1)
	got := after[0].Values[len(after[0].Values)-1]
	require.Equal(t, 99999.0, float64(got.Value), "the late sample shows at %v", got.Timestamp)
}

func TestResultsCacheBypass(t *testing.T) {
	ta := newTestAPI(t, cacheFixture(), func(c *Config) { c.ResultsCache.MaxFreshness = 0 })
	params := url.Values{"query": {`temp`}, "start": {sec(0)}, "end": {sec(time.Hour)}, "step": {"60"}}
	count := func(result string) uint64 {
		return ta.metrics.GetOrCreateCounter(`cairn_query_results_cache_requests_total{result="` + result + `"}`).Get()
	}
	for _, header := range []string{"no-cache", "max-age=0, No-Store"} {
		req, err := http.NewRequest(http.MethodGet, ta.srv.URL+"/api/v1/query_range?"+params.Encode(), nil)
		require.NoError(t, err)
		req.Header.Set("Cache-Control", header)
		code, body := do(t, req)
		require.Equal(t, http.StatusOK, code, string(body))
	}
	require.Zero(t, count("miss")+count("hit")+count("partial"), "bypassed requests neither read nor fill the cache")
	for range 2 {
		code, body := ta.get(t, "/api/v1/query_range", params)
		require.Equal(t, http.StatusOK, code, string(body))
	}
	require.Equal(t, []uint64{1, 1}, []uint64{count("miss"), count("hit")})
}

// TestResultsCacheKeepsWarningsApart: a warning added to one answer (the
// limit's truncation) never reaches the cached extent or other answers.
func TestResultsCacheKeepsWarningsApart(t *testing.T) {
	ta := newTestAPI(t, cacheFixture(), func(c *Config) { c.ResultsCache.MaxFreshness = 0 })
	query := func(end time.Duration, limit string) []string {
		params := url.Values{"query": {`requests_total`}, "start": {sec(0)}, "end": {sec(end)}, "step": {"60"}}
		if limit != "" {
			params.Set("limit", limit)
		}
		code, body := ta.get(t, "/api/v1/query_range", params)
		require.Equal(t, http.StatusOK, code, string(body))
		return decode(t, body).Warnings
	}
	truncated := []string{"results truncated due to limit"}
	require.Equal(t, truncated, query(time.Hour, "1"))      // miss
	require.Empty(t, query(time.Hour, ""))                  // hit
	require.Equal(t, truncated, query(90*time.Minute, "1")) // partial
	require.Empty(t, query(90*time.Minute, ""))             // hit
	require.Empty(t, query(100*time.Minute, ""))            // partial
}

// TestResultsCacheSubMillisecondStep: a step under a millisecond goes
// past the cache, whose grid is in milliseconds, to the engine, which
// answers it as Prometheus does (its interval truncates to 0 ms).
func TestResultsCacheSubMillisecondStep(t *testing.T) {
	ta := newTestAPI(t, cacheFixture())
	code, body := ta.get(t, "/api/v1/query_range", url.Values{"query": {`temp`}, "start": {sec(0)}, "end": {sec(0)}, "step": {"0.0005"}})
	require.Equal(t, http.StatusUnprocessableEntity, code, string(body))
	require.Equal(t, "execution", decode(t, body).ErrorType)
	require.Zero(t, ta.metrics.GetOrCreateCounter(`cairn_query_results_cache_requests_total{result="miss"}`).Get())
}
