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
	"slices"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/go-chi/chi/v5"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/cairn-dev/cairn/ingest/loki"
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
	// LabelsInterval is how often at least a series' labels go to Kafka;
	// in between it travels as a reference (labels_sent.go). 0 sends
	// labels always.
	LabelsInterval time.Duration
	// SeriesCacheSize bounds the series whose labels the receiver
	// remembers sending.
	SeriesCacheSize int
	Limits          Limits
	Builds          BuildsConfig
	// TenantLimits sizes each tenant's ingestion rate; nil means no
	// limit. It is set by the program, not by flags.
	TenantLimits TenantLimits
}

// RegisterFlags registers the receiver flags on fs.
func (c *ReceiverConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.IntVar(&c.MaxRequestBytes, "ingest.max-request-bytes", 16<<20, "Largest request body accepted, as sent (compressed).")
	fs.IntVar(&c.MaxDecodedBytes, "ingest.max-decoded-bytes", 64<<20, "Largest request body accepted after decompression.")
	fs.DurationVar(&c.LabelsInterval, "ingest.labels-interval", 10*time.Minute,
		"How often at least each series' labels go to Kafka with its samples, and whenever its samples reach a new UTC day; in between, a series travels as its fingerprint. 0 sends labels always. The query role's head is complete from this much after its replay start.")
	fs.IntVar(&c.SeriesCacheSize, "ingest.series-cache-size", 1<<20,
		"Series a receiver remembers, for sending them as references and, for remote write, skipping their labels (about 100 bytes each, for both); a series it forgets is sent with its labels again.")
	c.Limits.RegisterFlags(fs)
	c.Builds.RegisterFlags(fs)
}

// Validate checks the configuration.
func (c *ReceiverConfig) Validate() error {
	var errs []error
	if c.MaxRequestBytes < 1024 {
		errs = append(errs, fmt.Errorf("-ingest.max-request-bytes: %d, must be at least 1024", c.MaxRequestBytes))
	}
	if c.LabelsInterval < 0 {
		errs = append(errs, fmt.Errorf("-ingest.labels-interval: %s, must not be negative", c.LabelsInterval))
	}
	if c.SeriesCacheSize < 1024 {
		errs = append(errs, fmt.Errorf("-ingest.series-cache-size: %d, must be at least 1024", c.SeriesCacheSize))
	}
	if c.MaxDecodedBytes < c.MaxRequestBytes {
		errs = append(errs, fmt.Errorf("-ingest.max-decoded-bytes: %d, must be at least -ingest.max-request-bytes (%d)", c.MaxDecodedBytes, c.MaxRequestBytes))
	}
	return errors.Join(append(errs, c.Limits.Validate())...)
}

// Producer is what a receiver needs of Kafka. Produce must not keep the
// messages' values once it returned nil: the receiver reuses their
// memory. (kafka-go's Writer has encoded them by then.)
type Producer interface {
	Produce(ctx context.Context, msgs []queue.Message) error
	Partitions(ctx context.Context, topic string) (int, error)
}

// Receiver serves the push endpoints and forwards what it accepts to Kafka.
type Receiver struct {
	cfg      ReceiverConfig
	topics   Topics
	producer Producer
	logger   *slog.Logger
	set      *metrics.Set
	now      func() time.Time
	bufs     sync.Pool
	loki     *loki.Decoder
	tenants  *rateLimiter
	sent     *labelsSent
	known    *knownSeries
	// shardBufs and msgBufs hold produceMetrics' arrays between requests.
	shardBufs seriesBufs
	msgBufs   sync.Pool // of *[]byte: a request's encoded messages
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
		loki:     loki.NewDecoder(),
		tenants:  newRateLimiter(cfg.TenantLimits),
		sent:     newLabelsSent(cfg.LabelsInterval, cfg.SeriesCacheSize),
		known:    newKnownSeries(cfg.SeriesCacheSize),
	}
}

