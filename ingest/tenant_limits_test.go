package ingest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/go-chi/chi/v5"
	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/prometheus/model/labels"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/ingest/queue"
	"github.com/cairn-dev/cairn/ingest/queue/queuetest"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/tenant"
)

// newLimitedEnv is newReceiverEnv with per-tenant limits: defaults (no
// rate limit) and the overrides file content given.
func newLimitedEnv(t *testing.T, overrides string) *receiverEnv {
	path := filepath.Join(t.TempDir(), "overrides.yaml")
	require.NoError(t, os.WriteFile(path, []byte(overrides), 0o644))
	ov, err := tenant.NewOverrides(tenant.OverridesConfig{File: path, Period: time.Hour},
		tenant.Limits{IngestionBurst: 200_000, MaxSamples: 1, Timeout: time.Minute}, discard(), metrics.NewSet())
	require.NoError(t, err)
	qcfg := testQueueConfig(queuetest.Fake(t))
	topics := TopicsFor(qcfg)
	require.NoError(t, queue.EnsureTopics(context.Background(), qcfg, topics.All()...))
	p, err := queue.NewProducer(qcfg, discard(), metrics.NewSet())
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	cfg := testReceiverConfig()
	cfg.TenantLimits = ov
	env := &receiverEnv{qcfg: qcfg, topics: topics, now: time.UnixMilli(1_700_000_000_000), set: metrics.NewSet()}
	rc := NewReceiver(cfg, topics, p, discard(), env.set)
	rc.now = func() time.Time { return env.now }
	r := chi.NewRouter()
	rc.Register(r)
	env.srv = httptest.NewServer(r)
	t.Cleanup(env.srv.Close)
	return env
}

// requestSeries is n series of one sample each, labelled req=req.
func requestSeries(ts int64, req string, n int) []store.Series {
	out := make([]store.Series, n)
	for i := range out {
		out[i] = series(ts, float64(i), "__name__", "m", "req", req, "i", strconv.Itoa(i))
	}
	return out
}

// TestTenantRateLimit: a tenant over its ingestion rate gets 429 with
// Retry-After and a body naming the tenant, the limit, its value and
// where it is set; its refused requests leave nothing in Kafka; a tenant
// without an override is not limited.
func TestTenantRateLimit(t *testing.T) {
	e := newLimitedEnv(t, "overrides:\n  team-a:\n    ingestion_rate: 1\n    ingestion_burst: 10\n")
	ts := e.now.UnixMilli()
	type post struct {
		tenant, req string
		samples     int
		code        int
		retryAfter  string
		want        []string
	}
	for _, p := range []post{
		{tenant: "team-a", req: "a1", samples: 6, code: 204},
		{tenant: "team-b", req: "b1", samples: 6, code: 204},
		{tenant: "team-a", req: "a2", samples: 6, code: 429, retryAfter: "2", want: []string{
			`tenant "team-a" is over its ingestion rate limit ingestion_rate=1 per second (-limits.overrides-file), burst ingestion_burst=10 (-limits.overrides-file): the request's 6 samples would fit in `,
			"nothing was stored",
		}},
		{tenant: "team-b", req: "b2", samples: 6, code: 204},
		{tenant: "team-a", req: "a3", samples: 11, code: 429, retryAfter: "10", want: []string{
			`tenant "team-a" sent 11 samples in one request, more than its limit ingestion_burst=10 (-limits.overrides-file) admits at once`,
		}},
		{tenant: "team-b", req: "b3", samples: 11, code: 204},
	} {
		code, body, h := e.post(t, "/api/v1/write", rwBody(t, requestSeries(ts, p.req, p.samples)...), map[string]string{"X-Scope-OrgID": p.tenant})
		require.Equal(t, p.code, code, "%s: %s", p.req, body)
		require.Equal(t, p.retryAfter, h.Get("Retry-After"), p.req)
		for _, w := range p.want {
			require.Contains(t, body, w, p.req)
		}
	}
	got := e.consumeAtLeast(t, 6+6+6+11)
	perReq := map[string]int{}
	for _, s := range got {
		perReq[s.Tenant+"/"+s.Labels.Get("req")]++
	}
	require.Equal(t, map[string]int{"team-a/a1": 6, "team-b/b1": 6, "team-b/b2": 6, "team-b/b3": 11}, perReq, "refused requests left nothing behind")
	text := setText(e)
	require.Contains(t, text, `cairn_ingest_requests_failed_total{protocol="prometheus",reason="rate_limited",code="429"} 1`)
	require.Contains(t, text, `cairn_ingest_requests_failed_total{protocol="prometheus",reason="over_burst",code="429"} 1`)
	require.Contains(t, text, `cairn_ingest_samples_total{protocol="prometheus",result="rejected",reason="rate_limited"} 6`)
	require.Contains(t, text, `cairn_ingest_samples_total{protocol="prometheus",result="rejected",reason="over_burst"} 11`)
}

