package query

import (
	"cmp"
	"container/list"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/util/annotations"
)

// ResultsCacheConfig configures the range query results cache.
type ResultsCacheConfig struct {
	// MaxBytes bounds the memory the cached results take; 0 disables the
	// cache.
	MaxBytes int
	// MaxFreshness keeps evaluation times newer than now minus it out of
	// the cache: samples may still arrive for them.
	MaxFreshness time.Duration
	// TTL is how long a cached extent is served; samples written later for
	// older times (backfills) show after at most TTL.
	TTL time.Duration
}

// RegisterFlags registers the cache's flags on fs, under
// "query.results-cache.".
func (c *ResultsCacheConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.IntVar(&c.MaxBytes, "query.results-cache.max-bytes", 256<<20, "Memory the range query results cache may take, in bytes. 0 disables the cache.")
	fs.DurationVar(&c.MaxFreshness, "query.results-cache.max-freshness", 10*time.Minute, "Results for evaluation times newer than this are never cached: samples may still arrive for them.")
	fs.DurationVar(&c.TTL, "query.results-cache.ttl", time.Hour, "How long a cached result is served. Samples written later for older times (backfills) show in cached ranges after at most this long.")
}

// Validate checks the settings.
func (c *ResultsCacheConfig) Validate() error {
	switch {
	case c.MaxBytes < 0:
		return errors.New("-query.results-cache.max-bytes is negative, use 0 to disable the cache")
	case c.MaxFreshness < 0:
		return errors.New("-query.results-cache.max-freshness must not be negative")
	case c.MaxBytes > 0 && c.TTL <= 0:
		return fmt.Errorf("-query.results-cache.ttl is %s, it must be positive", c.TTL)
	}
	return nil
}

// resultsCache keeps range query results as extents: the matrix of one
// query for a run of evaluation times [start, end], step apart. A range
// query's value at one evaluation time does not depend on the others,
// so a request that overlaps an extent evaluates only the times the
// extent lacks and takes the rest from it: a dashboard that refreshes
// "the last 24 hours" evaluates the last minutes, not the day. This is
// the results cache of Mimir's and Cortex's query frontends, in process.
//
// An extent never holds evaluation times newer than MaxFreshness, whose
// samples may still arrive, and is served for TTL. Queries with an @
// modifier are not cached: @ start() and @ end() depend on the range.
type resultsCache struct {
	cfg     ResultsCacheConfig
	mu      sync.Mutex
	size    int                      // bytes held, by extentSize
	lru     *list.List               // of *extent, most recently used first
	entries map[string]*list.Element // by cacheKey

	hits, partial, misses *metrics.Counter
}

// extent is a cached result: immutable once stored.
type extent struct {
	key        string
	start, end int64 // evaluation times, ms
	matrix     promql.Matrix
	annos      annotations.Annotations
	stored     time.Time
	size       int
}

func newResultsCache(cfg ResultsCacheConfig, set *metrics.Set) *resultsCache {
	if cfg.MaxBytes <= 0 {
		return nil
	}
	c := &resultsCache{
		cfg: cfg, lru: list.New(), entries: map[string]*list.Element{},
		hits:    set.NewCounter(`cairn_query_results_cache_requests_total{result="hit"}`),
		partial: set.NewCounter(`cairn_query_results_cache_requests_total{result="partial"}`),
		misses:  set.NewCounter(`cairn_query_results_cache_requests_total{result="miss"}`),
	}
	set.NewGauge(`cairn_query_results_cache_bytes`, func() float64 {
		c.mu.Lock()
		defer c.mu.Unlock()
		return float64(c.size)
	})
	return c
}

// cacheable reports whether expr's range query results may be cached.
func cacheable(expr parser.Expr) bool {
	ok := true
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		switch n := n.(type) {
		case *parser.VectorSelector:
			ok = ok && n.Timestamp == nil && n.StartOrEnd == 0
		case *parser.SubqueryExpr:
			ok = ok && n.Timestamp == nil && n.StartOrEnd == 0
		}
		return nil
	})
	return ok
}

// bypassCache reports whether r asks not to be answered from the cache,
// with Cache-Control: no-cache or no-store, as Mimir's query frontend
// honours: the result is evaluated whole and not stored.
func bypassCache(r *http.Request) bool {
	for _, v := range r.Header.Values("Cache-Control") {
		for d := range strings.SplitSeq(v, ",") {
			if d = strings.ToLower(strings.TrimSpace(d)); d == "no-cache" || d == "no-store" {
				return true
			}
		}
	}
	return false
}

