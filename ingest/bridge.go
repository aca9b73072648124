package ingest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/cairn-dev/cairn/ingest/otlp"
	"github.com/cairn-dev/cairn/ingest/queue"
	"github.com/cairn-dev/cairn/store/tenant"
)

// BridgeConfig configures the bridge from topics an OpenTelemetry
// Collector's Kafka exporter writes to.
type BridgeConfig struct {
	MetricsTopics string
	LogsTopics    string
	Brokers       string
	Group         string
	Tenant        string
	MaxBackoff    time.Duration
}

// RegisterFlags registers the bridge flags on fs.
func (c *BridgeConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.MetricsTopics, "bridge.metrics-topics", "", "Comma-separated Kafka topics holding OTLP metrics as the OpenTelemetry Collector's Kafka exporter writes them (encoding otlp_proto or otlp_json; the exporter's default topic is otlp_metrics). Empty: no metrics are bridged.")
	fs.StringVar(&c.LogsTopics, "bridge.logs-topics", "", "Comma-separated Kafka topics holding OTLP logs as the OpenTelemetry Collector's Kafka exporter writes them (the exporter's default topic is otlp_logs). Empty: no logs are bridged.")
	fs.StringVar(&c.Brokers, "bridge.brokers", "", "Comma-separated brokers of the bridged topics. Empty: those of -kafka.brokers.")
	fs.StringVar(&c.Group, "bridge.group", "cairn-bridge", "Kafka consumer group in which the bridge reads the bridged topics.")
	fs.StringVar(&c.Tenant, "bridge.tenant", tenant.Default, "Tenant of bridged telemetry whose Kafka message has no X-Scope-OrgID header (the exporter adds it with include_metadata_keys: [X-Scope-OrgID]).")
	fs.DurationVar(&c.MaxBackoff, "bridge.max-backoff", 10*time.Second, "Longest pause between retries while Kafka does not take what the bridge produces.")
}

// Validate checks the configuration.
func (c *BridgeConfig) Validate() error {
	var errs []error
	for _, t := range topicList(c.MetricsTopics) {
		if slices.Contains(topicList(c.LogsTopics), t) {
			errs = append(errs, fmt.Errorf("-bridge.metrics-topics and -bridge.logs-topics both name topic %q", t))
		}
	}
	if c.Enabled() && c.Group == "" {
		errs = append(errs, errors.New("-bridge.group: empty"))
	}
	if err := tenant.Validate(c.Tenant); err != nil {
		errs = append(errs, fmt.Errorf("-bridge.tenant: %w", err))
	}
	if c.MaxBackoff <= 0 {
		errs = append(errs, fmt.Errorf("-bridge.max-backoff: %s, must be positive", c.MaxBackoff))
	}
	return errors.Join(errs...)
}

// Enabled reports whether any topic is bridged.
func (c *BridgeConfig) Enabled() bool { return len(c.Topics()) > 0 }

// Topics lists every bridged topic, for the consumer.
func (c *BridgeConfig) Topics() []string {
	return append(topicList(c.MetricsTopics), topicList(c.LogsTopics)...)
}

// Queue returns the Kafka configuration of the bridged topics: base, with
// -bridge.brokers when set.
func (c *BridgeConfig) Queue(base queue.Config) queue.Config {
	if strings.TrimSpace(c.Brokers) != "" {
		base.Brokers = c.Brokers
	}
	return base
}

