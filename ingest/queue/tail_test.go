package queue

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/cairn-dev/cairn/ingest/queue/queuetest"
)

// TestTail checks what a head's replay relies on: Tail starts at the
// first message written at or after since, in every partition; it reports
// having caught up only once it has read what the partitions held when it
// started; and it goes on with what is written later.
func TestTail(t *testing.T) {
	queuetest.Each(t, func(t *testing.T, brokers string) {
		ctx, cfg, topic := newTopic(t, brokers)
		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		produce := shardProducer(ctx, t, cfg, topic, logger)
		produce(map[int]string{0: "old0", 1: "old1", 2: "old2", 3: "old3"})
		time.Sleep(1100 * time.Millisecond) // message timestamps have millisecond precision; leave no doubt
		since := time.Now()
		produce(map[int]string{0: "new0", 1: "new1", 2: "new2"})

		r := startTail(ctx, t, cfg, topic, since, logger)
		r.mu.Lock()
		require.ElementsMatch(t, []string{"new0", "new1", "new2"}, r.atCaught, "caught up after every message since, and none before")
		// No retention deleted anything: complete since since.
		require.True(t, r.complete.Equal(since), "complete since %s, want %s", r.complete, since)
		r.mu.Unlock()

		produce(map[int]string{0: "later0", 1: "later1"})
		require.Eventually(t, func() bool {
			r.mu.Lock()
			defer r.mu.Unlock()
			return len(r.got) == 5
		}, 20*time.Second, 50*time.Millisecond)
		r.mu.Lock()
		require.ElementsMatch(t, []string{"new0", "new1", "new2", "later0", "later1"}, r.got, fmt.Sprint(r.got))
		r.mu.Unlock()
		r.stop()
		require.NoError(t, <-r.done, "Tail ends without error when its context does")
	})
}

// TestWatchPartitions checks that partitions added to a tailed topic are
// reported, once.
func TestWatchPartitions(t *testing.T) {
	queuetest.Each(t, func(t *testing.T, brokers string) {
		ctx, cfg, topic := newTopic(t, brokers)
		client := &kafka.Client{Addr: kafka.TCP(cfg.BrokerList()...), Timeout: 10 * time.Second}
		changes := make(chan [2]int, 2)
		wctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			watchPartitions(wctx, client, topic, cfg.Partitions, 50*time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)),
				func(before, now int) { changes <- [2]int{before, now} })
		}()
		res, err := client.CreatePartitions(ctx, &kafka.CreatePartitionsRequest{Topics: []kafka.TopicPartitionsConfig{{Name: topic, Count: int32(cfg.Partitions + 2)}}})
		require.NoError(t, err)
		for _, e := range res.Errors {
			require.NoError(t, e)
		}
		select {
		case c := <-changes:
			require.Equal(t, [2]int{cfg.Partitions, cfg.Partitions + 2}, c)
		case <-ctx.Done():
			t.Fatal("added partitions not reported")
		}
		<-done // the watcher stops after reporting
		stop()
		require.Empty(t, changes, "reported once")
	})
}

// TestTailRetentionCut checks the replay of partitions whose oldest
// messages retention has deleted: messages written after since may be
// gone, so Tail reports the head complete only from the oldest message
// left in such a partition, or from its own start when retention left a
// partition empty. Retention is played by DeleteRecords.
func TestTailRetentionCut(t *testing.T) {
	for _, tc := range []struct {
		name string
		// cut: partition → first offset kept. Each partition holds one
		// message from before since at offset 0; partitions 0 and 3
		// two from after, partition 1 one.
		cut           map[int32]int64
		want          []string
		fromTailStart bool // a partition is left empty
	}{
		{name: "messages left", cut: map[int32]int64{0: 2, 3: 1}, want: []string{"new0b", "new1a", "new3a", "new3b"}},
		{name: "a partition left empty", cut: map[int32]int64{0: 2, 1: 2}, want: []string{"new0b", "new3a", "new3b"}, fromTailStart: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			queuetest.Each(t, func(t *testing.T, brokers string) {
				ctx, cfg, topic := newTopic(t, brokers)
				logger := slog.New(slog.NewTextHandler(io.Discard, nil))
				produce := shardProducer(ctx, t, cfg, topic, logger)
				produce(map[int]string{0: "old0", 1: "old1", 2: "old2", 3: "old3"})
				time.Sleep(1100 * time.Millisecond)
				since := time.Now()
				produce(map[int]string{0: "new0a", 1: "new1a", 3: "new3a"}) // offset 1
				produce(map[int]string{4: "new0b", 7: "new3b"})             // offset 2 (shards 4, 7 are partitions 0, 3)
				deleteRecords(ctx, t, brokers, topic, tc.cut)

				tailStart := time.Now()
				r := startTail(ctx, t, cfg, topic, since, logger)
				defer r.stop()
				r.mu.Lock()
				defer r.mu.Unlock()
				got, complete := r.got, r.complete
				require.ElementsMatch(t, tc.want, got, "what retention left after since")
				require.True(t, complete.After(since), "complete from %s, after since %s: messages written after it were deleted", complete, since)
				if tc.fromTailStart {
					require.False(t, complete.Before(tailStart.Truncate(time.Millisecond)), "complete from %s, not before the tail's start %s", complete, tailStart)
				} else {
					require.True(t, complete.Before(tailStart), "complete from %s: the oldest message left, before the tail's start %s", complete, tailStart)
				}
			})
		})
	}
}

