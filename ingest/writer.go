package ingest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/cairn-dev/cairn/ingest/queue"
	"github.com/cairn-dev/cairn/ingest/wire"
	"github.com/cairn-dev/cairn/store"
)

// WriterConfig configures the Kafka → store writers.
type WriterConfig struct {
	Group         string
	BatchRows     int
	BatchBytes    int
	LogBatchBytes int
	FlushInterval time.Duration
	DrainTimeout  time.Duration
	MaxBackoff    time.Duration
}

// RegisterFlags registers the writer flags on fs.
func (c *WriterConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Group, "writer.group", "cairn-writers", "Kafka consumer group of the writers.")
	fs.IntVar(&c.BatchRows, "writer.batch-rows", 1_000_000, "Close a batch at this many rows (samples, log lines and build events). Larger batches cost ClickHouse less (fewer parts to write and merge) and the writer more memory (~200 MB at the default); a batch below ClickHouse's min_insert_block_size_rows (about 1,048,000) is written as one part per day.")
	fs.IntVar(&c.BatchBytes, "writer.batch-bytes", 32<<20, "Close a batch at this many bytes of Kafka messages.")
	fs.IntVar(&c.LogBatchBytes, "writer.logs-batch-bytes", 16<<20, "Close a batch at this many bytes of log messages, whatever else it holds. A log line takes more of the writer's memory than the bytes of a sample, and smaller batches of lines cost no more to insert: half of -writer.batch-bytes took 40% off the writer's peak memory under a log backlog, and some CPU (docs/benchmarks.md).")
	fs.DurationVar(&c.FlushInterval, "writer.flush-interval", time.Second, "Close a batch this long after its first message.")
	fs.DurationVar(&c.DrainTimeout, "writer.drain-timeout", 30*time.Second, "On shutdown, keep writing what Kafka still holds for at most this long.")
	fs.DurationVar(&c.MaxBackoff, "writer.max-backoff", 10*time.Second, "Longest pause between retries while the store is down.")
}

// Validate checks the configuration.
func (c *WriterConfig) Validate() error {
	var errs []error
	if c.Group == "" {
		errs = append(errs, errors.New("-writer.group: empty"))
	}
	if c.BatchRows < 1 || c.BatchBytes < 1 || c.LogBatchBytes < 1 {
		errs = append(errs, errors.New("-writer.batch-rows, -writer.batch-bytes and -writer.logs-batch-bytes must be at least 1"))
	}
	if c.FlushInterval <= 0 {
		errs = append(errs, fmt.Errorf("-writer.flush-interval: %s, must be positive", c.FlushInterval))
	}
	if c.MaxBackoff <= 0 {
		errs = append(errs, fmt.Errorf("-writer.max-backoff: %s, must be positive", c.MaxBackoff))
	}
	return errors.Join(errs...)
}

// Source is what a writer needs of a Kafka consumer.
type Source interface {
	Fetch(ctx context.Context) (queue.Message, error)
	Commit(ctx context.Context, msgs ...queue.Message) error
}

// Store is what a writer needs of the store.
type Store interface {
	WriteMetrics(ctx context.Context, m *store.Metrics, token string, r *store.Rollups) error
	WriteLogs(ctx context.Context, entries []store.LogEntry, token string) error
	WriteBuilds(ctx context.Context, events []store.BuildEvent, token string) error
}

// DeadLetters takes messages no writer can decode.
type DeadLetters interface {
	Produce(ctx context.Context, msgs []queue.Message) error
}

// Writer moves metrics, logs and builds messages from Kafka into the store.
type Writer struct {
	cfg    WriterConfig
	src    Source
	store  Store
	dlq    DeadLetters
	topic  string // dead-letter topic
	logger *slog.Logger
	set    *metrics.Set
	lag    *partitionLag
	// rollups holds the series' latest minutes for the store's rollup
	// rows. They are right while every sample of a series passes through
	// this writer in order: next tells when a partition's offsets do
	// not follow on from what the writer read.
	rollups *store.Rollups
	next    map[partitionKey]int64
}

