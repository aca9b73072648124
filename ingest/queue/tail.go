package queue

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"golang.org/x/sync/errgroup"
)

// TailFuncs receive what Tail reads.
type TailFuncs struct {
	// Message gets the messages of one partition in order, the partitions
	// concurrently. An error from it ends Tail.
	Message func(context.Context, Message) error
	// CaughtUp is called once, when every partition has been read up to
	// the end it had when Tail started. completeSince is since, or later
	// when the topic's retention had already deleted messages written
	// after since: the time of the oldest message left in such a
	// partition, or Tail's start for a partition left empty.
	CaughtUp func(completeSince time.Time)
	// PartitionsChanged is called once if the topic's partition count
	// changes: messages of partitions added since the start are not read.
	PartitionsChanged func(before, now int)
}

// Tail reads every partition of topic from its first message at or after
// since, outside any consumer group and without committing, until ctx
// ends: what a process that keeps recent data in memory replays at start
// and then follows. It waits for the topic to exist, and keeps retrying
// while the brokers are unreachable: only ctx or an error of f.Message
// end it.
func Tail(ctx context.Context, cfg Config, topic string, since time.Time, logger *slog.Logger, f TailFuncs) error {
	client := &kafka.Client{Addr: kafka.TCP(cfg.BrokerList()...), Timeout: 10 * time.Second}
	started := time.Now()
	var (
		parts map[int]tailRange
		err   error
	)
	for backoff := 100 * time.Millisecond; ; backoff = min(2*backoff, 5*time.Second) {
		parts, err = tailOffsets(ctx, client, topic, since)
		if err == nil {
			break
		}
		logger.Warn("tail: cannot read the topic's offsets yet", "topic", topic, "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
	}
	var (
		mu       sync.Mutex
		pending  = len(parts)
		complete = since
	)
	// done records that a partition has caught up, complete from from.
	done := func(from time.Time) {
		mu.Lock()
		defer mu.Unlock()
		if from.After(complete) {
			complete = from
		}
		if pending--; pending == 0 {
			f.CaughtUp(complete)
		}
	}
	g, ctx := errgroup.WithContext(ctx)
	for p, r := range parts {
		g.Go(func() error { return tailPartition(ctx, cfg, topic, p, r, started, logger, f.Message, done) })
	}
	g.Go(func() error {
		watchPartitions(ctx, client, topic, len(parts), 30*time.Second, logger, f.PartitionsChanged)
		return nil
	})
	return g.Wait()
}

// tailRange is where a partition's tail starts and what it must read
// before it has caught up.
type tailRange struct {
	start, end int64
	// cut: retention deleted messages written after since, so the
	// partition is complete only from its oldest message left.
	cut bool
}

// tailOffsets returns, by partition, the first offset at or after since
// and the end offset (that of the next message to be written).
func tailOffsets(ctx context.Context, client *kafka.Client, topic string, since time.Time) (map[int]tailRange, error) {
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	if len(md.Topics) != 1 || md.Topics[0].Error != nil || len(md.Topics[0].Partitions) == 0 {
		var terr error
		if len(md.Topics) == 1 {
			terr = md.Topics[0].Error
		}
		return nil, fmt.Errorf("topic %s has no partitions yet: %v", topic, terr)
	}
	var reqs []kafka.OffsetRequest
	for _, p := range md.Topics[0].Partitions {
		reqs = append(reqs, kafka.FirstOffsetOf(p.ID), kafka.LastOffsetOf(p.ID), kafka.TimeOffsetOf(p.ID, since))
	}
	res, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		return nil, fmt.Errorf("list offsets: %w", err)
	}
	out := map[int]tailRange{}
	for _, po := range res.Topics[topic] {
		if po.Error != nil {
			return nil, fmt.Errorf("offsets of partition %d: %w", po.Partition, po.Error)
		}
		// The offset at a time is the first message at or after it; none
		// (-1) means every message is older: start at the end.
		r := tailRange{start: po.LastOffset, end: po.LastOffset}
		for off := range po.Offsets {
			if off >= 0 {
				r.start = min(r.start, off)
			}
		}
		// Retention has deleted messages (the oldest left is not the
		// first ever written) and the tail starts at the oldest left:
		// what was deleted may have been written after since.
		r.cut = po.FirstOffset > 0 && r.start <= po.FirstOffset
		out[po.Partition] = r
	}
	if len(out) != len(md.Topics[0].Partitions) {
		return nil, fmt.Errorf("offsets of %d of %d partitions", len(out), len(md.Topics[0].Partitions))
	}
	return out, nil
}

func tailPartition(ctx context.Context, cfg Config, topic string, partition int, rng tailRange, started time.Time,
	logger *slog.Logger, fn func(context.Context, Message) error, done func(from time.Time)) error {
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:        cfg.BrokerList(),
		Topic:          topic,
		Partition:      partition,
		MinBytes:       1,
		MaxBytes:       16 << 20,
		MaxWait:        time.Second, // the longest an empty fetch waits; data ends it at once
		QueueCapacity:  8,           // fetched messages waiting for fn, per partition
		ReadBackoffMin: 50 * time.Millisecond,
		ReadBackoffMax: time.Second,
	})
	defer func() { _ = r.Close() }()
	if err := r.SetOffset(rng.start); err != nil {
		return fmt.Errorf("tail %s/%d from %d: %w", topic, partition, rng.start, err)
	}
	signalled := false
	if rng.start >= rng.end {
		from := time.Time{}
		if rng.cut {
			from = started // everything written before the start is gone
		}
		done(from)
		signalled = true
	}
	var oldest time.Time // of the first message read, when rng.cut
	for backoff := time.Second; ; {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			// The reader gives up after a few attempts (a broker
			// restarting, a leader election); the tail must not.
			logger.Warn("tail: read failed, retrying", "topic", topic, "partition", partition, "err", err, "backoff", backoff)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 30*time.Second)
			continue
		}
		backoff = time.Second
		if rng.cut && oldest.IsZero() {
			oldest = m.Time
			logger.Warn("tail: the topic's retention deleted messages newer than the tail's start; complete only from the oldest message left",
				"topic", topic, "partition", partition, "oldest", oldest.UTC())
		}
		if err := fn(ctx, Message{Topic: m.Topic, Key: m.Key, Value: m.Value, Partition: m.Partition, Offset: m.Offset, HighWaterMark: m.HighWaterMark}); err != nil {
			return err
		}
		if !signalled && m.Offset+1 >= rng.end {
			done(oldest)
			signalled = true
		}
	}
}

// watchPartitions calls changed once if topic's partition count moves
// from n, checking every interval until ctx ends.
func watchPartitions(ctx context.Context, client *kafka.Client, topic string, n int, interval time.Duration, logger *slog.Logger, changed func(before, now int)) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
		if err != nil || len(md.Topics) != 1 || md.Topics[0].Error != nil {
			continue // the readers report unreachable brokers
		}
		if now := len(md.Topics[0].Partitions); now != n {
			logger.Error("tail: the topic's partition count changed", "topic", topic, "before", n, "now", now)
			changed(n, now)
			return
		}
	}
}
