package ingest

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/ingest/queue"
	"github.com/cairn-dev/cairn/ingest/wire"
	"github.com/cairn-dev/cairn/store"
)

// TestBatchFull checks when a writer's batch closes: at its rows, its
// bytes, its bytes of log messages, or its age, whichever comes first.
func TestBatchFull(t *testing.T) {
	stream := labels.FromStrings("job", "api")
	logMsg := wire.AppendLogs(nil, "t", []store.LogEntry{{Stream: stream, T: 1, Line: strings.Repeat("x", 1000)}})
	metricMsg := wire.AppendMetrics(nil, "t", []store.Series{{
		Labels:  labels.FromStrings("__name__", "up", "pad", strings.Repeat("y", 1000)),
		Samples: []store.Sample{{T: 1, V: 1}},
	}})
	cfg := WriterConfig{BatchRows: 100, BatchBytes: 10 * len(metricMsg), LogBatchBytes: 5 * len(logMsg), FlushInterval: time.Hour}

	for _, tc := range []struct {
		name            string
		metrics, logs   int // messages of each kind
		started         time.Duration
		full, drainFull bool
	}{
		{name: "empty", full: false, drainFull: false},
		{name: "small", metrics: 2, logs: 2},
		{name: "bytes of metrics", metrics: 10, full: true, drainFull: true},
		{name: "bytes of logs", logs: 5, full: true, drainFull: true},
		{name: "logs under their cap", logs: 4},
		{name: "both under their caps", metrics: 5, logs: 4},
		{name: "age", metrics: 1, started: 2 * time.Hour, full: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b batch
			for range tc.metrics {
				b.add(queue.Message{Value: metricMsg}, "dead")
			}
			for range tc.logs {
				b.add(queue.Message{Value: logMsg}, "dead")
			}
			require.Empty(t, b.dead)
			b.started = b.started.Add(-tc.started)
			require.Equal(t, tc.full, b.full(cfg), "full")
			require.Equal(t, tc.drainFull, b.big(cfg), "big")
		})
	}

	rows := batch{}
	for range 100 {
		rows.add(queue.Message{Value: wire.AppendMetrics(nil, "t", []store.Series{{Labels: labels.FromStrings("__name__", "up"), Samples: []store.Sample{{T: 1, V: 1}}}})}, "dead")
	}
	require.True(t, rows.big(cfg), "closes at -writer.batch-rows")
}

// TestWriterConfigValidate checks that every size limit must be positive.
func TestWriterConfigValidate(t *testing.T) {
	ok := WriterConfig{Group: "g", BatchRows: 1, BatchBytes: 1, LogBatchBytes: 1, FlushInterval: time.Second, MaxBackoff: time.Second}
	require.NoError(t, ok.Validate())
	for name, mutate := range map[string]func(*WriterConfig){
		"-writer.batch-rows":       func(c *WriterConfig) { c.BatchRows = 0 },
		"-writer.batch-bytes":      func(c *WriterConfig) { c.BatchBytes = 0 },
		"-writer.logs-batch-bytes": func(c *WriterConfig) { c.LogBatchBytes = 0 },
		"-writer.flush-interval":   func(c *WriterConfig) { c.FlushInterval = 0 },
		"-writer.max-backoff":      func(c *WriterConfig) { c.MaxBackoff = 0 },
		"-writer.group":            func(c *WriterConfig) { c.Group = "" },
	} {
		c := ok
		mutate(&c)
		err := c.Validate()
		require.Error(t, err, name)
		require.Contains(t, err.Error(), name)
	}
}

// TestWriterFollow checks when a writer forgets its rollups: when a
// metrics partition's offsets do not follow on from the last message it
// read, and only then.
func TestWriterFollow(t *testing.T) {
	set := metrics.NewSet()
	w := NewWriter(WriterConfig{}, nil, nil, nil, "dead", slog.New(slog.DiscardHandler), set)
	resets := func() uint64 { return set.GetOrCreateCounter(`cairn_writer_rollup_resets_total`).Get() }
	for _, tc := range []struct {
		topic     string
		partition int
		offset    int64
		resets    uint64
	}{
		{"m", 0, 40, 0}, // the first message of a partition
		{"m", 0, 41, 0},
		{"m", 1, 7, 0}, // another partition's first
		{"m", 0, 42, 0},
		{"l", 0, 3, 0},  // another topic's partition 0
		{"m", 0, 40, 1}, // read again from a commit
		{"m", 0, 41, 1},
		{"m", 1, 9, 2}, // back after another writer had it
		{"l", 0, 4, 2},
	} {
		w.follow(queue.Message{Topic: tc.topic, Partition: tc.partition, Offset: tc.offset})
		require.Equal(t, tc.resets, resets(), "%s/%d at %d", tc.topic, tc.partition, tc.offset)
	}
}
