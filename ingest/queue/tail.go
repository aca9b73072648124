package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"golang.org/x/sync/errgroup"
)

// Tail reads every partition of topic from its first message at or after
// since, outside any consumer group and without committing, until ctx
// ends: what a process that keeps recent data in memory replays at start
// and then follows. fn gets the messages of one partition in order, the
// partitions concurrently. caughtUp is called once, when every partition
// has been read up to the end it had when Tail started. Tail waits for
// the topic to exist, and retries reads with backoff while the brokers
// are unreachable.
func Tail(ctx context.Context, cfg Config, topic string, since time.Time, logger *slog.Logger,
	fn func(context.Context, Message) error, caughtUp func()) error {
	client := &kafka.Client{Addr: kafka.TCP(cfg.BrokerList()...), Timeout: 10 * time.Second}
	var (
		starts, ends map[int]int64
		err          error
	)
	for backoff := 100 * time.Millisecond; ; backoff = min(2*backoff, 5*time.Second) {
		starts, ends, err = tailOffsets(ctx, client, topic, since)
		if err == nil {
			break
		}
		logger.Warn("tail: cannot read the topic's offsets yet", "topic", topic, "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("tail %s: %w (last error: %v)", topic, ctx.Err(), err)
		case <-time.After(backoff):
		}
	}
	var (
		mu      sync.Mutex
		pending = len(starts)
	)
	done := func() {
		mu.Lock()
		defer mu.Unlock()
		if pending--; pending == 0 {
			caughtUp()
		}
	}
	g, ctx := errgroup.WithContext(ctx)
	for p, start := range starts {
		g.Go(func() error { return tailPartition(ctx, cfg, topic, p, start, ends[p], logger, fn, done) })
	}
	return g.Wait()
}

// tailOffsets returns, by partition, the first offset at or after since
// and the end offset (that of the next message to be written).
func tailOffsets(ctx context.Context, client *kafka.Client, topic string, since time.Time) (starts, ends map[int]int64, err error) {
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, nil, fmt.Errorf("metadata: %w", err)
	}
	if len(md.Topics) != 1 || md.Topics[0].Error != nil || len(md.Topics[0].Partitions) == 0 {
		var terr error
		if len(md.Topics) == 1 {
			terr = md.Topics[0].Error
		}
		return nil, nil, fmt.Errorf("topic %s has no partitions yet: %v", topic, terr)
	}
	var reqs []kafka.OffsetRequest
	for _, p := range md.Topics[0].Partitions {
		reqs = append(reqs, kafka.LastOffsetOf(p.ID), kafka.TimeOffsetOf(p.ID, since))
	}
	res, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		return nil, nil, fmt.Errorf("list offsets: %w", err)
	}
	starts, ends = map[int]int64{}, map[int]int64{}
	for _, po := range res.Topics[topic] {
		if po.Error != nil {
			return nil, nil, fmt.Errorf("offsets of partition %d: %w", po.Partition, po.Error)
		}
		ends[po.Partition] = po.LastOffset
		// The offset at a time is the first message at or after it; none
		// (-1, or no entry) means every message is older: start at the end.
		start := po.LastOffset
		for off := range po.Offsets {
			if off >= 0 {
				start = min(start, off)
			}
		}
		starts[po.Partition] = start
	}
	if len(starts) != len(md.Topics[0].Partitions) {
		return nil, nil, fmt.Errorf("offsets of %d of %d partitions", len(starts), len(md.Topics[0].Partitions))
	}
	return starts, ends, nil
}

func tailPartition(ctx context.Context, cfg Config, topic string, partition int, start, end int64, logger *slog.Logger,
	fn func(context.Context, Message) error, done func()) error {
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:        cfg.BrokerList(),
		Topic:          topic,
		Partition:      partition,
		MinBytes:       1,
		MaxBytes:       16 << 20,
		MaxWait:        250 * time.Millisecond,
		ReadBackoffMin: 50 * time.Millisecond,
		ReadBackoffMax: time.Second,
	})
	defer func() { _ = r.Close() }()
	if err := r.SetOffset(start); err != nil {
		return fmt.Errorf("tail %s/%d from %d: %w", topic, partition, start, err)
	}
	signalled := false
	if start >= end {
		done()
		signalled = true
	}
	for {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, kafka.OffsetOutOfRange) {
				// Retention deleted what we were about to read: go on
				// from the oldest message left.
				logger.Warn("tail: offset out of range, restarting from the oldest message", "topic", topic, "partition", partition)
				_ = r.SetOffset(kafka.FirstOffset)
				continue
			}
			return fmt.Errorf("tail %s/%d: %w", topic, partition, err)
		}
		if err := fn(ctx, Message{Topic: m.Topic, Key: m.Key, Value: m.Value, Partition: m.Partition, Offset: m.Offset, HighWaterMark: m.HighWaterMark}); err != nil {
			return err
		}
		if !signalled && m.Offset+1 >= end {
			done()
			signalled = true
		}
	}
}
