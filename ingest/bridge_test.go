package ingest

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"

	"github.com/cairn-dev/cairn/ingest/queue"
	"github.com/cairn-dev/cairn/ingest/queue/queuetest"
	"github.com/cairn-dev/cairn/ingest/wire"
	"github.com/cairn-dev/cairn/store"
)

func TestBridgeConfig(t *testing.T) {
	var c BridgeConfig
	fs := flag.NewFlagSet("cairn", flag.ContinueOnError)
	c.RegisterFlags(fs)
	require.NoError(t, fs.Parse(nil))
	require.NoError(t, c.Validate())
	require.False(t, c.Enabled(), "no topics, no bridge")
	require.Equal(t, "cairn-bridge", c.Group)
	require.Equal(t, "anonymous", c.Tenant)

	require.NoError(t, fs.Parse([]string{"-bridge.metrics-topics", " otlp_metrics, ,edge_metrics", "-bridge.logs-topics", "otlp_logs", "-bridge.brokers", "k1:9092,k2:9092"}))
	require.NoError(t, c.Validate())
	require.True(t, c.Enabled())
	require.Equal(t, []string{"otlp_metrics", "edge_metrics", "otlp_logs"}, c.Topics())
	base := testQueueConfig("cairn-kafka:9092")
	require.Equal(t, "k1:9092,k2:9092", c.Queue(base).Brokers)
	c.Brokers = ""
	require.Equal(t, "cairn-kafka:9092", c.Queue(base).Brokers, "the bridged topics default to Cairn's brokers")

	bad := BridgeConfig{MetricsTopics: "a,b", LogsTopics: "b", Tenant: "a/b", MaxBackoff: 0}
	err := bad.Validate()
	require.ErrorContains(t, err, `-bridge.metrics-topics and -bridge.logs-topics both name topic "b"`)
	require.ErrorContains(t, err, "-bridge.group: empty")
	require.ErrorContains(t, err, "-bridge.tenant: X-Scope-OrgID: tenant ID has unsupported character '/'")
	require.ErrorContains(t, err, "-bridge.max-backoff: 0s, must be positive")
}

// collectorMetrics is an ExportMetricsServiceRequest as a Collector's
// Kafka exporter writes it with encoding otlp_proto (or otlp_json).
func collectorMetrics(t *testing.T, service string, at time.Time, json bool) []byte {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", service)
	ms := rm.ScopeMetrics().AppendEmpty().Metrics()
	g := ms.AppendEmpty()
	g.SetName("queue.depth")
	dp := g.SetEmptyGauge().DataPoints().AppendEmpty()
	dp.SetTimestamp(pcommon.NewTimestampFromTime(at))
	dp.SetIntValue(7)
	s := ms.AppendEmpty()
	s.SetName("jobs.done")
	sum := s.SetEmptySum()
	sum.SetIsMonotonic(true)
	sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	sp := sum.DataPoints().AppendEmpty()
	sp.SetTimestamp(pcommon.NewTimestampFromTime(at))
	sp.SetDoubleValue(12)
	req := pmetricotlp.NewExportRequestFromMetrics(md)
	var b []byte
	var err error
	if json {
		b, err = req.MarshalJSON()
	} else {
		b, err = req.MarshalProto()
	}
	require.NoError(t, err)
	return b
}

// collectorLogs is an ExportLogsServiceRequest as a Collector's Kafka
// exporter writes it with encoding otlp_proto.
func collectorLogs(t *testing.T, service string, at time.Time, lines ...string) []byte {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", service)
	rl.Resource().Attributes().PutStr("k8s.namespace.name", "prod")
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	for _, l := range lines {
		lr := lrs.AppendEmpty()
		lr.SetTimestamp(pcommon.NewTimestampFromTime(at))
		lr.SetSeverityText("WARN")
		lr.Body().SetStr(l)
	}
	b, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
	require.NoError(t, err)
	return b
}

// readTopic reads messages of topic in a fresh group until done says it
// has enough.
func readTopic(t *testing.T, qcfg queue.Config, topic string, done func([]queue.Message) bool) []queue.Message {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := queue.NewConsumer(qcfg, qcfg.TopicPrefix+"check-"+topic, []string{topic}, discard())
	defer c.Close()
	var out []queue.Message
	for !done(out) {
		m, err := c.Fetch(ctx)
		require.NoError(t, err, "reading %s, have %d messages", topic, len(out))
		out = append(out, m)
	}
	return out
}

