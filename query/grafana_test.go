package query

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/storetest"
	"github.com/cairn-dev/cairn/store/tenant"
)

// grafanaRequest is one recorded request shape of Grafana 11's Prometheus
// data source, from testdata/grafana-requests.json.
type grafanaRequest struct {
	Name     string      `json:"name"`
	Method   string      `json:"method"`
	Path     string      `json:"path"`
	Params   [][2]string `json:"params"`
	Expect   string      `json:"expect"`
	Status   int         `json:"status"`
	Contains []string    `json:"contains"`
}

// TestGrafanaReplay replays the requests Grafana 11's Prometheus data
// source sends, with its parameter shapes and headers, and checks that
// each answer parses the way Grafana reads it. It runs over the in-memory
// fixture and, with CAIRN_TEST_CLICKHOUSE, over the same data in the store.
func TestGrafanaReplay(t *testing.T) {
	data, err := os.ReadFile("testdata/grafana-requests.json")
	require.NoError(t, err)
	var recorded struct {
		Requests []grafanaRequest `json:"requests"`
	}
	require.NoError(t, json.Unmarshal(data, &recorded))
	require.NotEmpty(t, recorded.Requests)
	vars := strings.NewReplacer(
		"${start}", strconv.FormatInt(t0/1000, 10),
		"${end}", strconv.FormatInt(t0/1000+600, 10),
		"${time}", strconv.FormatInt(t0/1000+600, 10),
	)

	readers := map[string]func(t *testing.T) Reader{
		"memory": func(*testing.T) Reader { return fixture() },
		"store":  fixtureStore,
	}
	for _, backend := range []string{"memory", "store"} {
		t.Run(backend, func(t *testing.T) {
			ta := newTestAPI(t, readers[backend](t))
			for _, rq := range recorded.Requests {
				t.Run(rq.Name, func(t *testing.T) {
					code, body := ta.grafana(t, rq, vars)
					if rq.Status != 0 {
						require.Equal(t, rq.Status, code, string(body))
						return
					}
					require.Equal(t, http.StatusOK, code, string(body))
					require.NoError(t, grafanaReads(rq, body), string(body))
				})
			}
		})
	}
}

