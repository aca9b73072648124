package query

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/cairn-dev/cairn/store"
)

// sideBySideSteps and sideBySideStep shape TestSideBySide's data: three
// hours of samples every 15s.
const (
	sideBySideSteps = 3 * 60 * 4
	sideBySideStep  = int64(15_000)
)

// dataGen builds deterministic series for side-by-side tests, all with a
// run label so that runs against one long-lived Prometheus stay apart.
type dataGen struct {
	run    string
	start  int64 // ms of the first sample
	rnd    *rand.Rand
	series []store.Series
}

// sideBySideData returns node_exporter-like host series and an
// application's series, sideBySideSteps+1 samples each from start, unless
// noted:
//   - job="node", three hosts: up, node_uname_info, node_load1, memory,
//     filesystems filling up, CPU and network counters;
//   - job="api", two instances: up (api-2 down 10 minutes),
//     http_requests_total (api-1 restarts after 90 minutes: a counter
//     reset), a classic histogram http_request_duration_seconds,
//     process_resident_memory_bytes, queue_depth (queue "emails" stops
//     after two hours).
func sideBySideData(run string, start int64) []store.Series {
	g := &dataGen{run: run, start: start, rnd: rand.New(rand.NewPCG(42, 7))}
	for h := 1; h <= 3; h++ {
		g.node(h)
	}
	for i := 1; i <= 2; i++ {
		g.api(i)
	}
	return g.series
}

// add appends a series whose value at step i is f(i); f returns NaN for
// no sample.
func (g *dataGen) add(f func(i int) float64, kv ...string) {
	ls := labels.FromStrings(append(kv, "run", g.run)...)
	s := store.Series{Tenant: "anonymous", Labels: ls}
	for i := 0; i <= sideBySideSteps; i++ {
		if v := f(i); !math.IsNaN(v) {
			s.Samples = append(s.Samples, store.Sample{T: g.start + int64(i)*sideBySideStep, V: v})
		}
	}
	g.series = append(g.series, s)
}

// counter returns a counter's values: increments of rate×15s with noise,
// from 0 again at reset (a step index, or -1 for none).
func (g *dataGen) counter(rate float64, reset int) func(int) float64 {
	vals := make([]float64, sideBySideSteps+1)
	v := g.rnd.Float64() * 1000
	for i := range vals {
		if i == reset {
			v = 0
		}
		v += math.Round(rate * 15 * (0.5 + g.rnd.Float64()))
		vals[i] = v
	}
	return func(i int) float64 { return vals[i] }
}

// walk returns a gauge's values: a bounded random walk.
func (g *dataGen) walk(start, step, lo, hi float64) func(int) float64 {
	vals := make([]float64, sideBySideSteps+1)
	v := start
	for i := range vals {
		v = math.Min(hi, math.Max(lo, v+step*(g.rnd.Float64()*2-1)))
		vals[i] = v
	}
	return func(i int) float64 { return vals[i] }
}

func constant(v float64) func(int) float64 { return func(int) float64 { return v } }

func (g *dataGen) node(h int) {
	inst := fmt.Sprintf("node-%d:9100", h)
	base := []string{"job", "node", "instance", inst}
	with := func(kv ...string) []string { return append(append([]string{}, base...), kv...) }
	g.add(constant(1), with("__name__", "up")...)
	g.add(constant(1), with("__name__", "node_uname_info", "nodename", fmt.Sprintf("node-%d", h), "sysname", "Linux")...)
	g.add(g.walk(float64(h)/2, 0.2, 0, 4), with("__name__", "node_load1")...)
	total := float64(h) * (8 << 30)
	g.add(constant(total), with("__name__", "node_memory_MemTotal_bytes")...)
	g.add(g.walk(total/2, total/200, total/10, total), with("__name__", "node_memory_MemAvailable_bytes")...)
	for _, fs := range []struct {
		mount, device string
		size          float64
	}{{"/", "/dev/sda1", 50 << 30}, {"/data", "/dev/sdb1", 500 << 30}} {
		fill := fs.size / 1000 * float64(h)
		noise := g.walk(0, fs.size/10000, -fs.size/1000, fs.size/1000)
		kv := []string{"mountpoint", fs.mount, "device", fs.device, "fstype", "ext4"}
		g.add(constant(fs.size), with(append([]string{"__name__", "node_filesystem_size_bytes"}, kv...)...)...)
		g.add(func(i int) float64 { return math.Round(fs.size*0.6 - fill*float64(i)/10 + noise(i)) },
			with(append([]string{"__name__", "node_filesystem_avail_bytes"}, kv...)...)...)
	}
	for cpu := range 2 {
		for _, m := range []struct {
			mode  string
			share float64
		}{{"idle", 0.7}, {"user", 0.2}, {"system", 0.08}, {"iowait", 0.02}} {
			g.add(g.counter(m.share, -1), with("__name__", "node_cpu_seconds_total", "cpu", strconv.Itoa(cpu), "mode", m.mode)...)
		}
	}
	g.add(g.counter(float64(h)*1e5, -1), with("__name__", "node_network_receive_bytes_total", "device", "eth0")...)
}

