package ingest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/go-chi/chi/v5"
	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/ingest/queue"
	"github.com/cairn-dev/cairn/ingest/queue/queuetest"
	"github.com/cairn-dev/cairn/ingest/remotewrite"
	"github.com/cairn-dev/cairn/ingest/wire"
	"github.com/cairn-dev/cairn/store"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func testQueueConfig(brokers string) queue.Config {
	return queue.Config{
		Brokers: brokers, TopicPrefix: "cairn.", Partitions: 4, ReplicationFactor: 1, Compression: "snappy",
		BatchTimeout: 2 * time.Millisecond, WriteTimeout: 5 * time.Second, MaxMessageBytes: 1 << 20, SessionTimeout: 6 * time.Second,
	}
}

func testReceiverConfig() ReceiverConfig {
	return ReceiverConfig{
		MaxRequestBytes: 1 << 20, MaxDecodedBytes: 4 << 20,
		LabelsInterval: 10 * time.Minute, SeriesCacheSize: 1 << 16,
		Limits: Limits{MaxLabelsPerSeries: 10, MaxLabelNameLength: 64, MaxLabelValueLength: 64, MaxFutureSkew: 10 * time.Minute, MaxLineBytes: 1024},
	}
}

// receiverEnv is a receiver producing to a kfake broker, served over HTTP.
type receiverEnv struct {
	srv    *httptest.Server
	qcfg   queue.Config
	topics Topics
	now    time.Time
	set    *metrics.Set
}

func newReceiverEnv(t *testing.T) *receiverEnv {
	return newReceiverEnvOn(t, testQueueConfig(queuetest.Fake(t)))
}

// newReceiverEnvOn is newReceiverEnv on the Kafka of qcfg.
func newReceiverEnvOn(t *testing.T, qcfg queue.Config) *receiverEnv {
	topics := TopicsFor(qcfg)
	require.NoError(t, queue.EnsureTopics(context.Background(), qcfg, topics.All()...))
	p, err := queue.NewProducer(qcfg, discard(), metrics.NewSet())
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	set := metrics.NewSet()
	rc := NewReceiver(testReceiverConfig(), topics, p, discard(), set)
	env := &receiverEnv{qcfg: qcfg, topics: topics, now: time.UnixMilli(1_700_000_000_000), set: set}
	rc.now = func() time.Time { return env.now }
	r := chi.NewRouter()
	rc.Register(r)
	env.srv = httptest.NewServer(r)
	t.Cleanup(env.srv.Close)
	return env
}

func (e *receiverEnv) post(t *testing.T, path string, body []byte, hdr map[string]string) (int, string, http.Header) {
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("Content-Type", "application/x-protobuf")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// consumeSeries reads n series back from the metrics topic.
func (e *receiverEnv) consumeSeries(t *testing.T, n int) []store.Series {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := queue.NewConsumer(e.qcfg, e.qcfg.TopicPrefix+"check", []string{e.topics.Metrics}, discard())
	defer c.Close()
	var out []store.Series
	for len(out) < n {
		m, err := c.Fetch(ctx)
		require.NoError(t, err, "waiting for %d series, have %d", n, len(out))
		out, err = wire.DecodeMetrics(out, m.Value)
		require.NoError(t, err)
	}
	return out
}

func rwBody(t *testing.T, series ...store.Series) []byte {
	b, err := remotewrite.EncodeV1(series)
	require.NoError(t, err)
	return b
}

func series(ts int64, v float64, kv ...string) store.Series {
	return store.Series{Labels: labels.FromStrings(kv...), Samples: []store.Sample{{T: ts, V: v}}}
}

func TestRemoteWriteAccepted(t *testing.T) {
	e := newReceiverEnv(t)
	now := e.now.UnixMilli()
	code, body, _ := e.post(t, "/api/v1/write", rwBody(t,
		series(now, 42, "__name__", "demo_metric", "job", "x"),
		series(now, 1, "__name__", "up", "job", "y"),
	), map[string]string{"X-Scope-OrgID": "team-a"})
	require.Equal(t, http.StatusNoContent, code, body)

	got := e.consumeSeries(t, 2)
	byName := map[string]store.Series{}
	for _, s := range got {
		byName[s.Labels.Get("__name__")] = s
		require.Equal(t, "team-a", s.Tenant)
	}
	require.Equal(t, []store.Sample{{T: now, V: 42}}, byName["demo_metric"].Samples)
	require.Equal(t, "x", byName["demo_metric"].Labels.Get("job"))
}

func TestRemoteWritePartialRejection(t *testing.T) {
	e := newReceiverEnv(t)
	now := e.now.UnixMilli()
	code, body, _ := e.post(t, "/api/v1/push", rwBody(t,
		series(now, 1, "__name__", "good", "job", "x"),
		series(now, 2, "__name__", "bad", "job", "x", "0pe", "v"),
		series(now+int64(time.Hour/time.Millisecond), 3, "__name__", "future", "job", "x"),
	), nil)
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, body, "2 of 3 samples rejected, the rest were stored")
	require.Contains(t, body, `label name "0pe"`)

	got := e.consumeSeries(t, 1)
	require.Equal(t, "good", got[0].Labels.Get("__name__"))
}

