package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/ingest"
	"github.com/cairn-dev/cairn/ingest/remotewrite"
	"github.com/cairn-dev/cairn/store"
)

// TestIngestSideBySide measures sustained remote-write ingest of Cairn
// (with its own Kafka and ClickHouse), VictoriaMetrics single-node and
// Prometheus on this machine, with the same pre-encoded load, one after
// the other. It is a benchmark, not a test: it runs only with
// CAIRN_BENCH_INGEST=1 (see docs/benchmarks.md) and prints a table;
// CAIRN_BENCH_PEERS=0 measures Cairn alone; CAIRN_BENCH_IDLE=10s first
// reports what Cairn's processes use for that long with no load.
//
// For each target it reports acknowledged samples per second of wall
// time and per CPU-second of the target's processes (utime+stime from
// /proc); for Cairn also acknowledged → queryable, the time until
// ClickHouse holds every acknowledged sample.
//
// Each target first gets CAIRN_BENCH_WARMUP rounds (default 100) of the
// same series, earlier, unmeasured: sustained ingest is measured, not a
// fresh JVM compiling Kafka or a peer creating its series. For Cairn
// the clock starts once ClickHouse holds the warm-up.
func TestIngestSideBySide(t *testing.T) {
	if os.Getenv("CAIRN_BENCH_INGEST") == "" {
		t.Skip("benchmark: run with CAIRN_BENCH_INGEST=1 (docs/benchmarks.md)")
	}
	hosts := envInt("CAIRN_BENCH_HOSTS", 100)
	rounds := envInt("CAIRN_BENCH_ROUNDS", 400)
	senders := envInt("CAIRN_BENCH_SENDERS", 4)
	warmRounds := 100
	if v, err := strconv.Atoi(os.Getenv("CAIRN_BENCH_WARMUP")); err == nil && v >= 0 {
		warmRounds = v // 0: no warm-up
	}
	// Prometheus sends at most 2,000 samples per request by default
	// (queue_config max_samples_per_send).
	perRequest := envInt("CAIRN_BENCH_BATCH", 2000)
	warm, load := newNodeLoad(hosts, warmRounds+rounds, perRequest).split(warmRounds)
	t.Logf("load: %d series (%d hosts), %d rounds at 15s, %d samples in %d requests of ≤%d series, %d senders, after %d warm-up rounds (%d samples)",
		load.series, hosts, rounds, load.samples, len(load.bodies), perRequest, senders, warmRounds, warm.samples)

	var results []benchResult
	results = append(results, benchCairn(t, warm, load, senders))
	if v := os.Getenv("CAIRN_BENCH_CLICKHOUSE_ALONE"); v == "1" || v == "" && os.Getenv("CAIRN_BENCH_PEERS") != "0" {
		results = append(results, benchClickHouseAlone(t, hosts, warmRounds, rounds))
	}
	if os.Getenv("CAIRN_BENCH_PEERS") == "0" { // Cairn alone, while iterating
		printResults(t, results)
		return
	}
	results = append(results, benchPeer(t, warm, load, senders, "VictoriaMetrics", "victoriametrics.sh", "victoriametrics", "/api/v1/write", map[string]string{"CAIRN_VM_PORT": freePort(t)}, "CAIRN_VM_PORT"))
	results = append(results, benchPeer(t, warm, load, senders, "Prometheus", "prometheus.sh", "prometheus", "/api/v1/write", map[string]string{"CAIRN_PROMETHEUS_PORT": freePort(t)}, "CAIRN_PROMETHEUS_PORT"))
	printResults(t, results)
}

