package query

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/go-chi/chi/v5"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/cairn-dev/cairn/query/logql"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/tenant"
)

// LogIndex answers the Loki label and series APIs; *store.Client
// implements it.
type LogIndex interface {
	SelectStreams(ctx context.Context, tenant string, mint, maxt int64, matchers ...*labels.Matcher) ([]store.StreamRef, error)
	LogLabelNames(ctx context.Context, tenant string, mint, maxt int64, matchers ...*labels.Matcher) ([]string, error)
	LogLabelValues(ctx context.Context, tenant, name string, mint, maxt int64, matchers ...*labels.Matcher) ([]string, error)
}

// LogReader is what the Loki API reads: log entries and counts for
// queries (logql.Reader), streams and labels for the metadata APIs.
// *store.Client implements it.
type LogReader interface {
	logql.Reader
	LogIndex
}

var _ LogReader = (*store.Client)(nil)

// LokiAPI serves Loki's HTTP query API over a LogReader, one tenant per
// request (X-Scope-OrgID, store/tenant), so that Grafana's Loki data
// source works unmodified. Routes, GET and form POST, mounted by Register:
//
//	/loki/api/v1/query, /loki/api/v1/query_range   LogQL (package logql)
//	/loki/api/v1/labels                            stream label names
//	/loki/api/v1/label/{name}/values               values of one label
//	/loki/api/v1/series                            streams by match[]
//	/loki/api/v1/index/stats                       streams, entries, bytes
//	/loki/api/v1/format_query                      the query, printed
//
// Answers are Loki's JSON: {"status":"success","data":…}, query data with
// resultType streams, matrix or vector, and stats; index/stats bare.
// With X-Loki-Response-Encoding-Flags: categorize-labels, as Grafana
// sends it, streams keep their stream labels and each value carries
// {"structuredMetadata":…,"parsed":…}. Errors are plain text, as Loki
// writes them and Grafana shows them: 400 for bad parameters, parse
// errors, pipeline errors and limits (LokiConfig), 499 canceled, 504 past
// -loki.timeout, 500 otherwise (logged). Times are Unix nanoseconds or
// seconds, or RFC 3339; limit defaults to 100, direction to backward, the
// range to the last hour. Self-metrics: cairn_loki_requests_total{handler,
// code} and cairn_loki_request_duration_seconds{handler}.
type LokiAPI struct {
	cfg     LokiConfig
	reader  LogReader
	engine  *logql.Engine
	logger  *slog.Logger
	metrics *metrics.Set
	now     func() time.Time
}

// NewLokiAPI returns a Loki API that reads from r. It starts no
// goroutines.
func NewLokiAPI(cfg LokiConfig, r LogReader, logger *slog.Logger, set *metrics.Set) (*LokiAPI, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("loki config: %w", err)
	}
	if r == nil || logger == nil || set == nil {
		return nil, errors.New("loki api: reader, logger and metrics set are required")
	}
	return &LokiAPI{
		cfg:     cfg,
		reader:  r,
		engine:  logql.NewEngine(r, logql.Limits{MaxScanLines: cfg.MaxScanLines, MaxSeries: cfg.MaxSeries}),
		logger:  logger.With("component", "loki"),
		metrics: set,
		now:     time.Now,
	}, nil
}

// Register mounts the API's routes on r.
func (l *LokiAPI) Register(r chi.Router) {
	both := func(path string, f lokiHandler) {
		h := l.wrap(path, f)
		r.Get(path, h)
		r.Post(path, h)
	}
	both("/loki/api/v1/query", l.instantQuery)
	both("/loki/api/v1/query_range", l.rangeQuery)
	both("/loki/api/v1/labels", l.labelNames)
	both("/loki/api/v1/label/{name}/values", l.labelValues)
	both("/loki/api/v1/series", l.series)
	both("/loki/api/v1/index/stats", l.indexStats)
	both("/loki/api/v1/format_query", l.formatQuery)
}

// lokiHandler answers a request of tenant with a JSON body, or an error.
type lokiHandler func(ctx context.Context, r *http.Request, tenant string) ([]byte, error)

// lokiBadRequest marks the caller's mistakes: a 400.
type lokiBadRequest struct{ err error }

func (e *lokiBadRequest) Error() string { return e.err.Error() }
func (e *lokiBadRequest) Unwrap() error { return e.err }

func badRequest(format string, args ...any) error {
	return &lokiBadRequest{fmt.Errorf(format, args...)}
}

// wrap turns f into an http.HandlerFunc that resolves the tenant, bounds
// the request's time, writes the answer and records self-metrics.
func (l *LokiAPI) wrap(name string, f lokiHandler) http.HandlerFunc {
	duration := l.metrics.GetOrCreateHistogram(fmt.Sprintf(`cairn_loki_request_duration_seconds{handler=%q}`, name))
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		code := l.serve(w, r, f)
		duration.UpdateDuration(start)
		l.metrics.GetOrCreateCounter(fmt.Sprintf(`cairn_loki_requests_total{handler=%q,code="%d"}`, name, code)).Inc()
	}
}

func (l *LokiAPI) serve(w http.ResponseWriter, r *http.Request, f lokiHandler) int {
	if err := r.ParseForm(); err != nil {
		return l.writeError(w, r, badRequest("parse form values: %w", err))
	}
	id, err := tenant.FromRequest(r)
	if err != nil {
		return l.writeError(w, r, &lokiBadRequest{err})
	}
	ctx, cancel := context.WithTimeout(r.Context(), l.cfg.Timeout)
	defer cancel()
	body, err := f(ctx, r, id)
	if err != nil {
		return l.writeError(w, r, err)
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body) // a write error means the client went away
	return http.StatusOK
}

// lokiStatus maps an error to Loki's status: 400 for the caller's
// mistakes and limits, 499 and 504 for a canceled and an expired request,
// 500 for the rest. It is the one place where errors become statuses.
func lokiStatus(err error) int {
	var (
		bad   *lokiBadRequest
		parse *logql.ParseError
		limit *logql.LimitError
		pipe  *logql.PipelineError
	)
	switch {
	case errors.As(err, &bad), errors.As(err, &parse), errors.As(err, &limit), errors.As(err, &pipe),
		errors.Is(err, logql.ErrInstantLogQuery), errors.Is(err, store.ErrInvalidQuery):
		return http.StatusBadRequest
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	case errors.Is(err, context.Canceled):
		return 499
	}
	return http.StatusInternalServerError
}

// writeError answers with Loki's plain-text error body, which Grafana
// shows as it is.
func (l *LokiAPI) writeError(w http.ResponseWriter, r *http.Request, err error) int {
	code := lokiStatus(err)
	if code == http.StatusInternalServerError {
		l.logger.Error("request failed", "path", r.URL.Path, "err", err)
	}
	http.Error(w, err.Error(), code)
	return code
}
