package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestQueryLatencySideBySide loads the same node_exporter-like history
// into Cairn (with its own Kafka and ClickHouse), VictoriaMetrics
// single-node and Prometheus, then measures client-side latency of
// dashboard-typical PromQL queries on each, in the same run. It is a
// benchmark, not a test: it runs only with CAIRN_BENCH_QUERY=1 (see
// docs/benchmarks.md) and prints a table.
//
//	CAIRN_BENCH_QUERY_HOSTS   hosts of 104 series each (default 96 → 9,984 series)
//	CAIRN_BENCH_QUERY_HOURS   longest query range, in hours (default 24); the
//	                          data spans two hours more, at 15 s, so that the
//	                          refreshed runs, which move the range back a step
//	                          at a time, still find data in their new step
//	CAIRN_BENCH_QUERY_REPS    timed runs per query, range and target (default 20)
//	CAIRN_BENCH_QUERY_BUDGET  seconds after which a cell stops early, once it has 3 runs (default 30)
func TestQueryLatencySideBySide(t *testing.T) {
	if os.Getenv("CAIRN_BENCH_QUERY") == "" {
		t.Skip("benchmark: run with CAIRN_BENCH_QUERY=1 (docs/benchmarks.md)")
	}
	hosts := envInt("CAIRN_BENCH_QUERY_HOSTS", 96)
	hours := envInt("CAIRN_BENCH_QUERY_HOURS", 24)
	reps := envInt("CAIRN_BENCH_QUERY_REPS", 20)
	budget := time.Duration(envInt("CAIRN_BENCH_QUERY_BUDGET", 30)) * time.Second
	senders := 8
	rounds := (hours + 2) * 240 // the last sample is (rounds-1)×15 s after the first

	genStart := time.Now()
	load := newNodeLoad(hosts, rounds, 1000)
	// newNodeLoad's last sample is 61 rounds before its clock; the query
	// end is that, to within the second it truncates.
	end := genStart.Add(-61 * 15 * time.Second).Truncate(time.Second)
	t.Logf("load: %d series (%d hosts) × %d h at 15s = %d samples in %d requests, encoded in %.1fs",
		load.series, hosts, hours+2, load.samples, len(load.bodies), time.Since(genStart).Seconds())

	// Cairn, through its remote-write endpoint.
	chPort, chHTTP := freePort(t), freePort(t)
	ch := startLocalServer(t, "clickhouse.sh", map[string]string{"CAIRN_CLICKHOUSE_PORT": chPort, "CAIRN_CLICKHOUSE_HTTP_PORT": chHTTP})
	_ = ch
	kPort := freePort(t)
	startLocalServer(t, "kafka.sh", map[string]string{"CAIRN_KAFKA_PORT": kPort, "CAIRN_KAFKA_CONTROLLER_PORT": freePort(t)})
	listen := freeAddr(t)
	// Cairn keeps the whole span in its query role's head (store/head);
	// a second process, query role only, reads the same ClickHouse
	// without one.
	window := fmt.Sprintf("%dh", hours+2)
	p := startCairn(t, listen, "serve", "-listen", listen, "-log.level", "warn",
		"-kafka.brokers", "127.0.0.1:"+kPort, "-clickhouse.addr", "127.0.0.1:"+chPort, "-clickhouse.database", "bench",
		"-query.head.window", window)
	t.Cleanup(func() { p.stop(t) })
	chOnlyListen := freeAddr(t)
	chOnly := startCairn(t, chOnlyListen, "serve", "-roles", "query", "-listen", chOnlyListen, "-log.level", "warn",
		"-clickhouse.addr", "127.0.0.1:"+chPort, "-clickhouse.database", "bench")
	t.Cleanup(func() { chOnly.stop(t) })
	start := time.Now()
	wall := load.send(t, p.base+"/api/v1/write", senders)
	t.Logf("Cairn acknowledged %d samples in %.1fs", load.samples, wall.Seconds())

	// The peers, through theirs, while ClickHouse catches up.
	vmPort, promPort := freePort(t), freePort(t)
	startLocalServer(t, "victoriametrics.sh", map[string]string{"CAIRN_VM_PORT": vmPort})
	wall = load.send(t, "http://127.0.0.1:"+vmPort+"/api/v1/write", senders)
	t.Logf("VictoriaMetrics acknowledged in %.1fs", wall.Seconds())
	startLocalServer(t, "prometheus.sh", map[string]string{"CAIRN_PROMETHEUS_PORT": promPort})
	wall = load.send(t, "http://127.0.0.1:"+promPort+"/api/v1/write", senders)
	t.Logf("Prometheus acknowledged in %.1fs", wall.Seconds())

	require.Eventually(t, func() bool { return chCount(t, chHTTP, "bench.samples") >= load.samples }, 15*time.Minute, time.Second)
	t.Logf("ClickHouse holds all %d samples %.1fs after the first request", load.samples, time.Since(start).Seconds())
	require.Eventually(t, func() bool {
		return selfMetric(t, p.base, "cairn_head_samples_appended_total") >= float64(load.samples)
	}, 5*time.Minute, time.Second)
	t.Logf("Cairn's head holds all %d samples", load.samples)
	time.Sleep(5 * time.Second) // VictoriaMetrics makes new data searchable within ~1 s

	// Cairn three times: cold, every request with Cache-Control:
	// no-store so that it is evaluated whole from ClickHouse; as a
	// dashboard refresh sees it, each run's range one step earlier than
	// the last so that the results cache holds all but one step of it;
	// and repeated, the warm-up filling the cache.
	targets := []struct {
		name, base string
		noCache    bool
		slide      bool
	}{
		{"Cairn, ClickHouse only, cold", chOnly.base, true, false},
		{"Cairn, cold", p.base, true, false},
		{"Cairn, refresh", p.base, false, true},
		{"Cairn", p.base, false, false},
		{"VictoriaMetrics", "http://127.0.0.1:" + vmPort, false, false},
		{"Prometheus", "http://127.0.0.1:" + promPort, false, false},
	}
	queries := []string{
		`sum by (instance) (rate(node_cpu_seconds_total{mode!="idle"}[5m]))`,
		`avg(rate(node_network_receive_bytes_total[5m]))`,
		`node_memory_MemAvailable_bytes{instance="host-007:9100"}`,
		`topk(5, rate(node_network_transmit_bytes_total[5m]))`,
		`sum(node_filesystem_avail_bytes) by (mountpoint)`,
	}
	ranges := []time.Duration{time.Hour, 6 * time.Hour, 24 * time.Hour}

	client := &http.Client{Timeout: 5 * time.Minute}
	type cell struct {
		p50, p99 time.Duration
		n        int
		series   int
	}
	type row struct {
		query, rng string
		long       bool // range ≥ 6 h, where the target applies
		cells      []cell
	}
	var rows []row
	// slid is u with its range moved k steps earlier.
	slid := func(u url.Values, k int) url.Values {
		step, _ := strconv.Atoi(u.Get("step"))
		start, _ := strconv.ParseInt(u.Get("start"), 10, 64)
		end, _ := strconv.ParseInt(u.Get("end"), 10, 64)
		v := url.Values{"query": u["query"], "step": u["step"]}
		v.Set("start", strconv.FormatInt(start-int64(k*step), 10))
		v.Set("end", strconv.FormatInt(end-int64(k*step), 10))
		return v
	}
	measure := func(u url.Values, path string) []cell {
		var cells []cell
		for _, tg := range targets {
			if tg.slide && u.Get("step") == "" { // instant queries are not cached
				cells = append(cells, cell{})
				continue
			}
			series := runQuery(t, client, tg.base+path, u, tg.noCache) // warm-up
			var ds []time.Duration
			cellStart := time.Now()
			for len(ds) < reps && (len(ds) < 3 || time.Since(cellStart) < budget) {
				q := u
				if tg.slide {
					q = slid(u, len(ds)+1)
				}
				s := time.Now()
				runQuery(t, client, tg.base+path, q, tg.noCache)
				ds = append(ds, time.Since(s))
			}
			sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
			cells = append(cells, cell{p50: ds[(len(ds)-1)/2], p99: ds[(len(ds)*99+99)/100-1], n: len(ds), series: series})
		}
		return cells
	}
	for _, q := range queries {
		for _, r := range ranges {
			if r > time.Duration(hours)*time.Hour {
				continue
			}
			// Grafana's step: range / max data points, here 250, in whole seconds, at least the scrape interval.
			step := max(15*time.Second, (r / 250).Round(time.Second))
			u := url.Values{"query": {q}, "start": {strconv.FormatInt(end.Add(-r).Unix(), 10)},
				"end": {strconv.FormatInt(end.Unix(), 10)}, "step": {strconv.Itoa(int(step.Seconds()))}}
			rows = append(rows, row{query: q, rng: fmt.Sprintf("%s (step %s)", shortDur(r), step), long: r >= 6*time.Hour, cells: measure(u, "/api/v1/query_range")})
		}
		u := url.Values{"query": {q}, "time": {strconv.FormatInt(end.Unix(), 10)}}
		rows = append(rows, row{query: q, rng: "instant", cells: measure(u, "/api/v1/query")})
	}

	var sb strings.Builder
	fmt.Fprintf(&sb, "\n| query | range | Cairn ClickHouse only, cold p50 / p99 | Cairn cold p50 / p99 | Cairn refresh p50 / p99 | Cairn repeated p50 / p99 | VictoriaMetrics p50 / p99 | Prometheus p50 / p99 | series (C / VM / P) | runs (C CH-only / cold / refresh / repeated / VM / P) |\n|---|---|--:|--:|--:|--:|--:|--:|---|---|\n")
	long, met, metRefresh, metCold, metCH := 0, 0, 0, 0, 0
	cellText := func(c cell) string {
		if c.n == 0 {
			return "–"
		}
		return ms(c.p50) + " / " + ms(c.p99)
	}
	var mismatches []string
	for _, r := range rows {
		// c: ClickHouse only cold, cold, refresh, repeated, VictoriaMetrics, Prometheus.
		c := r.cells
		fmt.Fprintf(&sb, "| `%s` | %s | %s | %s | %s | %s | %s | %s | %d / %d / %d | %d / %d / %d / %d / %d / %d |\n", r.query, r.rng,
			cellText(c[0]), cellText(c[1]), cellText(c[2]), cellText(c[3]), cellText(c[4]), cellText(c[5]),
			c[3].series, c[4].series, c[5].series, c[0].n, c[1].n, c[2].n, c[3].n, c[4].n, c[5].n)
		if c[0].series != c[3].series || c[1].series != c[3].series || c[3].series != c[4].series || c[3].series != c[5].series || (c[2].n > 0 && c[2].series != c[3].series) {
			mismatches = append(mismatches, r.query+" "+r.rng)
		}
		if r.long {
			long++
			if c[3].p50 <= c[5].p50 {
				met++
			}
			if c[2].p50 <= c[5].p50 {
				metRefresh++
			}
			if c[1].p50 <= c[5].p50 {
				metCold++
			}
			if c[0].p50 <= c[5].p50 {
				metCH++
			}
		}
	}
	fmt.Fprintf(&sb, "\nTarget (Cairn p50 ≤ Prometheus p50 for ranges ≥ 6 h): met in %d of %d range queries repeated, %d of %d refreshed, %d of %d cold, %d of %d cold from ClickHouse only.\n", met, long, metRefresh, long, metCold, long, metCH, long)
	t.Log(sb.String())
	if len(mismatches) > 0 {
		t.Errorf("series counts differ between targets: %s", strings.Join(mismatches, "; "))
	}
}

// runQuery runs one PromQL query and returns the number of series in the
// result.
func runQuery(t *testing.T, client *http.Client, endpoint string, u url.Values, noCache bool) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, endpoint+"?"+u.Encode(), nil)
	require.NoError(t, err)
	if noCache {
		req.Header.Set("Cache-Control", "no-store")
	}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var pr promResponse
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&pr), endpoint)
	require.Equal(t, "success", pr.Status, "%s %s: %s", endpoint, u.Get("query"), pr.Error)
	return len(pr.Data.Result)
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) + " ms"
}

func shortDur(d time.Duration) string {
	return strings.TrimSuffix(strings.TrimSuffix(d.String(), "0s"), "0m")
}
