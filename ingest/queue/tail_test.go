package queue

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

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
		p, err := NewProducer(cfg, logger, metrics.NewSet())
		require.NoError(t, err)
		defer p.Close()
		produce := func(names ...string) {
			var msgs []Message
			for i, n := range names {
				msgs = append(msgs, Message{Topic: topic, Key: ShardKey("t", i), Value: []byte(n)})
			}
			require.NoError(t, p.Produce(ctx, msgs))
		}

		produce("old0", "old1", "old2", "old3")
		time.Sleep(1100 * time.Millisecond) // message timestamps have millisecond precision; leave no doubt
		since := time.Now()
		produce("new0", "new1", "new2")

		var (
			mu       sync.Mutex
			got      []string
			atCaught []string
			// completeSince: no retention deleted anything, so since.
			completeSince time.Time
		)
		caught := make(chan struct{})
		tctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			done <- Tail(tctx, cfg, topic, since, logger, TailFuncs{
				Message: func(_ context.Context, m Message) error {
					mu.Lock()
					defer mu.Unlock()
					got = append(got, string(m.Value))
					return nil
				},
				CaughtUp: func(from time.Time) {
					mu.Lock()
					defer mu.Unlock()
					atCaught = append([]string(nil), got...)
					completeSince = from
					close(caught)
				},
				PartitionsChanged: func(before, now int) { t.Errorf("partitions changed from %d to %d", before, now) },
			})
		}()
		select {
		case <-caught:
		case <-ctx.Done():
			t.Fatal("Tail never caught up")
		}
		mu.Lock()
		require.ElementsMatch(t, []string{"new0", "new1", "new2"}, atCaught, "caught up after every message since, and none before")
		require.True(t, completeSince.Equal(since), "complete since %s, want %s", completeSince, since)
		mu.Unlock()

		produce("later0", "later1")
		require.Eventually(t, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(got) == 5
		}, 20*time.Second, 50*time.Millisecond)
		mu.Lock()
		require.ElementsMatch(t, []string{"new0", "new1", "new2", "later0", "later1"}, got, fmt.Sprint(got))
		mu.Unlock()
		stop()
		require.NoError(t, <-done, "Tail ends without error when its context does")
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
