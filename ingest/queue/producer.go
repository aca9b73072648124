package queue

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/segmentio/kafka-go"
)

// Message is one Kafka record.
type Message struct {
	Topic     string
	Key       []byte
	Value     []byte
	Headers   map[string]string
	Partition int   // set on consumed messages
	Offset    int64 // set on consumed messages
	// HighWaterMark is, on consumed messages, the offset after the last
	// one the partition held when this one was fetched.
	HighWaterMark int64
}

// ShardKey builds a message key that routes to shard of a topic with
// that many partitions: messages with the same tenant and shard always
// land on the same partition.
func ShardKey(tenant string, shard int) []byte {
	return strconv.AppendInt(append([]byte(tenant), '/'), int64(shard), 10)
}

// shardBalancer sends a message whose key ends in /<shard> to partition
// shard mod n, and any other key by its hash.
func shardBalancer(msg kafka.Message, partitions ...int) int {
	k := msg.Key
	for i := len(k) - 1; i >= 0; i-- {
		if k[i] == '/' {
			if shard, err := strconv.Atoi(string(k[i+1:])); err == nil && shard >= 0 {
				return partitions[shard%len(partitions)]
			}
			break
		}
	}
	h := fnv.New32a()
	_, _ = h.Write(k)
	return partitions[int(h.Sum32()%uint32(len(partitions)))]
}

// ErrUnavailable wraps errors that mean Kafka could not take the
// messages now; receivers answer them with 503 and Retry-After.
var ErrUnavailable = errors.New("kafka unavailable")

// Producer writes messages to Kafka and waits for their acknowledgement.
type Producer struct {
	cfg    Config
	w      *kafka.Writer
	client *kafka.Client
	logger *slog.Logger

	mu         sync.Mutex
	partitions map[string]partitionCount

	set *metrics.Set
}

type partitionCount struct {
	n       int
	fetched time.Time
}

// NewProducer returns a producer for the brokers in cfg. It does not
// connect until the first call.
func NewProducer(cfg Config, logger *slog.Logger, set *metrics.Set) (*Producer, error) {
	codec, err := cfg.compression()
	if err != nil {
		return nil, err
	}
	addr := kafka.TCP(cfg.BrokerList()...)
	w := &kafka.Writer{
		Addr:         addr,
		Balancer:     kafka.BalancerFunc(shardBalancer),
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: cfg.BatchTimeout,
		BatchSize:    1000,
		BatchBytes:   int64(cfg.MaxMessageBytes) * 4,
		WriteTimeout: cfg.WriteTimeout,
		MaxAttempts:  3,
		Compression:  codec,
	}
	return &Producer{
		cfg:        cfg,
		w:          w,
		client:     &kafka.Client{Addr: addr, Timeout: cfg.WriteTimeout},
		logger:     logger,
		partitions: map[string]partitionCount{},
		set:        set,
	}, nil
}

// Produce writes msgs and returns once every one is acknowledged by all
// in-sync replicas. An error wraps ErrUnavailable when Kafka is down or
// timed out; no partial success is reported, so the caller answers the
// whole request with an error and the client retries it.
func (p *Producer) Produce(ctx context.Context, msgs []Message) error {
	if len(msgs) == 0 {
		return nil
	}
	km := make([]kafka.Message, len(msgs))
	var bytes int
	for i, m := range msgs {
		km[i] = kafka.Message{Topic: m.Topic, Key: m.Key, Value: m.Value, Headers: toHeaders(m.Headers)}
		bytes += len(m.Value)
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.WriteTimeout)
	defer cancel()
	start := time.Now()
	err := p.w.WriteMessages(ctx, km...)
	p.set.GetOrCreateHistogram(`cairn_kafka_produce_duration_seconds`).UpdateDuration(start)
	if err != nil {
		p.set.GetOrCreateCounter(`cairn_kafka_produce_errors_total`).Inc()
		return fmt.Errorf("%w: produce %d messages: %v", ErrUnavailable, len(msgs), err)
	}
	p.set.GetOrCreateCounter(`cairn_kafka_produced_messages_total`).Add(len(msgs))
	p.set.GetOrCreateCounter(`cairn_kafka_produced_bytes_total`).Add(bytes)
	return nil
}

// Partitions returns the partition count of topic, cached for a minute.
func (p *Producer) Partitions(ctx context.Context, topic string) (int, error) {
	p.mu.Lock()
	pc, ok := p.partitions[topic]
	p.mu.Unlock()
	if ok && time.Since(pc.fetched) < time.Minute {
		return pc.n, nil
	}
	n, err := partitionCountOf(ctx, p.client, topic)
	if err != nil {
		if ok {
			return pc.n, nil // a stale count routes as well as a fresh one
		}
		return 0, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	p.mu.Lock()
	p.partitions[topic] = partitionCount{n: n, fetched: time.Now()}
	p.mu.Unlock()
	return n, nil
}

// Ping checks that a broker answers a metadata request.
func (p *Producer) Ping(ctx context.Context) error {
	if _, err := p.client.Metadata(ctx, &kafka.MetadataRequest{}); err != nil {
		return fmt.Errorf("kafka metadata: %w", err)
	}
	return nil
}

// Close flushes pending writes and closes the connections.
func (p *Producer) Close() error {
	if err := p.w.Close(); err != nil {
		return fmt.Errorf("close kafka writer: %w", err)
	}
	return nil
}

func partitionCountOf(ctx context.Context, c *kafka.Client, topic string) (int, error) {
	md, err := c.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return 0, fmt.Errorf("metadata of topic %s: %w", topic, err)
	}
	for _, t := range md.Topics {
		if t.Name != topic {
			continue
		}
		if t.Error != nil {
			return 0, fmt.Errorf("metadata of topic %s: %w", topic, t.Error)
		}
		if len(t.Partitions) == 0 {
			return 0, fmt.Errorf("topic %s has no partitions", topic)
		}
		return len(t.Partitions), nil
	}
	return 0, fmt.Errorf("topic %s not found", topic)
}

func toHeaders(h map[string]string) []kafka.Header {
	if len(h) == 0 {
		return nil
	}
	out := make([]kafka.Header, 0, len(h))
	for k, v := range h {
		out = append(out, kafka.Header{Key: k, Value: []byte(v)})
	}
	return out
}
