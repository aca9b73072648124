package query

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/head"
	"github.com/cairn-dev/cairn/store/storetest"
)

// envPrometheus names a real Prometheus, of the version of the embedded
// engine, with its remote-write receiver on: deploy/local/prometheus.sh
// start runs one and prints the address.
const envPrometheus = "CAIRN_TEST_PROMETHEUS"

// sideBySideQueries holds the queries TestSideBySide compares.
const sideBySideQueries = "testdata/sidebyside-queries.txt"

// TestSideBySide writes the same data into Cairn's store and into a real
// Prometheus through its remote-write receiver, then runs every query of
// testdata/sidebyside-queries.txt against both HTTP APIs, as instant
// queries at three times and as a range query, and requires equal
// answers: same series and timestamps, values within 1e-9 relative.
func TestSideBySide(t *testing.T) {
	prom := prometheusAddr(t)
	client := storetest.OpenTest(t)
	ctx := context.Background()

	run := strconv.FormatUint(rand.Uint64(), 36)
	end := time.Now().Truncate(time.Minute)
	start := end.Add(-time.Duration(sideBySideSteps*sideBySideStep) * time.Millisecond)
	data := sideBySideData(run, start.UnixMilli())
	require.NoError(t, client.WriteSeries(ctx, data, ""))
	remoteWrite(t, prom, data)
	cairn := newTestAPI(t, client)
	// The same API with a head holding every sample and complete from
	// 90 minutes after the data's start: what is older comes from
	// ClickHouse, the rest from the head, merged (store/head).
	h, err := head.New(head.Config{Window: 4 * time.Hour, Dir: t.TempDir()}, slog.New(slog.DiscardHandler), metrics.NewSet())
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, h.Close()) })
	require.NoError(t, h.Append(ctx, data))
	h.Ready(start.Add(90 * time.Minute).UnixMilli())
	withHead := newTestAPI(t, client)
	withHead.api.UseHead(h)

	queries := readQueries(t, sideBySideQueries)
	require.GreaterOrEqual(t, len(queries), 40, "side-by-side needs at least 40 queries")
	evals := []struct {
		name, path string
		params     url.Values
	}{
		{"instant at end", "/api/v1/query", url.Values{"time": {unixSeconds(end)}}},
		{"instant at end-47m13s", "/api/v1/query", url.Values{"time": {unixSeconds(end.Add(-47*time.Minute - 13*time.Second))}}},
		{"instant at start+10m", "/api/v1/query", url.Values{"time": {unixSeconds(start.Add(10 * time.Minute))}}},
		{"range over 2h40m step 1m", "/api/v1/query_range", url.Values{
			"start": {unixSeconds(start.Add(20 * time.Minute))}, "end": {unixSeconds(end)}, "step": {"60"},
		}},
	}
	for _, q := range queries {
		t.Run(q, func(t *testing.T) {
			expr := withLabel(t, q, "run", run)
			ordered := strings.HasPrefix(q, "sort")
			found := false
			for _, ev := range evals {
				params := url.Values{"query": {expr}}
				for k, v := range ev.params {
					params[k] = v
				}
				wantCode, wantBody := do(t, newGet(t, "http://"+prom+ev.path, params))
				want, err := canonicalize(wantBody, "run", ordered)
				require.NoError(t, err)
				for _, c := range []struct {
					name string
					api  *testAPI
				}{{"Cairn", cairn}, {"Cairn with a head", withHead}} {
					gotCode, gotBody := c.api.get(t, ev.path, params)
					got, err := canonicalize(gotBody, "run", ordered)
					require.NoError(t, err)
					if d := diff(want, got); d != "" || wantCode != gotCode {
						t.Errorf("%s: %s answers %d, Prometheus %d: %s\nquery: %s\n%s: %s\nPrometheus: %s",
							ev.name, c.name, gotCode, wantCode, d, expr, c.name, abbreviate(gotBody), abbreviate(wantBody))
					}
				}
				found = found || !want.empty()
			}
			require.True(t, found, "Prometheus returns no data for this query at any time: it compares nothing; fix the query or the data")
		})
	}
}

