package ingest

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/go-chi/chi/v5"

	"github.com/cairn-dev/cairn/ingest/queue"
	"github.com/cairn-dev/cairn/ingest/remotewrite"
	"github.com/cairn-dev/cairn/ingest/wire"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/tenant"
)

// ReceiverConfig configures the HTTP receivers.
type ReceiverConfig struct {
	MaxRequestBytes int
	MaxDecodedBytes int
	Limits          Limits
}

// RegisterFlags registers the receiver flags on fs.
func (c *ReceiverConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.IntVar(&c.MaxRequestBytes, "ingest.max-request-bytes", 16<<20, "Largest request body accepted, as sent (compressed).")
	fs.IntVar(&c.MaxDecodedBytes, "ingest.max-decoded-bytes", 64<<20, "Largest request body accepted after decompression.")
	c.Limits.RegisterFlags(fs)
}

// Validate checks the configuration.
func (c *ReceiverConfig) Validate() error {
	var errs []error
	if c.MaxRequestBytes < 1024 {
		errs = append(errs, fmt.Errorf("-ingest.max-request-bytes: %d, must be at least 1024", c.MaxRequestBytes))
	}
	if c.MaxDecodedBytes < c.MaxRequestBytes {
		errs = append(errs, fmt.Errorf("-ingest.max-decoded-bytes: %d, must be at least -ingest.max-request-bytes (%d)", c.MaxDecodedBytes, c.MaxRequestBytes))
	}
	return errors.Join(append(errs, c.Limits.Validate())...)
}

// Producer is what a receiver needs of Kafka.
type Producer interface {
	Produce(ctx context.Context, msgs []queue.Message) error
	Partitions(ctx context.Context, topic string) (int, error)
}

// Topics names the Kafka topic of each kind of telemetry.
type Topics struct {
	Metrics    string
	DeadLetter string
}

// TopicsFor returns the topics for a queue configuration.
func TopicsFor(cfg queue.Config) Topics {
	return Topics{Metrics: cfg.Topic("metrics"), DeadLetter: cfg.Topic("deadletter")}
}

// All lists every topic, for creating them at start.
func (t Topics) All() []string { return []string{t.Metrics, t.DeadLetter} }

// Receiver serves the push endpoints and forwards what it accepts to Kafka.
type Receiver struct {
	cfg      ReceiverConfig
	topics   Topics
	producer Producer
	logger   *slog.Logger
	set      *metrics.Set
	now      func() time.Time
	bufs     sync.Pool
}

// NewReceiver returns a receiver that produces to topics.
func NewReceiver(cfg ReceiverConfig, topics Topics, producer Producer, logger *slog.Logger, set *metrics.Set) *Receiver {
	return &Receiver{
		cfg:      cfg,
		topics:   topics,
		producer: producer,
		logger:   logger,
		set:      set,
		now:      time.Now,
		bufs:     sync.Pool{New: func() any { return new(bytes.Buffer) }},
	}
}

// Register mounts the receiver's endpoints on r.
func (rc *Receiver) Register(r chi.Router) {
	r.Post("/api/v1/write", rc.handleRemoteWrite)
	r.Post("/api/v1/push", rc.handleRemoteWrite)
}

func (rc *Receiver) handleRemoteWrite(w http.ResponseWriter, r *http.Request) {
	const protocol = "prometheus"
	id, err := tenant.FromRequest(r)
	if err != nil {
		rc.fail(w, protocol, "invalid_tenant", http.StatusBadRequest, err)
		return
	}
	if enc := r.Header.Get("Content-Encoding"); enc != "" && enc != "snappy" {
		rc.fail(w, protocol, "unsupported_encoding", http.StatusUnsupportedMediaType,
			fmt.Errorf("Content-Encoding %q is not supported: remote write bodies are snappy-compressed", enc))
		return
	}
	if ct := r.Header.Get("Content-Type"); strings.Contains(ct, "io.prometheus.write.v2") {
		rc.fail(w, protocol, "unsupported_version", http.StatusUnsupportedMediaType,
			fmt.Errorf("Content-Type %q: remote write 2.0 is not supported yet, send 1.0 (prometheus.WriteRequest)", ct))
		return
	}
	buf := rc.bufs.Get().(*bytes.Buffer)
	defer rc.bufs.Put(buf)
	if err := rc.readBody(buf, w, r); err != nil {
		rc.fail(w, protocol, "body", statusOf(err), err)
		return
	}
	series, err := remotewrite.DecodeV1(buf.Bytes(), id, rc.cfg.MaxDecodedBytes)
	if err != nil {
		rc.fail(w, protocol, "decode", http.StatusBadRequest, err)
		return
	}
	rc.acceptSeries(w, r, protocol, id, series)
}

