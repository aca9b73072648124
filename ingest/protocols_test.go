package ingest

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"
	remoteapi "github.com/prometheus/client_golang/exp/api/remote"
	"github.com/prometheus/prometheus/model/labels"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/ingest/queue/queuetest"
	"github.com/cairn-dev/cairn/ingest/remotewrite"
	"github.com/cairn-dev/cairn/store"
)

// endpoint is one way to post to a receiver: a path and the headers a
// well-behaved client of that protocol sends.
type endpoint struct {
	name string
	path string
	hdr  map[string]string
}

// endpoints lists every endpoint of every metrics protocol.
func endpoints() []endpoint {
	return []endpoint{
		{"rw1 write", "/api/v1/write", map[string]string{"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy"}},
		{"rw1 push", "/api/v1/push", map[string]string{"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy"}},
		{"rw2", "/api/v1/write", map[string]string{"Content-Type": contentTypeV2, "Content-Encoding": "snappy"}},
		{"otlp protobuf", "/v1/metrics", map[string]string{"Content-Type": "application/x-protobuf"}},
		{"otlp json", "/v1/metrics", map[string]string{"Content-Type": "application/json"}},
		{"otlp gzip", "/v1/metrics", map[string]string{"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"}},
		{"influx v1", "/write?db=telegraf", nil},
		{"influx v2", "/api/v2/write?org=o&bucket=b&precision=ns", map[string]string{"Content-Encoding": "gzip"}},
	}
}