// TestTenantRateLimitEveryProtocol posts two or more samples, log lines or
// build events to every receiver as a tenant whose burst is 1: each
// answers 429 in its protocol's error format, and no topic gets anything.
func TestTenantRateLimitEveryProtocol(t *testing.T) {
	e := newLimitedEnv(t, "overrides:\n  tiny:\n    ingestion_rate: 0.5\n    ingestion_burst: 1\n")
	ts := e.now.UnixMilli()
	v2, err := rw2Request(
		rw2Series{labels: labels.FromStrings("__name__", "a"), samples: []writev2.Sample{{Value: 1, Timestamp: ts}}},
		rw2Series{labels: labels.FromStrings("__name__", "b"), samples: []writev2.Sample{{Value: 2, Timestamp: ts}}},
	).Marshal()
	require.NoError(t, err)
	ns := e.now.UnixNano()
	for _, tc := range []struct {
		name, path string
		hdr        map[string]string
		body       []byte
		unit       string
	}{
		{"remote write 1.0", "/api/v1/write", map[string]string{"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy"}, rwBody(t, requestSeries(ts, "x", 2)...), "2 samples"},
		{"remote write 2.0", "/api/v1/write", map[string]string{"Content-Type": contentTypeV2, "Content-Encoding": "snappy"}, snappy.Encode(nil, v2), "2 samples"},
		{"otlp metrics", "/v1/metrics", map[string]string{"Content-Type": "application/x-protobuf"}, collectorMetrics(t, "svc", e.now, false), "samples"},
		{"otlp logs", "/v1/logs", map[string]string{"Content-Type": "application/x-protobuf"}, collectorLogs(t, "svc", e.now, "one", "two"), "2 log lines"},
		{"influx v1", "/write?db=telegraf", nil, []byte("m v=1,w=2\n"), "2 samples"},
		{"influx v2", "/api/v2/write?bucket=b", nil, []byte("m v=1,w=2\n"), "2 samples"},
		{"loki push", "/loki/api/v1/push", map[string]string{"Content-Type": "application/json"}, fmt.Appendf(nil, `{"streams":[{"stream":{"app":"web"},"values":[["%d","one"],["%d","two"]]}]}`, ns, ns), "2 log lines"},
		{"ndjson", "/api/v1/logs?stream=app", nil, []byte("{\"app\":\"a\",\"msg\":\"one\"}\n{\"app\":\"a\",\"msg\":\"two\"}\n"), "2 log lines"},
		{"builds", "/api/v1/builds", map[string]string{"Content-Type": "application/json"}, payload(t, "native/events.json"), "3 build events"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body, h := postTo(t, e.srv.URL+tc.path, tc.body, with(tc.hdr, "X-Scope-OrgID", "tiny"))
			require.Equal(t, http.StatusTooManyRequests, code, body)
			require.Equal(t, "2", h.Get("Retry-After"), "the time to fill the bucket of 1 at 0.5/s")
			msg := body
			if h.Get("Content-Type") != "" {
				msg = errorMessage(t, body, h)
			}
			require.Contains(t, msg, `tenant "tiny" sent `)
			require.Contains(t, msg, tc.unit+" in one request, more than its limit ingestion_burst=1 (-limits.overrides-file)")
		})
	}
	for _, topic := range []string{e.topics.Metrics, e.topics.Logs, e.topics.Builds} {
		require.Empty(t, topicMessages(t, e.qcfg, topic, time.Second), "topic %s", topic)
	}
}

// topicMessages reads topic from the start in a fresh group until it has
// been idle for idle.
func topicMessages(t *testing.T, qcfg queue.Config, topic string, idle time.Duration) []queue.Message {
	c := queue.NewConsumer(qcfg, qcfg.TopicPrefix+"drain-"+topic, []string{topic}, discard())
	defer c.Close()
	var out []queue.Message
	for {
		ctx, cancel := context.WithTimeout(context.Background(), idle)
		m, err := c.Fetch(ctx)
		cancel()
		if err != nil {
			require.ErrorIs(t, err, context.DeadlineExceeded)
			return out
		}
		out = append(out, m)
	}
}

// TestTenantRateRefills: a reloaded override resizes the tenant's bucket,
// and tokens come back at the rate.
func TestTenantRateRefills(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	limits := &fixedLimits{l: tenant.Limits{IngestionRate: 10, IngestionBurst: 5}}
	rc := &Receiver{tenants: newRateLimiter(limits)}
	rc.tenants.now = func() time.Time { return now }
	take := func(n int) error {
		ctx := context.WithValue(context.Background(), chargeKey{}, &charge{})
		return rc.charge(ctx, "t", unitSamples, n)
	}
	require.NoError(t, take(5))
	require.ErrorContains(t, take(1), "would fit in 100ms")
	now = now.Add(100 * time.Millisecond)
	require.NoError(t, take(1))
	limits.l.IngestionBurst = 50
	require.ErrorContains(t, take(10), "would fit in 1s", "a larger burst does not fill the bucket")
	now = now.Add(time.Second)
	require.NoError(t, take(10))
	limits.l.IngestionRate = 0
	require.NoError(t, take(1000), "0 is no limit")
	require.NoError(t, rc.charge(context.Background(), "t", unitSamples, 1000), "the bridge is not charged")
}

// TestTenantBucketsDropFull: past max tenants, buckets that refilled are
// dropped, and those still drawn down are kept.
func TestTenantBucketsDropFull(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	rl := newRateLimiter(&fixedLimits{l: tenant.Limits{IngestionRate: 1, IngestionBurst: 10}})
	rl.max = 2
	l := rl.limits.For("")
	rl.bucket("busy", l, now).AllowN(now, 10)
	rl.bucket("idle", l, now)
	rl.bucket("new", l, now)
	require.Len(t, rl.buckets, 2)
	require.Contains(t, rl.buckets, "busy")
	require.Contains(t, rl.buckets, "new")

	// When nothing can be dropped, the next sweep waits until the map
	// has doubled rather than scanning it for every new tenant.
	rl.bucket("new", l, now).AllowN(now, 10)
	rl.bucket("third", l, now).AllowN(now, 10)
	require.Len(t, rl.buckets, 3)
	require.Equal(t, 4, rl.max)
}

type fixedLimits struct{ l tenant.Limits }

func (f *fixedLimits) For(string) tenant.Limits { return f.l }
