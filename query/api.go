package query

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/go-chi/chi/v5"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/util/annotations"

	"github.com/cairn-dev/cairn/store/tenant"
)

// API serves the Prometheus HTTP query API over a Reader, one tenant per
// request, and evaluates PromQL for other components (InstantQuery).
type API struct {
	cfg     Config
	reader  Reader
	parser  parser.Parser
	logger  *slog.Logger
	metrics *metrics.Set
	slots   chan struct{} // one token per running query
	now     func() time.Time
	cache   *resultsCache // nil when disabled
	head    Recent        // nil when disabled

	engineOpts promql.EngineOpts // MaxSamples and Timeout are the tenant's
	enginesMu  sync.Mutex
	engines    map[engineKey]*promql.Engine
}

// New returns an API that reads from r. It starts no goroutines.
func New(cfg Config, r Reader, logger *slog.Logger, set *metrics.Set) (*API, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("query config: %w", err)
	}
	if r == nil || logger == nil || set == nil {
		return nil, errors.New("query: reader, logger and metrics set are required")
	}
	if cfg.BuildInfo.GoVersion == "" {
		cfg.BuildInfo.GoVersion = runtime.Version()
	}
	logger = logger.With("component", "query")
	p := parser.NewParser(parser.Options{})
	step := cfg.DefaultSubqueryStep.Milliseconds()
	opts := promql.EngineOpts{
		Logger:        logger,
		MaxSamples:    cfg.MaxSamples,
		Timeout:       cfg.Timeout,
		LookbackDelta: cfg.LookbackDelta,
		// Without it the engine dereferences a nil func on rate(x[1h:]).
		NoStepSubqueryIntervalFn: func(int64) int64 { return step },
		EnableAtModifier:         true,
		EnableNegativeOffset:     true,
		Parser:                   p,
	}
	return &API{
		cfg:        cfg,
		reader:     r,
		engineOpts: opts,
		engines:    map[engineKey]*promql.Engine{},
		parser:     p,
		logger:     logger,
		metrics:    set,
		slots:      make(chan struct{}, cfg.MaxConcurrent),
		now:        time.Now,
		cache:      newResultsCache(cfg.ResultsCache, set),
	}, nil
}

// Register mounts the API's routes on r.
func (a *API) Register(r chi.Router) {
	both := func(path string, f handlerFunc) {
		h := a.wrap(path, f)
		r.Get(path, h)
		r.Post(path, h)
	}
	both("/api/v1/query", a.instantQuery)
	both("/api/v1/query_range", a.rangeQuery)
	both("/api/v1/series", a.series)
	both("/api/v1/labels", a.labelNames)
	r.Get("/api/v1/label/{name}/values", a.wrap("/api/v1/label/{name}/values", a.labelValues))
	r.Get("/api/v1/metadata", a.wrap("/api/v1/metadata", metadata))
	both("/api/v1/query_exemplars", a.queryExemplars)
	both("/api/v1/format_query", a.formatQuery)
	r.Get("/api/v1/status/buildinfo", a.wrap("/api/v1/status/buildinfo", a.buildInfo))
}

// InstantQuery evaluates expr for tenant at ts. A scalar result becomes a
// one-sample vector without labels. It has the shape of Prometheus'
// rules.QueryFunc once the tenant is bound.
func (a *API) InstantQuery(ctx context.Context, tenantID, expr string, ts time.Time) (promql.Vector, error) {
	if err := tenant.Validate(tenantID); err != nil {
		return nil, err
	}
	s := a.scope(tenantID)
	qry, err := a.engine(s).NewInstantQuery(ctx, a.queryable(s), nil, expr, ts)
	if err != nil {
		return nil, err
	}
	defer qry.Close()
	res, err := a.exec(ctx, qry, 0, s)
	if err != nil {
		return nil, err
	}
	switch v := res.Value.(type) {
	case promql.Vector:
		return v, nil
	case promql.Scalar:
		return promql.Vector{{T: v.T, F: v.V}}, nil
	}
	return nil, fmt.Errorf("query result is a %s, not a vector or scalar", res.Value.Type())
}

// queryable is the Queryable of one query in s, within its limits.
func (a *API) queryable(s scope) *Queryable {
	q := NewQueryable(a.reader, s.tenant, Limits{MaxFetchedSeries: s.limits.MaxFetchedSeries, MaxRange: s.limits.MaxRange})
	q.recent = a.head
	return q
}

// UseHead makes PromQL queries read the samples that h holds from h
// instead of the store. Call it before serving.
func (a *API) UseHead(h Recent) { a.head = h }

// exec runs qry once a slot is free. timeout is the request's own, 0 if
// none: errors name the limit that stopped the query, and the tenant
// of s when its override set it.
func (a *API) exec(ctx context.Context, qry promql.Query, timeout time.Duration, s scope) (*promql.Result, error) {
	select {
	case a.slots <- struct{}{}:
	case <-ctx.Done():
		err := fmt.Errorf("wait for one of %d query slots (-query.max-concurrent): %w", cap(a.slots), ctx.Err())
		return nil, s.nameLimit(err, timeout)
	}
	defer func() { <-a.slots }()
	res := qry.Exec(ctx)
	if res.Err != nil {
		return res, s.nameLimit(res.Err, timeout)
	}
	return res, nil
}

// result is what a handler answers: data, or an error.
type result struct {
	data     any
	warnings annotations.Annotations
	err      error
}

type handlerFunc func(r *http.Request, tenant string) result

func fail(err error) result { return result{err: err} }

// wrap turns f into an http.HandlerFunc that resolves the tenant, writes
// the envelope and records self-metrics under the handler's name.
func (a *API) wrap(name string, f handlerFunc) http.HandlerFunc {
	duration := a.metrics.GetOrCreateHistogram(fmt.Sprintf(`cairn_query_request_duration_seconds{handler=%q}`, name))
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		code := a.serve(w, r, f)
		duration.UpdateDuration(start)
		a.metrics.GetOrCreateCounter(fmt.Sprintf(`cairn_query_requests_total{handler=%q,code="%d"}`, name, code)).Inc()
	}
}

// serve answers r with f and returns the HTTP status written.
func (a *API) serve(w http.ResponseWriter, r *http.Request, f handlerFunc) int {
	if err := r.ParseForm(); err != nil {
		return a.writeError(w, r, &apiError{errBadData, fmt.Errorf("parse form values: %w", err)})
	}
	id, err := tenant.FromRequest(r)
	if err != nil {
		return a.writeError(w, r, &apiError{errBadData, err})
	}
	res := f(r, id)
	if res.err != nil {
		return a.writeError(w, r, classify(res.err))
	}
	if err := writeSuccess(w, res.data, res.warnings, r.FormValue("query")); err != nil {
		return a.writeError(w, r, &apiError{errInternal, fmt.Errorf("encode response: %w", err)})
	}
	return http.StatusOK
}

func (a *API) writeError(w http.ResponseWriter, r *http.Request, e *apiError) int {
	if e.typ == errInternal {
		a.logger.Error("request failed", "path", r.URL.Path, "err", e.err)
	}
	writeError(w, e)
	return e.typ.code
}