// NewWriter returns a writer reading from src. Undecodable messages go to
// deadLetterTopic through dlq.
func NewWriter(cfg WriterConfig, src Source, st Store, dlq DeadLetters, deadLetterTopic string, logger *slog.Logger, set *metrics.Set) *Writer {
	return &Writer{
		cfg: cfg, src: src, store: st, dlq: dlq, topic: deadLetterTopic, logger: logger, set: set, lag: newPartitionLag(set),
		rollups: store.NewRollups(), next: make(map[partitionKey]int64),
	}
}

// batch is what was read since the last commit: the messages, for
// committing, and what they decode to, for the store.
type batch struct {
	msgs     []queue.Message
	metrics  store.Metrics // references' samples in columns (Refs), the rest as series
	logs     []store.LogEntry
	builds   []store.BuildEvent
	dead     []queue.Message
	rows     int // samples, log entries and build events
	bytes    int
	logBytes int // of bytes, those of log messages
	started  time.Time
}

// add decodes m into the batch; a message that does not decode is kept
// for the dead-letter topic.
func (b *batch) add(m queue.Message, deadLetterTopic string) {
	if len(b.msgs) == 0 {
		b.started = time.Now()
	}
	b.bytes += len(m.Value)
	if err := b.decode(m.Value); err != nil {
		b.dead = append(b.dead, deadLetter(deadLetterTopic, m, err))
	}
	// From here on the batch needs only where the message was, to commit
	// it: its contents are decoded, or in its dead letter, and the
	// collector may have what the decoded data does not point into (the
	// samples of references, copied into columns) before the batch is
	// written.
	m.Key, m.Value, m.Headers = nil, nil, nil
	b.msgs = append(b.msgs, m)
}

// decode appends what msg holds, or nothing when it does not decode.
func (b *batch) decode(msg []byte) error {
	kind, err := wire.Header(msg)
	if err != nil {
		return err
	}
	switch kind {
	case wire.KindMetrics:
		n, refs := len(b.metrics.Series), b.metrics.Refs.Len()
		if err := wire.DecodeMetricsTo(&b.metrics, msg); err != nil {
			return err
		}
		b.rows += b.metrics.Refs.Len() - refs
		for _, s := range b.metrics.Series[n:] {
			b.rows += len(s.Samples) + len(s.Histograms)
		}
	case wire.KindLogs:
		n := len(b.logs)
		if b.logs, err = wire.DecodeLogs(b.logs, msg); err != nil {
			b.logs = b.logs[:n]
			return err
		}
		b.rows += len(b.logs) - n
		b.logBytes += len(msg)
	case wire.KindBuilds:
		n := len(b.builds)
		if b.builds, err = wire.DecodeBuilds(b.builds, msg); err != nil {
			b.builds = b.builds[:n]
			return err
		}
		b.rows += len(b.builds) - n
	default:
		return fmt.Errorf("%w: no writer for %s messages", wire.ErrCorrupt, kind)
	}
	return nil
}

// full reports whether the batch is to be written now: it reached a size
// limit or its age limit.
func (b *batch) full(cfg WriterConfig) bool {
	return len(b.msgs) > 0 && (b.big(cfg) || time.Since(b.started) >= cfg.FlushInterval)
}

// big reports whether the batch reached a size limit. A config that left
// the log cap unset (not from flags) has none.
func (b *batch) big(cfg WriterConfig) bool {
	return b.rows >= cfg.BatchRows || b.bytes >= cfg.BatchBytes || cfg.LogBatchBytes > 0 && b.logBytes >= cfg.LogBatchBytes
}

