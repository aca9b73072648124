package main

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The peer tests run real clients of Cairn, as Debian ships them, through
// the deploy/local scripts, against a `cairn serve` on the real test
// servers.

// TestDebianPrometheusRemoteWrite is issue 4's acceptance: Debian's
// Prometheus (2.42) scrapes Debian's node_exporter and remote-writes to
// Cairn, and Cairn answers PromQL over what it received.
func TestDebianPrometheusRemoteWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	listen := freeAddr(t)
	p := startCairn(t, listen, serveArgs(t, listen)...)
	before := acceptedSamples(t, p.base)

	nodePort := freePort(t)
	nodeAddr := "127.0.0.1:" + nodePort
	startLocalServer(t, "node-exporter.sh", map[string]string{"CAIRN_NODE_EXPORTER_PORT": nodePort})
	prom := startLocalServer(t, "prometheus-debian.sh", map[string]string{
		"CAIRN_PROMETHEUS_DEBIAN_PORT": freePort(t),
		"CAIRN_NODE_EXPORTER_ADDR":     nodeAddr,
		"CAIRN_REMOTE_WRITE_URL":       p.base + "/api/v1/write",
	})

	start := time.Now()
	queries := []struct {
		q  string
		ok func(promResponse) bool
	}{
		{`up{job="node"}`, func(pr promResponse) bool {
			return len(pr.Data.Result) == 1 && pr.Data.Result[0].Value[1] == "1" &&
				pr.Data.Result[0].Metric["instance"] == nodeAddr
		}},
		{`count(node_cpu_seconds_total)`, func(pr promResponse) bool {
			if len(pr.Data.Result) != 1 {
				return false
			}
			n, err := strconv.ParseFloat(pr.Data.Result[0].Value[1].(string), 64)
			return err == nil && n > 0
		}},
		{`rate(node_cpu_seconds_total[30s])`, func(pr promResponse) bool { return len(pr.Data.Result) > 0 }},
	}
	for _, c := range queries {
		var pr promResponse
		require.Eventually(t, func() bool {
			pr = promQuery(t, p.base, c.q)
			return c.ok(pr)
		}, 60*time.Second, 500*time.Millisecond, "%s: last answer %+v", c.q, pr.Data)
		t.Logf("%s answered after %s (%d series)", c.q, time.Since(start).Round(time.Millisecond), len(pr.Data.Result))
	}

	series := seriesMatch(t, p.base, "node_load1")
	require.Len(t, series, 1)
	require.Equal(t, nodeAddr, series[0]["instance"])
	require.Equal(t, "node", series[0]["job"])

	after := acceptedSamples(t, p.base)
	require.Greater(t, after, before, "cairn_ingest_samples_total{protocol=\"prometheus\",result=\"accepted\"} grows")
	log, err := os.ReadFile(filepath.Join(prom.dir, "prometheus-debian", "log", "prometheus.log"))
	require.NoError(t, err)
	for _, bad := range []string{"component=remote level=error", "Failed to send batch"} {
		require.NotContains(t, string(log), bad, "Prometheus' remote-write log:\n%s", log)
	}
	t.Logf("accepted samples: %v before Prometheus, %v after", before, after)
	logIngest(t, p.base)
	prom.run(t, "stop") // before Cairn, so it has nothing left to flush
	p.stop(t)
}

// seriesMatch asks Cairn's /api/v1/series for the series matching match.
func seriesMatch(t *testing.T, base, match string) []map[string]string {
	t.Helper()
	resp, err := httpClient.Get(base + "/api/v1/series?" + url.Values{"match[]": {match}}.Encode())
	require.NoError(t, err)
	defer resp.Body.Close()
	var sr struct {
		Status string              `json:"status"`
		Error  string              `json:"error"`
		Data   []map[string]string `json:"data"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&sr))
	require.Equal(t, "success", sr.Status, sr.Error)
	return sr.Data
}

var ingestRE = regexp.MustCompile(`(?m)^cairn_ingest_(samples_total|requests_failed_total)\{protocol="prometheus".*$`)

// logIngest logs Cairn's remote-write self-metrics, for the record.
func logIngest(t *testing.T, base string) {
	t.Helper()
	for _, m := range ingestRE.FindAllString(metricsBody(t, base), -1) {
		t.Logf("%s", m)
	}
}

var acceptedRE = regexp.MustCompile(`(?m)^cairn_ingest_samples_total\{protocol="prometheus",result="accepted"\} (\S+)$`)

// acceptedSamples reads Cairn's count of accepted remote-write samples
// from its /metrics (0 before the first write).
func acceptedSamples(t *testing.T, base string) float64 {
	t.Helper()
	m := acceptedRE.FindStringSubmatch(metricsBody(t, base))
	if m == nil {
		return 0
	}
	n, err := strconv.ParseFloat(m[1], 64)
	require.NoError(t, err)
	return n
}
