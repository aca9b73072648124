package query

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/timestamp"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/annotations"
)

var errTruncated = errors.New("results truncated due to limit")

// series serves /api/v1/series: match[] (required), start, end, limit.
func (a *API) series(r *http.Request, tenant string) result {
	if len(r.Form["match[]"]) == 0 {
		return fail(badParam("match[]", errors.New("no match[] parameter provided")))
	}
	lr, err := a.lookupParams(r)
	if err != nil {
		return fail(err)
	}
	q := &querier{Queryable: NewQueryable(a.reader, tenant, Limits{}), mint: lr.mint, maxt: lr.maxt}
	hints := &storage.SelectHints{Start: lr.mint, End: lr.maxt, Func: selectSeriesFunc, Limit: hintLimit(lr.limit)}
	var set storage.SeriesSet
	if len(lr.matchers) == 1 {
		set = q.Select(r.Context(), false, hints, lr.matchers[0]...)
	} else {
		sets := make([]storage.SeriesSet, 0, len(lr.matchers))
		for _, ms := range lr.matchers {
			sets = append(sets, q.Select(r.Context(), true, hints, ms...))
		}
		set = storage.NewMergeSeriesSet(sets, 0, storage.ChainedSeriesMerge)
	}
	found := []labels.Labels{}
	for set.Next() {
		found = append(found, set.At().Labels())
	}
	if err := set.Err(); err != nil {
		return fail(err)
	}
	ws := set.Warnings()
	if lr.limit > 0 && len(found) > lr.limit {
		found = found[:lr.limit]
		ws.Add(errTruncated)
	}
	return result{data: found, warnings: ws}
}

// labelNames serves /api/v1/labels: match[], start, end, limit.
func (a *API) labelNames(r *http.Request, tenant string) result {
	lr, err := a.lookupParams(r)
	if err != nil {
		return fail(err)
	}
	q := &querier{Queryable: NewQueryable(a.reader, tenant, Limits{}), mint: lr.mint, maxt: lr.maxt}
	hints := &storage.LabelHints{Limit: hintLimit(lr.limit)}
	names, ws, err := lr.union(func(ms []*labels.Matcher) ([]string, annotations.Annotations, error) {
		return q.LabelNames(r.Context(), hints, ms...)
	})
	if err != nil {
		return fail(err)
	}
	return lr.truncated(names, ws)
}

// labelValues serves /api/v1/label/{name}/values: match[], start, end, limit.
func (a *API) labelValues(r *http.Request, tenant string) result {
	name := chi.URLParam(r, "name")
	if strings.HasPrefix(name, "U__") {
		name = model.UnescapeName(name, model.ValueEncodingEscaping)
	}
	if !model.UTF8Validation.IsValidLabelName(name) {
		return fail(&apiError{errBadData, fmt.Errorf("invalid label name: %q", name)})
	}
	lr, err := a.lookupParams(r)
	if err != nil {
		return fail(err)
	}
	q := &querier{Queryable: NewQueryable(a.reader, tenant, Limits{}), mint: lr.mint, maxt: lr.maxt}
	hints := &storage.LabelHints{Limit: hintLimit(lr.limit)}
	vals, ws, err := lr.union(func(ms []*labels.Matcher) ([]string, annotations.Annotations, error) {
		return q.LabelValues(r.Context(), name, hints, ms...)
	})
	if err != nil {
		return fail(err)
	}
	return lr.truncated(vals, ws)
}

// lookup holds the parameters shared by the series and label APIs.
type lookup struct {
	mint, maxt int64
	matchers   [][]*labels.Matcher
	limit      int // 0: none
}

// lookupParams parses start and end (default: all time), match[] and
// limit, capping limit at the configured maximum.
func (a *API) lookupParams(r *http.Request) (lookup, error) {
	var lr lookup
	start, err := timeParam(r, "start", minTime)
	if err != nil {
		return lr, err
	}
	end, err := timeParam(r, "end", maxTime)
	if err != nil {
		return lr, err
	}
	if end.Before(start) {
		return lr, badParam("end", errors.New("end timestamp must not be before start time"))
	}
	if lr.matchers, err = matchersParam(a.parser, r); err != nil {
		return lr, err
	}
	if lr.limit, err = limitParam(r); err != nil {
		return lr, err
	}
	if m := a.cfg.MaxSeries; m > 0 && (lr.limit == 0 || lr.limit > m) {
		lr.limit = m
	}
	lr.mint, lr.maxt = unixMillis(start), unixMillis(end)
	return lr, nil
}

// union calls read once per match[] selector, or once without matchers,
// and returns the sorted union of the results.
func (lr lookup) union(read func([]*labels.Matcher) ([]string, annotations.Annotations, error)) ([]string, annotations.Annotations, error) {
	if len(lr.matchers) <= 1 {
		var ms []*labels.Matcher
		if len(lr.matchers) == 1 {
			ms = lr.matchers[0]
		}
		return read(ms)
	}
	var (
		all []string
		ws  annotations.Annotations
	)
	for _, ms := range lr.matchers {
		vals, w, err := read(ms)
		if err != nil {
			return nil, ws, err
		}
		ws.Merge(w)
		all = append(all, vals...)
	}
	slices.Sort(all)
	return slices.Compact(all), ws, nil
}

// truncated answers vals, cut at the limit with a warning.
func (lr lookup) truncated(vals []string, ws annotations.Annotations) result {
	if vals == nil {
		vals = []string{}
	}
	if lr.limit > 0 && len(vals) > lr.limit {
		vals = vals[:lr.limit]
		ws.Add(errTruncated)
	}
	return result{data: vals, warnings: ws}
}

// hintLimit asks storage for one more than limit, so that truncation can
// be detected and reported.
func hintLimit(limit int) int {
	if limit > 0 {
		return limit + 1
	}
	return 0
}

// unixMillis converts t to milliseconds, saturating at Prometheus' time bounds.
func unixMillis(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return timestamp.FromTime(minTime)
	case t.After(maxTime):
		return timestamp.FromTime(maxTime)
	}
	return timestamp.FromTime(t)
}
