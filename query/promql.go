package query

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
)

// instantQuery serves /api/v1/query: query, time (default now), timeout,
// limit, lookback_delta.
func (a *API) instantQuery(r *http.Request, tenant string) result {
	limit, err := limitParam(r)
	if err != nil {
		return fail(err)
	}
	ts, err := timeParam(r, "time", a.now())
	if err != nil {
		return fail(err)
	}
	ctx, cancel, timeout, err := timeoutContext(r)
	if err != nil {
		return fail(err)
	}
	defer cancel()
	opts, err := queryOpts(r)
	if err != nil {
		return fail(err)
	}
	s := a.scope(tenant)
	qry, err := a.engine(s).NewInstantQuery(ctx, a.queryable(s), opts, r.FormValue("query"), ts)
	if err != nil {
		return fail(badParam("query", err))
	}
	return a.run(ctx, qry, limit, timeout, s)
}

// rangeQuery serves /api/v1/query_range: query, start, end, step, timeout,
// limit, lookback_delta.
func (a *API) rangeQuery(r *http.Request, tenant string) result {
	limit, err := limitParam(r)
	if err != nil {
		return fail(err)
	}
	start, end, step, err := rangeParams(r)
	if err != nil {
		return fail(err)
	}
	ctx, cancel, timeout, err := timeoutContext(r)
	if err != nil {
		return fail(err)
	}
	defer cancel()
	opts, err := queryOpts(r)
	if err != nil {
		return fail(err)
	}
	s := a.scope(tenant)
	if a.cache != nil && step >= time.Millisecond && !bypassCache(r) {
		if expr, err := a.parser.ParseExpr(r.FormValue("query")); err == nil && cacheable(expr) {
			return a.cachedRange(ctx, s, opts, expr, start, end, step, limit, timeout)
		}
	}
	qry, err := a.engine(s).NewRangeQuery(ctx, a.queryable(s), opts, r.FormValue("query"), start, end, step)
	if err != nil {
		return fail(badParam("query", err))
	}
	return a.run(ctx, qry, limit, timeout, s)
}

// rangeParams parses start, end and step, all required, and bounds the
// number of steps as Prometheus does.
func rangeParams(r *http.Request) (start, end time.Time, step time.Duration, err error) {
	if start, err = parseTime(r.FormValue("start")); err != nil {
		return start, end, step, badParam("start", err)
	}
	if end, err = parseTime(r.FormValue("end")); err != nil {
		return start, end, step, badParam("end", err)
	}
	if end.Before(start) {
		return start, end, step, badParam("end", errors.New("end timestamp must not be before start time"))
	}
	if step, err = parseDuration(r.FormValue("step")); err != nil {
		return start, end, step, badParam("step", err)
	}
	if step <= 0 {
		return start, end, step, badParam("step", errors.New("zero or negative query resolution step widths are not accepted. Try a positive integer"))
	}
	if end.Sub(start)/step > maxPointsPerSeries {
		return start, end, step, badParam("step", errors.New("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"))
	}
	return start, end, step, nil
}

// timeoutContext applies the request's timeout parameter, which it
// returns (0 when absent). The engine's own timeout still bounds the query.
func timeoutContext(r *http.Request) (context.Context, context.CancelFunc, time.Duration, error) {
	s := r.FormValue("timeout")
	if s == "" {
		return r.Context(), func() {}, 0, nil
	}
	d, err := parseDuration(s)
	if err != nil {
		return nil, nil, 0, badParam("timeout", err)
	}
	ctx, cancel := context.WithTimeout(r.Context(), d)
	return ctx, cancel, d, nil
}

// queryOpts reads the per-query lookback_delta; 0 keeps the engine's.
func queryOpts(r *http.Request) (promql.QueryOpts, error) {
	var lookback time.Duration
	if s := r.FormValue("lookback_delta"); s != "" {
		d, err := parseDuration(s)
		if err != nil {
			return nil, badParam("lookback_delta", err)
		}
		lookback = d
	}
	return promql.NewPrometheusQueryOpts(false, lookback), nil
}

// run executes qry and encodes its result before closing it: the engine
// recycles the result's memory on Close. timeout is the request's; s
// names the tenant and its limits.
func (a *API) run(ctx context.Context, qry promql.Query, limit int, timeout time.Duration, s scope) result {
	defer qry.Close()
	res, err := a.exec(ctx, qry, timeout, s)
	if err != nil {
		return fail(err)
	}
	return answer(res, limit)
}

// answer encodes res, its series cut to limit with a warning saying so.
// It adds that warning to res.Warnings, which must be the caller's own.
func answer(res *promql.Result, limit int) result {
	ws := res.Warnings
	if truncateResult(res, limit) {
		ws.Add(errors.New("results truncated due to limit"))
	}
	data, err := appendQueryData(make([]byte, 0, 1024), res.Value)
	if err != nil {
		return fail(&apiError{errInternal, err})
	}
	return result{data: rawJSON(data), warnings: ws}
}

// truncateResult keeps the first limit series of a vector or matrix.
func truncateResult(res *promql.Result, limit int) bool {
	if limit <= 0 {
		return false
	}
	switch v := res.Value.(type) {
	case promql.Vector:
		if len(v) > limit {
			res.Value = v[:limit]
			return true
		}
	case promql.Matrix:
		if len(v) > limit {
			res.Value = v[:limit]
			return true
		}
	}
	return false
}

// parseExpr parses the query parameter.
func (a *API) parseExpr(r *http.Request) (parser.Expr, error) {
	expr, err := a.parser.ParseExpr(r.FormValue("query"))
	if err != nil {
		return nil, badParam("query", err)
	}
	return expr, nil
}
