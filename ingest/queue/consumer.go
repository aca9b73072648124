package queue

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/segmentio/kafka-go"
)

// Consumer reads topics as a member of a consumer group. Offsets move only
// when Commit is called.
type Consumer struct {
	r *kafka.Reader
}

// NewConsumer returns a consumer of topics in group. It joins the group on
// the first Fetch.
func NewConsumer(cfg Config, group string, topics []string, logger *slog.Logger) *Consumer {
	errLog := logger.With("group", group)
	// MaxWait: an empty fetch waits this long at most (kafka-go asks the
	// broker for a quarter less, its allowance for the round trip); data
	// ends the wait at once (MinBytes 1). Each idle partition costs the
	// broker a fetch per wait: at 250 ms an idle Cairn cost Kafka 7% of a
	// core, at 1 s 4%. It is also how long closing or rebalancing may wait for a
	// partition reader's fetch to return.
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:               cfg.BrokerList(),
		GroupID:               group,
		GroupTopics:           topics,
		MinBytes:              1,
		MaxBytes:              16 << 20,
		MaxWait:               time.Second,
		CommitInterval:        0, // synchronous commits
		StartOffset:           kafka.FirstOffset,
		WatchPartitionChanges: true,
		SessionTimeout:        cfg.SessionTimeout,
		HeartbeatInterval:     cfg.SessionTimeout / 5,
		RebalanceTimeout:      cfg.SessionTimeout,
		JoinGroupBackoff:      500 * time.Millisecond,
		ReadBackoffMin:        50 * time.Millisecond,
		ReadBackoffMax:        time.Second,
		ErrorLogger: kafka.LoggerFunc(func(msg string, args ...any) {
			errLog.Warn("kafka_reader", "detail", fmt.Sprintf(msg, args...))
		}),
	})
	return &Consumer{r: r}
}

// Fetch returns the next message, waiting until one arrives or ctx ends.
func (c *Consumer) Fetch(ctx context.Context) (Message, error) {
	m, err := c.r.FetchMessage(ctx)
	if err != nil {
		return Message{}, err
	}
	msg := Message{Topic: m.Topic, Key: m.Key, Value: m.Value, Partition: m.Partition, Offset: m.Offset, HighWaterMark: m.HighWaterMark}
	if len(m.Headers) > 0 {
		msg.Headers = make(map[string]string, len(m.Headers))
		for _, h := range m.Headers {
			msg.Headers[h.Key] = string(h.Value)
		}
	}
	return msg, nil
}

// Commit marks msgs, and everything before them in their partitions, as
// processed.
func (c *Consumer) Commit(ctx context.Context, msgs ...Message) error {
	km := make([]kafka.Message, len(msgs))
	for i, m := range msgs {
		km[i] = kafka.Message{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset}
	}
	if err := c.r.CommitMessages(ctx, km...); err != nil {
		return fmt.Errorf("commit %d offsets: %w", len(msgs), err)
	}
	return nil
}

// Lag returns how many messages the consumer is behind, as last seen.
func (c *Consumer) Lag() int64 { return c.r.Stats().Lag }

// Close leaves the group and closes the connections.
func (c *Consumer) Close() error {
	if err := c.r.Close(); err != nil {
		return fmt.Errorf("close kafka reader: %w", err)
	}
	return nil
}