// acceptSeries validates series, produces the valid ones and answers: 204
// when all were accepted, 400 naming the first rejection when some were
// not (the rest are stored, as Prometheus and Mimir do), 503 when Kafka
// did not acknowledge.
func (rc *Receiver) acceptSeries(w http.ResponseWriter, r *http.Request, protocol, id string, series []store.Series) {
	now := rc.now()
	kept := series[:0]
	var first *rejection
	rejected := 0
	received := 0
	for i := range series {
		s := &series[i]
		received += len(s.Samples)
		if rej := rc.cfg.Limits.checkSeries(s); rej != nil {
			rc.countSamples(protocol, "rejected", rej.reason, len(s.Samples))
			rejected += len(s.Samples)
			first = cmpFirst(first, rej)
			continue
		}
		before := len(s.Samples)
		if rej := rc.cfg.Limits.filterSamples(s, now); rej != nil {
			rc.countSamples(protocol, "rejected", rej.reason, before-len(s.Samples))
			rejected += before - len(s.Samples)
			first = cmpFirst(first, rej)
		}
		if len(s.Samples) > 0 {
			kept = append(kept, *s)
		}
	}
	if err := rc.produceMetrics(r.Context(), id, kept); err != nil {
		rc.fail(w, protocol, "kafka", http.StatusServiceUnavailable, err)
		return
	}
	accepted := received - rejected
	rc.countSamples(protocol, "accepted", "", accepted)
	if first != nil {
		rc.fail(w, protocol, first.reason, http.StatusBadRequest,
			fmt.Errorf("%d of %d samples rejected, the rest were stored; first: %s", rejected, received, first.msg))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func cmpFirst(first, rej *rejection) *rejection {
	if first == nil {
		return rej
	}
	return first
}

// produceMetrics groups series by partition, one message per partition
// (more when a message would pass -kafka.max-message-bytes), and
// produces them all.
func (rc *Receiver) produceMetrics(ctx context.Context, id string, series []store.Series) error {
	if len(series) == 0 {
		return nil
	}
	parts, err := rc.producer.Partitions(ctx, rc.topics.Metrics)
	if err != nil {
		return err
	}
	shards := make([][]store.Series, parts)
	for _, s := range series {
		shard := store.Fingerprint(s.Labels) % uint64(parts)
		shards[shard] = append(shards[shard], s)
	}
	var msgs []queue.Message
	for shard, ss := range shards {
		for len(ss) > 0 {
			n := seriesPerMessage(ss, maxMessageBytes)
			msgs = append(msgs, queue.Message{
				Topic: rc.topics.Metrics,
				Key:   queue.ShardKey(id, shard),
				Value: wire.AppendMetrics(nil, id, ss[:n]),
			})
			ss = ss[n:]
		}
	}
	return rc.producer.Produce(ctx, msgs)
}

// maxMessageBytes bounds the estimated size of one metrics message, well
// under Kafka's default message.max.bytes of 1 MiB.
const maxMessageBytes = 512 << 10

// seriesPerMessage returns how many of ss fit in one message of about
// limit bytes; always at least one.
func seriesPerMessage(ss []store.Series, limit int) int {
	size := 0
	for i, s := range ss {
		size += 16 + int(s.Labels.ByteSize()) + 10*len(s.Samples)
		if size > limit && i > 0 {
			return i
		}
	}
	return len(ss)
}

// readBody reads the request body into buf, refusing more than
// -ingest.max-request-bytes.
func (rc *Receiver) readBody(buf *bytes.Buffer, w http.ResponseWriter, r *http.Request) error {
	buf.Reset()
	body := http.MaxBytesReader(w, r.Body, int64(rc.cfg.MaxRequestBytes))
	if _, err := buf.ReadFrom(body); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return &statusError{http.StatusRequestEntityTooLarge, fmt.Errorf("request body exceeds %d bytes (-ingest.max-request-bytes)", tooLarge.Limit)}
		}
		return &statusError{http.StatusBadRequest, fmt.Errorf("read request body: %w", err)}
	}
	return nil
}

type statusError struct {
	status int
	err    error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

func statusOf(err error) int {
	var se *statusError
	if errors.As(err, &se) {
		return se.status
	}
	return http.StatusInternalServerError
}

func (rc *Receiver) countSamples(protocol, result, reason string, n int) {
	if n == 0 {
		return
	}
	name := fmt.Sprintf(`cairn_ingest_samples_total{protocol=%q,result=%q}`, protocol, result)
	if reason != "" {
		name = fmt.Sprintf(`cairn_ingest_samples_total{protocol=%q,result=%q,reason=%q}`, protocol, result, reason)
	}
	rc.set.GetOrCreateCounter(name).Add(n)
}

// fail answers a request with an error. Bodies are plain text, which every
// remote write and push client logs as it is.
func (rc *Receiver) fail(w http.ResponseWriter, protocol, reason string, status int, err error) {
	rc.set.GetOrCreateCounter(fmt.Sprintf(`cairn_ingest_requests_failed_total{protocol=%q,reason=%q,code="%d"}`, protocol, reason, status)).Inc()
	if status >= 500 {
		rc.logger.Warn("ingest_request_failed", "protocol", protocol, "status", status, "err", err)
		if status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "5")
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, err.Error()+"\n")
}
