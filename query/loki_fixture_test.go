package query

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/go-chi/chi/v5"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/storetest"
	"github.com/cairn-dev/cairn/store/tenant"
)

// lokiT0 is the start of the log corpus: 2024-03-01T00:00:00Z.
var lokiT0 = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)

// lokiAt is lokiT0 plus d, in Unix nanoseconds as the API takes them.
func lokiAt(d time.Duration) string { return strconv.FormatInt(lokiT0.Add(d).UnixNano(), 10) }

// lokiCorpus is the seeded log corpus of the LogQL tests: JSON, logfmt
// and plain-text streams of two tenants over two days, one with
// structured metadata, one with a level stream label. The main tenant is
// the default one, as requests without X-Scope-OrgID (Grafana's) have it.
func lokiCorpus() []store.LogEntry {
	var out []store.LogEntry
	add := func(tenant string, d time.Duration, line string, stream labels.Labels, md ...string) {
		out = append(out, store.LogEntry{Tenant: tenant, Stream: stream, T: lokiT0.Add(d).UnixNano(), Line: line, Metadata: labels.FromStrings(md...)})
	}
	api1 := labels.FromStrings("app", "api", "env", "prod", "pod", "api-1")
	api2 := labels.FromStrings("app", "api", "env", "prod", "pod", "api-2")
	db := labels.FromStrings("app", "db", "env", "prod")
	web := labels.FromStrings("app", "web", "env", "dev")
	worker := labels.FromStrings("app", "worker", "env", "prod")
	cron := labels.FromStrings("app", "cron", "env", "prod", "level", "error")
	levels := []string{"info", "info", "warn", "info", "error", "debug"}
	paths := []string{"/users", "/orders", "/health", "/users/7"}
	for i := range 120 { // every 30 s for one hour
		d := time.Duration(i) * 30 * time.Second
		lvl, path := levels[i%len(levels)], paths[i%len(paths)]
		status := []int{200, 200, 201, 404, 500, 200, 503}[i%7]
		latency := 5 + (i*37)%400
		add(tenant.Default, d, fmt.Sprintf(`{"level":%q,"msg":"%s %s","status":%d,"latency_ms":%d,"duration":"%dms","size":"%dKB","user":{"id":%d,"name":"u%d"}}`,
			lvl, "GET", path, status, latency, latency, 1+i%9, i%5, i%5), api1)
		if i%3 == 0 {
			add(tenant.Default, d+time.Second, fmt.Sprintf(`{"level":%q,"msg":"POST %s","status":%d,"latency_ms":%d}`, levels[(i+2)%6], path, []int{201, 400, 500}[(i/3)%3], latency*2), api2)
		}
		if i%10 == 7 {
			add(tenant.Default, d+2*time.Second, "panic: runtime error: index out of range [3] with length 3", api2)
		}
		if i%2 == 0 {
			add(tenant.Default, d+3*time.Second, fmt.Sprintf(`level=%s msg="query done" took=%dms rows=%d table=%s`, []string{"info", "warn", "error"}[i%3], 10+i*13%900, i*7%50, []string{"users", "orders"}[(i/2)%2]), db)
		}
		if i%4 == 1 {
			add(tenant.Default, d+4*time.Second, fmt.Sprintf(`10.0.0.%d - - [01/Mar/2024:00:%02d:%02d +0000] "%s %s HTTP/1.1" %d %d`, (i/4)%4, i/2, (i%2)*30,
				[]string{"GET", "POST"}[(i/4)%2], paths[(i/4)%4], []int{200, 304, 404}[i%3], 100+i*11), web)
		}
		if i%5 == 0 {
			add(tenant.Default, d+5*time.Second, fmt.Sprintf(`job=%s state=done`, []string{"mail", "billing"}[i%2]), worker, "trace_id", fmt.Sprintf("t%03d", i))
		}
		if i%20 == 0 {
			add(tenant.Default, d+6*time.Second, "backup failed: disk full", cron)
		}
	}
	for i := range 10 { // the next day
		add(tenant.Default, 24*time.Hour+time.Duration(i)*time.Minute, fmt.Sprintf(`{"level":"info","msg":"GET /users","status":200,"latency_ms":%d}`, 10+i), api1)
	}
	for i := range 5 { // another tenant, same labels
		add("other", time.Duration(i)*time.Minute, `{"level":"error","msg":"other tenant"}`, labels.FromStrings("app", "api", "env", "prod", "pod", "api-1"))
	}
	return out
}

// recordingReader records the store calls the engine makes.
type recordingReader struct {
	LogReader
	mu      sync.Mutex
	reads   []store.LogQuery
	counts  []store.LogQuery
	entries int
}

func (r *recordingReader) ReadLogs(ctx context.Context, q store.LogQuery) ([]store.LogEntry, error) {
	es, err := r.LogReader.ReadLogs(ctx, q)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reads = append(r.reads, q)
	r.entries += len(es)
	return es, err
}

func (r *recordingReader) CountLogs(ctx context.Context, q store.LogQuery, step int64) ([]store.StreamCounts, error) {
	r.mu.Lock()
	r.counts = append(r.counts, q)
	r.mu.Unlock()
	return r.LogReader.CountLogs(ctx, q, step)
}

func (r *recordingReader) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reads, r.counts, r.entries = nil, nil, 0
}

type lokiTestAPI struct {
	api    *LokiAPI
	srv    *httptest.Server
	reader *recordingReader
}

// newLokiTestAPI serves the corpus from a fresh database; now is the end
// of the corpus' first hour.
func newLokiTestAPI(t *testing.T, mutate ...func(*LokiConfig)) *lokiTestAPI {
	t.Helper()
	c := storetest.OpenTest(t)
	require.NoError(t, c.WriteLogs(context.Background(), lokiCorpus(), "loki-corpus"))
	return newLokiTestAPIOver(t, c, mutate...)
}

func newLokiTestAPIOver(t *testing.T, r LogReader, mutate ...func(*LokiConfig)) *lokiTestAPI {
	t.Helper()
	var cfg LokiConfig
	cfg.RegisterFlags(testFlagSet())
	for _, f := range mutate {
		f(&cfg)
	}
	rec := &recordingReader{LogReader: r}
	api, err := NewLokiAPI(cfg, rec, slog.New(slog.DiscardHandler), metrics.NewSet())
	require.NoError(t, err)
	api.now = func() time.Time { return lokiT0.Add(time.Hour) }
	router := chi.NewRouter()
	api.Register(router)
	srv := httptest.NewServer(router)
	t.Cleanup(srv.Close)
	return &lokiTestAPI{api: api, srv: srv, reader: rec}
}

// do sends a GET, or a form POST, and returns the status, content type
// and body.
func (ta *lokiTestAPI) do(t *testing.T, method, path string, params url.Values, header ...string) (int, string, []byte) {
	t.Helper()
	var req *http.Request
	var err error
	if method == http.MethodPost {
		req, err = http.NewRequest(method, ta.srv.URL+path, strings.NewReader(params.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req, err = http.NewRequest(method, ta.srv.URL+path+"?"+params.Encode(), nil)
	}
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header.Get("Content-Type"), body
}
