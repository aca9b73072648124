package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/cairn-dev/cairn/ingest/queue"
	"github.com/cairn-dev/cairn/ingest/wire"
	"github.com/cairn-dev/cairn/store"
)

// Head is what Tail fills: store/head's in-memory head of recent samples.
type Head interface {
	Append(ctx context.Context, series []store.Series) error
	// Ready declares the head complete for samples from from (ms) on.
	Ready(from int64)
	// Invalidate declares the head incomplete for good: queries read
	// the store only.
	Invalidate(reason string)
	// Window is how far back the head holds samples.
	Window() time.Duration
}

// Tail keeps a Head up to date with the metrics topic: it replays the
// topic from Window ago, declares the head ready once it has caught up,
// and follows it from then on. It commits nothing and belongs to no
// consumer group: every query process reads every partition.
type Tail struct {
	cfg            queue.Config
	topic          string
	head           Head
	futureSkew     time.Duration
	labelsInterval time.Duration
	logger         *slog.Logger

	set                   *metrics.Set
	messages, undecodable *metrics.Counter
}

// NewTail returns a Tail of topic into head. futureSkew is how far ahead
// of the receiver's clock ingest accepts samples (-ingest.max-future-skew):
// a message written before the replay's start may hold samples that much
// newer. labelsInterval is the longest receivers go without sending a
// series' labels (-ingest.labels-interval): in between they send
// references, which the head resolves only from labels it has read, and
// the labels of a series may have gone out just before the replay's
// start. So the head is complete only from the start plus labelsInterval
// plus futureSkew.
func NewTail(cfg queue.Config, topic string, head Head, futureSkew, labelsInterval time.Duration, logger *slog.Logger, set *metrics.Set) *Tail {
	return &Tail{
		cfg: cfg, topic: topic, head: head, futureSkew: futureSkew, labelsInterval: labelsInterval, logger: logger, set: set,
		messages:    set.NewCounter(`cairn_head_tail_messages_total{topic="` + topic + `"}`),
		undecodable: set.NewCounter(`cairn_head_tail_undecodable_messages_total{topic="` + topic + `"}`),
	}
}

// Run tails until ctx ends. The head is eventually consistent with the
// topic: cairn_head_tail_lag_messages{topic,partition} says by how many
// messages it trails. A message the head cannot take, or partitions added
// to the topic, invalidate the head (queries then read ClickHouse only)
// rather than stop the process.
func (t *Tail) Run(ctx context.Context) error {
	since := time.Now().Add(-t.head.Window())
	start := time.Now()
	t.logger.Info("head: replaying the metrics topic", "topic", t.topic, "since", since.UTC())
	err := queue.Tail(ctx, t.cfg, t.topic, since, t.logger, queue.TailFuncs{
		Message: t.append,
		CaughtUp: func(complete time.Time) {
			t.logger.Info("head: caught up with the metrics topic", "topic", t.topic, "replay", time.Since(start).Round(time.Millisecond))
			t.caughtUp(complete)
		},
		PartitionsChanged: func(before, now int) {
			t.head.Invalidate(fmt.Sprintf("the topic %s went from %d to %d partitions; restart the query role to tail them", t.topic, before, now))
		},
	})
	if err != nil {
		return fmt.Errorf("head tail: %w", err)
	}
	return nil
}

// caughtUp declares the head ready once the replay has read everything
// written since complete. A sample at or after complete+labelsInterval+
// futureSkew was sent at or after complete+labelsInterval, so its
// series' labels were sent at or after complete and the head has read
// them; an earlier one may be a reference the head could not resolve.
func (t *Tail) caughtUp(complete time.Time) {
	t.head.Ready(complete.Add(t.labelsInterval + t.futureSkew).UnixMilli())
}

// append decodes one message into the head. A message that does not
// decode is counted and skipped: the writer dead-letters it.
func (t *Tail) append(ctx context.Context, m queue.Message) error {
	t.messages.Inc()
	// How far the head is behind the partition's end, as of this message:
	// what a query may not see yet that ClickHouse may already hold.
	lag := fmt.Sprintf(`cairn_head_tail_lag_messages{topic=%q,partition="%d"}`, m.Topic, m.Partition)
	t.set.GetOrCreateGauge(lag, nil).Set(float64(max(m.HighWaterMark-m.Offset-1, 0)))
	series, err := wire.DecodeMetrics(nil, m.Value)
	if err != nil {
		t.undecodable.Inc()
		return nil
	}
	if err := t.head.Append(ctx, series); err != nil {
		t.head.Invalidate(fmt.Sprintf("append message %d of partition %d: %v", m.Offset, m.Partition, err))
	}
	return nil
}
