package ingest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/go-chi/chi/v5"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/ingest/queue"
	"github.com/cairn-dev/cairn/ingest/queue/queuetest"
	"github.com/cairn-dev/cairn/ingest/wire"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/storetest"
)

// newBuildsEnv is newReceiverEnvOn with the build receivers configured by
// bc.
func newBuildsEnv(t *testing.T, qcfg queue.Config, bc BuildsConfig) *receiverEnv {
	topics := TopicsFor(qcfg)
	require.NoError(t, queue.EnsureTopics(context.Background(), qcfg, topics.All()...))
	p, err := queue.NewProducer(qcfg, discard(), metrics.NewSet())
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	cfg := testReceiverConfig()
	cfg.Builds = bc
	env := &receiverEnv{qcfg: qcfg, topics: topics, now: time.UnixMilli(1_700_000_000_000), set: metrics.NewSet()}
	rc := NewReceiver(cfg, topics, p, discard(), env.set)
	rc.now = func() time.Time { return env.now }
	r := chi.NewRouter()
	rc.Register(r)
	env.srv = httptest.NewServer(r)
	t.Cleanup(env.srv.Close)
	return env
}

const (
	testSecret = "It's a Secret to Everybody"
	testToken  = "glpat-hook-token"
)

func testBuildsConfig() BuildsConfig {
	return BuildsConfig{GitHubSecret: testSecret, GitLabToken: testToken, DeployWorkflows: regexp.MustCompile(defaultDeployWorkflows)}
}

// postJSON posts body as JSON with the headers given as name, value
// pairs.
func (e *receiverEnv) postJSON(t *testing.T, path string, body []byte, kv ...string) (int, string) {
	hdr := map[string]string{"Content-Type": "application/json", "Content-Encoding": ""}
	for i := 0; i+1 < len(kv); i += 2 {
		hdr[kv[i]] = kv[i+1]
	}
	code, resp, _ := e.post(t, path, body, hdr)
	return code, resp
}

func payload(t *testing.T, name string) []byte {
	b, err := os.ReadFile(filepath.Join("builds", "testdata", name))
	require.NoError(t, err)
	return b
}

