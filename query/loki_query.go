package query

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/cairn-dev/cairn/query/logql"
	"github.com/cairn-dev/cairn/store"
)

// lokiDefaultSince is how far back a query without a start reads.
const lokiDefaultSince = time.Hour

// The range query errors, as Loki words them.
var (
	errLokiEndBeforeStart = errors.New("end timestamp must not be before start time")
	errLokiNegativeStep   = errors.New("zero or negative query resolution step widths are not accepted. Try a positive integer")
	errLokiStepTooSmall   = errors.New("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)")
)

// rangeQuery serves /loki/api/v1/query_range: query, start, end, since,
// step, limit, direction.
func (l *LokiAPI) rangeQuery(ctx context.Context, r *http.Request, tenant string) ([]byte, error) {
	start, end, err := l.bounds(r)
	if err != nil {
		return nil, err
	}
	if end.Before(start) {
		return nil, &lokiBadRequest{errLokiEndBeforeStart}
	}
	p := logql.Params{Tenant: tenant, Start: start.UnixNano(), End: end.UnixNano(), Categorize: categorize(r)}
	if p.Limit, p.Direction, err = l.limitAndDirection(r); err != nil {
		return nil, err
	}
	step := time.Duration(max(math.Floor(end.Sub(start).Seconds()/250), 1)) * time.Second
	if s := r.FormValue("step"); s != "" {
		if step, err = parseDuration(s); err != nil {
			return nil, &lokiBadRequest{err}
		}
	}
	if step <= 0 {
		return nil, &lokiBadRequest{errLokiNegativeStep}
	}
	if end.Sub(start)/step > maxPointsPerSeries {
		return nil, &lokiBadRequest{errLokiStepTooSmall}
	}
	p.Step = step
	return l.query(ctx, r, p)
}

// instantQuery serves /loki/api/v1/query: query, time, limit, direction.
func (l *LokiAPI) instantQuery(ctx context.Context, r *http.Request, tenant string) ([]byte, error) {
	ts, err := lokiTimeParam(r, "time", l.now())
	if err != nil {
		return nil, err
	}
	p := logql.Params{Tenant: tenant, Start: ts.UnixNano(), End: ts.UnixNano(), Categorize: categorize(r)}
	if p.Limit, p.Direction, err = l.limitAndDirection(r); err != nil {
		return nil, err
	}
	return l.query(ctx, r, p)
}

// query parses and runs the query parameter.
func (l *LokiAPI) query(ctx context.Context, r *http.Request, p logql.Params) ([]byte, error) {
	expr, err := logql.Parse(r.FormValue("query"))
	if err != nil {
		return nil, err
	}
	if _, metric := expr.(logql.SampleExpr); metric && p.Step > 0 {
		p.Start, p.End = alignToStep(p.Start, p.End, int64(p.Step))
	}
	began := time.Now()
	res, err := l.engine.Query(ctx, expr, p)
	if err != nil {
		return nil, err
	}
	return appendLokiQueryResponse(nil, res, p.Categorize, time.Since(began))
}

// alignToStep rounds start down and end up to multiples of step (ns
// since the epoch), as Loki's query frontend does to every metric range
// query before it splits it.
func alignToStep(start, end, step int64) (int64, int64) {
	start -= start % step
	if mod := end % step; mod != 0 {
		end += step - mod
	}
	return start, end
}

// bounds are the start and end of a range, as Loki reads them: end
// defaults to now, start to since (one hour by default) before the end,
// or before now when the end is in the future.
func (l *LokiAPI) bounds(r *http.Request) (time.Time, time.Time, error) {
	now := l.now()
	end, err := lokiTimeParam(r, "end", now)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	since := lokiDefaultSince
	if s := r.FormValue("since"); s != "" {
		d, err := model.ParseDuration(s)
		if err != nil {
			return time.Time{}, time.Time{}, badRequest("invalid since parameter %q: %w", s, err)
		}
		since = time.Duration(d)
	}
	endOrNow := end
	if end.After(now) {
		endOrNow = now
	}
	start, err := lokiTimeParam(r, "start", endOrNow.Add(-since))
	return start, end, err
}

// limitAndDirection parses limit (100 by default, at most
// MaxEntriesLimit) and direction (backward by default).
func (l *LokiAPI) limitAndDirection(r *http.Request) (int, store.Direction, error) {
	limit := 100
	if s := r.FormValue("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return 0, 0, &lokiBadRequest{err}
		}
		limit = n
	}
	if limit <= 0 {
		return 0, 0, badRequest("limit must be a positive value")
	}
	if limit > l.cfg.MaxEntriesLimit {
		return 0, 0, badRequest("max entries limit per query exceeded, limit > max_entries_limit_per_query (%d > %d)", limit, l.cfg.MaxEntriesLimit)
	}
	switch d := r.FormValue("direction"); strings.ToUpper(d) {
	case "", "BACKWARD":
		return limit, store.Backward, nil
	case "FORWARD":
		return limit, store.Forward, nil
	default:
		return 0, 0, badRequest("invalid direction '%s'", d)
	}
}

// categorize reports whether the client asked for Loki's categorized
// labels, as Grafana does with its structured metadata support.
func categorize(r *http.Request) bool {
	for _, v := range r.Header.Values("X-Loki-Response-Encoding-Flags") {
		for _, f := range strings.Split(v, ",") {
			if strings.TrimSpace(f) == "categorize-labels" {
				return true
			}
		}
	}
	return false
}

// lokiTimeParam parses a time as Loki does: Unix nanoseconds (more than
// ten digits), Unix seconds (up to ten, or with a fraction), or RFC 3339.
func lokiTimeParam(r *http.Request, name string, def time.Time) (time.Time, error) {
	s := r.FormValue(name)
	if s == "" {
		return def, nil
	}
	t, err := parseLokiTime(s)
	if err != nil {
		return time.Time{}, badRequest("invalid %s parameter %q: %w", name, s, err)
	}
	return t, nil
}

func parseLokiTime(s string) (time.Time, error) {
	if strings.Contains(s, ".") {
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			sec, frac := math.Modf(f)
			return time.Unix(int64(sec), int64(math.Round(frac*1000)/1000*float64(time.Second))).UTC(), nil
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, fmt.Errorf("not Unix seconds or nanoseconds, nor RFC 3339")
		}
		return t, nil
	}
	if len(strings.TrimPrefix(s, "-")) <= 10 {
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Unix(0, n).UTC(), nil
}