func TestRemoteWriteBadInput(t *testing.T) {
	e := newReceiverEnv(t)
	now := e.now.UnixMilli()
	many := []string{"__name__", "m"}
	for _, n := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"} {
		many = append(many, n, "v")
	}
	for _, tc := range []struct {
		name string
		body []byte
		hdr  map[string]string
		code int
		want string
	}{
		{"not snappy", []byte("plain text"), nil, 400, "snappy"},
		{"not protobuf", mustSnappy(t, "\xff\xff\xff"), nil, 400, "protobuf"},
		{"too large", bytes.Repeat([]byte{0}, 2<<20), nil, 413, "exceeds 1048576 bytes (-ingest.max-request-bytes)"},
		{"gzip", rwBody(t, series(now, 1, "__name__", "m")), map[string]string{"Content-Encoding": "gzip"}, 415, `Content-Encoding "gzip"`},
		{"content type", rwBody(t, series(now, 1, "__name__", "m")), map[string]string{"Content-Type": "application/json"}, 415, `Content-Type "application/json" is not supported: send application/x-protobuf;proto=io.prometheus.write.v2.Request`},
		{"unknown proto", rwBody(t, series(now, 1, "__name__", "m")), map[string]string{"Content-Type": "application/x-protobuf;proto=io.prometheus.write.v3.Request"}, 415, "proto=prometheus.WriteRequest (1.0)"},
		{"tenant", rwBody(t, series(now, 1, "__name__", "m")), map[string]string{"X-Scope-OrgID": "a/b"}, 400, "X-Scope-OrgID"},
		{"no name", rwBody(t, series(now, 1, "job", "x")), nil, 400, "has no metric name (label __name__)"},
		{"bad name", rwBody(t, series(now, 1, "__name__", "1x")), nil, 400, `metric name "1x" is not valid`},
		{"too many labels", rwBody(t, series(now, 1, many...)), nil, 400, "has 11 labels, the limit is 10 (-ingest.max-labels-per-series)"},
		{"long value", rwBody(t, series(now, 1, "__name__", "m", "a", strings.Repeat("v", 65))), nil, 400, "65 bytes long, the limit is 64 (-ingest.max-label-value-length)"},
		{"future", rwBody(t, series(now+3600_000, 1, "__name__", "m")), nil, 400, "in the future (-ingest.max-future-skew)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body, _ := e.post(t, "/api/v1/write", tc.body, tc.hdr)
			require.Equal(t, tc.code, code, body)
			require.Contains(t, body, tc.want)
		})
	}
}

func mustSnappy(_ *testing.T, s string) []byte { return snappy.Encode(nil, []byte(s)) }

func TestRemoteWriteKafkaDown(t *testing.T) {
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

	resp, err := http.Post(srv.URL+"/api/v1/write", "application/x-protobuf", bytes.NewReader(rwBody(t, series(time.Now().UnixMilli(), 1, "__name__", "m"))))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, string(b))
	require.Equal(t, "5", resp.Header.Get("Retry-After"))
	require.Contains(t, string(b), "kafka unavailable")
}

// memStore records what a writer wrote; it fails the first failN writes.
type memStore struct {
	mu     sync.Mutex
	failN  int
	calls  int
	series []store.Series
	logs   []store.LogEntry
	builds []store.BuildEvent
	tokens []string
}

func (m *memStore) WriteLogs(_ context.Context, entries []store.LogEntry, token string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if m.calls <= m.failN {
		return io.ErrUnexpectedEOF
	}
	m.logs = append(m.logs, entries...)
	m.tokens = append(m.tokens, token)
	return nil
}

func (m *memStore) WriteBuilds(_ context.Context, events []store.BuildEvent, token string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if m.calls <= m.failN {
		return io.ErrUnexpectedEOF
	}
	m.builds = append(m.builds, events...)
	m.tokens = append(m.tokens, token)
	return nil
}

func (m *memStore) buildEvents() []store.BuildEvent {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]store.BuildEvent(nil), m.builds...)
}

func (m *memStore) logLines() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, e := range m.logs {
		out = append(out, e.Line)
	}
	return out
}

