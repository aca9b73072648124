package ingest

import (
	"context"
	"net/http"
	"testing"
	"time"

	remoteapi "github.com/prometheus/client_golang/exp/api/remote"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/ingest/remotewrite"
	"github.com/cairn-dev/cairn/store"
)

const contentTypeV2 = "application/x-protobuf;proto=io.prometheus.write.v2.Request"

// rw2Client is the remote write client of Prometheus' client_golang, the
// sender library the 2.0 specification's authors maintain.
func rw2Client(t *testing.T, e *receiverEnv, path string) *remoteapi.API {
	api, err := remoteapi.NewAPI(e.srv.URL, remoteapi.WithAPIPath(path),
		remoteapi.WithAPIBackoff(remoteapi.BackoffConfig{Min: time.Millisecond, Max: time.Millisecond, MaxRetries: 1}))
	require.NoError(t, err)
	return api
}

// rw2Request builds a 2.0 request; each series is labels then samples.
type rw2Series struct {
	labels     labels.Labels
	samples    []writev2.Sample
	histograms []writev2.Histogram
}

func rw2Request(ss ...rw2Series) *writev2.Request {
	symbols := writev2.NewSymbolTable()
	req := &writev2.Request{}
	for _, s := range ss {
		req.Timeseries = append(req.Timeseries, writev2.TimeSeries{
			LabelsRefs: symbols.SymbolizeLabels(s.labels, nil),
			Samples:    s.samples,
			Histograms: s.histograms,
			Metadata:   writev2.Metadata{Type: writev2.Metadata_METRIC_TYPE_GAUGE, HelpRef: symbols.Symbolize("help text")},
		})
	}
	req.Symbols = symbols.Symbols()
	return req
}

func TestRemoteWriteV2Accepted(t *testing.T) {
	e := newReceiverEnv(t)
	now := e.now.UnixMilli()
	for _, path := range []string{"/api/v1/write", "/api/v1/push"} {
		t.Run(path, func(t *testing.T) {
			stats, err := rw2Client(t, e, path).Write(context.Background(), remoteapi.WriteV2MessageType, rw2Request(
				rw2Series{labels: labels.FromStrings("__name__", "demo_metric", "job", "x"), samples: []writev2.Sample{{Timestamp: now - 1000, Value: 1}, {Timestamp: now, Value: 2}}},
				rw2Series{labels: labels.FromStrings("__name__", "up", "job", "y", "path", path), samples: []writev2.Sample{{Timestamp: now, Value: 1}}},
			))
			require.NoError(t, err)
			require.Equal(t, 3, stats.Samples)
			require.Equal(t, 0, stats.Histograms)
			require.Equal(t, 0, stats.Exemplars)
		})
	}
	got := e.consumeSeries(t, 4)
	samples := 0
	for _, s := range got {
		samples += len(s.Samples)
		require.Equal(t, "anonymous", s.Tenant)
	}
	require.Equal(t, 6, samples)
}