// printResults logs the results as a Markdown table.
func printResults(t *testing.T, results []benchResult) {
	var sb strings.Builder
	u := results[0].unit
	fmt.Fprintf(&sb, "\n| target | %s | wall s | %s/s | CPU s | %s per CPU-second | without JIT | CPU s with %s settle | %s per CPU-second with settle | without JIT | acknowledged → queryable |\n|---|---|---|---|---|---|---|---|---|---|---|\n",
		u, u, u, benchSettle(), u)
	for _, r := range results {
		fmt.Fprintf(&sb, "| %s | %d | %.1f | %.0f | %.1f (%s) | %.0f | %.0f | %.1f (%s) | %.0f | %.0f | %s |\n", r.name, r.samples, r.wall.Seconds(),
			float64(r.samples)/r.wall.Seconds(), r.cpu, r.cpuDetail, float64(r.samples)/r.cpu, float64(r.samples)/(r.cpu-r.jit),
			r.settled, r.settledDetail, float64(r.samples)/r.settled, float64(r.samples)/(r.settled-r.settledJIT), r.queryable)
	}
	t.Log(sb.String())
}

type benchResult struct {
	name      string
	unit      string // "samples" or "lines"
	samples   int64
	wall      time.Duration
	cpu       float64 // seconds
	cpuDetail string
	queryable string
	// jit: of cpu, the seconds a JVM's JIT compiler threads used (Kafka's
	// compiling its hot paths, a cost of a young broker, which a
	// long-running one has paid).
	jit float64
	// settled: CPU seconds up to benchSettle after the load (Cairn: after
	// it was queryable), background work such as merges included.
	settled       float64
	settledDetail string
	settledJIT    float64
}

// benchSettle is how long each target's CPU keeps being counted after its
// load: ClickHouse merges the parts of the last inserts, VictoriaMetrics
// its own parts, and idle costs (Kafka's fetch polling) count as well.
func benchSettle() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("CAIRN_BENCH_SETTLE")); err == nil && d >= 0 {
		return d
	}
	return 15 * time.Second
}