// durationBuckets are the histogram's upper bounds; the last is +Inf.
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, math.Inf(1)}

func (g *dataGen) api(n int) {
	inst := fmt.Sprintf("api-%d:8080", n)
	base := []string{"job", "api", "instance", inst}
	with := func(kv ...string) []string { return append(append([]string{}, base...), kv...) }
	reset := -1
	if n == 1 {
		reset = 90 * 4
	}
	up := func(i int) float64 {
		if n == 2 && i >= 100*4 && i < 110*4 {
			return 0
		}
		return 1
	}
	g.add(up, with("__name__", "up")...)
	for _, route := range []string{"/users", "/orders"} {
		for _, method := range []string{"GET", "POST"} {
			g.add(g.counter(20, reset), with("__name__", "http_requests_total", "route", route, "method", method, "code", "200")...)
			g.add(g.counter(0.5, reset), with("__name__", "http_requests_total", "route", route, "method", method, "code", "500")...)
		}
		g.histogram(with("route", route), reset)
	}
	g.add(g.walk(200<<20, 1<<20, 100<<20, 400<<20), with("__name__", "process_resident_memory_bytes")...)
	g.add(g.walk(50, 5, 0, 200), with("__name__", "queue_depth", "queue", "orders")...)
	emails := g.walk(10, 2, 0, 50)
	g.add(func(i int) float64 {
		if i > 120*4 {
			return math.NaN()
		}
		return emails(i)
	}, with("__name__", "queue_depth", "queue", "emails")...)
}

// histogram adds a classic histogram: cumulative bucket counters, _sum
// and _count, consistent with each other at every step.
func (g *dataGen) histogram(base []string, reset int) {
	buckets := make([][]float64, len(durationBuckets))
	for b := range buckets {
		buckets[b] = make([]float64, sideBySideSteps+1)
	}
	sums := make([]float64, sideBySideSteps+1)
	var counts = make([]float64, len(durationBuckets))
	var sum float64
	for i := 0; i <= sideBySideSteps; i++ {
		if i == reset {
			clear(counts)
			sum = 0
		}
		for range 20 + g.rnd.IntN(20) {
			d := math.Exp(g.rnd.NormFloat64()*1.2 - 3) // median ~50ms
			sum += d
			for b, le := range durationBuckets {
				if d <= le {
					counts[b]++
				}
			}
		}
		for b := range buckets {
			buckets[b][i] = counts[b]
		}
		sums[i] = sum
	}
	name := func(n string, kv ...string) []string {
		return append(append([]string{"__name__", n}, base...), kv...)
	}
	for b, le := range durationBuckets {
		g.add(func(i int) float64 { return buckets[b][i] },
			name("http_request_duration_seconds_bucket", "le", strconv.FormatFloat(le, 'g', -1, 64))...)
	}
	inf := len(durationBuckets) - 1
	g.add(func(i int) float64 { return buckets[inf][i] }, name("http_request_duration_seconds_count")...)
	g.add(func(i int) float64 { return sums[i] }, name("http_request_duration_seconds_sum")...)
}
