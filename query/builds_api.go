package query

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/go-chi/chi/v5"
	"github.com/prometheus/prometheus/util/annotations"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/tenant"
)

// BuildReader reads what the builds and DORA endpoints serve; a
// *store.Client is one.
type BuildReader interface {
	ReadBuilds(ctx context.Context, q store.BuildQuery) ([]store.BuildEvent, error)
	ReadAlertStates(ctx context.Context, q store.AlertQuery) ([]store.AlertState, error)
}

var _ BuildReader = (*store.Client)(nil)

// Limits and defaults of the builds API.
const (
	defaultBuildsLimit = 100
	maxBuildsLimit     = 10000
	defaultBuildsRange = 7 * 24 * time.Hour
)

// BuildsAPI serves CI/CD runs and the DORA metrics computed from them and
// from the alert history, in the Prometheus API's JSON envelope (see
// docs/api.md):
//
//	GET /api/v1/builds  runs filtered by service, pipeline, branch, status, kind, environment and start time
//	GET /api/v1/dora    DORA metrics of one service (ComputeDORA)
//
// Every request is scoped to the tenant of X-Scope-OrgID. Bad parameters
// are 400 bad_data naming the parameter; a canceled request 499, an
// expired one 503 timeout, a store failure 500 internal (logged).
// Self-metrics: cairn_builds_api_requests_total{handler,code} and
// cairn_builds_api_request_duration_seconds{handler}.
type BuildsAPI struct {
	reader  BuildReader
	logger  *slog.Logger
	metrics *metrics.Set
	now     func() time.Time
}

// NewBuildsAPI returns a builds API reading from r. It starts no
// goroutines.
func NewBuildsAPI(r BuildReader, logger *slog.Logger, set *metrics.Set) *BuildsAPI {
	return &BuildsAPI{reader: r, logger: logger.With("component", "builds_api"), metrics: set, now: time.Now}
}

// Register mounts the API's routes on r.
func (b *BuildsAPI) Register(r chi.Router) {
	r.Get("/api/v1/builds", b.wrap("/api/v1/builds", b.builds))
	r.Get("/api/v1/dora", b.wrap("/api/v1/dora", b.dora))
}

// buildsHandler answers a request of tenant with the data of the success
// envelope, or an error.
type buildsHandler func(ctx context.Context, r *http.Request, tenant string) (any, error)

func (b *BuildsAPI) wrap(name string, f buildsHandler) http.HandlerFunc {
	duration := b.metrics.GetOrCreateHistogram(fmt.Sprintf(`cairn_builds_api_request_duration_seconds{handler=%q}`, name))
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		code := b.serve(w, r, f)
		duration.UpdateDuration(start)
		b.metrics.GetOrCreateCounter(fmt.Sprintf(`cairn_builds_api_requests_total{handler=%q,code="%d"}`, name, code)).Inc()
	}
}

func (b *BuildsAPI) serve(w http.ResponseWriter, r *http.Request, f buildsHandler) int {
	id, err := tenant.FromRequest(r)
	if err != nil {
		return b.writeError(w, r, &apiError{errBadData, err})
	}
	data, err := f(r.Context(), r, id)
	if err == nil {
		err = writeSuccess(w, data, annotations.Annotations{}, "")
	}
	if err != nil {
		return b.writeError(w, r, err)
	}
	return http.StatusOK
}

// buildsError maps an error to its API class: the one place where this
// API's errors become statuses.
func buildsError(err error) *apiError {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, context.DeadlineExceeded):
		return &apiError{errTimeout, err}
	case errors.Is(err, context.Canceled):
		return &apiError{errCanceled, err}
	}
	return &apiError{errInternal, err}
}

func (b *BuildsAPI) writeError(w http.ResponseWriter, r *http.Request, err error) int {
	e := buildsError(err)
	if e.typ == errInternal {
		b.logger.Error("request failed", "path", r.URL.Path, "err", err)
	}
	writeError(w, e)
	return e.typ.code
}

// timeRange reads from and to: RFC 3339 or Unix seconds, to defaulting
// to now and from to def before to.
func (b *BuildsAPI) timeRange(r *http.Request, def time.Duration) (from, to time.Time, err error) {
	to = b.now()
	if s := r.URL.Query().Get("to"); s != "" {
		if to, err = parseTime(s); err != nil {
			return from, to, badParam("to", err)
		}
	}
	from = to.Add(-def)
	if s := r.URL.Query().Get("from"); s != "" {
		if from, err = parseTime(s); err != nil {
			return from, to, badParam("from", err)
		}
	}
	if from.After(to) {
		return from, to, badParam("from", errors.New("after \"to\""))
	}
	return from, to, nil
}

