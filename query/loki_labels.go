package query

import (
	"context"
	"net/http"
	"slices"
	"strconv"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/cairn-dev/cairn/query/logql"
	"github.com/cairn-dev/cairn/store"
)

// labelNames serves /loki/api/v1/labels: start, end, since, query.
func (l *LokiAPI) labelNames(ctx context.Context, r *http.Request, tenant string) ([]byte, error) {
	mint, maxt, ms, err := l.lookup(r)
	if err != nil {
		return nil, err
	}
	names, err := l.reader.LogLabelNames(ctx, tenant, mint, maxt, ms...)
	if err != nil {
		return nil, err
	}
	return appendLokiStrings(nil, names), nil
}

// labelValues serves /loki/api/v1/label/{name}/values: start, end,
// since, query.
func (l *LokiAPI) labelValues(ctx context.Context, r *http.Request, tenant string) ([]byte, error) {
	name := chi.URLParam(r, "name")
	mint, maxt, ms, err := l.lookup(r)
	if err != nil {
		return nil, err
	}
	values, err := l.reader.LogLabelValues(ctx, tenant, name, mint, maxt, ms...)
	if err != nil {
		return nil, err
	}
	return appendLokiStrings(nil, values), nil
}

// lookup parses the range and the optional query (a stream selector, or
// a log query whose selector counts) of the label APIs.
func (l *LokiAPI) lookup(r *http.Request) (int64, int64, []*labels.Matcher, error) {
	start, end, err := l.bounds(r)
	if err != nil {
		return 0, 0, nil, err
	}
	var ms []*labels.Matcher
	if q := r.FormValue("query"); q != "" {
		if ms, err = selectorOf(q); err != nil {
			return 0, 0, nil, err
		}
	}
	return start.UnixNano(), end.UnixNano(), ms, nil
}

// selectorOf returns the matchers of a log query's stream selector.
func selectorOf(q string) ([]*labels.Matcher, error) {
	expr, err := logql.Parse(q)
	if err != nil {
		return nil, err
	}
	le, ok := expr.(*logql.LogExpr)
	if !ok {
		return nil, badRequest("only label matchers are supported")
	}
	return le.Matchers, nil
}

// series serves /loki/api/v1/series: match[] (one or more), start, end,
// since. The streams are those with entries on the days of the range.
func (l *LokiAPI) series(ctx context.Context, r *http.Request, tenant string) ([]byte, error) {
	start, end, err := l.bounds(r)
	if err != nil {
		return nil, err
	}
	groups := r.Form["match[]"]
	if len(groups) == 0 {
		groups = r.Form["match"]
	}
	if len(groups) == 0 {
		return nil, badRequest("0 matcher groups supplied")
	}
	seen := map[uint64]bool{}
	var found []labels.Labels
	for _, g := range groups {
		ms, err := selectorOf(g)
		if err != nil {
			return nil, err
		}
		refs, err := l.reader.SelectStreams(ctx, tenant, start.UnixNano(), end.UnixNano(), ms...)
		if err != nil {
			return nil, err
		}
		for _, ref := range refs {
			if !seen[ref.Fingerprint] {
				seen[ref.Fingerprint] = true
				found = append(found, ref.Labels)
			}
		}
	}
	slices.SortFunc(found, labels.Compare)
	buf := []byte(`{"status":"success","data":[`)
	for i, ls := range found {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendLabels(buf, ls)
	}
	return append(buf, "]}"...), nil
}

// indexStats serves /loki/api/v1/index/stats: query, start, end. It
// counts in ClickHouse the streams with entries in the range, their
// entries and bytes; chunks are reported as streams, since there are
// none.
func (l *LokiAPI) indexStats(ctx context.Context, r *http.Request, tenant string) ([]byte, error) {
	start, end, err := l.bounds(r)
	if err != nil {
		return nil, err
	}
	ms, err := selectorOf(r.FormValue("query"))
	if err != nil {
		return nil, err
	}
	q := store.LogQuery{Tenant: tenant, Matchers: ms, Start: start.UnixNano(), End: end.UnixNano() - 1}
	var streams, entries, bytes uint64
	if q.End >= q.Start {
		counts, err := l.reader.CountLogs(ctx, q, q.End-q.Start+1)
		if err != nil {
			return nil, err
		}
		for _, c := range counts {
			streams++
			for _, p := range c.Points {
				entries += p.Count
				bytes += p.Bytes
			}
		}
	}
	buf := []byte(`{"streams":`)
	buf = strconv.AppendUint(buf, streams, 10)
	buf = append(buf, `,"chunks":`...)
	buf = strconv.AppendUint(buf, streams, 10)
	buf = append(buf, `,"bytes":`...)
	buf = strconv.AppendUint(buf, bytes, 10)
	buf = append(buf, `,"entries":`...)
	buf = strconv.AppendUint(buf, entries, 10)
	return append(buf, '}'), nil
}

// formatQuery serves /loki/api/v1/format_query: the query, parsed and
// printed.
func (l *LokiAPI) formatQuery(_ context.Context, r *http.Request, _ string) ([]byte, error) {
	expr, err := logql.Parse(r.FormValue("query"))
	if err != nil {
		return nil, err
	}
	buf := []byte(`{"status":"success","data":`)
	buf = appendString(buf, expr.String())
	return append(buf, '}'), nil
}

// appendLokiStrings appends {"status":"success","data":[…]}.
func appendLokiStrings(buf []byte, ss []string) []byte {
	buf = append(buf, `{"status":"success","data":[`...)
	for i, s := range ss {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendString(buf, s)
	}
	return append(buf, "]}"...)
}