// Run consumes until ctx ends, then drains: it keeps reading for up to
// -writer.drain-timeout until Kafka has nothing more, writes and commits
// what it read, and returns. What it did not commit, Kafka delivers again.
//
// Fetch errors are transient to a writer: a broker that restarts, a group
// coordinator that moves or is not elected yet. The writer logs them and
// fetches again after a backoff, as it does while the store is down.
func (w *Writer) Run(ctx context.Context) error {
	var b batch
	backoff := time.Duration(0)
	for ctx.Err() == nil {
		wait := w.cfg.FlushInterval
		if len(b.msgs) > 0 {
			wait = max(time.Until(b.started.Add(w.cfg.FlushInterval)), time.Millisecond)
		}
		m, err := w.fetch(ctx, wait)
		switch {
		case err == nil:
			b.add(m, w.topic)
			backoff = 0
		case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded):
		default:
			backoff = min(max(2*backoff, 100*time.Millisecond), w.cfg.MaxBackoff)
			w.set.GetOrCreateCounter(`cairn_writer_retries_total{op="fetch"}`).Inc()
			w.logger.Warn("writer_retry", "op", "fetch", "backoff", backoff, "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
		}
		if b.full(w.cfg) {
			// An error means ctx ended mid-flush; drain retries the batch.
			_ = w.flush(ctx, &b)
		}
	}
	return w.drain(&b)
}

// drain writes what is left after shutdown began: the open batch and what
// Kafka still holds, until a fetch finds nothing for a moment.
func (w *Writer) drain(b *batch) error {
	ctx, cancel := context.WithTimeout(context.Background(), w.cfg.DrainTimeout)
	defer cancel()
	for ctx.Err() == nil {
		m, err := w.fetch(ctx, 500*time.Millisecond)
		if err != nil {
			break // idle, or out of time
		}
		b.add(m, w.topic)
		if b.big(w.cfg) {
			if err := w.flush(ctx, b); err != nil {
				w.logger.Warn("drain_incomplete", "messages", len(b.msgs), "err", err)
				return nil
			}
		}
	}
	if len(b.msgs) == 0 {
		return nil
	}
	if err := w.flush(ctx, b); err != nil {
		// Not committed: Kafka delivers these messages again.
		w.logger.Warn("drain_incomplete", "messages", len(b.msgs), "err", err)
	}
	return nil
}

func (w *Writer) fetch(ctx context.Context, wait time.Duration) (queue.Message, error) {
	fctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	m, err := w.src.Fetch(fctx)
	if err == nil {
		w.lag.fetched(m)
		w.follow(m)
	}
	return m, err
}

// follow notes the offset of m. A metrics message that does not follow
// on from the last one of its partition, a partition back after a
// rebalance or read again from its last commit, makes the rollups start
// over: another writer may have written its series in between, or this
// one written them once already.
func (w *Writer) follow(m queue.Message) {
	k := partitionKey{m.Topic, m.Partition}
	if next, ok := w.next[k]; ok && m.Offset != next && isMetrics(m.Value) {
		w.rollups.Forget()
		w.set.GetOrCreateCounter(`cairn_writer_rollup_resets_total`).Inc()
		w.logger.Info("rollups_reset", "topic", m.Topic, "partition", m.Partition, "offset", m.Offset, "expected", next)
	}
	w.next[k] = m.Offset + 1
}

