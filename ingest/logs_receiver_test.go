package ingest

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/grafana/loki/pkg/push"
	"github.com/klauspost/compress/snappy"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/ingest/queue"
	"github.com/cairn-dev/cairn/ingest/wire"
	"github.com/cairn-dev/cairn/store"
)

// consumeLogs reads n log entries back from the logs topic.
func (e *receiverEnv) consumeLogs(t *testing.T, n int) []store.LogEntry {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := queue.NewConsumer(e.qcfg, "check-logs", []string{e.topics.Logs}, discard())
	defer c.Close()
	var out []store.LogEntry
	for len(out) < n {
		m, err := c.Fetch(ctx)
		require.NoError(t, err, "waiting for %d log entries, have %d", n, len(out))
		out, err = wire.DecodeLogs(out, m.Value)
		require.NoError(t, err)
	}
	return out
}

func lines(es []store.LogEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Stream.String()+" "+e.Line)
	}
	return out
}

func TestLokiPushProtobuf(t *testing.T) {
	e := newReceiverEnv(t)
	req := push.PushRequest{Streams: []push.Stream{{
		Labels:  `{job="varlogs",host="h1"}`,
		Entries: []push.Entry{{Timestamp: e.now.Add(-time.Second), Line: "one"}, {Timestamp: e.now, Line: "two", StructuredMetadata: push.LabelsAdapter{{Name: "trace_id", Value: "t1"}}}},
	}}}
	raw, err := req.Marshal()
	require.NoError(t, err)
	code, body, _ := e.post(t, "/loki/api/v1/push", snappy.Encode(nil, raw), map[string]string{"Content-Type": "application/x-protobuf", "Content-Encoding": "", "X-Scope-OrgID": "team-a"})
	require.Equal(t, http.StatusNoContent, code, body)
	got := e.consumeLogs(t, 2)
	require.Equal(t, []string{`{host="h1", job="varlogs"} one`, `{host="h1", job="varlogs"} two`}, lines(got))
	require.Equal(t, "team-a", got[1].Tenant)
	require.Equal(t, e.now.UnixNano(), got[1].T)
	require.Equal(t, "t1", got[1].Metadata.Get("trace_id"))
}

func TestLokiPushJSONGzip(t *testing.T) {
	e := newReceiverEnv(t)
	body := fmt.Sprintf(`{"streams":[{"stream":{"app":"web"},"values":[["%d","hello"]]}]}`, e.now.UnixNano())
	code, resp, _ := e.post(t, "/loki/api/v1/push", gzipped(t, []byte(body)), map[string]string{"Content-Type": "application/json", "Content-Encoding": "gzip"})
	require.Equal(t, http.StatusNoContent, code, resp)
	require.Equal(t, []string{`{app="web"} hello`}, lines(e.consumeLogs(t, 1)))
}

func TestNDJSONLogs(t *testing.T) {
	e := newReceiverEnv(t)
	ts := e.now.Add(-time.Minute).UTC().Format(time.RFC3339Nano)
	body := fmt.Sprintf("{\"ts\":%q,\"text\":\"started\",\"app\":\"api\",\"pid\":7}\n{\"ts\":%q,\"text\":\"ready\",\"app\":\"api\"}\n", ts, ts)
	code, resp, _ := e.post(t, "/api/v1/logs?message=text&time=ts&stream=app", []byte(body), map[string]string{"Content-Type": "application/x-ndjson", "Content-Encoding": ""})
	require.Equal(t, http.StatusNoContent, code, resp)
	got := e.consumeLogs(t, 2)
	require.Equal(t, []string{`{app="api"} started`, `{app="api"} ready`}, lines(got))
	require.Equal(t, "7", got[0].Metadata.Get("pid"))
	require.Equal(t, e.now.Add(-time.Minute).UnixNano(), got[0].T)
}