// Register mounts the receiver's endpoints on r.
func (rc *Receiver) Register(r chi.Router) {
	r = r.With(rc.limitTenants)
	r.Post("/api/v1/write", rc.handleRemoteWrite)
	r.Post("/api/v1/push", rc.handleRemoteWrite)
	r.Post("/v1/metrics", rc.handleOTLPMetrics)
	r.Post("/v1/logs", rc.handleOTLPLogs)
	rc.registerInflux(r)
	rc.registerLogs(r)
	rc.registerBuilds(r)
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
	version, err := remoteWriteVersion(r.Header.Get("Content-Type"))
	if err != nil {
		rc.fail(w, protocol, "unsupported_content_type", http.StatusUnsupportedMediaType, err)
		return
	}
	if version == 2 {
		rc.handleRemoteWriteV2(w, r, id)
		return
	}
	buf := rc.bufs.Get().(*bytes.Buffer)
	defer rc.bufs.Put(buf)
	if err := rc.readBody(buf, w, r); err != nil {
		rc.fail(w, protocol, "body", statusOf(err), err)
		return
	}
	// The decoded body outlives nothing of the request: series and
	// labels point into it only until they are produced.
	decoded := rc.bufs.Get().(*bytes.Buffer)
	defer rc.bufs.Put(decoded)
	raw, err := remotewrite.DecompressTo(decoded.Bytes(), buf.Bytes(), rc.cfg.MaxDecodedBytes)
	if cap(raw) > decoded.Cap() {
		*decoded = *bytes.NewBuffer(raw[:0]) // keep the larger array
	}
	if err != nil {
		rc.fail(w, protocol, "decode", http.StatusBadRequest, err)
		return
	}
	var known remotewrite.Known
	done := func() {}
	if rc.cfg.LabelsInterval > 0 {
		// Judged as if produced referenceMargin from now: the series
		// leave the decoder as references, and are produced a little
		// later.
		known, done = rc.known.lookup(id, rc.sent, rc.now().Add(referenceMargin).Unix())
	}
	series, raws, err := remotewrite.DecodeV1Known(raw, id, known)
	done()
	if err != nil {
		rc.fail(w, protocol, "decode", http.StatusBadRequest, err)
		return
	}
	rc.learn(id, series, raws)
	rc.acceptSeries(w, r, protocol, id, series, func(i int) labels.Labels {
		ls, _ := remotewrite.DecodeLabels(raws[i]) // decoded once already
		return ls
	})
}

// referenceMargin is how much sooner than -ingest.labels-interval the
// remote write decoder stops taking a series' labels as recently sent.
// A series it lets through as a reference is produced after the decode,
// usually within milliseconds and at worst after -kafka.write-timeout's
// retries; the margin keeps a reference from going out more than the
// interval after its labels, which is what the head's completeness rests
// on (ingest.Tail), up to that worst case and some clock skew.
const referenceMargin = 30 * time.Second

// learn remembers the encoded labels of the series that are not
// references and pass validation, with their fingerprint, which it sets.
func (rc *Receiver) learn(id string, series []store.Series, raws [][]byte) {
	if rc.cfg.LabelsInterval <= 0 {
		return
	}
	var learnt []knownEntry
	for i := range series {
		s := &series[i]
		if s.IsRef() || raws[i] == nil || rc.cfg.Limits.checkSeries(s) != nil {
			continue
		}
		s.Fingerprint = store.Fingerprint(s.Labels)
		learnt = append(learnt, knownEntry{raw: raws[i], fp: s.Fingerprint})
	}
	rc.known.add(id, learnt)
}

