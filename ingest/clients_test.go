package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/require"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/cairn-dev/cairn/ingest/queue"
	"github.com/cairn-dev/cairn/ingest/wire"
	"github.com/cairn-dev/cairn/store"
)

// This file holds what the receiver tests of every protocol share: plain
// HTTP posts, a receiver whose Kafka is down, and readers of responses and
// self-metrics.

// postTo posts body with exactly the headers given.
func postTo(t *testing.T, url string, body []byte, hdr map[string]string) (int, string, http.Header) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// kafkaDownServer serves a receiver whose Kafka does not answer.
func kafkaDownServer(t *testing.T) *httptest.Server {
	qcfg := testQueueConfig("127.0.0.1:1") // nothing listens there
	qcfg.WriteTimeout = 500 * time.Millisecond
	p, err := queue.NewProducer(qcfg, discard(), metrics.NewSet())
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	rc := NewReceiver(testReceiverConfig(), TopicsFor(qcfg), p, discard(), metrics.NewSet())
	r := chi.NewRouter()
	rc.Register(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

func gzipped(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// errorMessage reads the message of an error response in the format of
// its protocol: plain text (remote write), InfluxDB's JSON error, or a
// google.rpc.Status in protobuf or JSON (OTLP).
func errorMessage(t *testing.T, body string, h http.Header) string {
	switch h.Get("Content-Type") {
	case "application/x-protobuf":
		var st spb.Status
		require.NoError(t, proto.Unmarshal([]byte(body), &st))
		return st.Message
	case "application/json", "application/json; charset=utf-8":
		var m struct{ Message string }
		require.NoError(t, json.Unmarshal([]byte(body), &m), body)
		return m.Message
	}
	require.Equal(t, "text/plain; charset=utf-8", h.Get("Content-Type"))
	return strings.TrimSpace(body)
}

func byName(series []store.Series) map[string][]store.Series {
	out := map[string][]store.Series{}
	for _, s := range series {
		name := s.Labels.Get("__name__")
		out[name] = append(out[name], s)
	}
	return out
}

func setText(e *receiverEnv) string {
	var b strings.Builder
	e.set.WritePrometheus(&b)
	return b.String()
}

// consumeAtLeast reads at least n series back from the metrics topic, and
// whatever else arrives within half a second after: for exports whose
// series count depends on the clock (target_info gets a sample at the
// first and at the last point of a resource).
func (e *receiverEnv) consumeAtLeast(t *testing.T, n int) []store.Series {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := queue.NewConsumer(e.qcfg, e.qcfg.TopicPrefix+"check", []string{e.topics.Metrics}, discard())
	defer c.Close()
	var out []store.Series
	for {
		fctx, fcancel := ctx, context.CancelFunc(func() {})
		if len(out) >= n {
			fctx, fcancel = context.WithTimeout(ctx, 500*time.Millisecond)
		}
		m, err := c.Fetch(fctx)
		fcancel()
		if err != nil && len(out) >= n {
			return out
		}
		require.NoError(t, err, "waiting for %d series, have %d", n, len(out))
		out, err = wire.DecodeMetrics(out, m.Value)
		require.NoError(t, err)
	}
}
