package store_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/storetest"
)

// envFootprint turns TestFootprint on; CAIRN_BENCH_FOOTPRINT_HOURS sets
// the hours of data (6 by default).
const envFootprint = "CAIRN_BENCH_FOOTPRINT"

// TestFootprint measures bytes on disk per sample and per log line for a
// realistic data set (footprint_metrics_test.go, footprint_logs_test.go):
// it writes hours of node_exporter-like series and a mixed log corpus
// through WriteSeries and WriteLogs into the test server's baseline
// schema, merges every table into one part per partition (OPTIMIZE …
// FINAL) and reports system.parts. With CAIRN_TEST_CHDB set it then loads
// the same rows into the modern schema in chdb (testdata/chdb/footprint.py)
// and reports the same figures there. It measures and checks nothing
// beyond the round trip, so it runs only when asked (docs/benchmarks.md):
//
//	CAIRN_BENCH_FOOTPRINT=1 go test -run TestFootprint -v ./store/
func TestFootprint(t *testing.T) {
	if os.Getenv(envFootprint) == "" {
		t.Skip(envFootprint + " not set: a benchmark of bytes on disk, run on request")
	}
	hours := 6
	if h := os.Getenv(envFootprint + "_HOURS"); h != "" {
		var err error
		hours, err = strconv.Atoi(h)
		require.NoError(t, err, envFootprint+"_HOURS")
	}
	cfg := storetest.Config(t)
	c := storetest.OpenConfig(t, cfg)
	ctx := context.Background()

	start, scrapes := int64(day1), hours*3600_000/scrapeInterval
	hosts := make([]*nodeHost, footprintHosts)
	nseries := 0
	for i := range hosts {
		hosts[i] = newNodeHost(i)
		nseries += len(hosts[i].series)
	}
	began, batches := time.Now(), 0
	err := nodeBatches(hosts, start, scrapes, 80, func(ss []store.Series) error {
		batches++
		return c.WriteSeries(ctx, ss, fmt.Sprintf("metrics:%d", batches))
	})
	require.NoError(t, err)
	t.Logf("wrote %d series × %d scrapes (%dh at 15 s) = %d samples in %s",
		nseries, scrapes, hours, nseries*scrapes, time.Since(began).Round(time.Millisecond))

	began, lines, lineBytes := time.Now(), 0, 0
	end := start + int64(hours)*3600_000
	err = logBatches(start, end, 20*60_000, func(es []store.LogEntry) error {
		batches++
		for _, e := range es {
			lineBytes += len(e.Line)
		}
		lines += len(es)
		return c.WriteLogs(ctx, es, fmt.Sprintf("logs:%d", batches))
	})
	require.NoError(t, err)
	t.Logf("wrote %d log lines, %d bytes of text (%.1f per line) in %s",
		lines, lineBytes, float64(lineBytes)/float64(lines), time.Since(began).Round(time.Millisecond))

	checkFootprintRoundTrip(t, c, hosts, start, end, lines)
	parts := optimizeAndMeasure(t, c)
	t.Logf("ClickHouse %s, baseline schema:\n%s%s", c.ServerVersion(), footprintReport(parts, lines, lineBytes),
		samplesColumns(t, c, parts["samples"].rows))

	if os.Getenv(envCHDB) == "" {
		t.Logf("%s not set: no modern-schema figures", envCHDB)
		return
	}
	python := chdbPython(t)
	host, port, err := net.SplitHostPort(cfg.Addr)
	require.NoError(t, err)
	began = time.Now()
	out, err := exec.Command(python, "testdata/chdb/footprint.py", "testdata", host, port, cfg.Database).CombinedOutput()
	t.Logf("footprint.py (%s):\n%s", time.Since(began).Round(time.Second), out)
	require.NoError(t, err)
}

// checkFootprintRoundTrip reads a little of what was written back, so the
// figures are known to be of complete data.
func checkFootprintRoundTrip(t *testing.T, c *store.Client, hosts []*nodeHost, start, end int64, lines int) {
	t.Helper()
	ctx := context.Background()
	refs, err := c.SelectSeries(ctx, "acme", start, end, eq("__name__", "node_cpu_seconds_total"))
	require.NoError(t, err)
	require.Len(t, refs, footprintHosts*footprintCPUs*8)
	got, err := c.ReadSamples(ctx, "acme", []uint64{refs[0].Fingerprint}, start, end)
	require.NoError(t, err)
	require.Len(t, got[refs[0].Fingerprint], int(end-start)/scrapeInterval)

	var n uint64
	require.NoError(t, c.ConnForTest().QueryRow(ctx, "SELECT count() FROM "+c.Database()+".log_records").Scan(&n))
	require.Equal(t, uint64(lines), n)
}