func with(hdr map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range hdr {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// TestMalformedBodies sends malformed requests to every endpoint and
// requires a 4xx whose body names the problem, never a 5xx.
func TestMalformedBodies(t *testing.T) {
	e := newReceiverEnv(t)
	eps := endpoints()
	rw1, rw2, otlpGz, lp := eps[0], eps[2], eps[5], eps[7]
	v1body := rwBody(t, series(e.now.UnixMilli(), 1, "__name__", "m"))
	bomb := gzipped(t, make([]byte, 5<<20)) // decompresses past -ingest.max-decoded-bytes
	for _, tc := range []struct {
		name string
		ep   endpoint
		hdr  map[string]string // replaces the endpoint's headers when set
		path string            // replaces the endpoint's path when set
		body []byte
		code int
		want string
	}{
		{"rw1 not snappy", rw1, nil, "", []byte("plain text"), 400, "cannot decode remote write request: snappy"},
		{"rw1 push not snappy", eps[1], nil, "", []byte{0xff, 0, 0, 0}, 400, "cannot decode remote write request: snappy"},
		{"rw1 truncated", rw1, nil, "", snappy.Encode(nil, mustMarshal(t)[:7]), 400, "cannot decode remote write request: protobuf"},
		{"rw1 gzip", rw1, with(rw1.hdr, "Content-Encoding", "gzip"), "", v1body, 415, `Content-Encoding "gzip" is not supported`},
		{"rw content type", rw1, with(rw1.hdr, "Content-Type", "text/plain"), "", v1body, 415, `Content-Type "text/plain" is not supported`},
		{"rw2 not snappy", rw2, nil, "", []byte("plain text"), 400, "cannot decode remote write request: snappy"},
		{"rw2 not protobuf", rw2, nil, "", snappy.Encode(nil, []byte{0x2a, 0xff, 0xff, 0xff}), 400, "cannot decode remote write request: protobuf"},
		{"rw2 too large", rw2, nil, "", bytes.Repeat([]byte{1}, 2<<20), 413, "exceeds 1048576 bytes (-ingest.max-request-bytes)"},
		{"rw2 tenant", rw2, with(rw2.hdr, "X-Scope-OrgID", "a/b"), "", v1body, 400, "X-Scope-OrgID"},
		{"otlp not protobuf", eps[3], nil, "", []byte("\x0a\xff\xff\xff\xff"), 400, "cannot decode OTLP metrics request: protobuf"},
		{"otlp not json", eps[4], nil, "", []byte(`{"resourceMetrics": 5}`), 400, "cannot decode OTLP metrics request: JSON"},
		{"otlp not gzip", otlpGz, nil, "", []byte("plain"), 400, "Content-Encoding gzip: body is not gzip"},
		{"otlp truncated gzip", otlpGz, nil, "", gzipped(t, bytes.Repeat([]byte("x"), 100))[:20], 400, "Content-Encoding gzip: decompress body"},
		{"otlp gzip bomb", otlpGz, nil, "", bomb, 413, "decompressed request body exceeds 4194304 bytes (-ingest.max-decoded-bytes)"},
		{"otlp content type", otlpGz, with(otlpGz.hdr, "Content-Type", "application/grpc"), "", nil, 415, `Content-Type "application/grpc" is not supported`},
		{"otlp no content type", otlpGz, map[string]string{}, "", nil, 415, `Content-Type "" is not supported`},
		{"otlp encoding", otlpGz, with(otlpGz.hdr, "Content-Encoding", "zstd"), "", nil, 415, `Content-Encoding "zstd" is not supported: send gzip`},
		{"otlp tenant", otlpGz, with(otlpGz.hdr, "X-Scope-OrgID", ".."), "", nil, 400, "X-Scope-OrgID"},
		{"influx syntax", eps[6], nil, "", []byte("cpu,host=a usage=\n"), 400, "cannot decode line protocol: line 1, column 18"},
		{"influx no fields", eps[6], nil, "", []byte("cpu,host=a\n"), 400, "cannot decode line protocol: line 1"},
		{"influx binary", eps[6], nil, "", []byte{0, 1, 2, 3}, 400, "cannot decode line protocol: line 1, column 1"},
		{"influx empty", eps[6], nil, "", nil, 400, "writing requires points"},
		{"influx precision", eps[6], nil, "/write?precision=fortnights", []byte("m v=1"), 400, `precision "fortnights" is not supported`},
		{"influx not gzip", lp, nil, "", []byte("m v=1"), 400, "Content-Encoding gzip: body is not gzip"},
		{"influx gzip bomb", lp, nil, "", bomb, 413, "-ingest.max-decoded-bytes"},
		{"influx bad name", lp, nil, "", gzipped(t, []byte("m,__name__=x v=1 1")), 400, `line 1: tag key "__name__" is reserved`},
		{"influx encoding", lp, with(lp.hdr, "Content-Encoding", "br"), "", []byte("m v=1"), 415, `Content-Encoding "br" is not supported`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hdr := tc.ep.hdr
			if tc.hdr != nil {
				hdr = tc.hdr
			}
			path := tc.ep.path
			if tc.path != "" {
				path = tc.path
			}
			code, body, h := postTo(t, e.srv.URL+path, tc.body, hdr)
			require.Equal(t, tc.code, code, body)
			require.Contains(t, errorMessage(t, body, h), tc.want)
		})
	}
}

func mustMarshal(t *testing.T) []byte {
	b, err := remotewrite.EncodeV1([]store.Series{series(1, 1, "__name__", "metric_with_a_long_name", "job", "x")})
	require.NoError(t, err)
	raw, err := snappy.Decode(nil, b)
	require.NoError(t, err)
	return raw
}

// TestRandomBodies posts random and mangled bodies to every endpoint: the
// answer may be a 2xx (random bytes can be a valid, empty message) or a
// 4xx with a message, never a 5xx.
func TestRandomBodies(t *testing.T) {
	e := newReceiverEnv(t)
	rng := rand.New(rand.NewPCG(1, 2))
	valid := map[string][]byte{
		"/api/v1/write": rwBody(t, series(e.now.UnixMilli(), 1, "__name__", "m", "job", "x")),
		"/v1/metrics":   []byte(`{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"g","gauge":{"dataPoints":[{"timeUnixNano":"1700000000000000000","asDouble":1}]}}]}]}]}`),
		"/write":        []byte("cpu,host=a usage=1.5,n=3i 1700000000000000000\n"),
	}
	for _, ep := range endpoints() {
		seed := valid[strings.SplitN(ep.path, "?", 2)[0]]
		if seed == nil {
			seed = valid["/write"]
			if strings.HasPrefix(ep.path, "/api/v1") {
				seed = valid["/api/v1/write"]
			}
		}
		for i := range 40 {
			body := mangle(rng, seed, i)
			if ep.hdr["Content-Encoding"] == "gzip" && i%2 == 0 {
				body = gzipped(t, body)
			}
			code, msg, h := postTo(t, e.srv.URL+ep.path, body, ep.hdr)
			require.Less(t, code, 500, "%s body %q: %s", ep.name, body, msg)
			if code >= 400 {
				require.NotEmpty(t, errorMessage(t, msg, h), "%s: a 4xx names its problem", ep.name)
			}
		}
	}
}

// mangle returns random bytes, or seed with bytes flipped, cut or
// repeated.
func mangle(rng *rand.Rand, seed []byte, i int) []byte {
	b := append([]byte(nil), seed...)
	switch i % 4 {
	case 0:
		b = make([]byte, rng.IntN(200))
		for j := range b {
			b[j] = byte(rng.IntN(256))
		}
	case 1:
		for range 1 + rng.IntN(4) {
			b[rng.IntN(len(b))] = byte(rng.IntN(256))
		}
	case 2:
		b = b[:rng.IntN(len(b))]
	case 3:
		b = append(b, b[rng.IntN(len(b)):]...)
	}
	return b
}

// TestProtocolsOnKafka sends one request of each protocol through the
// same receiver, on kfake and on the real broker when CAIRN_TEST_KAFKA is
// set, and reads every series back from the metrics topic.
func TestProtocolsOnKafka(t *testing.T) {
	queuetest.Each(t, func(t *testing.T, brokers string) {
		qcfg := testQueueConfig(brokers)
		qcfg.TopicPrefix = queuetest.UniquePrefix(t)
		e := newReceiverEnvOn(t, qcfg)
		e.now = time.Now()
		now := e.now.UnixMilli()
		ctx := context.Background()

		stats, err := rw2Client(t, e, "/api/v1/write").Write(ctx, remoteapi.WriteV2MessageType, rw2Request(
			rw2Series{labels: labels.FromStrings("__name__", "rw2_metric", "job", "x"), samples: []writev2.Sample{{Timestamp: now, Value: 1}}}))
		require.NoError(t, err)
		require.Equal(t, 1, stats.Samples)

		meter, mp := sdkMeter(t, e)
		g, err := meter.Float64Gauge("otlp.metric")
		require.NoError(t, err)
		g.Record(ctx, 2)
		require.NoError(t, mp.ForceFlush(ctx))

		code, msg, _ := postTo(t, e.srv.URL+"/api/v2/write?bucket=b", gzipped(t, []byte("influx,host=a metric=3")), map[string]string{"Content-Encoding": "gzip"})
		require.Equal(t, http.StatusNoContent, code, msg)

		code, msg, _ = e.post(t, "/api/v1/push", rwBody(t, series(now, 4, "__name__", "rw1_metric")), nil)
		require.Equal(t, http.StatusNoContent, code, msg)

		got := byName(e.consumeAtLeast(t, 5)) // otlp adds target_info
		for name, v := range map[string]float64{"rw2_metric": 1, "otlp_metric": 2, "influx_metric": 3, "rw1_metric": 4} {
			require.Len(t, got[name], 1, name)
			require.Equal(t, v, got[name][0].Samples[0].V, name)
		}
		require.Equal(t, "team-otel", got["otlp_metric"][0].Tenant)
		for _, result := range []string{
			`cairn_ingest_samples_total{protocol="prometheus_v2",result="accepted"} 1`,
			`cairn_ingest_samples_total{protocol="otlp",result="accepted"} 2`,
			`cairn_ingest_samples_total{protocol="influx",result="received"} 1`,
			`cairn_ingest_samples_total{protocol="prometheus",result="accepted"} 1`,
		} {
			require.Contains(t, setText(e), result)
		}
	})
}
