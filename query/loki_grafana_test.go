package query

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// grafanaResponse is a query response as Grafana 11's Loki data source
// reads it (pkg/promlib/converter.ReadPrometheusStyleResult): status,
// data.resultType, data.result, optional data.encodingFlags and stats.
type grafanaResponse struct {
	Status string `json:"status"`
	Data   struct {
		ResultType    string            `json:"resultType"`
		Result        []json.RawMessage `json:"result"`
		EncodingFlags []string          `json:"encodingFlags"`
		Stats         map[string]any    `json:"stats"`
	} `json:"data"`
}

// grafanaRead parses body the way Grafana does and returns the number of
// log lines or points it found; any shape Grafana would reject fails t.
func grafanaRead(t *testing.T, body []byte, wantType string) int {
	t.Helper()
	var r grafanaResponse
	require.NoError(t, json.Unmarshal(body, &r), "%s", body)
	require.Equal(t, "success", r.Status)
	require.Equal(t, wantType, r.Data.ResultType)
	require.NotNil(t, r.Data.Stats, "stats go to the frame's custom meta")
	require.IsType(t, map[string]any{}, r.Data.Stats["summary"])
	categorized := len(r.Data.EncodingFlags) == 1 && r.Data.EncodingFlags[0] == "categorize-labels"
	n := 0
	for _, raw := range r.Data.Result {
		switch wantType {
		case "streams":
			n += grafanaStream(t, raw, categorized)
		case "matrix", "vector":
			n += grafanaSeries(t, raw, wantType)
		}
	}
	return n
}

func grafanaStream(t *testing.T, raw json.RawMessage, categorized bool) int {
	var s struct {
		Stream map[string]string   `json:"stream"`
		Values [][]json.RawMessage `json:"values"`
	}
	require.NoError(t, json.Unmarshal(raw, &s))
	require.NotEmpty(t, s.Stream)
	for _, v := range s.Values {
		// readStream reads exactly [ts, line]; readCategorizedStream
		// exactly [ts, line, {structuredMetadata, parsed}].
		if categorized {
			require.Len(t, v, 3)
			var cat map[string]map[string]string
			require.NoError(t, json.Unmarshal(v[2], &cat))
			for k := range cat {
				require.Contains(t, []string{"structuredMetadata", "parsed"}, k)
			}
		} else {
			require.Len(t, v, 2)
		}
		var ts, line string
		require.NoError(t, json.Unmarshal(v[0], &ts), "the timestamp is a string of nanoseconds")
		require.NoError(t, json.Unmarshal(v[1], &line))
		ns, err := strconv.ParseInt(ts, 10, 64)
		require.NoError(t, err)
		require.Greater(t, ns, int64(1e18))
	}
	return len(s.Values)
}

func grafanaSeries(t *testing.T, raw json.RawMessage, resultType string) int {
	var s struct {
		Metric map[string]string   `json:"metric"`
		Value  []json.RawMessage   `json:"value"`
		Values [][]json.RawMessage `json:"values"`
	}
	require.NoError(t, json.Unmarshal(raw, &s))
	require.NotNil(t, s.Metric)
	points := s.Values
	if resultType == "vector" {
		points = [][]json.RawMessage{s.Value}
	}
	for _, p := range points {
		require.Len(t, p, 2)
		var ts float64
		var v string
		require.NoError(t, json.Unmarshal(p[0], &ts), "the timestamp is a number of seconds")
		require.NoError(t, json.Unmarshal(p[1], &v), "the value is a string")
		_, err := strconv.ParseFloat(v, 64)
		require.NoError(t, err)
	}
	return len(points)
}