// settle waits benchSettle and sets the settled CPU of r from m.
func (r *benchResult) settle(t *testing.T, m *cpuMeter) {
	time.Sleep(benchSettle())
	r.settled, r.settledDetail, r.settledJIT = m.used(t)
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// nodeLoad is request bodies encoded before the clock starts so that
// every target gets the same bytes: remote-write bodies of
// node_exporter-like series (newNodeLoad) or Loki pushes of access logs
// (newLogLoad).
type nodeLoad struct {
	series   int   // series or streams
	samples  int64 // samples or log lines
	bodies   [][]byte
	counts   []int
	perRound int // bodies per round
	path     string
	headers  map[string]string
	unit     string // what samples counts: "samples" or "lines"
	table    string // the ClickHouse table that holds them
}

// split returns the first n rounds of l and the rest.
func (l *nodeLoad) split(n int) (first, rest *nodeLoad) {
	k := min(n*l.perRound, len(l.bodies))
	part := func(bodies [][]byte, counts []int) *nodeLoad {
		p := &nodeLoad{series: l.series, bodies: bodies, counts: counts, perRound: l.perRound,
			path: l.path, headers: l.headers, unit: l.unit, table: l.table}
		for _, c := range counts {
			p.samples += int64(c)
		}
		return p
	}
	return part(l.bodies[:k], l.counts[:k]), part(l.bodies[k:], l.counts[k:])
}

// nodeSeries returns the label sets of hosts node_exporter-like hosts:
// CPU seconds per mode and CPU, network, memory and filesystem series.
func nodeSeries(hosts int) []labels.Labels {
	var all []labels.Labels
	for h := range hosts {
		inst := fmt.Sprintf("host-%03d:9100", h)
		add := func(kv ...string) {
			all = append(all, labels.FromStrings(append([]string{"job", "node", "instance", inst}, kv...)...))
		}
		for cpu := range 8 {
			for _, mode := range []string{"user", "system", "idle", "iowait", "irq", "softirq", "steal", "nice"} {
				add("__name__", "node_cpu_seconds_total", "cpu", strconv.Itoa(cpu), "mode", mode)
			}
		}
		for _, dev := range []string{"eth0", "eth1", "lo"} {
			for _, m := range []string{"receive_bytes", "transmit_bytes", "receive_packets", "transmit_packets", "receive_errs", "transmit_errs"} {
				add("__name__", "node_network_"+m+"_total", "device", dev)
			}
		}
		for _, m := range []string{"MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached", "SwapTotal", "SwapFree", "Active", "Inactive", "Dirty"} {
			add("__name__", "node_memory_"+m+"_bytes")
		}
		for _, mp := range []string{"/", "/var", "/home"} {
			for _, m := range []string{"size_bytes", "avail_bytes", "files", "files_free"} {
				add("__name__", "node_filesystem_"+m, "mountpoint", mp, "fstype", "ext4", "device", "/dev/sda1")
			}
		}
	}
	return all
}

// nodeRoundsStart is the timestamp of the first of rounds rounds 15 s
// apart that end a little before now.
func nodeRoundsStart(rounds int) int64 {
	return time.Now().Add(-time.Duration(rounds+60) * 15 * time.Second).Truncate(time.Second).UnixMilli()
}

// nodeSample is series j's sample in round r: counters and gauges that
// move.
func nodeSample(base int64, r, j int) store.Sample {
	return store.Sample{T: base + int64(r)*15000, V: float64(r*(j%97+1)) + float64(j)}
}

func newNodeLoad(hosts, rounds, perRequest int) *nodeLoad {
	all := nodeSeries(hosts)
	base := nodeRoundsStart(rounds)
	l := &nodeLoad{series: len(all), perRound: (len(all) + perRequest - 1) / perRequest, path: "/api/v1/write",
		headers: map[string]string{"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf", "X-Prometheus-Remote-Write-Version": "0.1.0"},
		unit:    "samples", table: "samples"}
	for r := range rounds {
		for i := 0; i < len(all); i += perRequest {
			end := min(i+perRequest, len(all))
			batch := make([]store.Series, 0, end-i)
			for j := i; j < end; j++ {
				batch = append(batch, store.Series{Labels: all[j], Samples: []store.Sample{nodeSample(base, r, j)}})
			}
			body, err := remotewrite.EncodeV1(batch)
			if err != nil {
				panic(err)
			}
			l.bodies = append(l.bodies, body)
			l.counts = append(l.counts, len(batch))
			l.samples += int64(len(batch))
		}
	}
	return l
}

// send posts every body to url with n senders, retrying a body until it
// is acknowledged, and returns the wall time.
func (l *nodeLoad) send(t *testing.T, url string, n int) time.Duration {
	client := &http.Client{Timeout: 30 * time.Second}
	var next atomic.Int64
	var failures atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range n {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(l.bodies); i = int(next.Add(1) - 1) {
				for !postOnce(client, url, l.bodies[i], l.headers) {
					failures.Add(1)
					time.Sleep(50 * time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	if f := failures.Load(); f > 0 {
		t.Logf("%s: %d requests retried", url, f)
	}
	return time.Since(start)
}

func postOnce(client *http.Client, url string, body []byte, headers map[string]string) bool {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return false
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode/100 == 2
}

// cpuSeconds returns the user+system CPU time a process has used.
func cpuSeconds(t *testing.T, pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	require.NoError(t, err)
	// Fields after the command name (which may hold spaces) start at ')'.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100 // USER_HZ
}

// jitSeconds returns the user+system CPU time of a JVM's JIT compiler
// threads (C1 and C2 CompilerThread), as far as they are still running:
// a thread that ended takes its time with it, so this may undercount.
func jitSeconds(t *testing.T, pid int) float64 {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", pid))
	require.NoError(t, err)
	var total float64
	for _, task := range tasks {
		comm, err := os.ReadFile(task + "/comm")
		if err != nil || !strings.Contains(string(comm), "CompilerThre") {
			continue // gone, or not a compiler thread
		}
		b, err := os.ReadFile(task + "/stat")
		if err != nil {
			continue
		}
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
		utime, _ := strconv.ParseFloat(f[11], 64)
		stime, _ := strconv.ParseFloat(f[12], 64)
		total += (utime + stime) / 100
	}
	return total
}

type cpuMeter struct {
	names  []string
	pids   []int
	starts []float64
	// The JVMs among pids (jvm[i]), and their compiler threads' CPU at
	// the start.
	jvm       []bool
	jitStarts []float64
}

func (m *cpuMeter) add(t *testing.T, name string, pid int) {
	m.names, m.pids, m.starts = append(m.names, name), append(m.pids, pid), append(m.starts, cpuSeconds(t, pid))
	m.jvm, m.jitStarts = append(m.jvm, false), append(m.jitStarts, 0)
}

// addJVM is add for a Java process, whose JIT compiler threads are
// measured apart as well.
func (m *cpuMeter) addJVM(t *testing.T, name string, pid int) {
	m.add(t, name, pid)
	m.jvm[len(m.jvm)-1], m.jitStarts[len(m.jitStarts)-1] = true, jitSeconds(t, pid)
}

// used returns the CPU seconds used since add, in total and per process,
// and how many of them the JVMs' JIT compiler threads used.
func (m *cpuMeter) used(t *testing.T) (total float64, detail string, jit float64) {
	var parts []string
	for i, pid := range m.pids {
		d := cpuSeconds(t, pid) - m.starts[i]
		total += d
		if !m.jvm[i] {
			parts = append(parts, fmt.Sprintf("%s %.1f", m.names[i], d))
			continue
		}
		j := jitSeconds(t, pid) - m.jitStarts[i]
		jit += j
		parts = append(parts, fmt.Sprintf("%s %.1f of which JIT %.1f", m.names[i], d, j))
	}
	return total, strings.Join(parts, ", "), jit
}

func benchCairn(t *testing.T, warm, load *nodeLoad, senders int) benchResult {
	chPort, chHTTP := freePort(t), freePort(t)
	ch := startLocalServer(t, "clickhouse.sh", map[string]string{"CAIRN_CLICKHOUSE_PORT": chPort, "CAIRN_CLICKHOUSE_HTTP_PORT": chHTTP})
	kPort := freePort(t)
	kafka := startLocalServer(t, "kafka.sh", map[string]string{"CAIRN_KAFKA_PORT": kPort, "CAIRN_KAFKA_CONTROLLER_PORT": freePort(t)})
	listen := freeAddr(t)
	args := []string{"serve", "-listen", listen, "-log.level", "warn",
		"-kafka.brokers", "127.0.0.1:" + kPort, "-clickhouse.addr", "127.0.0.1:" + chPort, "-clickhouse.database", "bench"}
	args = append(args, strings.Fields(os.Getenv("CAIRN_BENCH_ARGS"))...) // e.g. -kafka.compression=none
	p := startCairn(t, listen, args...)
	if warm.samples > 0 {
		warm.send(t, p.base+warm.path, senders)
		require.Eventually(t, func() bool { return chCount(t, chHTTP, "bench."+load.table) >= warm.samples }, 5*time.Minute, 100*time.Millisecond)
	}

	var m cpuMeter
	m.add(t, "cairn", p.cmd.Process.Pid)
	m.addJVM(t, "kafka", kafka.pid(t, "kafka"))
	m.add(t, "clickhouse", ch.pid(t, "clickhouse"))
	if d, err := time.ParseDuration(os.Getenv("CAIRN_BENCH_IDLE")); err == nil && d > 0 {
		// What the pipeline burns with no load: a fresh JVM compiles,
		// ClickHouse flushes its system logs.
		time.Sleep(d)
		_, idle, _ := m.used(t)
		t.Logf("idle for %s before the load, CPU s: %s", d, idle)
		m = cpuMeter{}
		m.add(t, "cairn", p.cmd.Process.Pid)
		m.addJVM(t, "kafka", kafka.pid(t, "kafka"))
		m.add(t, "clickhouse", ch.pid(t, "clickhouse"))
	}
	produced := selfMetric(t, p.base, "cairn_kafka_produced_bytes_total")
	start := time.Now()
	if path := os.Getenv("CAIRN_BENCH_PROFILE"); path != "" {
		go captureProfile(t, p.base, "/debug/pprof/profile?seconds=10", path)
	}
	if path := os.Getenv("CAIRN_BENCH_HEAP"); path != "" {
		go func() {
			time.Sleep(5 * time.Second)
			captureProfile(t, p.base, "/debug/pprof/heap", path)
		}()
	}
	wall := load.send(t, p.base+load.path, senders)
	require.Eventually(t, func() bool { return chCount(t, chHTTP, "bench."+load.table) >= warm.samples+load.samples }, 5*time.Minute, 100*time.Millisecond)
	queryable := time.Since(start)
	cpu, detail, jit := m.used(t)
	t.Logf("cairn produced %.1f bytes per %s to Kafka (before Kafka's compression)",
		(selfMetric(t, p.base, "cairn_kafka_produced_bytes_total")-produced)/float64(load.samples), strings.TrimSuffix(load.unit, "s"))
	r := benchResult{name: "Cairn (+Kafka +ClickHouse 18.16)", unit: load.unit, samples: load.samples, wall: wall, cpu: cpu, cpuDetail: detail, jit: jit,
		queryable: fmt.Sprintf("all in %.1fs (%.0f %s/s end to end)", queryable.Seconds(), float64(load.samples)/queryable.Seconds(), load.unit)}
	r.settle(t, &m)
	if status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid)); err == nil {
		if hwm := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(status); hwm != nil {
			t.Logf("cairn peak resident memory: %s kB", hwm[1])
		}
	}
	logCHEvents(t, chHTTP, "Cairn's ClickHouse")
	p.stop(t)
	// The next target must not share the cores with this one's merges.
	kafka.stop(t)
	ch.stop(t)
	return r
}

// benchClickHouseAlone writes the load's samples (the same series, values
// and timestamps, warm-up first) into a ClickHouse of their own through
// the store's client, in batches of the writer's default size, and
// counts ClickHouse's CPU only: what storing the samples costs with no
// receiver, no Kafka and no writer in front, the part of the pipeline's
// CPU that Cairn's own code cannot remove. It is a best case: every
// insert is a full batch, where the writer also closes one at
// -writer.flush-interval.
func benchClickHouseAlone(t *testing.T, hosts, warmRounds, rounds int) benchResult {
	var writer ingest.WriterConfig
	writer.RegisterFlags(flag.NewFlagSet("writer", flag.ContinueOnError))
	batchRows := writer.BatchRows // -writer.batch-rows' default
	chPort, chHTTP := freePort(t), freePort(t)
	ch := startLocalServer(t, "clickhouse.sh", map[string]string{"CAIRN_CLICKHOUSE_PORT": chPort, "CAIRN_CLICKHOUSE_HTTP_PORT": chHTTP})
	fs := flag.NewFlagSet("store", flag.ContinueOnError)
	var cfg store.Config
	cfg.RegisterFlags(fs)
	// The ClickHouse flags Cairn got (CAIRN_BENCH_ARGS); others are not
	// this store's.
	args := []string{"-clickhouse.addr", "127.0.0.1:" + chPort, "-clickhouse.database", "bench"}
	for _, a := range strings.Fields(os.Getenv("CAIRN_BENCH_ARGS")) {
		if strings.HasPrefix(strings.TrimLeft(a, "-"), "clickhouse.") {
			args = append(args, a)
		}
	}
	require.NoError(t, fs.Parse(args))
	ctx := t.Context()
	st, err := store.Open(ctx, cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	defer st.Close()
	require.NoError(t, st.Migrate(ctx))

	all := nodeSeries(hosts)
	base := nodeRoundsStart(warmRounds + rounds)
	rollups := store.NewRollups() // as the writer keeps them
	write := func(from, to int) int64 {
		var batch []store.Series
		var n int64
		flush := func() {
			require.NoError(t, st.WriteMetrics(ctx, &store.Metrics{Series: batch}, "", rollups))
			n += int64(len(batch))
			batch = batch[:0]
		}
		for r := from; r < to; r++ {
			for j, ls := range all {
				batch = append(batch, store.Series{Tenant: "default", Labels: ls, Samples: []store.Sample{nodeSample(base, r, j)}})
				if len(batch) == batchRows {
					flush()
				}
			}
		}
		if len(batch) > 0 {
			flush()
		}
		return n
	}
	warm := write(0, warmRounds)
	require.Eventually(t, func() bool { return chCount(t, chHTTP, "bench.samples") >= warm }, 5*time.Minute, 100*time.Millisecond)

	var m cpuMeter
	m.add(t, "clickhouse", ch.pid(t, "clickhouse"))
	start := time.Now()
	n := write(warmRounds, warmRounds+rounds)
	wall := time.Since(start)
	require.Eventually(t, func() bool { return chCount(t, chHTTP, "bench.samples") >= warm+n }, 5*time.Minute, 100*time.Millisecond)
	cpu, detail, _ := m.used(t)
	r := benchResult{name: "ClickHouse 18.16 alone (the store's client writing the same samples, no Kafka)", unit: "samples", samples: n, wall: wall,
		cpu: cpu, cpuDetail: detail, queryable: fmt.Sprintf("all in %.1fs", time.Since(start).Seconds())}
	r.settle(t, &m)
	logCHEvents(t, chHTTP, "ClickHouse alone")
	ch.stop(t)
	return r
}

// logCHEvents logs what the ClickHouse at httpPort did since it started:
// queries, inserts and merges, to tell apart two runs' ClickHouse CPU.
func logCHEvents(t *testing.T, httpPort, name string) {
	q := "SELECT event, value FROM system.events WHERE event IN ('Query', 'InsertQuery', 'InsertedRows', 'Merge', 'MergedRows', 'MergeTreeDataWriterBlocks', 'MergeTreeDataWriterBlocksAlreadySorted') FORMAT TSV"
	resp, err := httpClient.Get("http://127.0.0.1:" + httpPort + "/?query=" + url.QueryEscape(q))
	if err != nil {
		t.Logf("%s: events: %v", name, err)
		return
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	t.Logf("%s since its start: %s", name, strings.ReplaceAll(strings.TrimSpace(string(b)), "\n", ", "))
}

// chCount returns how many rows table ("db.name") holds: the rows of its
// active parts, what count() answers, read from system.parts so that
// polling for it does not scan the table (a scan per poll would be
// ClickHouse CPU that the benchmark counts against the pipeline).
func chCount(t *testing.T, httpPort, table string) int64 {
	db, name, _ := strings.Cut(table, ".")
	q := fmt.Sprintf("SELECT sum(rows) FROM system.parts WHERE database = '%s' AND table = '%s' AND active", db, name)
	resp, err := httpClient.Get("http://127.0.0.1:" + httpPort + "/?query=" + url.QueryEscape(q))
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	n, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return n
}

// benchPeer runs a peer through its deploy/local script and sends it the
// load. Its acknowledgement is its own: both peers answer once the
// samples are in their in-memory head.
func benchPeer(t *testing.T, warm, load *nodeLoad, senders int, name, script, pidName, path string, env map[string]string, portVar string) benchResult {
	s := startLocalServer(t, script, env)
	url := "http://127.0.0.1:" + env[portVar] + path
	if warm.samples > 0 {
		warm.send(t, url, senders)
	}
	var m cpuMeter
	m.add(t, pidName, s.pid(t, pidName))
	wall := load.send(t, url, senders)
	cpu, detail, _ := m.used(t)
	r := benchResult{name: name, unit: load.unit, samples: load.samples, wall: wall, cpu: cpu, cpuDetail: detail, queryable: "n/a (acknowledged = in its head)"}
	r.settle(t, &m)
	s.stop(t)
	return r
}

// captureProfile saves the profile at endpoint of the Cairn at base to
// path.
func captureProfile(t *testing.T, base, endpoint, path string) {
	resp, err := (&http.Client{Timeout: time.Minute}).Get(base + endpoint)
	if err != nil {
		t.Logf("profile: %v", err)
		return
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Logf("profile: %v", err)
	}
}
