package queue

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/ingest/queue/queuetest"
)

func TestShardBalancer(t *testing.T) {
	parts := []int{0, 1, 2, 3}
	for _, tc := range []struct {
		key  string
		want int
	}{
		{"t/0", 0}, {"t/1", 1}, {"t/5", 1}, {"team-a/3", 3}, {"a/b/2", 2},
	} {
		require.Equal(t, tc.want, shardBalancer(kafka.Message{Key: []byte(tc.key)}, parts...), tc.key)
	}
	// Keys without a shard hash, consistently.
	a := shardBalancer(kafka.Message{Key: []byte("no-shard")}, parts...)
	require.Equal(t, a, shardBalancer(kafka.Message{Key: []byte("no-shard")}, parts...))
	require.Equal(t, []byte("tenant/12"), ShardKey("tenant", 12))
}

func TestConfigValidate(t *testing.T) {
	c := Config{Brokers: " , ", Partitions: 0, ReplicationFactor: 1, Compression: "brotli", MaxMessageBytes: 1, WriteTimeout: time.Second}
	err := c.Validate()
	require.ErrorContains(t, err, "-kafka.brokers: no broker given")
	require.ErrorContains(t, err, "-kafka.partitions: 0")
	require.ErrorContains(t, err, `-kafka.compression: unknown codec "brotli"`)
	require.ErrorContains(t, err, "-kafka.max-message-bytes: 1")
}

// newTopic creates a metrics topic of its own on brokers for t, and
// returns it with its configuration and a context that ends with t or
// after a minute.
func newTopic(t *testing.T, brokers string) (context.Context, Config, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	cfg := testConfig(brokers, queuetest.UniquePrefix(t))
	topic := cfg.Topic("metrics")
	require.NoError(t, EnsureTopics(ctx, cfg, topic))
	return ctx, cfg, topic
}

func testConfig(brokers, prefix string) Config {
	return Config{
		Brokers: brokers, TopicPrefix: prefix, Partitions: 4, ReplicationFactor: 1,
		Compression: "lz4", BatchTimeout: 5 * time.Millisecond, WriteTimeout: 10 * time.Second,
		MaxMessageBytes: 1 << 20, SessionTimeout: 6 * time.Second,
	}
}

// TestProduceConsumeCommit checks the at-least-once contract: committed
// messages are not seen again by the group, uncommitted ones are, and a
// shard key always routes to the same partition.
func TestProduceConsumeCommit(t *testing.T) {
	queuetest.Each(t, func(t *testing.T, brokers string) {
		ctx, cfg, topic := newTopic(t, brokers)
		require.NoError(t, EnsureTopics(ctx, cfg, topic), "second call finds the topic and succeeds")

		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		p, err := NewProducer(cfg, logger, metrics.NewSet())
		require.NoError(t, err)
		defer p.Close()
		require.NoError(t, p.Ping(ctx))
		n, err := p.Partitions(ctx, topic)
		require.NoError(t, err)
		require.Equal(t, 4, n)

		var msgs []Message
		for i := range 8 {
			msgs = append(msgs, Message{Topic: topic, Key: ShardKey("t", i%4), Value: fmt.Appendf(nil, "m%d", i)})
		}
		require.NoError(t, p.Produce(ctx, msgs))

		group := cfg.TopicPrefix + "writers"
		c := NewConsumer(cfg, group, []string{topic}, logger)
		seen := map[string]int{} // value → partition
		var got []Message
		for len(got) < 8 {
			m, err := c.Fetch(ctx)
			require.NoError(t, err)
			seen[string(m.Value)] = m.Partition
			require.Equal(t, int64(2), m.HighWaterMark, "each partition holds two messages")
			got = append(got, m)
		}
		for i := range 4 {
			require.Equal(t, i, seen[fmt.Sprintf("m%d", i)], "shard %d lands on partition %d", i, i)
			require.Equal(t, seen[fmt.Sprintf("m%d", i)], seen[fmt.Sprintf("m%d", i+4)])
		}
		// Commit all but the last message of partition 0 (m4).
		var commit []Message
		for _, m := range got {
			if string(m.Value) != "m4" {
				commit = append(commit, m)
			}
		}
		require.NoError(t, c.Commit(ctx, commit...))
		require.NoError(t, c.Close())

		c2 := NewConsumer(cfg, group, []string{topic}, logger)
		defer c2.Close()
		m, err := c2.Fetch(ctx)
		require.NoError(t, err)
		require.Equal(t, "m4", string(m.Value), "the uncommitted message is delivered again")
	})
}
