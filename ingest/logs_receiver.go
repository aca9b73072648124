package ingest

import (
	"bytes"
	"context"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/cairn-dev/cairn/ingest/ndjson"
	"github.com/cairn-dev/cairn/ingest/queue"
	"github.com/cairn-dev/cairn/ingest/wire"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/tenant"
)

// registerLogs mounts the log endpoints on r.
func (rc *Receiver) registerLogs(r chi.Router) {
	r.Post("/loki/api/v1/push", rc.handleLokiPush)
	r.Post("/api/v1/logs", rc.handleNDJSON)
}

// handleLokiPush serves Loki's push API: snappy protobuf, or JSON (plain
// or gzip), chosen by Content-Type as Loki does.
func (rc *Receiver) handleLokiPush(w http.ResponseWriter, r *http.Request) {
	const protocol = "loki"
	id, err := tenant.FromRequest(r)
	if err != nil {
		rc.fail(w, protocol, "invalid_tenant", http.StatusBadRequest, err)
		return
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	raw, dec := rc.bufs.Get().(*bytes.Buffer), rc.bufs.Get().(*bytes.Buffer)
	defer rc.bufs.Put(raw)
	defer rc.bufs.Put(dec)
	var entries []store.LogEntry
	switch ct {
	case "application/json":
		body, err := rc.readDecoded(raw, dec, w, r)
		if err != nil {
			rc.fail(w, protocol, "body", statusOf(err), err)
			return
		}
		entries, err = rc.loki.DecodeJSON(body, id)
		if err != nil {
			rc.fail(w, protocol, "decode", http.StatusBadRequest, err)
			return
		}
	case "", "application/x-protobuf":
		if err := rc.readBody(raw, w, r); err != nil {
			rc.fail(w, protocol, "body", statusOf(err), err)
			return
		}
		entries, err = rc.loki.DecodeProto(raw.Bytes(), id, rc.cfg.MaxDecodedBytes)
		if err != nil {
			rc.fail(w, protocol, "decode", http.StatusBadRequest, err)
			return
		}
	default:
		rc.fail(w, protocol, "unsupported_content_type", http.StatusUnsupportedMediaType,
			fmt.Errorf("Content-Type %q is not supported: send application/x-protobuf (snappy) or application/json", ct))
		return
	}
	rc.acceptLogs(w, r, protocol, id, entries)
}

// handleNDJSON serves newline-delimited JSON logs. Query parameters name
// the fields: message, time and stream, each a comma-separated list.
func (rc *Receiver) handleNDJSON(w http.ResponseWriter, r *http.Request) {
	const protocol = "ndjson"
	id, err := tenant.FromRequest(r)
	if err != nil {
		rc.fail(w, protocol, "invalid_tenant", http.StatusBadRequest, err)
		return
	}
	raw, dec := rc.bufs.Get().(*bytes.Buffer), rc.bufs.Get().(*bytes.Buffer)
	defer rc.bufs.Put(raw)
	defer rc.bufs.Put(dec)
	body, err := rc.readDecoded(raw, dec, w, r)
	if err != nil {
		rc.fail(w, protocol, "body", statusOf(err), err)
		return
	}
	q := r.URL.Query()
	opts := ndjson.Options{MessageFields: fieldList(q.Get("message")), TimeFields: fieldList(q.Get("time")), StreamFields: fieldList(q.Get("stream"))}
	entries, err := ndjson.Decode(body, id, opts, rc.now())
	if err != nil {
		rc.fail(w, protocol, "decode", http.StatusBadRequest, err)
		return
	}
	rc.acceptLogs(w, r, protocol, id, entries)
}

func fieldList(s string) []string {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// acceptLogs validates entries, produces the valid ones and answers as
// acceptSeries does: 204, 400 naming the first rejection (the rest are
// stored), or 503 when Kafka did not acknowledge.
func (rc *Receiver) acceptLogs(w http.ResponseWriter, r *http.Request, protocol, id string, entries []store.LogEntry) {
	var v verdict
	kept := rc.admitLogs(protocol, entries, &v)
	rc.count(unitLogLines, protocol, "received", "", v.received)
	if err := rc.produceLogs(r.Context(), id, kept); err != nil {
		rc.fail(w, protocol, "kafka", http.StatusServiceUnavailable, err)
		return
	}
	rc.count(unitLogLines, protocol, "accepted", "", v.accepted())
	if v.first != nil {
		rc.fail(w, protocol, v.first.reason, http.StatusBadRequest, v.partialError("log lines"))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// checkEntry validates one log entry: its stream's labels, its line's
// size and its time.
func (l *Limits) checkEntry(e *store.LogEntry, now time.Time) *rejection {
	switch {
	case e.Stream.IsEmpty():
		return reject("missing_stream_labels", "log line at %s has no stream labels: at least one is required", time.Unix(0, e.T).UTC().Format(time.RFC3339Nano))
	case e.Stream.Len() > l.MaxLabelsPerSeries:
		return reject("too_many_labels", "stream %s has %d labels, the limit is %d (-ingest.max-labels-per-series)", abbreviate(e.Stream), e.Stream.Len(), l.MaxLabelsPerSeries)
	case len(e.Line) > l.MaxLineBytes:
		return reject("line_too_long", "log line of stream %s is %d bytes long, the limit is %d (-ingest.max-line-bytes)", abbreviate(e.Stream), len(e.Line), l.MaxLineBytes)
	case e.T > now.Add(l.MaxFutureSkew).UnixNano():
		return reject("line_too_new", "log line of stream %s at %s is more than %s in the future (-ingest.max-future-skew)", abbreviate(e.Stream), time.Unix(0, e.T).UTC().Format(time.RFC3339Nano), l.MaxFutureSkew)
	case l.MaxSampleAge > 0 && e.T < now.Add(-l.MaxSampleAge).UnixNano():
		return reject("line_too_old", "log line of stream %s at %s is older than %s (-ingest.max-sample-age)", abbreviate(e.Stream), time.Unix(0, e.T).UTC().Format(time.RFC3339Nano), l.MaxSampleAge)
	}
	return l.checkLabels("stream", e.Stream)
}

// produceLogs groups entries by partition, keeping each stream on one,
// and produces them. Entries are sorted by stream so that a message
// carries each stream's labels once per run.
func (rc *Receiver) produceLogs(ctx context.Context, id string, entries []store.LogEntry) error {
	if len(entries) == 0 {
		return nil
	}
	if err := rc.charge(ctx, id, unitLogLines, len(entries)); err != nil {
		return err
	}
	parts, err := rc.producer.Partitions(ctx, rc.topics.Logs)
	if err != nil {
		return err
	}
	slices.SortStableFunc(entries, func(a, b store.LogEntry) int { return labels.Compare(a.Stream, b.Stream) })
	shards := make([][]store.LogEntry, parts)
	var fp uint64
	for i, e := range entries {
		if i == 0 || !labels.Equal(e.Stream, entries[i-1].Stream) {
			fp = store.Fingerprint(e.Stream)
		}
		shards[fp%uint64(parts)] = append(shards[fp%uint64(parts)], e)
	}
	var msgs []queue.Message
	for shard, es := range shards {
		for len(es) > 0 {
			n := entriesPerMessage(es, maxMessageBytes)
			msgs = append(msgs, queue.Message{Topic: rc.topics.Logs, Key: queue.ShardKey(id, shard), Value: wire.AppendLogs(nil, id, es[:n])})
			es = es[n:]
		}
	}
	return rc.producer.Produce(ctx, msgs)
}

// entriesPerMessage returns how many of es fit in one message of about
// limit bytes; always at least one.
func entriesPerMessage(es []store.LogEntry, limit int) int {
	size := 0
	for i, e := range es {
		size += 16 + len(e.Line) + int(e.Metadata.ByteSize())
		if i == 0 || !labels.Equal(e.Stream, es[i-1].Stream) {
			size += int(e.Stream.ByteSize())
		}
		if size > limit && i > 0 {
			return i
		}
	}
	return len(es)
}
