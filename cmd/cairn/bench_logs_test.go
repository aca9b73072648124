package main

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/grafana/loki/pkg/push"
	"github.com/klauspost/compress/snappy"
)

// TestIngestLogsThroughput measures sustained Loki-push ingest into Cairn
// with its own Kafka and ClickHouse: log lines per second acknowledged and
// end to end (until ClickHouse's log_records holds every acknowledged
// line), and per CPU-second of the three processes. Like
// TestIngestSideBySide it is a benchmark: it runs only with
// CAIRN_BENCH_LOGS=1 (see docs/benchmarks.md) and prints a table.
//
// The load is what Promtail sends by default: snappy protobuf pushes of
// at most 1 MiB (batchsize), here of nginx access-log lines from
// CAIRN_BENCH_HOSTS hosts (two streams each, access and error), pushed by
// CAIRN_BENCH_SENDERS clients; CAIRN_BENCH_ROUNDS rounds of
// CAIRN_BENCH_LINES lines per stream, after CAIRN_BENCH_WARMUP rounds.
func TestIngestLogsThroughput(t *testing.T) {
	if os.Getenv("CAIRN_BENCH_LOGS") == "" {
		t.Skip("benchmark: run with CAIRN_BENCH_LOGS=1 (docs/benchmarks.md)")
	}
	hosts := envInt("CAIRN_BENCH_HOSTS", 50)
	rounds := envInt("CAIRN_BENCH_ROUNDS", 100)
	lines := envInt("CAIRN_BENCH_LINES", 100)
	senders := envInt("CAIRN_BENCH_SENDERS", 8)
	warmRounds := envInt("CAIRN_BENCH_WARMUP", 20)
	warm, load := newLogLoad(hosts, warmRounds+rounds, lines, 1<<20).split(warmRounds)
	var bytes int
	for _, b := range load.bodies {
		bytes += len(b)
	}
	t.Logf("load: %d streams (%d hosts), %d rounds of %d lines per stream, %d lines in %d pushes (%.1f MB snappy), %d senders, after %d warm-up rounds (%d lines)",
		load.series, hosts, rounds, lines, load.samples, len(load.bodies), float64(bytes)/1e6, senders, warmRounds, warm.samples)
	printResults(t, []benchResult{benchCairn(t, warm, load, senders)})
}

// newLogLoad returns Loki pushes of nginx-like access and error log lines,
// every line distinct, each push at most maxPush bytes before compression
// as Promtail's batchsize bounds them.
func newLogLoad(hosts, rounds, linesPerStream, maxPush int) *nodeLoad {
	type stream struct{ labels, kind, host string }
	var streams []stream
	for h := range hosts {
		host := fmt.Sprintf("web-%03d", h)
		for _, kind := range []string{"access", "error"} {
			streams = append(streams, stream{
				labels: fmt.Sprintf(`{job="nginx", host=%q, filename="/var/log/nginx/%s.log"}`, host, kind),
				kind:   kind, host: host,
			})
		}
	}
	paths := []string{"/", "/cart", "/checkout", "/api/v1/items?page=2", "/static/app.js", "/login", "/search?q=boots"}
	statuses := []int{200, 200, 200, 200, 301, 304, 404, 500}
	base := time.Now().Add(-5 * time.Minute) // within -ingest.max-sample-age of any setting
	l := &nodeLoad{series: len(streams), path: "/loki/api/v1/push",
		headers: map[string]string{"Content-Type": "application/x-protobuf"}, unit: "lines", table: "log_records"}
	var (
		req  push.PushRequest
		size int
		n    int
	)
	flush := func() {
		if len(req.Streams) == 0 {
			return
		}
		raw, err := req.Marshal()
		if err != nil {
			panic(err)
		}
		l.bodies = append(l.bodies, snappy.Encode(nil, raw))
		l.counts = append(l.counts, n)
		l.samples += int64(n)
		req, size, n = push.PushRequest{}, 0, 0
	}
	seq := 0
	for r := range rounds {
		first := len(l.bodies)
		for _, s := range streams {
			ps := push.Stream{Labels: s.labels}
			for i := range linesPerStream {
				seq++
				ts := base.Add(time.Duration(r*linesPerStream+i) * time.Millisecond)
				var line string
				if s.kind == "access" {
					line = fmt.Sprintf(`10.%d.%d.%d - - [%s] "GET %s HTTP/1.1" %d %d "-" "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0" rt=%.3f req=%08x`,
						seq%200, seq%31, seq%251, ts.UTC().Format("02/Jan/2006:15:04:05 -0700"), paths[seq%len(paths)],
						statuses[seq%len(statuses)], 200+seq%9000, float64(seq%997)/1000, seq)
				} else {
					line = fmt.Sprintf(`%s [error] %d#0: *%d upstream timed out (110: Connection timed out) while reading response header from upstream, client: 10.%d.%d.%d, server: %s`,
						ts.UTC().Format("2006/01/02 15:04:05"), seq%8, seq, seq%200, seq%31, seq%251, s.host)
				}
				if size+len(line)+64 > maxPush {
					req.Streams = append(req.Streams, ps)
					flush()
					ps = push.Stream{Labels: s.labels}
				}
				ps.Entries = append(ps.Entries, push.Entry{Timestamp: ts, Line: line})
				size += len(line) + 16
				n++
			}
			req.Streams = append(req.Streams, ps)
			size += len(s.labels)
		}
		flush()
		if r == 0 {
			l.perRound = len(l.bodies) - first
		}
	}
	return l
}