func topicList(s string) []string {
	var out []string
	for t := range strings.SplitSeq(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// Bridge moves OTLP metrics and logs that an OpenTelemetry Collector's
// Kafka exporter wrote into Cairn's own topics, through a Receiver: the
// same conversion and the same limits as OTLP over HTTP.
type Bridge struct {
	cfg     BridgeConfig
	rc      *Receiver
	src     Source
	dlq     DeadLetters
	metrics map[string]bool // topic → holds metrics (else logs)
	logger  *slog.Logger
	set     *metrics.Set
}

// NewBridge returns a bridge reading the topics of cfg from src, a
// consumer of cfg.Topics() in group cfg.Group. It produces through rc and
// sends what it cannot decode to rc's dead-letter topic through dlq.
func NewBridge(cfg BridgeConfig, rc *Receiver, src Source, dlq DeadLetters, logger *slog.Logger, set *metrics.Set) *Bridge {
	kinds := map[string]bool{}
	for _, t := range topicList(cfg.MetricsTopics) {
		kinds[t] = true
	}
	for _, t := range topicList(cfg.LogsTopics) {
		kinds[t] = false
	}
	return &Bridge{cfg: cfg, rc: rc, src: src, dlq: dlq, metrics: kinds, logger: logger, set: set}
}

// Commit policy: the bridge commits what it has produced every
// commitEvery messages, every commitInterval, and whenever Kafka has
// nothing more for it.
const (
	commitEvery    = 100
	commitInterval = time.Second
)

// Run bridges messages until ctx ends, then commits what it has produced
// and returns. Each message is converted, validated and produced into
// Cairn's topics before its offset is committed, so a crash replays
// messages rather than losing them (the store deduplicates). A message
// that does not decode goes to the dead-letter topic with the reason, and
// its offset moves on. While Kafka does not take what the bridge
// produces, it retries with backoff and commits nothing.
func (b *Bridge) Run(ctx context.Context) error {
	var pending []queue.Message
	var since time.Time
	backoff := time.Duration(0)
	for ctx.Err() == nil {
		wait := commitInterval
		if len(pending) > 0 {
			wait = max(time.Until(since.Add(commitInterval)), time.Millisecond)
		}
		m, err := b.fetch(ctx, wait)
		idle := false
		switch {
		case err == nil:
			if b.handle(ctx, m) != nil {
				continue // ctx ended before m was produced: it is not committed
			}
			if len(pending) == 0 {
				since = time.Now()
			}
			pending = append(pending, m)
			backoff = 0
		case ctx.Err() != nil:
		case errors.Is(err, context.DeadlineExceeded):
			idle = true
		default:
			backoff = min(max(2*backoff, 100*time.Millisecond), b.cfg.MaxBackoff)
			b.set.GetOrCreateCounter(`cairn_bridge_retries_total{op="fetch"}`).Inc()
			b.logger.Warn("bridge_retry", "op", "fetch", "backoff", backoff, "err", err)
			sleep(ctx, backoff)
		}
		if len(pending) > 0 && (idle || len(pending) >= commitEvery || time.Since(since) >= commitInterval) {
			if b.commit(ctx, pending) {
				pending = pending[:0]
			}
		}
	}
	return b.commitLast(pending)
}

// maxCommitAttempts bounds the attempts to commit one set of offsets.
const maxCommitAttempts = 5

// commit commits pending and reports whether they are done with. After
// maxCommitAttempts failures, say because a rebalance gave the partitions
// to another member, it gives up on them: Kafka delivers those messages
// again, and the store deduplicates what they hold. When ctx ends first
// they are not done with; commitLast tries once more.
func (b *Bridge) commit(ctx context.Context, pending []queue.Message) bool {
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := b.src.Commit(ctx, pending...)
		switch {
		case err == nil:
			return true
		case ctx.Err() != nil:
			return false
		case attempt == maxCommitAttempts:
			b.logger.Warn("bridge_commit_abandoned", "messages", len(pending), "err", err)
			return true
		}
		b.set.GetOrCreateCounter(`cairn_bridge_retries_total{op="commit"}`).Inc()
		b.logger.Warn("bridge_retry", "op", "commit", "backoff", backoff, "err", err)
		sleep(ctx, backoff)
		backoff = min(2*backoff, b.cfg.MaxBackoff)
	}
}

// commitLast commits, after shutdown began, what was produced but not
// committed yet. Failing that, Kafka delivers those messages again.
func (b *Bridge) commitLast(pending []queue.Message) error {
	if len(pending) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.src.Commit(ctx, pending...); err != nil {
		b.logger.Warn("bridge_commit_incomplete", "messages", len(pending), "err", err)
	}
	return nil
}

func (b *Bridge) fetch(ctx context.Context, wait time.Duration) (queue.Message, error) {
	fctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	return b.src.Fetch(fctx)
}

// handle bridges one message: it converts it and produces the result, or
// dead-letters it when it cannot be decoded. It returns an error only
// when ctx ended first.
func (b *Bridge) handle(ctx context.Context, m queue.Message) error {
	produce, err := b.prepare(m)
	if err != nil {
		b.logger.Warn("dead_letter", "topic", m.Topic, "partition", m.Partition, "offset", m.Offset, "reason", err)
		dead := []queue.Message{deadLetter(b.rc.topics.DeadLetter, m, err)}
		if err := b.retry(ctx, "dead_letter", func(ctx context.Context) error { return b.dlq.Produce(ctx, dead) }); err != nil {
			return err
		}
		b.count(m.Topic, "dead_letter")
		return nil
	}
	if err := b.retry(ctx, "produce", produce); err != nil {
		return err
	}
	b.count(m.Topic, "bridged")
	return nil
}

func (b *Bridge) count(topic, result string) {
	b.set.GetOrCreateCounter(fmt.Sprintf(`cairn_bridge_messages_total{topic=%q,result=%q}`, topic, result)).Inc()
}

// retry calls f until it succeeds or ctx ends, backing off exponentially.
func (b *Bridge) retry(ctx context.Context, op string, f func(context.Context) error) error {
	backoff := 100 * time.Millisecond
	for {
		err := f(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w (last error: %v)", op, ctx.Err(), err)
		}
		b.set.GetOrCreateCounter(fmt.Sprintf(`cairn_bridge_retries_total{op=%q}`, op)).Inc()
		b.logger.Warn("bridge_retry", "op", op, "backoff", backoff, "err", err)
		sleep(ctx, backoff)
		backoff = min(2*backoff, b.cfg.MaxBackoff)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// bridgeProtocol names bridged telemetry in the receiver's self-metrics:
// cairn_ingest_samples_total and cairn_ingest_log_lines_total.
const bridgeProtocol = "kafka_otlp"

// prepare decodes, converts and validates m, and returns the call that
// produces the result into Cairn's topics. An error means m cannot be
// bridged at all: it goes to the dead-letter topic.
//
// The Collector's Kafka exporter writes one ExportMetricsServiceRequest
// or ExportLogsServiceRequest per message, serialized as protobuf
// (otlp_proto, its default) or JSON (otlp_json, which starts with '{'
// where a protobuf request cannot).
func (b *Bridge) prepare(m queue.Message) (func(context.Context) error, error) {
	id, err := b.tenantOf(m)
	if err != nil {
		return nil, err
	}
	format := otlp.Protobuf
	if len(m.Value) > 0 && m.Value[0] == '{' {
		format = otlp.JSON
	}
	isMetrics, ok := b.metrics[m.Topic]
	switch {
	case !ok:
		return nil, fmt.Errorf("topic %q is not bridged", m.Topic)
	case isMetrics:
		return b.prepareMetrics(id, m.Value, format)
	}
	return b.prepareLogs(id, m.Value, format)
}

// tenantOf reads a message's tenant from its X-Scope-OrgID header, which
// the exporter copies from the request metadata it was configured to
// include; -bridge.tenant when there is none.
func (b *Bridge) tenantOf(m queue.Message) (string, error) {
	for k, v := range m.Headers {
		if strings.EqualFold(k, tenant.Header) {
			if err := tenant.Validate(v); err != nil {
				return "", fmt.Errorf("header %w", err)
			}
			return v, nil
		}
	}
	return b.cfg.Tenant, nil
}

func (b *Bridge) prepareMetrics(id string, value []byte, format otlp.Format) (func(context.Context) error, error) {
	md, err := otlp.Decode(value, format)
	if err != nil {
		return nil, err
	}
	res := otlp.Convert(md, id)
	var v verdict
	for _, d := range res.Dropped {
		b.rc.drop(bridgeProtocol, &v, reject(d.Reason, "%s", d.Msg), d.Points)
	}
	kept := b.rc.admit(bridgeProtocol, res.Series, &v, nil, nil)
	b.rc.countSamples(bridgeProtocol, "received", "", v.received)
	b.noteRejections(id, "samples", &v)
	return func(ctx context.Context) error {
		if err := b.rc.produceMetrics(ctx, id, kept); err != nil {
			return err
		}
		b.rc.countSamples(bridgeProtocol, "accepted", "", v.accepted())
		return nil
	}, nil
}

func (b *Bridge) prepareLogs(id string, value []byte, format otlp.Format) (func(context.Context) error, error) {
	ld, err := otlp.DecodeLogs(value, format)
	if err != nil {
		return nil, err
	}
	var v verdict
	kept := b.rc.admitLogs(bridgeProtocol, otlp.ConvertLogs(ld, id, b.rc.now()), &v)
	b.rc.count(unitLogLines, bridgeProtocol, "received", "", v.received)
	b.noteRejections(id, "log lines", &v)
	return func(ctx context.Context) error {
		if err := b.rc.produceLogs(ctx, id, kept); err != nil {
			return err
		}
		b.rc.count(unitLogLines, bridgeProtocol, "accepted", "", v.accepted())
		return nil
	}, nil
}

// noteRejections logs, at debug level, what a message lost to Cairn's
// limits; the self-metrics count it by reason.
func (b *Bridge) noteRejections(id, unit string, v *verdict) {
	if v.first != nil {
		b.logger.Debug("bridge_rejected", "tenant", id, "err", v.partialError(unit))
	}
}
