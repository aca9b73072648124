package ingest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/ingest/queue"
	"github.com/cairn-dev/cairn/ingest/queue/queuetest"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/storetest"
)

// runBridge bridges what the source topics of cfg hold in consumer group
// group until counted reports enough, then stops the bridge.
func runBridge(t *testing.T, qcfg queue.Config, cfg BridgeConfig, rc *Receiver, p DeadLetters, counted func(*metrics.Set) bool) {
	src := queue.NewConsumer(cfg.Queue(qcfg), cfg.Group, cfg.Topics(), discard())
	defer src.Close()
	set := metrics.NewSet()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- NewBridge(cfg, rc, src, p, discard(), set).Run(ctx) }()
	require.Eventually(t, func() bool { return counted(set) }, 60*time.Second, 20*time.Millisecond)
	stop()
	require.NoError(t, <-done)
}

// TestBridgeIntoStore runs the whole path of Collector telemetry on
// Kafka: source topics → bridge → Cairn's topics → writer → ClickHouse.
// The source is bridged twice, by two consumer groups, as it would be
// after a crash between produce and commit: the store still returns each
// sample and each log line once. It needs CAIRN_TEST_CLICKHOUSE.
func TestBridgeIntoStore(t *testing.T) {
	queuetest.Each(t, func(t *testing.T, brokers string) {
		st := storetest.OpenTest(t)
		qcfg := testQueueConfig(brokers)
		qcfg.TopicPrefix = queuetest.UniquePrefix(t)
		topics := TopicsFor(qcfg)
		srcMetrics, srcLogs := qcfg.TopicPrefix+"otlp_metrics", qcfg.TopicPrefix+"otlp_logs"
		ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
		defer cancel()
		require.NoError(t, queue.EnsureTopics(ctx, qcfg, append(topics.All(), srcMetrics, srcLogs)...))
		p, err := queue.NewProducer(qcfg, discard(), metrics.NewSet())
		require.NoError(t, err)
		defer p.Close()
		now := time.Now().Truncate(time.Millisecond)
		require.NoError(t, p.Produce(ctx, []queue.Message{
			{Topic: srcMetrics, Value: collectorMetrics(t, "billing", now, false)},
			{Topic: srcLogs, Value: collectorLogs(t, "billing", now, "one", "two")},
		}))

		rc := NewReceiver(testReceiverConfig(), topics, p, discard(), metrics.NewSet())
		cfg := BridgeConfig{MetricsTopics: srcMetrics, LogsTopics: srcLogs, Tenant: "bridged", MaxBackoff: 200 * time.Millisecond}
		both := func(set *metrics.Set) bool {
			return set.GetOrCreateCounter(fmt.Sprintf(`cairn_bridge_messages_total{topic=%q,result="bridged"}`, srcMetrics)).Get() == 1 &&
				set.GetOrCreateCounter(fmt.Sprintf(`cairn_bridge_messages_total{topic=%q,result="bridged"}`, srcLogs)).Get() == 1
		}
		for _, group := range []string{"bridge-a", "bridge-b"} {
			cfg.Group = qcfg.TopicPrefix + group
			runBridge(t, qcfg, cfg, rc, p, both)
		}

		c := queue.NewConsumer(qcfg, qcfg.TopicPrefix+"writers", topics.Data(), discard())
		defer c.Close()
		w := NewWriter(testWriterConfig(), c, st, p, topics.DeadLetter, discard(), metrics.NewSet())
		wctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- w.Run(wctx) }()
		from, to := now.Add(-time.Minute), now.Add(time.Minute)
		var entries []store.LogEntry
		require.Eventually(t, func() bool {
			entries, err = st.ReadLogs(ctx, store.LogQuery{Tenant: "bridged", Start: from.UnixNano(), End: to.UnixNano(), Direction: store.Forward,
				Matchers: []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "service_name", "billing")}})
			return err == nil && len(entries) >= 2
		}, 60*time.Second, 100*time.Millisecond)
		stop()
		require.NoError(t, <-done)

		require.Len(t, entries, 2, "each line once, though it was bridged twice")
		require.ElementsMatch(t, []string{"one", "two"}, []string{entries[0].Line, entries[1].Line})
		require.Equal(t, `{k8s_namespace_name="prod", service_name="billing"}`, entries[0].Stream.String())
		require.Equal(t, "warn", entries[0].Metadata.Get("level"))
		require.Equal(t, "WARN", entries[0].Metadata.Get("severity_text"))

		refs, err := st.SelectSeries(ctx, "bridged", from.UnixMilli(), to.UnixMilli(), labels.MustNewMatcher(labels.MatchEqual, "job", "billing"))
		require.NoError(t, err)
		require.Len(t, refs, 2)
		fps := []uint64{refs[0].Fingerprint, refs[1].Fingerprint}
		samples, err := st.ReadSamples(ctx, "bridged", fps, from.UnixMilli(), to.UnixMilli())
		require.NoError(t, err)
		for _, r := range refs {
			require.Len(t, samples[r.Fingerprint], 1, "%s: one sample, though it was bridged twice", r.Labels)
			require.Equal(t, now.UnixMilli(), samples[r.Fingerprint][0].T)
		}
	})
}
