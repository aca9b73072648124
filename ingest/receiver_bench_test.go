package ingest

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/cairn-dev/cairn/ingest/queue"
	"github.com/cairn-dev/cairn/ingest/remotewrite"
	"github.com/cairn-dev/cairn/store"
)

// countingProducer takes messages without sending them anywhere, so a
// benchmark measures the receiver's own work.
type countingProducer struct{ bytes int }

func (p *countingProducer) Produce(_ context.Context, msgs []queue.Message) error {
	for _, m := range msgs {
		p.bytes += len(m.Value)
	}
	return nil
}

func (p *countingProducer) Partitions(context.Context, string) (int, error) { return 4, nil }

// BenchmarkProduceMetrics is the receiver's side of Kafka for one remote
// write request of 1,000 series: fingerprint, shard, encode.
func BenchmarkProduceMetrics(b *testing.B) {
	series := make([]store.Series, 1000)
	for i := range series {
		series[i] = store.Series{
			Tenant:  "t",
			Labels:  labels.FromStrings("__name__", "node_cpu_seconds_total", "cpu", strconv.Itoa(i%8), "instance", fmt.Sprintf("host-%03d:9100", i/64), "job", "node", "mode", "idle"),
			Samples: []store.Sample{{T: 1700000000000, V: float64(i)}},
		}
	}
	p := &countingProducer{}
	rc := NewReceiver(testReceiverConfig(), Topics{Metrics: "m"}, p, discard(), metrics.NewSet())
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := rc.produceMetrics(ctx, "t", series); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(p.bytes)/float64(b.N*len(series)), "bytes/series")
}

// BenchmarkRemoteWrite is the receiver's whole path for remote write 1.0
// requests of 2,000 node_exporter-like series (Prometheus' default
// max_samples_per_send), Kafka left out: read, decode, admit, encode.
// After the first round every series is known and its labels were sent,
// which is the steady state of a receiver whose senders keep their
// series; -benchtime counts requests.
func BenchmarkRemoteWrite(b *testing.B) {
	const perRequest = 2000
	var bodies [][]byte
	t0 := time.Now().UnixMilli()
	for round := range 4 {
		for start := 0; start < 10400; start += perRequest {
			var series []store.Series
			for i := start; i < min(start+perRequest, 10400); i++ {
				ls := labels.FromStrings("__name__", "node_cpu_seconds_total", "cpu", strconv.Itoa(i%8), "instance", fmt.Sprintf("host-%03d:9100", i/104), "job", "node", "mode", strconv.Itoa(i%104/8))
				series = append(series, store.Series{Labels: ls, Samples: []store.Sample{{T: t0 + int64(round)*15000, V: float64(i)}}})
			}
			body, err := remotewrite.EncodeV1(series)
			if err != nil {
				b.Fatal(err)
			}
			bodies = append(bodies, body)
		}
	}
	cfg := testReceiverConfig()
	cfg.MaxRequestBytes, cfg.MaxDecodedBytes = 16<<20, 64<<20
	p := &countingProducer{}
	rc := NewReceiver(cfg, Topics{Metrics: "m"}, p, discard(), metrics.NewSet())
	post := func(body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/write", bytes.NewReader(body))
		req.Header.Set("Content-Encoding", "snappy")
		req.Header.Set("Content-Type", "application/x-protobuf")
		w := httptest.NewRecorder()
		rc.handleRemoteWrite(w, req)
		if w.Code != http.StatusNoContent {
			b.Fatalf("%d: %s", w.Code, w.Body)
		}
	}
	for _, body := range bodies {
		post(body) // labels sent, series known
	}
	p.bytes = 0
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		post(bodies[n%len(bodies)])
		n++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*perRequest), "ns/sample")
	b.ReportMetric(float64(p.bytes)/float64(n*perRequest), "bytes/sample")
}
