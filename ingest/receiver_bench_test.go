package ingest

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/VictoriaMetrics/metrics"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/cairn-dev/cairn/ingest/queue"
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