// TestLokiGrafanaReplay replays the requests Grafana 11's Loki data
// source sends, with their exact parameters, and reads the answers as
// Grafana does.
func TestLokiGrafanaReplay(t *testing.T) {
	ta := newLokiTestAPI(t)
	now := lokiT0.Add(time.Hour)
	ns := func(t time.Time) string { return strconv.FormatInt(t.UnixNano(), 10) }
	last := func(d time.Duration) url.Values {
		return url.Values{"start": {ns(now.Add(-d))}, "end": {ns(now)}}
	}
	getJSON := func(t *testing.T, path string, params url.Values, header ...string) []byte {
		t.Helper()
		code, ctype, body := ta.do(t, http.MethodGet, path, params, header...)
		require.Equal(t, http.StatusOK, code, "%s", body)
		require.Equal(t, "application/json; charset=UTF-8", ctype)
		return body
	}
	strs := func(t *testing.T, body []byte) []string {
		var r struct {
			Status string   `json:"status"`
			Data   []string `json:"data"`
		}
		require.NoError(t, json.Unmarshal(body, &r))
		require.Equal(t, "success", r.Status)
		return r.Data
	}

	t.Run("test data source: labels of the last 10 minutes", func(t *testing.T) {
		require.NotEmpty(t, strs(t, getJSON(t, "/loki/api/v1/labels", last(10*time.Minute))))
	})
	t.Run("label browser", func(t *testing.T) {
		require.Equal(t, []string{"app", "env", "level", "pod"}, strs(t, getJSON(t, "/loki/api/v1/labels", last(time.Hour))))
		require.Contains(t, strs(t, getJSON(t, "/loki/api/v1/label/app/values", last(time.Hour))), "api")
		p := last(time.Hour)
		p.Set("query", `{app="api"}`)
		require.Equal(t, []string{"api-1", "api-2"}, strs(t, getJSON(t, "/loki/api/v1/label/pod/values", p)))
		p = last(time.Hour)
		p.Set("match[]", `{app="api"}`)
		var series struct {
			Status string              `json:"status"`
			Data   []map[string]string `json:"data"`
		}
		require.NoError(t, json.Unmarshal(getJSON(t, "/loki/api/v1/series", p), &series))
		require.Len(t, series.Data, 2)
		require.Equal(t, "api-1", series.Data[0]["pod"])
	})
	t.Run("query hints: index stats", func(t *testing.T) {
		p := last(time.Hour)
		p.Set("query", `{app="api"}`)
		var st struct{ Streams, Chunks, Bytes, Entries int }
		require.NoError(t, json.Unmarshal(getJSON(t, "/loki/api/v1/index/stats", p), &st))
		require.Equal(t, 2, st.Streams)
		require.Positive(t, st.Bytes)
	})
	explore := func(query, step string, limit int) url.Values {
		p := url.Values{"query": {query}, "direction": {"backward"}, "start": {ns(now.Add(-time.Hour))}, "end": {ns(now)}, "step": {step}}
		if limit > 0 {
			p.Set("limit", strconv.Itoa(limit))
		}
		return p
	}
	t.Run("explore logs", func(t *testing.T) {
		body := getJSON(t, "/loki/api/v1/query_range", explore(`{app="api"} |= "GET"`, "2000ms", 1000), "X-Query-Tags", "Source=grafana")
		require.Equal(t, 120, grafanaRead(t, body, "streams"))
	})
	t.Run("explore logs with structured metadata (categorize-labels)", func(t *testing.T) {
		body := getJSON(t, "/loki/api/v1/query_range", explore(`{app="worker"} | logfmt`, "2000ms", 1000),
			"X-Loki-Response-Encoding-Flags", "categorize-labels")
		require.Equal(t, 24, grafanaRead(t, body, "streams"))
	})
	t.Run("explore log volume", func(t *testing.T) {
		q := `sum by (level) (count_over_time({app=~"api|cron"} | drop __error__[1m]))`
		body := getJSON(t, "/loki/api/v1/query_range", explore(q, "60000ms", 1000), "X-Query-Tags", "Source=logvolhist")
		require.Equal(t, 61+6, grafanaRead(t, body, "matrix"), "one point a minute, and the cron minutes")
	})
	t.Run("dashboard time series", func(t *testing.T) {
		body := getJSON(t, "/loki/api/v1/query_range", explore(`sum by (pod) (rate({app="api"} | json | __error__="" | status >= 500 [5m]))`, "300000ms", 0))
		require.Positive(t, grafanaRead(t, body, "matrix"))
	})
	t.Run("instant query", func(t *testing.T) {
		p := url.Values{"query": {`sum(count_over_time({app="api"}[1h]))`}, "direction": {"backward"}, "limit": {"100"}, "time": {ns(now)}}
		body := getJSON(t, "/loki/api/v1/query", p)
		require.Equal(t, 1, grafanaRead(t, body, "vector"))
	})
	t.Run("query error shows its message", func(t *testing.T) {
		code, ctype, body := ta.do(t, http.MethodGet, "/loki/api/v1/query_range", explore(`{app="api"} | json | status >`, "2000ms", 1000))
		require.Equal(t, http.StatusBadRequest, code)
		require.Equal(t, "text/plain; charset=utf-8", ctype)
		require.Contains(t, string(body), "parse error at line 1, col ")
	})
}