func signature(body []byte) string {
	mac := hmac.New(sha256.New, []byte(testSecret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// postGitHub posts a recorded GitHub delivery, signed.
func (e *receiverEnv) postGitHub(t *testing.T, event, file string) (int, string) {
	body := payload(t, "github/"+file)
	return e.postJSON(t, "/api/v1/builds/github", body, "X-GitHub-Event", event, "X-Hub-Signature-256", signature(body),
		"X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
}

// consumeBuilds reads n build events back from the builds topic.
func (e *receiverEnv) consumeBuilds(t *testing.T, n int) []store.BuildEvent {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := queue.NewConsumer(e.qcfg, "check-builds", []string{e.topics.Builds}, discard())
	defer c.Close()
	var out []store.BuildEvent
	for len(out) < n {
		m, err := c.Fetch(ctx)
		require.NoError(t, err, "waiting for %d build events, have %d", n, len(out))
		out, err = wire.DecodeBuilds(out, m.Value)
		require.NoError(t, err)
	}
	return out
}

func seriesNames(ss []store.Series) map[string]int {
	out := map[string]int{}
	for _, s := range ss {
		out[s.Labels.Get("__name__")] += len(s.Samples)
	}
	return out
}

func TestBuildsNative(t *testing.T) {
	e := newBuildsEnv(t, testQueueConfig(queuetest.Fake(t)), BuildsConfig{})
	code, body := e.postJSON(t, "/api/v1/builds", payload(t, "native/events.json"), "X-Scope-OrgID", "team-a")
	require.Equal(t, http.StatusNoContent, code, body)

	got := e.consumeBuilds(t, 3)
	byID := map[string][]store.BuildEvent{}
	for _, b := range got {
		require.Equal(t, "team-a", b.Tenant)
		byID[b.ID] = append(byID[b.ID], b)
	}
	require.Len(t, byID, 2)
	rollout := byID["argo/checkout-api/2291"]
	require.Len(t, rollout, 2, "both events of the rollout, in order, from one partition")
	require.Equal(t, []string{store.StatusRunning, store.StatusSuccess}, []string{rollout[0].Status, rollout[1].Status})
	require.Equal(t, "production", rollout[1].Environment)
	build := byID["native/checkout-api/release//1699998009000"]
	require.Len(t, build, 1)
	require.Equal(t, "1", build[0].Labels.Get("attempt"))

	// Two finished runs: a build (finish, duration) and a deploy (finish,
	// duration, lead time). The running event feeds no series.
	series := e.consumeSeries(t, 5)
	require.Equal(t, map[string]int{
		"cairn_build_finished_timestamp_seconds": 2, "cairn_build_duration_seconds": 2, "cairn_deployment_lead_time_seconds": 1,
	}, seriesNames(series))
	for _, s := range series {
		require.Equal(t, "team-a", s.Tenant)
		require.Equal(t, "checkout-api", s.Labels.Get("service"))
	}
	require.Equal(t, uint64(3), e.set.GetOrCreateCounter(`cairn_ingest_build_events_total{protocol="builds",result="accepted"}`).Get())
}

func TestBuildsNativePartial(t *testing.T) {
	e := newBuildsEnv(t, testQueueConfig(queuetest.Fake(t)), BuildsConfig{})
	now := e.now.UnixMilli()
	body := fmt.Sprintf(`[
		{"service":"api","kind":"build","status":"success","started_at":%d,"finished_at":%d},
		{"service":"api","kind":"release","status":"success","finished_at":%d},
		{"service":"api","kind":"deploy","status":"success","finished_at":%d}
	]`, now-60_000, now, now, now+3_600_000)
	code, resp := e.postJSON(t, "/api/v1/builds", []byte(body))
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, resp, `2 of 3 build events rejected, the rest were stored; first: event 1: field "kind": "release" is neither build nor deploy`)
	got := e.consumeBuilds(t, 1)
	require.Equal(t, store.KindBuild, got[0].Kind)
	require.Equal(t, uint64(1), e.set.GetOrCreateCounter(`cairn_ingest_build_events_total{protocol="builds",result="rejected",reason="too_new"}`).Get())
}

func TestBuildsGitHub(t *testing.T) {
	e := newBuildsEnv(t, testQueueConfig(queuetest.Fake(t)), testBuildsConfig())
	code, body := e.postGitHub(t, "workflow_run", "workflow_run.in_progress.json")
	require.Equal(t, http.StatusNoContent, code, body)
	code, body = e.postGitHub(t, "workflow_run", "workflow_run.completed.json")
	require.Equal(t, http.StatusNoContent, code, body)
	code, body = e.postGitHub(t, "workflow_job", "workflow_job.completed.deployment.json")
	require.Equal(t, http.StatusNoContent, code, body)

	got := e.consumeBuilds(t, 3)
	ids := map[string][]string{}
	for _, b := range got {
		ids[b.ID] = append(ids[b.ID], b.Kind+"/"+b.Status)
	}
	require.Equal(t, map[string][]string{
		"github/6874512209/1":                 {"build/running", "build/success"},
		"github/6874599120/2/job/18711202456": {"deploy/success"},
	}, ids)

	for _, tc := range []struct{ event, file, want string }{
		{"ping", "ping.json", "pong"},
		{"workflow_job", "workflow_job.in_progress.json", "does not deploy to an environment"},
		{"check_suite", "ping.json", `"check_suite" events are not recorded`},
	} {
		code, body := e.postGitHub(t, tc.event, tc.file)
		require.Equal(t, http.StatusOK, code, body)
		require.Contains(t, body, tc.want)
	}
}

func TestBuildsGitHubSignature(t *testing.T) {
	e := newBuildsEnv(t, testQueueConfig(queuetest.Fake(t)), testBuildsConfig())
	body := payload(t, "github/workflow_run.completed.json")
	for _, tc := range []struct{ name, sig, want string }{
		{"missing", "", "X-Hub-Signature-256 is missing"},
		{"wrong secret", "sha256=" + strings.Repeat("ab", 32), "X-Hub-Signature-256 does not match the body"},
		{"malformed", "sha1=deadbeef", "X-Hub-Signature-256 is not sha256=<64 hex digits>"},
	} {
		code, resp := e.postJSON(t, "/api/v1/builds/github", body, "X-GitHub-Event", "workflow_run", "X-Hub-Signature-256", tc.sig)
		require.Equal(t, http.StatusUnauthorized, code, tc.name)
		require.Contains(t, resp, tc.want, tc.name)
	}
	code, resp := e.postJSON(t, "/api/v1/builds/github", body, "X-GitHub-Event", "workflow_run", "X-Hub-Signature-256", signature(body))
	require.Equal(t, http.StatusNoContent, code, resp)

	// Without a secret configured, unsigned deliveries are accepted.
	open := newBuildsEnv(t, testQueueConfig(queuetest.Fake(t)), BuildsConfig{})
	code, resp = open.postJSON(t, "/api/v1/builds/github?service=checkout", body, "X-GitHub-Event", "workflow_run")
	require.Equal(t, http.StatusNoContent, code, resp)
	require.Equal(t, "checkout", open.consumeBuilds(t, 1)[0].Service)
}

func TestBuildsGitLab(t *testing.T) {
	e := newBuildsEnv(t, testQueueConfig(queuetest.Fake(t)), testBuildsConfig())
	for _, tc := range []struct{ event, file string }{
		{"Pipeline Hook", "pipeline.running.json"}, {"Pipeline Hook", "pipeline.success.json"},
		{"Deployment Hook", "deployment.running.json"}, {"Deployment Hook", "deployment.success.json"},
		{"Job Hook", "job.deploy.json"},
	} {
		code, body := e.postJSON(t, "/api/v1/builds/gitlab", payload(t, "gitlab/"+tc.file), "X-Gitlab-Event", tc.event, "X-Gitlab-Token", testToken)
		require.Equal(t, http.StatusNoContent, code, "%s: %s", tc.file, body)
	}
	got := e.consumeBuilds(t, 5)
	kinds := map[string]string{}
	for _, b := range got {
		kinds[b.ID] = b.Kind + "/" + b.Environment
	}
	require.Equal(t, map[string]string{
		"gitlab/pipeline/98231": "build/", "gitlab/deployment/2290": "deploy/production", "gitlab/job/551203": "deploy/production",
	}, kinds)

	code, body := e.postJSON(t, "/api/v1/builds/gitlab", payload(t, "gitlab/job.test.json"), "X-Gitlab-Event", "Job Hook", "X-Gitlab-Token", testToken)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "does not deploy to an environment")

	for _, tc := range []struct{ name, token, want string }{
		{"missing", "", "X-Gitlab-Token is missing"},
		{"wrong", "glpat-other", "X-Gitlab-Token does not match"},
	} {
		code, body := e.postJSON(t, "/api/v1/builds/gitlab", payload(t, "gitlab/pipeline.success.json"), "X-Gitlab-Event", "Pipeline Hook", "X-Gitlab-Token", tc.token)
		require.Equal(t, http.StatusUnauthorized, code, tc.name)
		require.Contains(t, body, tc.want, tc.name)
	}
}

// TestBuildsMalformed sends malformed requests to every build endpoint
// and requires a 4xx whose body names the problem, never a 5xx.
func TestBuildsMalformed(t *testing.T) {
	e := newBuildsEnv(t, testQueueConfig(queuetest.Fake(t)), BuildsConfig{})
	now := e.now.UnixMilli()
	ok := fmt.Sprintf(`{"service":"api","kind":"build","status":"success","finished_at":%d}`, now)
	gh := func(event string) []string { return []string{"X-GitHub-Event", event} }
	gl := func(event string) []string { return []string{"X-Gitlab-Event", event} }
	for _, tc := range []struct {
		name, path, body string
		hdr              []string
		code             int
		want             string
	}{
		{"native empty", "/api/v1/builds", "", nil, 400, "cannot decode build events: body is not JSON"},
		{"native not json", "/api/v1/builds", "service=api", nil, 400, "body is not JSON"},
		{"native scalar", "/api/v1/builds", `"api"`, nil, 400, "want an object or an array of objects"},
		{"native array of strings", "/api/v1/builds", `["api"]`, nil, 400, `event 0: want a JSON object`},
		{"native missing", "/api/v1/builds", `{"kind":"build"}`, nil, 400, `event 0: field "service": required`},
		{"native unknown field", "/api/v1/builds", strings.Replace(ok, `"service"`, `"servce"`, 1), nil, 400, `event 0: field "servce": not a field of a build event`},
		{"native long", "/api/v1/builds", strings.Replace(ok, `"api"`, `"`+strings.Repeat("a", 65)+`"`, 1), nil, 400, `event 0: field "service" is 65 bytes long, the limit is 64 (-ingest.max-label-value-length)`},
		{"native future", "/api/v1/builds", strings.Replace(ok, fmt.Sprint(now), fmt.Sprint(now+3_600_000), 1), nil, 400, `event 0: field "finished_at": 2023-11-14T23:13:20Z is more than 10m0s in the future (-ingest.max-future-skew)`},
		{"native bad label", "/api/v1/builds", strings.Replace(ok, `}`, `,"labels":{"0x":"y"}}`, 1), nil, 400, `event 0: label name "0x" of build event`},
		{"native gzip lie", "/api/v1/builds", ok, []string{"Content-Encoding", "gzip"}, 400, "body is not gzip"},
		{"native encoding", "/api/v1/builds", ok, []string{"Content-Encoding", "br"}, 415, `Content-Encoding "br" is not supported`},
		{"native tenant", "/api/v1/builds", ok, []string{"X-Scope-OrgID", "a/b"}, 400, "X-Scope-OrgID"},
		{"native too large", "/api/v1/builds", strings.Repeat(" ", 2<<20), nil, 413, "-ingest.max-request-bytes"},
		{"github no event", "/api/v1/builds/github", `{}`, nil, 400, "X-GitHub-Event is missing"},
		{"github not json", "/api/v1/builds/github", `{"workflow_run":`, gh("workflow_run"), 400, "cannot decode build events"},
		{"github no run", "/api/v1/builds/github", `{"action":"completed"}`, gh("workflow_run"), 400, `field "workflow_run": required`},
		{"github wrong type", "/api/v1/builds/github", `{"workflow_run":{"id":"7"}}`, gh("workflow_run"), 400, `field "workflow_run.id": want an integer`},
		{"github form without payload", "/api/v1/builds/github", `zen=1`, append(gh("workflow_run"), "Content-Type", "application/x-www-form-urlencoded"), 400, "form body has no payload parameter"},
		{"github job", "/api/v1/builds/github", `{"workflow_job":{"id":1,"run_id":2,"status":"completed","conclusion":"success","started_at":"2023-11-14T21:40:09Z"},"deployment":{"environment":"prod"},"repository":{"name":"r"}}`, gh("workflow_job"), 400, `field "workflow_job.completed_at": required`},
		{"gitlab no event", "/api/v1/builds/gitlab", `{}`, nil, 400, "X-Gitlab-Event is missing"},
		{"gitlab not json", "/api/v1/builds/gitlab", `<xml/>`, gl("Pipeline Hook"), 400, "cannot decode build events"},
		{"gitlab kind", "/api/v1/builds/gitlab", `{"object_kind":"build"}`, gl("Pipeline Hook"), 400, `field "object_kind": "build" does not match X-Gitlab-Event "Pipeline Hook"`},
		{"gitlab time", "/api/v1/builds/gitlab", `{"deployment_id":1,"environment":"prod","status":"success","status_changed_at":"noon","project":{"name":"x"}}`, gl("Deployment Hook"), 400, `field "status_changed_at": "noon" is not an RFC 3339 time`},
		{"gitlab future", "/api/v1/builds/gitlab", `{"deployment_id":1,"environment":"prod","status":"success","status_changed_at":"2030-01-01 00:00:00 UTC","project":{"name":"x"}}`, gl("Deployment Hook"), 400, `run gitlab/deployment/1: field "finished_at": 2030-01-01T00:00:00Z is more than 10m0s in the future`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := e.postJSON(t, tc.path, []byte(tc.body), tc.hdr...)
			require.Equal(t, tc.code, code, body)
			require.Contains(t, body, tc.want)
		})
	}
}

// TestBuildsKafkaDown checks that build events are answered 503 with
// Retry-After when Kafka does not acknowledge.
func TestBuildsKafkaDown(t *testing.T) {
	qcfg := testQueueConfig("127.0.0.1:1") // nothing listens there
	qcfg.WriteTimeout = 500 * time.Millisecond
	p, err := queue.NewProducer(qcfg, discard(), metrics.NewSet())
	require.NoError(t, err)
	defer p.Close()
	rc := NewReceiver(testReceiverConfig(), TopicsFor(qcfg), p, discard(), metrics.NewSet())
	r := chi.NewRouter()
	rc.Register(r)
	srv := httptest.NewServer(r)
	defer srv.Close()
	body := fmt.Sprintf(`{"service":"api","kind":"build","status":"running","started_at":%d}`, time.Now().UnixMilli())
	resp, err := http.Post(srv.URL+"/api/v1/builds", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	require.Equal(t, "5", resp.Header.Get("Retry-After"))
}

// TestWriterBuilds checks that a writer hands builds messages to
// WriteBuilds.
func TestWriterBuilds(t *testing.T) {
	qcfg := testQueueConfig(queuetest.Fake(t))
	e := newBuildsEnv(t, qcfg, testBuildsConfig())
	for _, f := range []string{"workflow_run.in_progress.json", "workflow_run.completed.json"} {
		code, body := e.postGitHub(t, "workflow_run", f)
		require.Equal(t, http.StatusNoContent, code, body)
	}
	p, err := queue.NewProducer(qcfg, discard(), metrics.NewSet())
	require.NoError(t, err)
	defer p.Close()
	st := &memStore{failN: 1}
	c := queue.NewConsumer(qcfg, "writers", e.topics.Data(), discard())
	defer c.Close()
	w := NewWriter(testWriterConfig(), c, st, p, e.topics.DeadLetter, discard(), metrics.NewSet())
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	require.Eventually(t, func() bool { return len(st.buildEvents()) == 2 && st.samples() == 2 }, 20*time.Second, 20*time.Millisecond)
	stop()
	require.NoError(t, <-done)
	for _, b := range st.buildEvents() {
		require.Equal(t, "github/6874512209/1", b.ID)
		require.Equal(t, "anonymous", b.Tenant)
	}
}

// countingStore counts the build events written through it.
type countingStore struct {
	*store.Client
	builds atomic.Int64
}

func (c *countingStore) WriteBuilds(ctx context.Context, events []store.BuildEvent, token string) error {
	if err := c.Client.WriteBuilds(ctx, events, token); err != nil {
		return err
	}
	c.builds.Add(int64(len(events)))
	return nil
}

// TestBuildsIntoStore runs GitHub deliveries of one run through Kafka and
// a writer into a real store: in_progress, completed, a late redelivery
// of in_progress and one of completed end as one completed run, and the
// run's metric samples are stored once. It needs CAIRN_TEST_CLICKHOUSE.
func TestBuildsIntoStore(t *testing.T) {
	queuetest.Each(t, func(t *testing.T, brokers string) {
		st := &countingStore{Client: storetest.OpenTest(t)}
		qcfg := testQueueConfig(brokers)
		qcfg.TopicPrefix = queuetest.UniquePrefix(t)
		e := newBuildsEnv(t, qcfg, testBuildsConfig())
		files := []string{"workflow_run.in_progress.json", "workflow_run.completed.json", "workflow_run.in_progress.json", "workflow_run.completed.json"}
		for _, f := range files {
			code, body := e.postGitHub(t, "workflow_run", f)
			require.Equal(t, http.StatusNoContent, code, body)
		}

		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		p, err := queue.NewProducer(qcfg, discard(), metrics.NewSet())
		require.NoError(t, err)
		defer p.Close()
		c := queue.NewConsumer(qcfg, qcfg.TopicPrefix+"writers", e.topics.Data(), discard())
		defer c.Close()
		w := NewWriter(testWriterConfig(), c, st, p, e.topics.DeadLetter, discard(), metrics.NewSet())
		wctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- w.Run(wctx) }()
		require.Eventually(t, func() bool { return st.builds.Load() == int64(len(files)) }, 60*time.Second, 50*time.Millisecond)
		stop()
		require.NoError(t, <-done)

		runs, err := st.ReadBuilds(ctx, store.BuildQuery{Tenant: "anonymous", From: 0, To: math.MaxInt64})
		require.NoError(t, err)
		require.Len(t, runs, 1, "one run, however many events")
		run := runs[0]
		require.Equal(t, "github/6874512209/1", run.ID)
		require.Equal(t, store.StatusSuccess, run.Status)
		require.Equal(t, "checkout-api", run.Service)
		require.Equal(t, "CI", run.Pipeline)
		require.Equal(t, int64(1699998009000), run.StartedAt)  // 2023-11-14T21:40:09Z
		require.Equal(t, int64(1699998391000), run.FinishedAt) // 2023-11-14T21:46:31Z
		require.Equal(t, uint64(run.FinishedAt), run.Version)

		// The completed event was delivered twice; its samples are read once.
		for name, want := range map[string]float64{"cairn_build_finished_timestamp_seconds": 1699998391, "cairn_build_duration_seconds": 382} {
			refs, err := st.SelectSeries(ctx, "anonymous", 0, math.MaxInt64, labels.MustNewMatcher(labels.MatchEqual, "__name__", name))
			require.NoError(t, err)
			require.Len(t, refs, 1, name)
			require.Equal(t, "success", refs[0].Labels.Get("status"))
			samples, err := st.ReadSamples(ctx, "anonymous", []uint64{refs[0].Fingerprint}, 0, math.MaxInt64)
			require.NoError(t, err)
			require.Equal(t, []store.Sample{{T: run.FinishedAt, V: want}}, samples[refs[0].Fingerprint], name)
		}
	})
}

func TestBuildsConfigFlags(t *testing.T) {
	parse := func(args ...string) (BuildsConfig, error) {
		var c BuildsConfig
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		c.RegisterFlags(fs)
		return c, fs.Parse(args)
	}
	c, err := parse()
	require.NoError(t, err)
	require.True(t, c.DeployWorkflows.MatchString("Deploy production"))
	require.False(t, c.DeployWorkflows.MatchString("CI"))
	c, err = parse("-github.deploy-workflows=", "-github.webhook-secret=s", "-gitlab.webhook-token=t")
	require.NoError(t, err)
	require.Nil(t, c.DeployWorkflows)
	require.Equal(t, BuildsConfig{GitHubSecret: "s", GitLabToken: "t"}, c)
	c, err = parse("-github.deploy-workflows=^(release|ship)$")
	require.NoError(t, err)
	require.True(t, c.DeployWorkflows.MatchString("ship"))
	_, err = parse("-github.deploy-workflows=(")
	require.ErrorContains(t, err, "missing closing )")
}