// cacheKey names the extents that a range query can share: same tenant,
// expression, step, lookback and evaluation times on the same grid.
func cacheKey(tenant string, expr parser.Expr, start time.Time, step, lookback time.Duration) string {
	ms := step.Milliseconds()
	phase := start.UnixMilli() % ms
	if phase < 0 {
		phase += ms
	}
	return tenant + "\x00" + expr.String() + "\x00" + strconv.FormatInt(ms, 10) + "\x00" +
		strconv.FormatInt(phase, 10) + "\x00" + lookback.String()
}

// get returns the live extent of key, if any.
func (c *resultsCache) get(key string, now time.Time) (*extent, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return nil, false
	}
	e := el.Value.(*extent)
	if now.Sub(e.stored) > c.cfg.TTL {
		c.remove(el)
		return nil, false
	}
	c.lru.MoveToFront(el)
	return e, true
}

// put stores e, replacing key's extent, and evicts the least recently
// used extents beyond MaxBytes. An extent larger than a quarter of the
// cache is not stored.
func (c *resultsCache) put(e *extent) {
	e.size = extentSize(e.matrix)
	if e.size > c.cfg.MaxBytes/4 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[e.key]; ok {
		c.remove(el)
	}
	c.entries[e.key] = c.lru.PushFront(e)
	c.size += e.size
	for c.size > c.cfg.MaxBytes {
		c.remove(c.lru.Back())
	}
}

func (c *resultsCache) remove(el *list.Element) {
	e := c.lru.Remove(el).(*extent)
	delete(c.entries, e.key)
	c.size -= e.size
}

// extentSize estimates the bytes m holds.
func extentSize(m promql.Matrix) int {
	n := 0
	for _, s := range m {
		n += 64 + int(s.Metric.ByteSize()) + 16*len(s.Floats)
		for _, h := range s.Histograms {
			n += 128 + 8*(len(h.H.PositiveSpans)+len(h.H.NegativeSpans)) +
				8*(len(h.H.PositiveBuckets)+len(h.H.NegativeBuckets)+len(h.H.CustomValues))
		}
	}
	return n
}

// cachedRange answers a range query of expr through the results cache:
// the run of evaluation times start, start+step, … up to end.
func (a *API) cachedRange(ctx context.Context, s scope, opts promql.QueryOpts, expr parser.Expr, start, end time.Time, step time.Duration, limit int, timeout time.Duration) result {
	lookback := opts.LookbackDelta()
	if lookback == 0 {
		lookback = a.cfg.LookbackDelta
	}
	stepMS := step.Milliseconds()
	first := start.UnixMilli()
	last := first + (end.UnixMilli()-first)/stepMS*stepMS
	qs := expr.String()
	eval := func(lo, hi int64) (promql.Matrix, annotations.Annotations, error) {
		qry, err := a.engine(s).NewRangeQuery(ctx, a.queryable(s), opts, qs, time.UnixMilli(lo), time.UnixMilli(hi), step)
		if err != nil {
			return nil, nil, badParam("query", err)
		}
		defer qry.Close()
		res, err := a.exec(ctx, qry, timeout, s)
		if err != nil {
			return nil, nil, err
		}
		m, err := res.Matrix()
		if err != nil {
			return nil, nil, &apiError{errInternal, err}
		}
		return mergeMatrices(m), res.Warnings, nil // a copy: Close recycles m
	}
	m, ws, err := a.cache.rangeResult(cacheKey(s.tenant, expr, start, step, lookback), first, last, stepMS, a.now(), eval)
	if err != nil {
		return fail(err)
	}
	return answer(&promql.Result{Value: m, Warnings: ws}, limit)
}

// evalFunc evaluates the query over evaluation times [start, end], ms,
// and returns a matrix the caller owns.
type evalFunc func(start, end int64) (promql.Matrix, annotations.Annotations, error)

