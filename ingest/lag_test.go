package ingest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/ingest/queue"
	"github.com/cairn-dev/cairn/ingest/queue/queuetest"
	"github.com/cairn-dev/cairn/ingest/wire"
	"github.com/cairn-dev/cairn/store"
)

// TestWriterPartitionLag checks cairn_writer_consumer_lag_messages: while
// the store is down, each partition's gauge counts the messages the
// writer has not committed; once the store is back and the batch is
// committed, they fall to 0. Partitions never read have no gauge.
func TestWriterPartitionLag(t *testing.T) {
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
		perShard := map[int]int{0: 10, 1: 4}
		var msgs []queue.Message
		for shard, n := range perShard {
			for i := range n {
				msgs = append(msgs, queue.Message{Topic: topics.Metrics, Key: queue.ShardKey("t", shard),
					Value: wire.AppendMetrics(nil, "t", []store.Series{series(int64(i), 1, "__name__", "m")})})
			}
		}
		require.NoError(t, p.Produce(ctx, msgs))

		st := &memStore{failN: 1 << 30} // down
		c := queue.NewConsumer(qcfg, qcfg.TopicPrefix+"writers", topics.Data(), discard())
		defer c.Close()
		cfg := testWriterConfig()
		cfg.BatchRows, cfg.FlushInterval = len(msgs), time.Minute // one batch of everything
		set := metrics.NewSet()
		w := NewWriter(cfg, c, st, p, topics.DeadLetter, discard(), set)
		wctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- w.Run(wctx) }()

		gauge := func(partition int) func() float64 {
			name := fmt.Sprintf(`cairn_writer_consumer_lag_messages{topic=%q,partition="%d"}`, topics.Metrics, partition)
			return func() float64 { return set.GetOrCreateGauge(name, nil).Get() }
		}
		lagOf := func() map[int]float64 { return map[int]float64{0: gauge(0)(), 1: gauge(1)()} }
		require.Eventually(t, func() bool { return lagOf()[0] == 10 && lagOf()[1] == 4 }, 20*time.Second, 20*time.Millisecond,
			"with the store down, the lag is what was fetched and not committed: %v\n%s", lagOf(), metricsText(set))
		require.NotContains(t, metricsText(set), fmt.Sprintf(`topic=%q,partition="2"`, topics.Metrics), "partition 2 was never read")

		st.mu.Lock()
		st.failN = 0 // back
		st.mu.Unlock()
		require.Eventually(t, func() bool { return lagOf()[0] == 0 && lagOf()[1] == 0 }, 20*time.Second, 20*time.Millisecond,
			"once committed, no lag: %v", lagOf())
		require.Equal(t, len(msgs), st.samples())
		stop()
		require.NoError(t, <-done)
	})
}

func metricsText(set *metrics.Set) string {
	var sb strings.Builder
	set.WritePrometheus(&sb)
	return sb.String()
}
