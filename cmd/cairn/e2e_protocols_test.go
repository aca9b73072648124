package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

// TestEveryProtocolEndToEnd pushes one payload in every protocol Cairn
// receives to the real binary, on the real Kafka and ClickHouse, and reads
// each back the way users do: metrics through the Prometheus API, logs
// through the Loki API.
func TestEveryProtocolEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	listen := freeAddr(t)
	p := startCairn(t, listen, serveArgs(t, listen)...)
	now := time.Now().Add(-time.Minute)
	ns := now.UnixNano()

	code, err := remoteWrite(p.base, store.Series{Labels: labels.FromStrings("__name__", "rw_metric", "job", "rw"), Samples: []store.Sample{{T: now.UnixMilli(), V: 1}}})
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, code)

	for _, tc := range []struct {
		path, contentType, body string
		want                    int
	}{
		{"/v1/metrics", "application/json", fmt.Sprintf(`{"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}}]},"scopeMetrics":[{"metrics":[{"name":"orders_open","gauge":{"dataPoints":[{"asDouble":5,"timeUnixNano":"%d"}]}}]}]}]}`, ns), http.StatusOK},
		{"/api/v2/write?precision=ns", "text/plain", fmt.Sprintf("weather,city=oslo temperature=3.5 %d\n", ns), http.StatusNoContent},
		{"/loki/api/v1/push", "application/json", fmt.Sprintf(`{"streams":[{"stream":{"app":"web"},"values":[["%d","GET /cart 200"]]}]}`, ns), http.StatusNoContent},
		{"/api/v1/logs", "application/x-ndjson", fmt.Sprintf(`{"service":"api","message":"started","ts":%d}`, ns) + "\n", http.StatusNoContent},
		{"/v1/logs", "application/json", fmt.Sprintf(`{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"cart"}}]},"scopeLogs":[{"logRecords":[{"timeUnixNano":"%d","severityText":"INFO","body":{"stringValue":"added item"}}]}]}]}`, ns), http.StatusOK},
		{"/api/v1/builds", "application/json", fmt.Sprintf(`{"service":"shop","pipeline":"ci","kind":"build","status":"success","commit":"abc123","branch":"main","started_at":%q,"finished_at":%q}`,
			now.Add(-90*time.Second).UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339)), 0},
	} {
		resp, err := httpClient.Post(p.base+tc.path, tc.contentType, strings.NewReader(tc.body))
		require.NoError(t, err, tc.path)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, 2, resp.StatusCode/100, "%s: %s", tc.path, b)
		if tc.want != 0 {
			require.Equal(t, tc.want, resp.StatusCode, "%s: %s", tc.path, b)
		}
	}

	for q, want := range map[string]string{
		`rw_metric{job="rw"}`:                                           "1",
		`orders_open{job="checkout"}`:                                   "5",
		`weather_temperature{city="oslo"}`:                              "3.5",
		`cairn_build_duration_seconds{service="shop",status="success"}`: "90",
	} {
		require.Eventually(t, func() bool {
			pr := promQuery(t, p.base, q)
			return len(pr.Data.Result) == 1 && pr.Data.Result[0].Value[1] == want
		}, 20*time.Second, 100*time.Millisecond, "PromQL %s = %s", q, want)
	}
	// The build is listed by the builds API too.
	require.Eventually(t, func() bool {
		resp, err := httpClient.Get(p.base + "/api/v1/builds?service=shop&kind=build")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode == http.StatusOK && strings.Contains(string(b), `"commit":"abc123"`) && strings.Contains(string(b), `"status":"success"`)
	}, 20*time.Second, 100*time.Millisecond, "GET /api/v1/builds lists the build")
	for q, want := range map[string]string{
		`{app="web"}`:           "GET /cart 200",
		`{service="api"}`:       "started",
		`{service_name="cart"}`: "added item",
	} {
		require.Eventually(t, func() bool { return slices.Contains(lokiLines(t, p.base, q, now), want) }, 20*time.Second, 100*time.Millisecond, "LogQL %s has %q", q, want)
	}
	p.stop(t)
}

// lokiLines runs a LogQL log query over the hour around at and returns the
// lines of every stream.
func lokiLines(t *testing.T, base, q string, at time.Time) []string {
	t.Helper()
	v := url.Values{"query": {q}, "start": {fmt.Sprint(at.Add(-time.Hour).UnixNano())}, "end": {fmt.Sprint(at.Add(time.Hour).UnixNano())}, "limit": {"100"}}
	resp, err := httpClient.Get(base + "/loki/api/v1/query_range?" + v.Encode())
	require.NoError(t, err)
	defer resp.Body.Close()
	var lr struct {
		Status string `json:"status"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Stream map[string]string `json:"stream"`
				Values [][2]string       `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	b, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", b)
	require.NoError(t, json.Unmarshal(b, &lr), "%s", b)
	require.Equal(t, "streams", lr.Data.ResultType)
	var out []string
	for _, s := range lr.Data.Result {
		for _, v := range s.Values {
			out = append(out, v[1])
		}
	}
	return out
}