// acceptSeries validates series, produces the valid ones and answers: 204
// when all were accepted, 400 naming the first rejection when some were
// not (the rest are stored, as Prometheus and Mimir do), 503 when Kafka
// did not acknowledge. labelsOf returns the labels of a reference among
// series, by index, for the message when its samples are rejected.
func (rc *Receiver) acceptSeries(w http.ResponseWriter, r *http.Request, protocol, id string, series []store.Series, labelsOf func(i int) labels.Labels) {
	var v verdict
	kept := rc.admit(protocol, series, &v, nil, labelsOf)
	if err := rc.produce(r.Context(), protocol, id, kept, &v); err != nil {
		rc.fail(w, protocol, "kafka", http.StatusServiceUnavailable, err)
		return
	}
	if v.first != nil {
		rc.fail(w, protocol, v.first.reason, http.StatusBadRequest, v.partialError("samples"))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// verdict tallies what became of the samples of one request.
type verdict struct {
	received int
	rejected int
	first    *rejection
}

func (v *verdict) accepted() int { return v.received - v.rejected }

// partialError describes a request of which some part was rejected; unit
// names what was counted.
func (v *verdict) partialError(unit string) error {
	if v.rejected == v.received {
		return fmt.Errorf("%d of %d %s rejected, none were stored; first: %s", v.rejected, v.received, unit, v.first.msg)
	}
	return fmt.Errorf("%d of %d %s rejected, the rest were stored; first: %s", v.rejected, v.received, unit, v.first.msg)
}

// reject records n samples of v rejected for rej, in v and in the
// self-metrics.
func (rc *Receiver) reject(protocol string, v *verdict, rej *rejection, n int) {
	if n == 0 {
		return
	}
	rc.countSamples(protocol, "rejected", rej.reason, n)
	v.rejected += n
	if v.first == nil {
		v.first = rej
	}
}

// drop records n samples that a decoder received but could not turn into
// series (an unsupported type, a bad line), rejected for rej.
func (rc *Receiver) drop(protocol string, v *verdict, rej *rejection, n int) {
	v.received += n
	rc.reject(protocol, v, rej, n)
}

// admit validates series against the limits, in place, and returns those
// with samples left. onReject, when not nil, learns the index in series of
// every series that lost samples. A reference (store.Series.IsRef) has
// had its labels validated before: only its samples are checked, and
// labelsOf, when not nil, gives it back its labels for the message when
// some may be rejected.
func (rc *Receiver) admit(protocol string, series []store.Series, v *verdict, onReject func(i int), labelsOf func(i int) labels.Labels) []store.Series {
	w := rc.cfg.Limits.window(rc.now())
	kept := series[:0]
	for i := range series {
		s := &series[i]
		n := len(s.Samples) + len(s.Histograms)
		v.received += n
		var rej *rejection
		switch {
		case s.IsRef():
			if labelsOf != nil && !rc.cfg.Limits.plainInWindow(s, w) {
				s.Labels = labelsOf(i)
			}
		default:
			rej = rc.cfg.Limits.checkSeries(s)
		}
		if rej == nil {
			rej = rc.cfg.Limits.filterSamples(s, w)
			if hrej := rc.cfg.Limits.filterHistograms(s, w); rej == nil {
				rej = hrej
			}
		} else {
			s.Samples, s.Histograms = s.Samples[:0], s.Histograms[:0]
		}
		if rej != nil {
			rc.reject(protocol, v, rej, n-len(s.Samples)-len(s.Histograms))
			if onReject != nil {
				onReject(i)
			}
		}
		switch {
		case len(s.Samples) == 0 && len(s.Histograms) == 0:
		case len(kept) == i: // in place already: no copy
			kept = kept[:i+1]
		default:
			kept = append(kept, *s)
		}
	}
	return kept
}

// produce sends the admitted series to Kafka and counts the request's
// samples in the self-metrics: received always, accepted once Kafka
// acknowledged.
func (rc *Receiver) produce(ctx context.Context, protocol, id string, kept []store.Series, v *verdict) error {
	rc.countSamples(protocol, "received", "", v.received)
	if err := rc.charge(ctx, id, unitSamples, v.accepted()); err != nil {
		return err
	}
	if err := rc.produceMetrics(ctx, id, kept); err != nil {
		return err
	}
	rc.countSamples(protocol, "accepted", "", v.accepted())
	return nil
}

// produceMetrics groups series by partition, one message per partition
// (more when a message would pass -kafka.max-message-bytes), and
// produces them all. It sets each series' Fingerprint.
func (rc *Receiver) produceMetrics(ctx context.Context, id string, series []store.Series) error {
	if len(series) == 0 {
		return nil
	}
	parts, err := rc.producer.Partitions(ctx, rc.topics.Metrics)
	if err != nil {
		return err
	}
	epoch := rc.sent.partitions(parts)
	// The fingerprint picks the shard and travels in the message, so the
	// writer does not hash the labels again. The shards are runs of one
	// array, a copy, in which series whose labels went out recently
	// become references, by fingerprint alone.
	bounds := make([]int, parts+1)
	for i := range series {
		s := &series[i]
		if s.Fingerprint == 0 {
			s.Fingerprint = store.Fingerprint(s.Labels)
		}
		bounds[s.Fingerprint%uint64(parts)+1]++
	}
	for i := range parts {
		bounds[i+1] += bounds[i]
	}
	sharded := rc.shardBufs.get(len(series))
	defer rc.shardBufs.put(sharded)
	next := slices.Clone(bounds[:parts])
	for _, s := range series {
		shard := s.Fingerprint % uint64(parts)
		sharded[next[shard]] = s
		next[shard]++
	}
	now := rc.now()
	send := rc.sent.refer(id, sharded, now, epoch)
	// The messages are runs of one buffer, sized for them all; it is
	// reused once Kafka acknowledged them, and left to the collector
	// otherwise, since a producer that gave up may still be sending it.
	buf, _ := rc.msgBufs.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	*buf = slices.Grow((*buf)[:0], wire.MetricsSize(id, sharded)+parts*64)
	msgs := make([]queue.Message, 0, parts)
	for shard := range parts {
		ss := sharded[bounds[shard]:bounds[shard+1]]
		for len(ss) > 0 {
			n := seriesPerMessage(ss, maxMessageBytes)
			start := len(*buf)
			*buf = wire.AppendMetrics(*buf, id, ss[:n])
			msgs = append(msgs, queue.Message{
				Topic: rc.topics.Metrics,
				Key:   queue.ShardKey(id, shard),
				Value: (*buf)[start:len(*buf):len(*buf)],
			})
			ss = ss[n:]
		}
	}
	if err := rc.producer.Produce(ctx, msgs); err != nil {
		return err
	}
	rc.msgBufs.Put(buf)
	rc.sent.record(id, send, sharded, now, epoch)
	refs := 0
	for i := range sharded {
		if sharded[i].IsRef() {
			refs++
		}
	}
	rc.set.GetOrCreateCounter(`cairn_ingest_series_sent_total{as="reference"}`).Add(refs)
	rc.set.GetOrCreateCounter(`cairn_ingest_series_sent_total{as="labels"}`).Add(len(sharded) - refs)
	return nil
}

// seriesBufs pools the arrays produceMetrics shards series into.
type seriesBufs struct{ pool sync.Pool }

// get returns an array of n series.
func (p *seriesBufs) get(n int) []store.Series {
	if b, ok := p.pool.Get().(*[]store.Series); ok && cap(*b) >= n {
		return (*b)[:n]
	}
	return make([]store.Series, n)
}

// put returns b to the pool, cleared, so that it holds no request's
// memory.
func (p *seriesBufs) put(b []store.Series) {
	clear(b)
	p.pool.Put(&b)
}

// maxMessageBytes bounds the estimated size of one metrics message, well
// under Kafka's default message.max.bytes of 1 MiB.
const maxMessageBytes = 512 << 10

// seriesPerMessage returns how many of ss fit in one message of about
// limit bytes; always at least one.
func seriesPerMessage(ss []store.Series, limit int) int {
	size := 0
	for i, s := range ss {
		size += 16 + int(s.Labels.ByteSize()) + 10*len(s.Samples) + histogramBytes(&s)
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

// Units of the ingest self-metrics cairn_ingest_<unit>_total.
const (
	unitSamples     = "samples"
	unitLogLines    = "log_lines"
	unitBuildEvents = "build_events"
)

// count adds n to cairn_ingest_<unit>_total{protocol, result[, reason]}.
func (rc *Receiver) count(unit, protocol, result, reason string, n int) {
	if n == 0 {
		return
	}
	name := fmt.Sprintf(`cairn_ingest_%s_total{protocol=%q,result=%q}`, unit, protocol, result)
	if reason != "" {
		name = fmt.Sprintf(`cairn_ingest_%s_total{protocol=%q,result=%q,reason=%q}`, unit, protocol, result, reason)
	}
	rc.set.GetOrCreateCounter(name).Add(n)
}

func (rc *Receiver) countSamples(protocol, result, reason string, n int) {
	rc.count(unitSamples, protocol, result, reason, n)
}

// rejectOne records one log line or build event of v rejected for rej.
func (rc *Receiver) rejectOne(unit, protocol string, v *verdict, rej *rejection) {
	rc.count(unit, protocol, "rejected", rej.reason, 1)
	v.rejected++
	if v.first == nil {
		v.first = rej
	}
}

// fail answers a request with an error. Bodies are plain text, which every
// remote write and push client logs as it is.
func (rc *Receiver) fail(w http.ResponseWriter, protocol, reason string, status int, err error) {
	rc.failWith(w, protocol, reason, status, err, writeText)
}

// errorWriter writes an error response in a protocol's own format.
type errorWriter func(w http.ResponseWriter, status int, err error)

// failWith answers a request with an error written by write, counting it
// and logging it when the fault is Cairn's.
func (rc *Receiver) failWith(w http.ResponseWriter, protocol, reason string, status int, err error, write errorWriter) {
	reason, status = rc.overLimit(w, protocol, reason, status, err)
	rc.set.GetOrCreateCounter(fmt.Sprintf(`cairn_ingest_requests_failed_total{protocol=%q,reason=%q,code="%d"}`, protocol, reason, status)).Inc()
	if status >= 500 {
		rc.logger.Warn("ingest_request_failed", "protocol", protocol, "status", status, "err", err)
		if status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "5")
		}
	}
	write(w, status, err)
}

func writeText(w http.ResponseWriter, status int, err error) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, err.Error()+"\n")
}