// prometheusAddr returns the address in CAIRN_TEST_PROMETHEUS after
// checking that a Prometheus of the engine's version answers there. It
// skips without the variable and fails when the server is missing or of
// another version.
func prometheusAddr(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test; skipped with -short")
	}
	addr := os.Getenv(envPrometheus)
	if addr == "" {
		t.Skip(envPrometheus + " not set; for make test, run deploy/local/prometheus.sh start and export " +
			envPrometheus + " with the address it prints")
	}
	want := engineRelease(t)
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + addr + "/api/v1/status/buildinfo")
	if err != nil {
		t.Fatalf("%s=%s is set but Prometheus does not answer: %v", envPrometheus, addr, err)
	}
	defer resp.Body.Close()
	var info struct {
		Data BuildInfo `json:"data"`
	}
	require.NoError(t, jsonDecode(resp, &info))
	if info.Data.Version != want {
		t.Fatalf("%s=%s is Prometheus %q, the engine is %s: side by side needs the same version (deploy/local/prometheus.sh builds it)",
			envPrometheus, addr, info.Data.Version, want)
	}
	return addr
}

// engineRelease is the Prometheus release of the pinned module: module
// version v0.315.0 is Prometheus 3.15.0.
func engineRelease(t *testing.T) string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", "github.com/prometheus/prometheus").Output()
	require.NoError(t, err, "look up the prometheus module's version")
	v := strings.TrimPrefix(strings.TrimSpace(string(out)), "v0.")
	minor, patch, ok := strings.Cut(v, ".")
	n, err := strconv.Atoi(minor)
	require.True(t, ok && err == nil, "unexpected prometheus module version %q", out)
	return fmt.Sprintf("%d.%d.%s", n/100, n%100, patch)
}

// remoteWrite sends data to Prometheus' remote-write receiver (protocol
// 1.0), ten minutes of every series per request, in time order.
func remoteWrite(t *testing.T, addr string, data []store.Series) {
	t.Helper()
	const window = 10 * 60 * 1000
	lo, hi := data[0].Samples[0].T, data[0].Samples[0].T
	for _, s := range data {
		for _, p := range s.Samples {
			lo, hi = min(lo, p.T), max(hi, p.T)
		}
	}
	for from := lo; from <= hi; from += window {
		var req prompb.WriteRequest
		for _, s := range data {
			ts := prompb.TimeSeries{}
			for _, p := range s.Samples {
				if p.T >= from && p.T < from+window {
					ts.Samples = append(ts.Samples, prompb.Sample{Timestamp: p.T, Value: p.V})
				}
			}
			if len(ts.Samples) == 0 {
				continue
			}
			s.Labels.Range(func(l labels.Label) { ts.Labels = append(ts.Labels, prompb.Label{Name: l.Name, Value: l.Value}) })
			req.Timeseries = append(req.Timeseries, ts)
		}
		raw, err := req.Marshal()
		require.NoError(t, err)
		hreq, err := http.NewRequest(http.MethodPost, "http://"+addr+"/api/v1/write", bytes.NewReader(snappy.Encode(nil, raw)))
		require.NoError(t, err)
		hreq.Header.Set("Content-Encoding", "snappy")
		hreq.Header.Set("Content-Type", "application/x-protobuf")
		hreq.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
		resp, err := http.DefaultClient.Do(hreq)
		require.NoError(t, err)
		body := new(bytes.Buffer)
		_, _ = body.ReadFrom(resp.Body)
		resp.Body.Close()
		require.Less(t, resp.StatusCode, 300, "remote write to Prometheus: %s", body)
	}
}

// withLabel adds name="value" to every selector of query.
func withLabel(t *testing.T, query, name, value string) string {
	t.Helper()
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(query)
	require.NoError(t, err)
	m := labels.MustNewMatcher(labels.MatchEqual, name, value)
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		if vs, ok := node.(*parser.VectorSelector); ok {
			vs.LabelMatchers = append(vs.LabelMatchers, m)
		}
		return nil
	})
	return expr.String()
}

// readQueries reads one query per line, skipping blank lines and comments.
func readQueries(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var qs []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			qs = append(qs, l)
		}
	}
	require.NoError(t, sc.Err())
	return qs
}

func newGet(t *testing.T, u string, params url.Values) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u+"?"+params.Encode(), nil)
	require.NoError(t, err)
	return req
}

func unixSeconds(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// abbreviate shortens a response body for messages.
func abbreviate(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}

func jsonDecode(resp *http.Response, v any) error {
	return json.NewDecoder(resp.Body).Decode(v)
}