// flush dead-letters what did not decode, writes the rest until the store
// takes it, and commits. It returns an error only when ctx ended before
// the batch was written and committed.
func (w *Writer) flush(ctx context.Context, b *batch) error {
	start := time.Now()
	token := dedupToken(b.msgs)
	if len(b.dead) > 0 {
		for _, d := range b.dead {
			w.logger.Warn("dead_letter", "topic", d.Headers["cairn.source.topic"], "partition", d.Headers["cairn.source.partition"], "offset", d.Headers["cairn.source.offset"], "reason", d.Headers["cairn.reason"])
		}
		if err := w.retry(ctx, "dead_letter", func(ctx context.Context) error { return w.dlq.Produce(ctx, b.dead) }); err != nil {
			return err
		}
		b.dead = b.dead[:0] // produced: a retried flush must not send them twice
	}
	if len(b.metrics.Series) > 0 || b.metrics.Refs.Len() > 0 {
		if err := w.retry(ctx, "store_write", func(ctx context.Context) error { return w.store.WriteMetrics(ctx, &b.metrics, token, w.rollups) }); err != nil {
			return err
		}
		b.metrics.Reset() // written: a retried flush must not write them again
		w.set.GetOrCreateGauge(`cairn_writer_rollup_series`, nil).Set(float64(w.rollups.Len()))
		w.set.GetOrCreateCounter(`cairn_writer_rollup_cold_series_total`).Set(w.rollups.Cold())
	}
	if len(b.builds) > 0 {
		if err := w.retry(ctx, "store_write", func(ctx context.Context) error { return w.store.WriteBuilds(ctx, b.builds, token) }); err != nil {
			return err
		}
		b.builds = b.builds[:0] // written: a retried flush must not write them again
	}
	if len(b.logs) > 0 {
		if err := w.retry(ctx, "store_write", func(ctx context.Context) error { return w.store.WriteLogs(ctx, b.logs, token) }); err != nil {
			return err
		}
	}
	if err := w.retry(ctx, "commit", func(ctx context.Context) error { return w.src.Commit(ctx, b.msgs...) }); err != nil {
		return err
	}
	w.lag.committed(b.msgs)
	w.set.GetOrCreateCounter(`cairn_writer_rows_total`).Add(b.rows)
	w.set.GetOrCreateCounter(`cairn_writer_messages_total`).Add(len(b.msgs))
	w.set.GetOrCreateCounter(`cairn_writer_dead_letters_total`).Add(len(b.dead))
	w.set.GetOrCreateHistogram(`cairn_writer_flush_duration_seconds`).UpdateDuration(start)
	// Cleared before reuse: decoded labels and lines point into the
	// messages, which must not outlive their batch. The metrics were
	// reset when written.
	clear(b.msgs)
	clear(b.logs)
	clear(b.builds)
	*b = batch{msgs: b.msgs[:0], metrics: b.metrics, logs: b.logs[:0], builds: b.builds[:0], dead: b.dead[:0]}
	return nil
}

// retry calls f until it succeeds or ctx ends, backing off exponentially.
func (w *Writer) retry(ctx context.Context, op string, f func(context.Context) error) error {
	backoff := 100 * time.Millisecond
	for {
		err := f(ctx)
		if err == nil {
			return nil
		}
		w.set.GetOrCreateCounter(fmt.Sprintf(`cairn_writer_retries_total{op=%q}`, op)).Inc()
		w.logger.Warn("writer_retry", "op", op, "backoff", backoff, "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w (last error: %v)", op, ctx.Err(), err)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, w.cfg.MaxBackoff)
	}
}

// dedupToken names a batch by the offsets it spans, per partition, so a
// redelivered identical batch carries the same token.
func dedupToken(msgs []queue.Message) string {
	type span struct{ first, last int64 }
	spans := map[string]*span{}
	var keys []string
	for _, m := range msgs {
		k := m.Topic + ":" + strconv.Itoa(m.Partition)
		s, ok := spans[k]
		if !ok {
			spans[k] = &span{m.Offset, m.Offset}
			keys = append(keys, k)
			continue
		}
		s.first, s.last = min(s.first, m.Offset), max(s.last, m.Offset)
	}
	var sb strings.Builder
	for i, k := range keys {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, "%s:%d-%d", k, spans[k].first, spans[k].last)
	}
	return sb.String()
}

// isMetrics reports whether msg is a metrics message, or may be one: a
// message that does not decode is dead-lettered, and its partition's
// next message tells.
func isMetrics(msg []byte) bool {
	kind, err := wire.Header(msg)
	return err != nil || kind == wire.KindMetrics
}

func deadLetter(topic string, m queue.Message, err error) queue.Message {
	return queue.Message{
		Topic: topic,
		Key:   m.Key,
		Value: m.Value,
		Headers: map[string]string{
			"cairn.reason":           err.Error(),
			"cairn.source.topic":     m.Topic,
			"cairn.source.partition": strconv.Itoa(m.Partition),
			"cairn.source.offset":    strconv.FormatInt(m.Offset, 10),
		},
	}
}
