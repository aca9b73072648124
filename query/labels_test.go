package query

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSeries(t *testing.T) {
	ta := newTestAPI(t, fixture())
	f := func(params url.Values, want string) {
		t.Helper()
		code, body := ta.get(t, "/api/v1/series", params)
		require.Equal(t, http.StatusOK, code, string(body))
		require.JSONEq(t, want, string(body))
	}
	f(url.Values{"match[]": {"up"}},
		`{"status":"success","data":[{"__name__":"up","instance":"a","job":"api"},{"__name__":"up","instance":"b","job":"api"}]}`)
	f(url.Values{"match[]": {`up{instance="b"}`, "temp"}},
		`{"status":"success","data":[{"__name__":"temp","room":"x"},{"__name__":"up","instance":"b","job":"api"}]}`)
	f(url.Values{"match[]": {"up", `{job="api"}`}, "limit": {"1"}},
		`{"status":"success","data":[{"__name__":"http_requests_total","code":"200","job":"api"}],"warnings":["results truncated due to limit"]}`)
	f(url.Values{"match[]": {"up"}, "start": {sec(time.Hour)}, "end": {sec(2 * time.Hour)}},
		`{"status":"success","data":[]}`)
}

func TestSeriesReadsNoSamples(t *testing.T) {
	r := fixture()
	ta := newTestAPI(t, r)
	code, _ := ta.get(t, "/api/v1/series", url.Values{"match[]": {"up"}})
	require.Equal(t, http.StatusOK, code)
	require.Empty(t, r.reads)
}

func TestLabels(t *testing.T) {
	ta := newTestAPI(t, fixture(), func(c *Config) { c.MaxSeries = 4 })
	f := func(path string, params url.Values, want string) {
		t.Helper()
		code, body := ta.get(t, path, params)
		require.Equal(t, http.StatusOK, code, string(body))
		require.JSONEq(t, want, string(body))
	}
	f("/api/v1/labels", url.Values{"match[]": {"up"}},
		`{"status":"success","data":["__name__","instance","job"]}`)
	f("/api/v1/labels", url.Values{"match[]": {"temp", `up{instance="a"}`}},
		`{"status":"success","data":["__name__","instance","job","room"]}`)
	f("/api/v1/labels", url.Values{"match[]": {"temp"}, "start": {sec(time.Hour)}},
		`{"status":"success","data":[]}`)
	// -query.max-series caps the answer.
	f("/api/v1/labels", nil,
		`{"status":"success","data":["__name__","code","instance","job"],"warnings":["results truncated due to limit"]}`)
	f("/api/v1/label/__name__/values", url.Values{"limit": {"2"}},
		`{"status":"success","data":["http_requests_total","temp"],"warnings":["results truncated due to limit"]}`)
	f("/api/v1/label/instance/values", url.Values{"match[]": {`up{instance!="a"}`}},
		`{"status":"success","data":["b"]}`)
	f("/api/v1/label/job/values", url.Values{"match[]": {"temp", "up"}},
		`{"status":"success","data":["api"]}`)
	f("/api/v1/label/nope/values", nil,
		`{"status":"success","data":[]}`)
	// Escaped names, as Grafana sends for UTF-8 label names.
	f("/api/v1/label/U__room/values", nil,
		`{"status":"success","data":["x"]}`)
}

func TestStubsAndBuildInfo(t *testing.T) {
	ta := newTestAPI(t, fixture())
	f := func(path string, params url.Values, want string) {
		t.Helper()
		code, body := ta.get(t, path, params)
		require.Equal(t, http.StatusOK, code, string(body))
		require.Equal(t, want, string(body))
	}
	f("/api/v1/status/buildinfo", nil,
		`{"status":"success","data":{"version":"0.1.0","revision":"abc123","branch":"main","buildUser":"ci@cairn","buildDate":"20261101-00:00:00","goVersion":"go1.26.0"}}`)
	f("/api/v1/metadata", nil, `{"status":"success","data":{}}`)
	f("/api/v1/query_exemplars", url.Values{"query": {"up"}, "start": {"0"}, "end": {"60"}}, `{"status":"success","data":[]}`)
	f("/api/v1/format_query", url.Values{"query": {"sum(rate(x[5m]))by(job)"}}, `{"status":"success","data":"sum by (job) (rate(x[5m]))"}`)
}