// shardProducer returns a function that produces one message per entry
// of byShard, its value to the partition of its shard (shard mod the
// partition count).
func shardProducer(ctx context.Context, t *testing.T, cfg Config, topic string, logger *slog.Logger) func(byShard map[int]string) {
	p, err := NewProducer(cfg, logger, metrics.NewSet())
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	return func(byShard map[int]string) {
		var msgs []Message
		for shard, v := range byShard {
			msgs = append(msgs, Message{Topic: topic, Key: ShardKey("t", shard), Value: []byte(v)})
		}
		require.NoError(t, p.Produce(ctx, msgs))
	}
}

// tailRecord is what a Tail started by startTail reported.
type tailRecord struct {
	mu       sync.Mutex
	got      []string  // the messages' values
	atCaught []string  // got when Tail reported having caught up
	complete time.Time // what it reported then
	stop     context.CancelFunc
	done     chan error // Tail's result, once stopped
}

// startTail runs Tail on topic from since and returns once it has caught
// up; it fails the test if Tail never does or reports partition changes.
func startTail(ctx context.Context, t *testing.T, cfg Config, topic string, since time.Time, logger *slog.Logger) *tailRecord {
	t.Helper()
	r := &tailRecord{done: make(chan error, 1)}
	caught := make(chan struct{})
	tctx, stop := context.WithCancel(ctx)
	r.stop = stop
	go func() {
		r.done <- Tail(tctx, cfg, topic, since, logger, TailFuncs{
			Message: func(_ context.Context, m Message) error {
				r.mu.Lock()
				defer r.mu.Unlock()
				r.got = append(r.got, string(m.Value))
				return nil
			},
			CaughtUp: func(from time.Time) {
				r.mu.Lock()
				defer r.mu.Unlock()
				r.atCaught = append([]string(nil), r.got...)
				r.complete = from
				close(caught)
			},
			PartitionsChanged: func(before, now int) { t.Errorf("partitions changed from %d to %d", before, now) },
		})
	}()
	select {
	case <-caught:
	case <-ctx.Done():
		stop()
		t.Fatal("Tail never caught up")
	}
	return r
}

// deleteRecords deletes the messages of topic before the given offset of
// each partition, as retention would.
func deleteRecords(ctx context.Context, t *testing.T, brokers, topic string, before map[int32]int64) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...))
	require.NoError(t, err)
	defer cl.Close()
	rt := kmsg.NewDeleteRecordsRequestTopic()
	rt.Topic = topic
	for p, off := range before {
		rp := kmsg.NewDeleteRecordsRequestTopicPartition()
		rp.Partition, rp.Offset = p, off
		rt.Partitions = append(rt.Partitions, rp)
	}
	req := kmsg.NewPtrDeleteRecordsRequest()
	req.Topics = append(req.Topics, rt)
	req.TimeoutMillis = 10_000
	resp, err := req.RequestWith(ctx, cl)
	require.NoError(t, err)
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			require.NoError(t, kerr.ErrorForCode(rp.ErrorCode), "delete records of partition %d", rp.Partition)
			require.Equal(t, before[rp.Partition], rp.LowWatermark, "partition %d starts where it was cut", rp.Partition)
		}
	}
}