// TestRemoteWriteV2PartialWrite checks the 2.0 partial-write contract:
// invalid native histograms and invalid series are rejected with a 400
// naming them, the valid float samples and histograms are stored, and the
// -Written headers count exactly those.
func TestRemoteWriteV2PartialWrite(t *testing.T) {
	e := newReceiverEnv(t)
	now := e.now.UnixMilli()
	valid := writev2.FromIntHistogram(0, now, &histogram.Histogram{
		Schema: 0, Count: 3, Sum: 4.5, PositiveSpans: []histogram.Span{{Offset: 0, Length: 2}}, PositiveBuckets: []int64{1, 1},
	})
	stats, err := rw2Client(t, e, "/api/v1/write").Write(context.Background(), remoteapi.WriteV2MessageType, rw2Request(
		rw2Series{labels: labels.FromStrings("__name__", "good", "job", "x"), samples: []writev2.Sample{{Timestamp: now, Value: 1}}},
		rw2Series{labels: labels.FromStrings("__name__", "latency_seconds", "job", "x"), histograms: []writev2.Histogram{{Timestamp: now, Count: &writev2.Histogram_CountInt{CountInt: 3}}}},
		rw2Series{labels: labels.FromStrings("__name__", "rpc_seconds", "job", "x"), histograms: []writev2.Histogram{valid}},
		rw2Series{labels: labels.FromStrings("__name__", "bad", "0pe", "v"), samples: []writev2.Sample{{Timestamp: now, Value: 1}}},
	))
	require.ErrorContains(t, err, "400 Bad Request")
	require.ErrorContains(t, err, "2 of 4 samples rejected, the rest were stored")
	require.ErrorContains(t, err, `histogram of series {__name__="latency_seconds", job="x"} at `)
	require.ErrorContains(t, err, "but the Count field is 3")
	require.Equal(t, 1, stats.Samples)
	require.Equal(t, 1, stats.Histograms)

	got := e.consumeSeries(t, 2)
	byName := map[string]store.Series{}
	for _, s := range got {
		byName[s.Labels.Get("__name__")] = s
	}
	require.Len(t, byName["good"].Samples, 1)
	require.Len(t, byName["rpc_seconds"].Histograms, 1)
	require.Equal(t, uint64(3), byName["rpc_seconds"].Histograms[0].H.Count)
}

func TestRemoteWriteV2Headers(t *testing.T) {
	e := newReceiverEnv(t)
	now := e.now.UnixMilli()
	body, err := remotewrite.EncodeV2([]store.Series{series(now, 1, "__name__", "m"), series(now, 2, "__name__", "n")})
	require.NoError(t, err)
	hdr := map[string]string{"Content-Type": contentTypeV2}

	code, msg, h := e.post(t, "/api/v1/write", body, hdr)
	require.Equal(t, http.StatusNoContent, code, msg)
	require.Equal(t, "2", h.Get(headerSamplesWritten))
	require.Equal(t, "0", h.Get(headerHistogramsWritten))
	require.Equal(t, "0", h.Get(headerExemplarsWritten))

	code, msg, h = e.post(t, "/api/v1/write", []byte("not snappy"), hdr)
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, msg, "cannot decode remote write request: snappy")
	require.Equal(t, "0", h.Get(headerSamplesWritten))

	// A 1.0 request gets no 2.0 headers.
	code, _, h = e.post(t, "/api/v1/write", rwBody(t, series(now, 1, "__name__", "m")), nil)
	require.Equal(t, http.StatusNoContent, code)
	require.Empty(t, h.Get(headerSamplesWritten))
}

func TestRemoteWriteVersion(t *testing.T) {
	for ct, want := range map[string]int{
		"":                       1,
		"application/x-protobuf": 1,
		"application/x-protobuf;proto=prometheus.WriteRequest":         1,
		"application/x-protobuf; proto=io.prometheus.write.v2.Request": 2,
		contentTypeV2:      2,
		"application/json": 0,
		"application/x-protobuf;proto=io.prometheus.write.v3.Request": 0,
		"application/x-protobuf;;":                                    0,
	} {
		got, err := remoteWriteVersion(ct)
		require.Equal(t, want, got, ct)
		if want == 0 {
			require.ErrorContains(t, err, "is not supported: send application/x-protobuf;proto=io.prometheus.write.v2.Request (remote write 2.0)")
		}
	}
}

func TestRemoteWriteV2KafkaDown(t *testing.T) {
	srv := kafkaDownServer(t)
	body, err := remotewrite.EncodeV2([]store.Series{series(time.Now().UnixMilli(), 1, "__name__", "m")})
	require.NoError(t, err)
	code, msg, h := postTo(t, srv.URL+"/api/v1/write", body, map[string]string{"Content-Type": contentTypeV2, "Content-Encoding": "snappy"})
	require.Equal(t, http.StatusServiceUnavailable, code, msg)
	require.Equal(t, "5", h.Get("Retry-After"))
	require.Equal(t, "0", h.Get(headerSamplesWritten))
	require.Contains(t, msg, "kafka unavailable")
}