// rangeResult answers a range query over evaluation times [start, end]
// (ms, step apart; end is the last evaluation time, not the request's
// end) from key's extent and eval for the times it lacks, then extends
// the extent by what was evaluated, up to now - MaxFreshness.
func (c *resultsCache) rangeResult(key string, start, end, step int64, now time.Time, eval evalFunc) (promql.Matrix, annotations.Annotations, error) {
	e, ok := c.get(key, now)
	if !ok || e.start > end || e.end < start {
		c.misses.Inc()
		m, annos, err := eval(start, end)
		if err != nil {
			return nil, nil, err
		}
		c.store(key, start, end, step, m, annos, now, now)
		return m, annos, nil
	}
	var (
		parts []promql.Matrix
		annos = annotations.New().Merge(e.annos)
	)
	if start < e.start {
		head, ws, err := eval(start, e.start-step)
		if err != nil {
			return nil, nil, err
		}
		parts, annos = append(parts, head), annos.Merge(ws)
	}
	parts = append(parts, sliceMatrix(e.matrix, max(start, e.start), min(end, e.end)))
	if end > e.end {
		tail, ws, err := eval(e.end+step, end)
		if err != nil {
			return nil, nil, err
		}
		parts, annos = append(parts, tail), annos.Merge(ws)
	}
	if start >= e.start && end <= e.end {
		c.hits.Inc()
	} else {
		c.partial.Inc()
	}
	m := mergeMatrices(parts...)
	if (start < e.start || end > e.end) && e.size+extentSize(m) <= c.cfg.MaxBytes/4 {
		// The result covers [start, end] and the extent beyond it. The
		// extent keeps its age: what it held is served for TTL from when
		// it was first evaluated, however often it is extended.
		lo, hi := min(start, e.start), max(end, e.end)
		merged := mergeMatrices(sliceMatrix(e.matrix, lo, start-1), m, sliceMatrix(e.matrix, end+1, hi))
		c.store(key, lo, hi, step, merged, annos, now, e.stored)
	}
	return m, annos, nil
}

// store keeps a copy of the evaluation times of m in [start, end] that
// are old enough, and of annos, as key's extent, evaluated at stored.
func (c *resultsCache) store(key string, start, end, step int64, m promql.Matrix, annos annotations.Annotations, now, stored time.Time) {
	newest := now.Add(-c.cfg.MaxFreshness).UnixMilli()
	if end > newest {
		end = start + (newest-start)/step*step // the last evaluation time not newer
	}
	if end < start || newest < start {
		return
	}
	kept := sliceMatrix(m, start, end)
	if extentSize(kept) > c.cfg.MaxBytes/4 {
		return
	}
	c.put(&extent{key: key, start: start, end: end, matrix: mergeMatrices(kept), annos: annotations.New().Merge(annos), stored: stored})
}

// sliceMatrix returns the points of m in [lo, hi], sharing m's memory;
// series left without points are dropped.
func sliceMatrix(m promql.Matrix, lo, hi int64) promql.Matrix {
	out := make(promql.Matrix, 0, len(m))
	for _, s := range m {
		f := s.Floats[searchF(s.Floats, lo):searchF(s.Floats, hi+1)]
		h := s.Histograms[searchH(s.Histograms, lo):searchH(s.Histograms, hi+1)]
		if len(f)+len(h) == 0 {
			continue
		}
		out = append(out, promql.Series{Metric: s.Metric, Floats: f, Histograms: h, DropName: s.DropName})
	}
	return out
}

func searchF(ps []promql.FPoint, t int64) int {
	i, _ := slices.BinarySearchFunc(ps, t, func(p promql.FPoint, t int64) int { return cmp.Compare(p.T, t) })
	return i
}

func searchH(ps []promql.HPoint, t int64) int {
	i, _ := slices.BinarySearchFunc(ps, t, func(p promql.HPoint, t int64) int { return cmp.Compare(p.T, t) })
	return i
}

// mergeMatrices joins matrices over consecutive, disjoint time ranges,
// in time order, into new memory: series by labels, points in time
// order, series sorted by labels as the engine returns them.
func mergeMatrices(parts ...promql.Matrix) promql.Matrix {
	var (
		out   promql.Matrix
		index = map[string]int{}
	)
	for _, part := range parts {
		for _, s := range part {
			key := string(s.Metric.Bytes(nil))
			i, ok := index[key]
			if !ok {
				i = len(out)
				index[key] = i
				out = append(out, promql.Series{Metric: s.Metric, DropName: s.DropName})
			}
			out[i].Floats = append(out[i].Floats, s.Floats...)
			for _, h := range s.Histograms {
				out[i].Histograms = append(out[i].Histograms, promql.HPoint{T: h.T, H: h.H.Copy()})
			}
		}
	}
	slices.SortFunc(out, func(a, b promql.Series) int { return labels.Compare(a.Metric, b.Metric) })
	return out
}
