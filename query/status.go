package query

import (
	"errors"
	"net/http"
)

// metadata serves /api/v1/metadata. The store keeps no metric metadata
// yet, so the answer is an empty object; Grafana then offers no help text.
func metadata(*http.Request, string) result {
	return result{data: struct{}{}}
}

// queryExemplars serves /api/v1/query_exemplars. It checks its parameters
// like Prometheus and answers an empty list: the store keeps no exemplars.
func (a *API) queryExemplars(r *http.Request, _ string) result {
	start, err := timeParam(r, "start", minTime)
	if err != nil {
		return fail(err)
	}
	end, err := timeParam(r, "end", maxTime)
	if err != nil {
		return fail(err)
	}
	if end.Before(start) {
		return fail(badParam("end", errors.New("end timestamp must not be before start timestamp")))
	}
	if _, err := a.parseExpr(r); err != nil {
		return fail(err)
	}
	return result{data: []struct{}{}}
}

// formatQuery serves /api/v1/format_query: the query, pretty-printed.
func (a *API) formatQuery(r *http.Request, _ string) result {
	expr, err := a.parseExpr(r)
	if err != nil {
		return fail(err)
	}
	return result{data: expr.Pretty(0)}
}

// buildInfo serves /api/v1/status/buildinfo, which Grafana probes to
// detect the server's flavour and version.
func (a *API) buildInfo(*http.Request, string) result {
	return result{data: a.cfg.BuildInfo}
}