// buildJSON is a run as GET /api/v1/builds returns it.
type buildJSON struct {
	ID          string            `json:"id"`
	Version     uint64            `json:"version"`
	Service     string            `json:"service"`
	Pipeline    string            `json:"pipeline"`
	Kind        string            `json:"kind"`
	Status      string            `json:"status"`
	Commit      string            `json:"commit"`
	Branch      string            `json:"branch"`
	Environment string            `json:"environment"`
	StartedAt   string            `json:"started_at,omitempty"`
	FinishedAt  string            `json:"finished_at,omitempty"`
	CommitTime  string            `json:"commit_time,omitempty"`
	Duration    *float64          `json:"duration_seconds,omitempty"`
	URL         string            `json:"url"`
	Trigger     string            `json:"trigger"`
	Labels      map[string]string `json:"labels"`
}

func toBuildJSON(e store.BuildEvent) buildJSON {
	j := buildJSON{
		ID: e.ID, Version: e.Version, Service: e.Service, Pipeline: e.Pipeline, Kind: e.Kind,
		Status: e.Status, Commit: e.Commit, Branch: e.Branch, Environment: e.Environment,
		URL: e.URL, Trigger: e.Trigger, Labels: e.Labels.Map(),
	}
	optTime := func(ms int64) string {
		if ms == 0 {
			return ""
		}
		return formatTime(ms)
	}
	j.StartedAt, j.FinishedAt, j.CommitTime = optTime(e.StartedAt), optTime(e.FinishedAt), optTime(e.CommitTime)
	if e.StartedAt > 0 && e.FinishedAt >= e.StartedAt {
		d := float64(e.FinishedAt-e.StartedAt) / 1e3
		j.Duration = &d
	}
	return j
}

// builds serves GET /api/v1/builds.
func (b *BuildsAPI) builds(ctx context.Context, r *http.Request, id string) (any, error) {
	from, to, err := b.timeRange(r, defaultBuildsRange)
	if err != nil {
		return nil, err
	}
	v := r.URL.Query()
	limit := defaultBuildsLimit
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 || n > maxBuildsLimit {
			return nil, badParam("limit", fmt.Errorf("%q is not an integer in [1, %d]", s, maxBuildsLimit))
		}
		limit = n
	}
	kind := v.Get("kind")
	if kind != "" && kind != store.KindBuild && kind != store.KindDeploy {
		return nil, badParam("kind", fmt.Errorf("%q is neither %q nor %q", kind, store.KindBuild, store.KindDeploy))
	}
	events, err := b.reader.ReadBuilds(ctx, store.BuildQuery{
		Tenant: id, Service: v.Get("service"), Pipeline: v.Get("pipeline"), Branch: v.Get("branch"),
		Status: v.Get("status"), Kind: kind, Environment: v.Get("environment"),
		From: from.UnixMilli(), To: to.UnixMilli(), Limit: limit,
	})
	if err != nil {
		return nil, err
	}
	out := make([]buildJSON, 0, len(events))
	for _, e := range events {
		out = append(out, toBuildJSON(e))
	}
	return out, nil
}

// dora serves GET /api/v1/dora: it reads the service's deploys that
// started from a day before the window (to count those finishing in it)
// to the change failure window after it, and its alerts firing or
// resolving from the window's start to the change failure window after
// its end.
func (b *BuildsAPI) dora(ctx context.Context, r *http.Request, id string) (any, error) {
	v := r.URL.Query()
	service := v.Get("service")
	if service == "" {
		return nil, badParam("service", errors.New("required"))
	}
	from, to, err := b.timeRange(r, defaultBuildsRange)
	if err != nil {
		return nil, err
	}
	window := DefaultChangeFailureWindow
	if s := v.Get("change_failure_window"); s != "" {
		if window, err = parseDuration(s); err != nil || window <= 0 {
			return nil, badParam("change_failure_window", fmt.Errorf("%q is not a positive duration", s))
		}
	}
	env := v.Get("environment")
	runs, err := b.reader.ReadBuilds(ctx, store.BuildQuery{
		Tenant: id, Service: service, Kind: store.KindDeploy, Environment: env,
		From: from.Add(-day).UnixMilli(), To: to.Add(window).UnixMilli(),
	})
	if err != nil {
		return nil, err
	}
	alerts, err := b.reader.ReadAlertStates(ctx, store.AlertQuery{
		Tenant: id, Service: service, From: from.UnixMilli(), To: to.Add(window).UnixMilli(),
		States: []string{store.AlertFiring, store.AlertResolved},
	})
	if err != nil {
		return nil, err
	}
	return ComputeDORA(DORAInput{
		Service: service, Environment: env, From: from, To: to, Window: window,
		Builds: runs, Alerts: alerts,
	}), nil
}