type tableParts struct {
	table                    string
	parts, rows, bytes       uint64
	compressed, uncompressed uint64
}

// optimizeAndMeasure merges every table into one part per partition and
// reads the active parts' sizes, table by table.
func optimizeAndMeasure(t *testing.T, c *store.Client) map[string]tableParts {
	t.Helper()
	ctx, conn, db := context.Background(), c.ConnForTest(), c.Database()
	rows, err := conn.Query(ctx, "SELECT name FROM system.tables WHERE database = '"+db+"' AND engine LIKE '%MergeTree'")
	require.NoError(t, err)
	var tables []string
	for rows.Next() {
		var name string
		require.NoError(t, rows.Scan(&name))
		tables = append(tables, name)
	}
	require.NoError(t, rows.Err())
	for _, table := range tables {
		require.NoError(t, conn.Exec(ctx, "OPTIMIZE TABLE "+db+"."+table+" FINAL"))
	}
	rows, err = conn.Query(ctx, `SELECT table, count(), sum(rows), sum(bytes_on_disk),
		sum(data_compressed_bytes), sum(data_uncompressed_bytes)
		FROM system.parts WHERE database = '`+db+`' AND active GROUP BY table`)
	require.NoError(t, err)
	out := make(map[string]tableParts)
	for rows.Next() {
		var p tableParts
		require.NoError(t, rows.Scan(&p.table, &p.parts, &p.rows, &p.bytes, &p.compressed, &p.uncompressed))
		out[p.table] = p
	}
	require.NoError(t, rows.Err())
	return out
}

// footprintReport formats the figures as docs/benchmarks.md shows them;
// testdata/chdb/footprint.py prints the same for chdb.
func footprintReport(parts map[string]tableParts, lines, lineBytes int) string {
	var b strings.Builder
	b.WriteString("| table | parts | rows | bytes on disk | bytes/row | compression |\n|---|--:|--:|--:|--:|--:|\n")
	for _, name := range []string{"samples", "series", "series_labels", "rollups_1m", "log_records", "log_streams", "log_labels"} {
		p := parts[name]
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %.2f | %.1f× |\n", name, p.parts, p.rows, p.bytes,
			float64(p.bytes)/float64(max(p.rows, 1)), float64(p.uncompressed)/float64(max(p.compressed, 1)))
	}
	sum := func(names ...string) float64 {
		var n uint64
		for _, name := range names {
			n += parts[name].bytes
		}
		return float64(n)
	}
	samples := float64(parts["samples"].rows)
	fmt.Fprintf(&b, "bytes per sample: %.2f (samples), %.2f (with series, series_labels, rollups_1m)\n",
		sum("samples")/samples, sum("samples", "series", "series_labels", "rollups_1m")/samples)
	fmt.Fprintf(&b, "bytes per log line: %.2f (log_records), %.2f (with log_streams, log_labels); raw text %.1f\n",
		sum("log_records")/float64(lines), sum("log_records", "log_streams", "log_labels")/float64(lines),
		float64(lineBytes)/float64(lines))
	return b.String()
}

// samplesColumns reports the compressed bytes per sample of each column
// of samples.
func samplesColumns(t *testing.T, c *store.Client, samples uint64) string {
	t.Helper()
	rows, err := c.ConnForTest().Query(context.Background(), "SELECT name, data_compressed_bytes FROM system.columns WHERE database = '"+
		c.Database()+"' AND table = 'samples'")
	require.NoError(t, err)
	var b strings.Builder
	b.WriteString("samples columns (compressed bytes per sample):\n")
	for rows.Next() {
		var name string
		var n uint64
		require.NoError(t, rows.Scan(&name, &n))
		fmt.Fprintf(&b, "  %-12s %.3f\n", name, float64(n)/float64(samples))
	}
	require.NoError(t, rows.Err())
	return b.String()
}