// fixtureStore writes the fixture into a fresh database and returns its
// client; it skips without a ClickHouse server.
func fixtureStore(t *testing.T) Reader {
	client := storetest.OpenTest(t)
	var batch []store.Series
	for id, series := range fixture().series {
		if id != tenant.Default {
			continue
		}
		for _, s := range series {
			batch = append(batch, store.Series{Tenant: id, Labels: s.labels, Samples: s.samples})
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, client.WriteSeries(ctx, batch, ""))
	return client
}

// grafana sends rq the way Grafana's data source proxy does: a POST as a
// form, its headers, no tenant header.
func (ta *testAPI) grafana(t *testing.T, rq grafanaRequest, vars *strings.Replacer) (int, []byte) {
	t.Helper()
	form := url.Values{}
	for _, p := range rq.Params {
		form.Add(p[0], vars.Replace(p[1]))
	}
	var req *http.Request
	var err error
	if rq.Method == http.MethodPost {
		req, err = http.NewRequest(http.MethodPost, ta.srv.URL+rq.Path, strings.NewReader(form.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req, err = http.NewRequest(rq.Method, ta.srv.URL+rq.Path+"?"+form.Encode(), nil)
		require.NoError(t, err)
	}
	req.Header.Set("User-Agent", "Grafana/11.3.0")
	req.Header.Set("X-Grafana-Org-Id", "1")
	req.Header.Set("X-Datasource-Uid", "cairn")
	req.Header.Set("X-Dashboard-Uid", "node-overview")
	req.Header.Set("X-Panel-Id", "2")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(resp.Body)
	require.NoError(t, err)
	if resp.StatusCode != http.StatusNotFound {
		require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, buf.Bytes()
}

// grafanaReads checks body the way Grafana reads an answer of kind
// rq.Expect, and that it holds rq.Contains.
func grafanaReads(rq grafanaRequest, body []byte) error {
	var env struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
		Error  *string         `json:"error"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return err
	}
	if env.Status != "success" || env.Error != nil {
		return fmt.Errorf("status %q, error %v", env.Status, env.Error)
	}
	var found []string // values to look for rq.Contains in
	switch rq.Expect {
	case "scalar", "vector", "matrix":
		return readQueryData(env.Data, rq.Expect)
	case "strings":
		if err := json.Unmarshal(env.Data, &found); err != nil {
			return fmt.Errorf("data is not an array of strings: %w", err)
		}
	case "series":
		var series []map[string]string
		if err := json.Unmarshal(env.Data, &series); err != nil {
			return fmt.Errorf("data is not an array of label sets: %w", err)
		}
		for _, s := range series {
			found = append(found, s["__name__"])
		}
	case "metadata":
		var md map[string][]struct{ Type, Help, Unit string }
		return json.Unmarshal(env.Data, &md)
	case "exemplars":
		var ex []struct {
			SeriesLabels map[string]string `json:"seriesLabels"`
			Exemplars    []struct {
				Labels    map[string]string `json:"labels"`
				Value     string            `json:"value"`
				Timestamp float64           `json:"timestamp"`
			} `json:"exemplars"`
		}
		return json.Unmarshal(env.Data, &ex)
	case "buildinfo":
		return readBuildInfo(env.Data)
	default:
		return fmt.Errorf("unknown expectation %q", rq.Expect)
	}
	for _, want := range rq.Contains {
		if !slices.Contains(found, want) {
			return fmt.Errorf("answer lacks %q: %v", want, found)
		}
	}
	return nil
}

// readQueryData reads a query result as Grafana's streaming converter
// does: it decides how to read "result" by the "resultType" read before
// it, labels are strings, points are [seconds, "value"].
func readQueryData(raw json.RawMessage, want string) error {
	keys, err := objectKeys(raw)
	if err != nil {
		return err
	}
	if i, j := slices.Index(keys, "resultType"), slices.Index(keys, "result"); i < 0 || j < i {
		return fmt.Errorf("data keys %v: Grafana needs resultType before result", keys)
	}
	var d struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return err
	}
	if d.ResultType != want {
		return fmt.Errorf("result type %q, want %q", d.ResultType, want)
	}
	if want == "scalar" {
		return readPoint(d.Result)
	}
	var series []struct {
		Metric map[string]string `json:"metric"`
		Value  json.RawMessage   `json:"value"`
		Values []json.RawMessage `json:"values"`
	}
	if err := json.Unmarshal(d.Result, &series); err != nil {
		return fmt.Errorf("result: %w", err)
	}
	if len(series) == 0 {
		return fmt.Errorf("empty %s: the replay compares nothing", want)
	}
	for _, s := range series {
		points := s.Values
		if want == "vector" {
			points = []json.RawMessage{s.Value}
		}
		if len(points) == 0 {
			return fmt.Errorf("series %v has no points", s.Metric)
		}
		for _, p := range points {
			if err := readPoint(p); err != nil {
				return fmt.Errorf("series %v: %w", s.Metric, err)
			}
		}
	}
	return nil
}

// readPoint reads [seconds, "value"] as Grafana does.
func readPoint(raw json.RawMessage) error {
	var p []any
	if err := json.Unmarshal(raw, &p); err != nil {
		return fmt.Errorf("point %s: %w", raw, err)
	}
	if len(p) != 2 {
		return fmt.Errorf("point %s: want [time, value]", raw)
	}
	if _, ok := p[0].(float64); !ok {
		return fmt.Errorf("point %s: time is not a number", raw)
	}
	v, ok := p[1].(string)
	if !ok {
		return fmt.Errorf("point %s: value is not a string", raw)
	}
	if _, err := strconv.ParseFloat(v, 64); err != nil {
		return fmt.Errorf("point %s: %w", raw, err)
	}
	return nil
}

// readBuildInfo reads buildinfo as Grafana alerting's probe does: a
// version string and no "features", so that Grafana takes the server for
// Prometheus, not Mimir.
func readBuildInfo(raw json.RawMessage) error {
	var info map[string]any
	if err := json.Unmarshal(raw, &info); err != nil {
		return err
	}
	if v, ok := info["version"].(string); !ok || v == "" {
		return fmt.Errorf("no version string in %v", info)
	}
	if _, ok := info["features"]; ok {
		return fmt.Errorf("features in %v: Grafana would take the server for Mimir", info)
	}
	return nil
}

// objectKeys returns the keys of a JSON object in their order.
func objectKeys(raw json.RawMessage) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("not an object: %s", raw)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return keys, nil
}