// TestBridge produces what a Collector's Kafka exporter writes to its
// default topics — metrics and logs, protobuf and JSON, a corrupt message
// in the middle of a partition — runs the bridge, and reads Cairn's
// topics: the converted series and entries are there, the corrupt message
// is on the dead-letter topic with its reason, the message after it was
// bridged, and every source offset was committed.
func TestBridge(t *testing.T) {
	queuetest.Each(t, func(t *testing.T, brokers string) {
		qcfg := testQueueConfig(brokers)
		qcfg.TopicPrefix = queuetest.UniquePrefix(t)
		topics := TopicsFor(qcfg)
		srcMetrics, srcLogs := qcfg.TopicPrefix+"otlp_metrics", qcfg.TopicPrefix+"otlp_logs"
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		require.NoError(t, queue.EnsureTopics(ctx, qcfg, append(topics.All(), srcMetrics, srcLogs)...))
		p, err := queue.NewProducer(qcfg, discard(), metrics.NewSet())
		require.NoError(t, err)
		defer p.Close()

		now := time.Now()
		key := []byte("collector/0") // one partition, so order is kept
		require.NoError(t, p.Produce(ctx, []queue.Message{
			{Topic: srcMetrics, Key: key, Value: collectorMetrics(t, "billing", now, false)},
			{Topic: srcLogs, Key: key, Value: collectorLogs(t, "billing", now, "one", "two")},
			{Topic: srcLogs, Key: key, Value: []byte("\x0a\xff\xff garbage")},
			{Topic: srcLogs, Key: key, Value: collectorLogs(t, "edge", now, "after the corrupt one"), Headers: map[string]string{"X-Scope-OrgID": "team-k"}},
			{Topic: srcMetrics, Key: key, Value: collectorMetrics(t, "edge", now, true)},
		}))

		cfg := BridgeConfig{MetricsTopics: srcMetrics, LogsTopics: srcLogs, Group: qcfg.TopicPrefix + "bridge", Tenant: "bridged", MaxBackoff: 200 * time.Millisecond}
		require.NoError(t, cfg.Validate())
		set, bset := metrics.NewSet(), metrics.NewSet()
		rc := NewReceiver(testReceiverConfig(), topics, p, discard(), set)
		src := queue.NewConsumer(cfg.Queue(qcfg), cfg.Group, cfg.Topics(), discard())
		b := NewBridge(cfg, rc, src, p, discard(), bset)
		bctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- b.Run(bctx) }()

		var series []store.Series
		readTopic(t, qcfg, topics.Metrics, func(ms []queue.Message) bool {
			series = series[:0]
			for _, m := range ms {
				series, err = wire.DecodeMetrics(series, m.Value)
				require.NoError(t, err)
			}
			return len(series) >= 4
		})
		var got []string
		for _, s := range series {
			got = append(got, fmt.Sprintf("%s %s %v", s.Tenant, s.Labels, s.Samples[0].V))
			require.Equal(t, now.UnixMilli(), s.Samples[0].T)
		}
		require.ElementsMatch(t, []string{
			`bridged {__name__="queue_depth", job="billing"} 7`,
			`bridged {__name__="jobs_done_total", job="billing"} 12`,
			`bridged {__name__="queue_depth", job="edge"} 7`,
			`bridged {__name__="jobs_done_total", job="edge"} 12`,
		}, got)

		var entries []store.LogEntry
		readTopic(t, qcfg, topics.Logs, func(ms []queue.Message) bool {
			entries = entries[:0]
			for _, m := range ms {
				entries, err = wire.DecodeLogs(entries, m.Value)
				require.NoError(t, err)
			}
			return len(entries) >= 3
		})
		got = got[:0]
		for _, e := range entries {
			got = append(got, fmt.Sprintf("%s %s %s level=%s", e.Tenant, e.Stream, e.Line, e.Metadata.Get("level")))
		}
		require.ElementsMatch(t, []string{
			`bridged {k8s_namespace_name="prod", service_name="billing"} one level=warn`,
			`bridged {k8s_namespace_name="prod", service_name="billing"} two level=warn`,
			`team-k {k8s_namespace_name="prod", service_name="edge"} after the corrupt one level=warn`,
		}, got)

		dead := readTopic(t, qcfg, topics.DeadLetter, func(ms []queue.Message) bool { return len(ms) >= 1 })
		require.Equal(t, "\x0a\xff\xff garbage", string(dead[0].Value))
		require.Contains(t, dead[0].Headers["cairn.reason"], "cannot decode OTLP logs request: protobuf")
		require.Equal(t, srcLogs, dead[0].Headers["cairn.source.topic"])

		require.Eventually(t, func() bool {
			return bset.GetOrCreateCounter(fmt.Sprintf(`cairn_bridge_messages_total{topic=%q,result="bridged"}`, srcLogs)).Get() == 2 &&
				bset.GetOrCreateCounter(fmt.Sprintf(`cairn_bridge_messages_total{topic=%q,result="bridged"}`, srcMetrics)).Get() == 2 &&
				bset.GetOrCreateCounter(fmt.Sprintf(`cairn_bridge_messages_total{topic=%q,result="dead_letter"}`, srcLogs)).Get() == 1
		}, 10*time.Second, 20*time.Millisecond)
		require.Equal(t, uint64(4), set.GetOrCreateCounter(`cairn_ingest_samples_total{protocol="kafka_otlp",result="accepted"}`).Get())
		require.Equal(t, uint64(3), set.GetOrCreateCounter(`cairn_ingest_log_lines_total{protocol="kafka_otlp",result="accepted"}`).Get())
		time.Sleep(2 * commitInterval) // an idle fetch commits what is pending
		stop()
		require.NoError(t, <-done)
		require.NoError(t, src.Close())

		// Every source offset was committed: the group has nothing left.
		again := queue.NewConsumer(cfg.Queue(qcfg), cfg.Group, cfg.Topics(), discard())
		defer again.Close()
		fctx, fcancel := context.WithTimeout(ctx, 3*time.Second)
		defer fcancel()
		_, err = again.Fetch(fctx)
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
}

// eventLog records, in order, what the fakes below were asked to do.
type eventLog struct {
	mu     sync.Mutex
	events []string
}

func (l *eventLog) add(e string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

func (l *eventLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.events...)
}

// memSource is a Source over a fixed list of messages that records what
// is committed.
type memSource struct {
	mu     sync.Mutex
	msgs   []queue.Message
	next   int
	events *eventLog
}

func (s *memSource) Fetch(ctx context.Context) (queue.Message, error) {
	s.mu.Lock()
	if s.next < len(s.msgs) {
		m := s.msgs[s.next]
		s.next++
		s.mu.Unlock()
		return m, nil
	}
	s.mu.Unlock()
	<-ctx.Done()
	return queue.Message{}, ctx.Err()
}

func (s *memSource) Commit(_ context.Context, msgs ...queue.Message) error {
	var offs []string
	for _, m := range msgs {
		offs = append(offs, fmt.Sprint(m.Offset))
	}
	s.events.add("commit " + strings.Join(offs, ","))
	return nil
}

// downProducer is a Kafka that refuses the first fails produce calls.
type downProducer struct {
	mu     sync.Mutex
	fails  int
	events *eventLog
	keys   []string
}

func (p *downProducer) Produce(_ context.Context, msgs []queue.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fails != 0 {
		p.fails--
		return fmt.Errorf("%w: broker down", queue.ErrUnavailable)
	}
	for _, m := range msgs {
		p.events.add("produce " + m.Topic)
		p.keys = append(p.keys, string(m.Key))
	}
	return nil
}

func (*downProducer) Partitions(context.Context, string) (int, error) { return 1, nil }

// TestBridgeCommitsAfterProduce checks the at-least-once order on fakes:
// while Kafka refuses what the bridge produces, it retries and commits
// nothing; offsets are committed only once every message before them was
// produced or dead-lettered; a shutdown while Kafka is down commits
// nothing of what was not produced.
func TestBridgeCommitsAfterProduce(t *testing.T) {
	now := time.Now()
	msgs := []queue.Message{
		{Topic: "otlp_metrics", Offset: 10, Value: collectorMetrics(t, "svc", now, false)},
		{Topic: "otlp_logs", Offset: 11, Value: collectorLogs(t, "svc", now, "x"), Headers: map[string]string{"x-scope-orgid": "team-k"}},
		{Topic: "otlp_logs", Offset: 12, Value: collectorLogs(t, "svc", now, "y"), Headers: map[string]string{"X-Scope-OrgID": "a/b"}},
		{Topic: "otlp_logs", Offset: 13, Value: collectorLogs(t, "svc", now.Add(time.Hour), "too new")},
	}
	cfg := BridgeConfig{MetricsTopics: "otlp_metrics", LogsTopics: "otlp_logs", Group: "g", Tenant: "t", MaxBackoff: 50 * time.Millisecond}
	events := &eventLog{}
	src := &memSource{msgs: msgs, events: events}
	p := &downProducer{fails: 3, events: events}
	set, bset := metrics.NewSet(), metrics.NewSet()
	rc := NewReceiver(testReceiverConfig(), TopicsFor(testQueueConfig("")), p, discard(), set)
	b := NewBridge(cfg, rc, src, p, discard(), bset)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	require.Eventually(t, func() bool { return len(events.all()) == 4 }, 10*time.Second, 5*time.Millisecond)
	stop()
	require.NoError(t, <-done)
	require.Equal(t, []string{"produce cairn.metrics", "produce cairn.logs", "produce cairn.deadletter", "commit 10,11,12,13"}, events.all())
	require.Equal(t, []string{"t/0", "team-k/0", ""}, p.keys, "tenants from the header or -bridge.tenant; the dead letter keeps its key")
	require.Equal(t, uint64(3), bset.GetOrCreateCounter(`cairn_bridge_retries_total{op="produce"}`).Get())
	require.Equal(t, uint64(1), set.GetOrCreateCounter(`cairn_ingest_log_lines_total{protocol="kafka_otlp",result="rejected",reason="line_too_new"}`).Get())

	// Kafka down from the start: nothing is produced, nothing committed.
	events = &eventLog{}
	src = &memSource{msgs: msgs[:1], events: events}
	p = &downProducer{fails: -1, events: events}
	rc = NewReceiver(testReceiverConfig(), TopicsFor(testQueueConfig("")), p, discard(), metrics.NewSet())
	b = NewBridge(cfg, rc, src, p, discard(), metrics.NewSet())
	ctx, stop = context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer stop()
	require.NoError(t, b.Run(ctx))
	require.Empty(t, events.all())
}
