package query

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/go-chi/chi/v5"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

// memBuilds is an in-memory BuildReader that filters as the store does
// and records the queries it was asked.
type memBuilds struct {
	builds      []store.BuildEvent
	alerts      []store.AlertState
	err         error
	buildQuery  store.BuildQuery
	alertQuery  store.AlertQuery
	alertCalled bool
}

var _ BuildReader = (*memBuilds)(nil)

func (m *memBuilds) ReadBuilds(_ context.Context, q store.BuildQuery) ([]store.BuildEvent, error) {
	m.buildQuery = q
	if m.err != nil {
		return nil, m.err
	}
	match := func(want, got string) bool { return want == "" || want == got }
	var out []store.BuildEvent
	for _, e := range m.builds {
		start := e.StartedAt
		if start == 0 {
			start = e.FinishedAt
		}
		if e.Tenant == q.Tenant && match(q.Service, e.Service) && match(q.Pipeline, e.Pipeline) && match(q.Branch, e.Branch) &&
			match(q.Status, e.Status) && match(q.Kind, e.Kind) && match(q.Environment, e.Environment) &&
			start >= q.From && start <= q.To {
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, func(a, b store.BuildEvent) int { return cmp.Compare(b.StartedAt, a.StartedAt) })
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

func (m *memBuilds) ReadAlertStates(_ context.Context, q store.AlertQuery) ([]store.AlertState, error) {
	m.alertQuery, m.alertCalled = q, true
	var out []store.AlertState
	for _, s := range m.alerts {
		if s.Tenant == q.Tenant && (q.Service == "" || q.Service == s.Service) && s.T >= q.From && s.T <= q.To &&
			(len(q.States) == 0 || slices.Contains(q.States, s.State)) {
			out = append(out, s)
		}
	}
	return out, nil
}

// buildsNow is the fixture's present.
var buildsNow = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func ms(s string) int64 {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UnixMilli()
}

// buildsFixture is a week of the checkout service in the default tenant:
// builds, four production deploys (one failed, fixed by the next) and an
// alert that fired and resolved after a deploy. docs/api.md's examples
// run against it.
func buildsFixture() *memBuilds {
	run := func(id, kind, status, env, started, finished, commitTime string) store.BuildEvent {
		e := store.BuildEvent{Tenant: "anonymous", ID: id, Service: "checkout", Pipeline: "ci", Kind: kind, Status: status,
			Commit: "9fceb02d0ae598e95dc970b74767f19372d61af8", Branch: "main", Environment: env,
			StartedAt: ms(started), URL: "https://github.com/acme/checkout/actions/runs/" + id[7:], Trigger: "push",
			Labels: labels.FromStrings("repository", "acme/checkout")}
		if kind == store.KindDeploy {
			e.Pipeline = "deploy"
		}
		if finished != "" {
			e.FinishedAt = ms(finished)
		}
		if commitTime != "" {
			e.CommitTime = ms(commitTime)
		}
		return e
	}
	m := &memBuilds{builds: []store.BuildEvent{
		run("github/9001/1", store.KindBuild, store.StatusSuccess, "", "2026-11-16T09:00:00Z", "2026-11-16T09:06:00Z", ""),
		run("github/9002/1", store.KindDeploy, store.StatusSuccess, "production", "2026-11-16T10:00:00Z", "2026-11-16T10:10:00Z", "2026-11-16T08:10:00Z"),
		run("github/9003/1", store.KindBuild, store.StatusFailure, "", "2026-11-17T14:00:00Z", "2026-11-17T14:04:00Z", ""),
		run("github/9004/1", store.KindDeploy, store.StatusFailure, "production", "2026-11-18T09:00:00Z", "2026-11-18T09:12:00Z", "2026-11-18T07:00:00Z"),
		run("github/9005/1", store.KindDeploy, store.StatusSuccess, "production", "2026-11-18T11:00:00Z", "2026-11-18T11:10:00Z", "2026-11-18T10:10:00Z"),
		run("github/9006/1", store.KindDeploy, store.StatusSuccess, "production", "2026-11-19T15:00:00Z", "2026-11-19T15:10:00Z", "2026-11-19T11:10:00Z"),
		run("github/9007/1", store.KindBuild, store.StatusRunning, "", "2026-11-20T11:58:00Z", "", ""),
	}}
	for i := range m.builds {
		m.builds[i].Version = uint64(max(m.builds[i].StartedAt, m.builds[i].FinishedAt))
	}
	lset := labels.FromStrings("alertname", "CheckoutErrorRate", "service", "checkout", "severity", "page")
	m.alerts = []store.AlertState{
		{Tenant: "anonymous", AlertName: "CheckoutErrorRate", Labels: lset, Service: "checkout", State: store.AlertFiring,
			T: ms("2026-11-19T16:00:00Z"), FiredAt: ms("2026-11-19T16:00:00Z")},
		{Tenant: "anonymous", AlertName: "CheckoutErrorRate", Labels: lset, Service: "checkout", State: store.AlertResolved,
			T: ms("2026-11-19T16:25:00Z"), FiredAt: ms("2026-11-19T16:00:00Z"), ResolvedAt: ms("2026-11-19T16:25:00Z")},
	}
	return m
}

// buildsServer serves the builds API over r at buildsNow.
func buildsServer(t *testing.T, r BuildReader) *httptest.Server {
	t.Helper()
	api := NewBuildsAPI(r, slog.New(slog.NewTextHandler(io.Discard, nil)), metrics.NewSet())
	api.now = func() time.Time { return buildsNow }
	router := chi.NewRouter()
	api.Register(router)
	srv := httptest.NewServer(router)
	t.Cleanup(srv.Close)
	return srv
}

// getJSON GETs path with the headers kv (name, value, …) and decodes
// the body.
func getJSON(t *testing.T, srv *httptest.Server, path string, kv ...string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(kv); i += 2 {
		req.Header.Set(kv[i], kv[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return resp.StatusCode, body
}

func TestBuildsAPIParams(t *testing.T) {
	for _, tc := range []struct {
		path      string
		code      int
		ids       []string // ids of the answer, in order
		wantError string
	}{
		{"/api/v1/builds", 200, []string{"github/9007/1", "github/9006/1", "github/9005/1", "github/9004/1", "github/9003/1", "github/9002/1", "github/9001/1"}, ""},
		{"/api/v1/builds?kind=deploy&status=success", 200, []string{"github/9006/1", "github/9005/1", "github/9002/1"}, ""},
		{"/api/v1/builds?kind=build&limit=2", 200, []string{"github/9007/1", "github/9003/1"}, ""},
		{"/api/v1/builds?environment=production&from=2026-11-18T00:00:00Z&to=1795046400", 200, []string{"github/9005/1", "github/9004/1"}, ""},
		{"/api/v1/builds?service=payments", 200, []string{}, ""},
		{"/api/v1/builds?from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z", 200, []string{}, ""},
		{"/api/v1/builds?from=yesterday", 400, nil, `invalid parameter "from": `},
		{"/api/v1/builds?to=x", 400, nil, `invalid parameter "to": `},
		{"/api/v1/builds?from=2026-11-19T00:00:00Z&to=2026-11-18T00:00:00Z", 400, nil, `invalid parameter "from": after "to"`},
		{"/api/v1/builds?limit=0", 400, nil, `invalid parameter "limit": `},
		{"/api/v1/builds?limit=10001", 400, nil, `invalid parameter "limit": `},
		{"/api/v1/builds?limit=ten", 400, nil, `invalid parameter "limit": `},
		{"/api/v1/builds?kind=release", 400, nil, `invalid parameter "kind": `},
	} {
		t.Run(tc.path, func(t *testing.T) {
			code, body := getJSON(t, buildsServer(t, buildsFixture()), tc.path)
			require.Equal(t, tc.code, code, body)
			if tc.wantError != "" {
				require.Equal(t, "error", body["status"])
				require.Equal(t, "bad_data", body["errorType"])
				require.Contains(t, body["error"], tc.wantError)
				return
			}
			require.Equal(t, "success", body["status"])
			ids := []string{}
			for _, e := range body["data"].([]any) {
				ids = append(ids, e.(map[string]any)["id"].(string))
			}
			require.Equal(t, tc.ids, ids)
		})
	}
}

func TestBuildsAPIQuery(t *testing.T) {
	m := buildsFixture()
	srv := buildsServer(t, m)
	code, _ := getJSON(t, srv, "/api/v1/builds?service=checkout&pipeline=ci&branch=main&status=failure&kind=build&environment=x", "X-Scope-OrgID", "team-a")
	require.Equal(t, 200, code)
	require.Equal(t, store.BuildQuery{Tenant: "team-a", Service: "checkout", Pipeline: "ci", Branch: "main", Status: "failure",
		Kind: "build", Environment: "x", From: buildsNow.Add(-7 * day).UnixMilli(), To: buildsNow.UnixMilli(), Limit: 100}, m.buildQuery)

	code, body := getJSON(t, srv, "/api/v1/builds", "X-Scope-OrgID", "bad tenant/")
	require.Equal(t, 400, code, body)
	require.Equal(t, "bad_data", body["errorType"])

	// Another tenant sees nothing of the default tenant's.
	code, body = getJSON(t, srv, "/api/v1/builds", "X-Scope-OrgID", "team-a")
	require.Equal(t, 200, code)
	require.Equal(t, []any{}, body["data"])
}

func TestBuildsAPIEncoding(t *testing.T) {
	code, body := getJSON(t, buildsServer(t, buildsFixture()), "/api/v1/builds?kind=deploy&limit=1")
	require.Equal(t, 200, code)
	got, err := json.Marshal(body["data"])
	require.NoError(t, err)
	require.JSONEq(t, `[{"id":"github/9006/1","version":1795101000000,"service":"checkout","pipeline":"deploy","kind":"deploy",
		"status":"success","commit":"9fceb02d0ae598e95dc970b74767f19372d61af8","branch":"main","environment":"production",
		"started_at":"2026-11-19T15:00:00Z","finished_at":"2026-11-19T15:10:00Z","commit_time":"2026-11-19T11:10:00Z",
		"duration_seconds":600,"url":"https://github.com/acme/checkout/actions/runs/9006/1","trigger":"push",
		"labels":{"repository":"acme/checkout"}}]`, string(got))
}

func TestBuildsAPIErrors(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
		typ  string
	}{
		{errors.New("clickhouse: connection refused"), 500, "internal"},
		{context.DeadlineExceeded, 503, "timeout"},
		{context.Canceled, 499, "canceled"},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			srv := buildsServer(t, &memBuilds{err: tc.err})
			for _, path := range []string{"/api/v1/builds", "/api/v1/dora?service=checkout"} {
				code, body := getJSON(t, srv, path)
				require.Equal(t, tc.code, code, path)
				require.Equal(t, tc.typ, body["errorType"], path)
			}
		})
	}
}

func TestDoraAPIParams(t *testing.T) {
	for _, tc := range []struct {
		path, wantError string
	}{
		{"/api/v1/dora", `invalid parameter "service": required`},
		{"/api/v1/dora?service=checkout&from=x", `invalid parameter "from": `},
		{"/api/v1/dora?service=checkout&to=x", `invalid parameter "to": `},
		{"/api/v1/dora?service=checkout&change_failure_window=soon", `invalid parameter "change_failure_window": `},
		{"/api/v1/dora?service=checkout&change_failure_window=-1h", `invalid parameter "change_failure_window": `},
	} {
		t.Run(tc.path, func(t *testing.T) {
			code, body := getJSON(t, buildsServer(t, buildsFixture()), tc.path)
			require.Equal(t, 400, code, body)
			require.Equal(t, "bad_data", body["errorType"])
			require.Contains(t, body["error"], tc.wantError)
		})
	}
}

func TestDoraAPI(t *testing.T) {
	m := buildsFixture()
	code, body := getJSON(t, buildsServer(t, m), "/api/v1/dora?service=checkout&environment=production&change_failure_window=12h")
	require.Equal(t, 200, code, body)
	require.Equal(t, store.BuildQuery{Tenant: "anonymous", Service: "checkout", Kind: store.KindDeploy, Environment: "production",
		From: buildsNow.Add(-8 * day).UnixMilli(), To: buildsNow.Add(12 * time.Hour).UnixMilli()}, m.buildQuery)
	require.Equal(t, store.AlertQuery{Tenant: "anonymous", Service: "checkout", From: buildsNow.Add(-7 * day).UnixMilli(),
		To: buildsNow.Add(12 * time.Hour).UnixMilli(), States: []string{store.AlertFiring, store.AlertResolved}}, m.alertQuery)
	got, err := json.Marshal(body["data"])
	require.NoError(t, err)
	// Four deploys: 9004 failed and 9006 was followed by an alert, so
	// half failed; 9002, 9005 and 9006 succeeded, with lead times of
	// 2 h, 1 h and 4 h; the alert took 25 minutes to resolve.
	require.JSONEq(t, `{"service":"checkout","environment":"production","from":"2026-11-13T12:00:00Z","to":"2026-11-20T12:00:00Z",
		"change_failure_window_seconds":43200,
		"deployments":{"total":4,"successful":3,"failed":1,"failed_changes":2},
		"deployment_frequency":{"value":0.42857142857142855,"unit":"deployments_per_day","samples":3,"band":"high"},
		"lead_time_for_changes":{"value":7200,"unit":"seconds","samples":3,"band":"elite"},
		"change_failure_rate":{"value":0.5,"unit":"ratio","samples":4,"band":"low"},
		"time_to_restore":{"value":1500,"unit":"seconds","samples":1,"band":"elite","source":"alerts"}}`, string(got))
}