func (m *memStore) WriteMetrics(_ context.Context, metrics *store.Metrics, token string, _ *store.Rollups) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if m.calls <= m.failN {
		return io.ErrUnexpectedEOF
	}
	m.series = append(m.series, metrics.Series...)
	m.series = append(m.series, metrics.Refs.Series()...)
	m.tokens = append(m.tokens, token)
	return nil
}

func (m *memStore) samples() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, s := range m.series {
		n += len(s.Samples)
	}
	return n
}

func testWriterConfig() WriterConfig {
	return WriterConfig{Group: "writers", BatchRows: 1000, BatchBytes: 1 << 20, LogBatchBytes: 1 << 20, FlushInterval: 50 * time.Millisecond, DrainTimeout: 10 * time.Second, MaxBackoff: 100 * time.Millisecond}
}

// TestWriter checks the writer's contract on a real Kafka protocol
// implementation: everything produced reaches the store, a corrupt message
// goes to the dead-letter topic with its reason, store failures are
// retried, and offsets are committed only after the store took the batch.
func TestWriter(t *testing.T) {
	queuetest.Each(t, func(t *testing.T, brokers string) {
		qcfg := testQueueConfig(brokers)
		qcfg.TopicPrefix = queuetest.UniquePrefix(t)
		topics := TopicsFor(qcfg)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		require.NoError(t, queue.EnsureTopics(ctx, qcfg, topics.All()...))
		p, err := queue.NewProducer(qcfg, discard(), metrics.NewSet())
		require.NoError(t, err)
		defer p.Close()

		var msgs []queue.Message
		for i := range 20 {
			s := series(int64(1000*i), float64(i), "__name__", "m", "i", string(rune('a'+i)))
			msgs = append(msgs, queue.Message{Topic: topics.Metrics, Key: queue.ShardKey("t", i), Value: wire.AppendMetrics(nil, "t", []store.Series{s})})
		}
		msgs = append(msgs, queue.Message{Topic: topics.Metrics, Key: queue.ShardKey("t", 0), Value: []byte("garbage")})
		require.NoError(t, p.Produce(ctx, msgs))

		st := &memStore{failN: 2}
		c := queue.NewConsumer(qcfg, qcfg.TopicPrefix+"writers", []string{topics.Metrics}, discard())
		w := NewWriter(testWriterConfig(), c, st, p, topics.DeadLetter, discard(), metrics.NewSet())
		wctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- w.Run(wctx) }()
		require.Eventually(t, func() bool { return st.samples() == 20 }, 90*time.Second, 20*time.Millisecond)
		stop()
		require.NoError(t, <-done)
		require.NoError(t, c.Close())
		require.GreaterOrEqual(t, st.calls, 3, "the two failed writes were retried")

		// The corrupt message is on the dead-letter topic with its reason.
		dlq := queue.NewConsumer(qcfg, qcfg.TopicPrefix+"dlq-check", []string{topics.DeadLetter}, discard())
		defer dlq.Close()
		dm, err := dlq.Fetch(ctx)
		require.NoError(t, err)
		require.Equal(t, "garbage", string(dm.Value))
		require.Contains(t, dm.Headers["cairn.reason"], "corrupt message")
		require.Equal(t, topics.Metrics, dm.Headers["cairn.source.topic"])

		// Everything was committed: the group has nothing left to read.
		c2 := queue.NewConsumer(qcfg, qcfg.TopicPrefix+"writers", []string{topics.Metrics}, discard())
		defer c2.Close()
		fctx, fcancel := context.WithTimeout(ctx, 3*time.Second)
		defer fcancel()
		_, err = c2.Fetch(fctx)
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
}

// TestWriterDrainsOnShutdown checks that messages in Kafka when shutdown
// begins still reach the store before Run returns.
func TestWriterDrainsOnShutdown(t *testing.T) {
	qcfg := testQueueConfig(queuetest.Fake(t))
	topics := TopicsFor(qcfg)
	ctx := context.Background()
	require.NoError(t, queue.EnsureTopics(ctx, qcfg, topics.All()...))
	p, err := queue.NewProducer(qcfg, discard(), metrics.NewSet())
	require.NoError(t, err)
	defer p.Close()
	var msgs []queue.Message
	for i := range 50 {
		msgs = append(msgs, queue.Message{Topic: topics.Metrics, Key: queue.ShardKey("t", i), Value: wire.AppendMetrics(nil, "t", []store.Series{series(int64(i), 1, "__name__", "m")})})
	}
	require.NoError(t, p.Produce(ctx, msgs))

	st := &memStore{}
	c := queue.NewConsumer(qcfg, "writers", []string{topics.Metrics}, discard())
	defer c.Close()
	w := NewWriter(testWriterConfig(), c, st, p, topics.DeadLetter, discard(), metrics.NewSet())
	cancelled, cancel := context.WithCancel(ctx)
	cancel() // shut down before the first fetch
	require.NoError(t, w.Run(cancelled))
	require.Equal(t, 50, st.samples())
}

func TestDedupToken(t *testing.T) {
	msgs := []queue.Message{
		{Topic: "m", Partition: 1, Offset: 7}, {Topic: "m", Partition: 0, Offset: 3},
		{Topic: "m", Partition: 1, Offset: 9}, {Topic: "m", Partition: 0, Offset: 4},
	}
	require.Equal(t, "m:1:7-9,m:0:3-4", dedupToken(msgs))
}

// TestWriterMetricsAndLogs checks that one writer consumes both topics and
// hands each kind to its store method, and that a message of a kind no
// writer knows is dead-lettered rather than blocking its partition.
func TestWriterMetricsAndLogs(t *testing.T) {
	qcfg := testQueueConfig(queuetest.Fake(t))
	topics := TopicsFor(qcfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, queue.EnsureTopics(ctx, qcfg, topics.All()...))
	p, err := queue.NewProducer(qcfg, discard(), metrics.NewSet())
	require.NoError(t, err)
	defer p.Close()
	stream := labels.FromStrings("app", "web")
	require.NoError(t, p.Produce(ctx, []queue.Message{
		{Topic: topics.Metrics, Key: queue.ShardKey("t", 0), Value: wire.AppendMetrics(nil, "t", []store.Series{series(1, 1, "__name__", "m")})},
		{Topic: topics.Logs, Key: queue.ShardKey("t", 1), Value: wire.AppendLogs(nil, "t", []store.LogEntry{
			{Stream: stream, T: 10, Line: "first"}, {Stream: stream, T: 20, Line: "second"},
		})},
		{Topic: topics.Logs, Key: queue.ShardKey("t", 2), Value: []byte{'C', 1, 9, 0}}, // kind 9
	}))

	st := &memStore{}
	c := queue.NewConsumer(qcfg, "writers", topics.Data(), discard())
	defer c.Close()
	w := NewWriter(testWriterConfig(), c, st, p, topics.DeadLetter, discard(), metrics.NewSet())
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	require.Eventually(t, func() bool { return st.samples() == 1 && len(st.logLines()) == 2 }, 20*time.Second, 20*time.Millisecond)
	stop()
	require.NoError(t, <-done)
	require.Equal(t, []string{"first", "second"}, st.logLines())
	require.Equal(t, "t", st.logs[0].Tenant)

	dlq := queue.NewConsumer(qcfg, "dlq-check", []string{topics.DeadLetter}, discard())
	defer dlq.Close()
	dm, err := dlq.Fetch(ctx)
	require.NoError(t, err)
	require.Contains(t, dm.Headers["cairn.reason"], "no writer for kind(9) messages")
}

// flakySource fails its first fetches the way a broker without an elected
// group coordinator does.
type flakySource struct {
	Source
	fails int
}

func (f *flakySource) Fetch(ctx context.Context) (queue.Message, error) {
	if f.fails > 0 {
		f.fails--
		return queue.Message{}, errors.New("[16] Not Coordinator For Group")
	}
	return f.Source.Fetch(ctx)
}

// TestWriterSurvivesFetchErrors checks that fetch errors pause the writer
// instead of ending it.
func TestWriterSurvivesFetchErrors(t *testing.T) {
	qcfg := testQueueConfig(queuetest.Fake(t))
	topics := TopicsFor(qcfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, queue.EnsureTopics(ctx, qcfg, topics.All()...))
	p, err := queue.NewProducer(qcfg, discard(), metrics.NewSet())
	require.NoError(t, err)
	defer p.Close()
	require.NoError(t, p.Produce(ctx, []queue.Message{{Topic: topics.Metrics, Key: queue.ShardKey("t", 0), Value: wire.AppendMetrics(nil, "t", []store.Series{series(1, 1, "__name__", "m")})}}))

	c := queue.NewConsumer(qcfg, "writers", topics.Data(), discard())
	defer c.Close()
	st := &memStore{}
	set := metrics.NewSet()
	w := NewWriter(testWriterConfig(), &flakySource{Source: c, fails: 3}, st, p, topics.DeadLetter, discard(), set)
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	require.Eventually(t, func() bool { return st.samples() == 1 }, 20*time.Second, 20*time.Millisecond)
	stop()
	require.NoError(t, <-done)
	require.Equal(t, uint64(3), set.GetOrCreateCounter(`cairn_writer_retries_total{op="fetch"}`).Get())
}