func TestLogsPartialRejection(t *testing.T) {
	e := newReceiverEnv(t)
	now := e.now.UnixNano()
	body := fmt.Sprintf(`{"streams":[
		{"stream":{"app":"web"},"values":[["%[1]d","kept"],["%[1]d","%[2]s"],["%[3]d","from the future"]]},
		{"stream":{},"values":[["%[1]d","no labels"]]},
		{"stream":{"bad-name":"x"},"values":[["%[1]d","bad label"]]}
	]}`, now, strings.Repeat("x", 1025), now+int64(time.Hour))
	code, resp, _ := e.post(t, "/loki/api/v1/push", []byte(body), map[string]string{"Content-Type": "application/json", "Content-Encoding": ""})
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, resp, "4 of 5 log lines rejected, the rest were stored")
	require.Contains(t, resp, "1025 bytes long, the limit is 1024 (-ingest.max-line-bytes)")
	require.Equal(t, []string{`{app="web"} kept`}, lines(e.consumeLogs(t, 1)))
	for _, tc := range []struct{ body, want string }{
		{fmt.Sprintf(`{"streams":[{"stream":{},"values":[["%d","x"]]}]}`, now), "has no stream labels"},
		{fmt.Sprintf(`{"streams":[{"stream":{"a":"b"},"values":[["%d","x"]]}]}`, now+int64(time.Hour)), "in the future (-ingest.max-future-skew)"},
		{fmt.Sprintf(`{"streams":[{"stream":{"bad-name":"x"},"values":[["%d","x"]]}]}`, now), `label name "bad-name" of stream`},
	} {
		code, resp, _ := e.post(t, "/loki/api/v1/push", []byte(tc.body), map[string]string{"Content-Type": "application/json", "Content-Encoding": ""})
		require.Equal(t, http.StatusBadRequest, code, tc.body)
		require.Contains(t, resp, tc.want)
	}
}

// TestLogsMalformed sends bodies no client should and expects a 4xx with
// a message that says what is wrong, never a 5xx.
func TestLogsMalformed(t *testing.T) {
	e := newReceiverEnv(t)
	for _, tc := range []struct {
		name, path string
		body       []byte
		hdr        map[string]string
		code       int
		want       string
	}{
		{"loki not snappy", "/loki/api/v1/push", []byte("hello"), map[string]string{"Content-Type": "application/x-protobuf", "Content-Encoding": ""}, 400, "snappy"},
		{"loki bad protobuf", "/loki/api/v1/push", snappy.Encode(nil, []byte{0xff, 0x01}), map[string]string{"Content-Type": "application/x-protobuf", "Content-Encoding": ""}, 400, "protobuf"},
		{"loki bad json", "/loki/api/v1/push", []byte(`{"streams":[`), map[string]string{"Content-Type": "application/json", "Content-Encoding": ""}, 400, "JSON"},
		{"loki bad gzip", "/loki/api/v1/push", []byte("not gzip"), map[string]string{"Content-Type": "application/json", "Content-Encoding": "gzip"}, 400, "gzip"},
		{"loki content type", "/loki/api/v1/push", []byte("x"), map[string]string{"Content-Type": "text/plain", "Content-Encoding": ""}, 415, `Content-Type "text/plain"`},
		{"loki tenant", "/loki/api/v1/push", []byte("{}"), map[string]string{"Content-Type": "application/json", "Content-Encoding": "", "X-Scope-OrgID": "a b"}, 400, "X-Scope-OrgID"},
		{"ndjson not json", "/api/v1/logs", []byte("{\"message\":\"ok\"}\nnope"), map[string]string{"Content-Encoding": ""}, 400, "line 2"},
		{"ndjson bad time", "/api/v1/logs", []byte(`{"time":"later","message":"x"}`), map[string]string{"Content-Encoding": ""}, 400, `field "time"`},
		{"ndjson encoding", "/api/v1/logs", []byte("{}"), map[string]string{"Content-Encoding": "br"}, 415, `Content-Encoding "br"`},
		{"ndjson too large", "/api/v1/logs", bytes.Repeat([]byte("x"), 2<<20), map[string]string{"Content-Encoding": ""}, 413, "-ingest.max-request-bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body, _ := e.post(t, tc.path, tc.body, tc.hdr)
			require.Equal(t, tc.code, code, body)
			require.Contains(t, body, tc.want)
		})
	}
}
