package ingest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

// TestInfluxTelegraf posts a recorded Telegraf flush to both write
// endpoints, as its influxdb (1.x, plain) and influxdb_v2 (gzip) outputs
// send it.
func TestInfluxTelegraf(t *testing.T) {
	body, err := os.ReadFile("influx/testdata/telegraf.lp")
	require.NoError(t, err)
	for _, tc := range []struct {
		path string
		hdr  map[string]string
		body []byte
	}{
		{"/write?db=telegraf", map[string]string{"User-Agent": "Telegraf/1.34.0", "Content-Type": "text/plain; charset=utf-8"}, body},
		{"/api/v2/write?org=acme&bucket=telegraf", map[string]string{"Authorization": "Token x", "Content-Encoding": "gzip", "X-Scope-OrgID": "team-b"}, gzipped(t, body)},
	} {
		t.Run(tc.path, func(t *testing.T) {
			e := newReceiverEnv(t)
			code, msg, _ := postTo(t, e.srv.URL+tc.path, tc.body, tc.hdr)
			require.Equal(t, http.StatusNoContent, code, msg)
			got := byName(e.consumeSeries(t, 99))
			require.Len(t, got["cpu_usage_idle"], 2)
			require.Equal(t, 93.58, valueWith(got["cpu_usage_idle"], "cpu", "cpu0"))
			require.Equal(t, float64(98765432109), got["net_bytes_recv"][0].Samples[0].V)
			require.Equal(t, float64(1), got["docker_container_status_running"][0].Samples[0].V)
			require.Equal(t, float64(0), got["docker_container_status_oomkilled"][0].Samples[0].V)
			require.Equal(t, int64(1_700_000_000_000), got["mem_used"][0].Samples[0].T)
			require.Equal(t, "https://example.com", got["http_response_response_time"][0].Labels.Get("server"))
			require.NotContains(t, got, "system_uptime_format")
			if tenant := tc.hdr["X-Scope-OrgID"]; tenant != "" {
				require.Equal(t, tenant, got["mem_used"][0].Tenant)
			}
			require.Contains(t, setText(e), `cairn_ingest_samples_total{protocol="influx",result="rejected",reason="string_field"} 3`)
			require.Contains(t, setText(e), `cairn_ingest_samples_total{protocol="influx",result="accepted"} 99`)
		})
	}
}

func valueWith(ss []store.Series, name, value string) float64 {
	for _, s := range ss {
		if s.Labels.Get(name) == value {
			return s.Samples[0].V
		}
	}
	return -1
}

func TestInfluxPrecisionAndNow(t *testing.T) {
	e := newReceiverEnv(t)
	code, msg, _ := postTo(t, e.srv.URL+"/api/v2/write?bucket=b&precision=s", []byte("m,host=a v=1 1699999999\nm,host=b v=2\n"), nil)
	require.Equal(t, http.StatusNoContent, code, msg)
	got := e.consumeSeries(t, 2)
	times := map[string]int64{}
	for _, s := range got {
		times[s.Labels.Get("host")] = s.Samples[0].T
	}
	require.Equal(t, map[string]int64{"a": 1_699_999_999_000, "b": e.now.Truncate(time.Second).UnixMilli()}, times)
}

// TestInfluxPartialWrite checks that bad lines and rejected series are
// named, in InfluxDB's error shape, and that the rest is stored.
func TestInfluxPartialWrite(t *testing.T) {
	e := newReceiverEnv(t)
	body := "m,host=a v=1 1700000000000000000\n" +
		"m,host=b v= 1700000000000000000\n" +
		"m,host=" + strings.Repeat("x", 65) + " v=3 1700000000000000000\n" +
		"m,host=c v=4,w=5 1700000000000000000\n"
	code, msg, h := postTo(t, e.srv.URL+"/write?db=x", []byte(body), nil)
	require.Equal(t, http.StatusBadRequest, code)
	require.Equal(t, "application/json; charset=utf-8", h.Get("Content-Type"))
	require.JSONEq(t, `{
		"code": "invalid",
		"message": "partial write: 2 of 5 values rejected, the rest were stored; first: cannot decode line protocol: line 2, column 12: field value has unrecognized type",
		"error": "partial write: 2 of 5 values rejected, the rest were stored; first: cannot decode line protocol: line 2, column 12: field value has unrecognized type"
	}`, msg)
	require.Len(t, e.consumeSeries(t, 3), 3)

	code, msg, _ = postTo(t, e.srv.URL+"/api/v2/write?bucket=x", []byte("m v=1 1700000000000000000\n\nm,host="+strings.Repeat("x", 65)+" v=3 1700000000000000000"), nil)
	require.Equal(t, http.StatusBadRequest, code)
	require.JSONEq(t, `{"code": "invalid", "message": "partial write: 1 of 2 values rejected, the rest were stored; first: line 3: value of label \"host\" of series {__name__=\"m_v\", host=\"`+strings.Repeat("x", 65)+`\"} is 65 bytes long, the limit is 64 (-ingest.max-label-value-length)"}`, msg)
}

func TestInfluxKafkaDown(t *testing.T) {
	srv := kafkaDownServer(t)
	code, msg, h := postTo(t, srv.URL+"/api/v2/write?bucket=b", []byte("m v=1"), nil)
	require.Equal(t, http.StatusServiceUnavailable, code, msg)
	require.Equal(t, "5", h.Get("Retry-After"))
	require.Contains(t, msg, `"code":"unavailable"`)
	require.Contains(t, msg, "kafka unavailable")
}

// TestInfluxPingAndQuery answers what InfluxDB 1.x clients call before
// they write: /ping, and /query with CREATE DATABASE as Telegraf's
// influxdb output sends it (form-encoded POST); other InfluxQL is a 400
// naming what is supported.
func TestInfluxPingAndQuery(t *testing.T) {
	e := newReceiverEnv(t)
	telegraf := map[string]string{"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "Telegraf/1.34.0"}
	form := func(q string) []byte { return []byte(url.Values{"q": {q}}.Encode()) }
	for _, tc := range []struct {
		name, method, path string
		hdr                map[string]string
		body               []byte
		code               int
		want               string // the body, JSON; "" for none
	}{
		{"ping", http.MethodGet, "/ping", nil, nil, 204, ""},
		{"ping head", http.MethodHead, "/ping", nil, nil, 204, ""},
		{"ping verbose", http.MethodGet, "/ping?verbose=true", nil, nil, 200, `{"version":"1.8.10"}`},
		{"telegraf create database", http.MethodPost, "/query", telegraf, form(`CREATE DATABASE "telegraf"`), 200, `{"results":[{"statement_id":0}]}`},
		{"two statements", http.MethodPost, "/query", telegraf, form(`CREATE DATABASE a; create database "b"`), 200, `{"results":[{"statement_id":0},{"statement_id":1}]}`},
		{"in the URL", http.MethodPost, "/query?q=" + url.QueryEscape("CREATE DATABASE x"), nil, nil, 200, `{"results":[{"statement_id":0}]}`},
		{"select", http.MethodPost, "/query", telegraf, form(`SELECT * FROM cpu`), 400,
			`{"code":"invalid","message":"statement 1 \"SELECT * FROM cpu\": only CREATE DATABASE <name> is supported: Cairn's /query accepts only CREATE DATABASE, which it answers without creating anything (the tenant is X-Scope-OrgID's); query the data with PromQL at /api/v1/query",
			  "error":"statement 1 \"SELECT * FROM cpu\": only CREATE DATABASE <name> is supported: Cairn's /query accepts only CREATE DATABASE, which it answers without creating anything (the tenant is X-Scope-OrgID's); query the data with PromQL at /api/v1/query"}`},
		{"no q", http.MethodPost, "/query", telegraf, nil, 400, `{"code":"invalid","message":"missing required parameter \"q\"","error":"missing required parameter \"q\""}`},
		{"bad tenant", http.MethodPost, "/query", with(telegraf, "X-Scope-OrgID", "a/b"), form(`CREATE DATABASE x`), 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, e.srv.URL+tc.path, bytes.NewReader(tc.body))
			require.NoError(t, err)
			for k, v := range tc.hdr {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			require.Equal(t, tc.code, resp.StatusCode, string(body))
			require.Equal(t, "1.8.10", resp.Header.Get("X-Influxdb-Version"))
			switch {
			case tc.name == "bad tenant":
				require.Contains(t, string(body), "unsupported character '/'")
			case tc.want == "":
				require.Empty(t, body)
			default:
				require.JSONEq(t, tc.want, string(body))
			}
		})
	}
	require.Contains(t, setText(e), `cairn_ingest_requests_failed_total{protocol="influx",reason="unsupported_query",code="400"} 2`)
}

// TestInfluxTelegrafStart plays what Telegraf's influxdb output does on
// its first flush: CREATE DATABASE, read as its client reads the answer
// (200 and no error in results), then the write.
func TestInfluxTelegrafStart(t *testing.T) {
	e := newReceiverEnv(t)
	code, body, _ := postTo(t, e.srv.URL+"/query", []byte("q=CREATE+DATABASE+%22telegraf%22"), map[string]string{"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "Telegraf/1.34.0"})
	require.Equal(t, http.StatusOK, code, body)
	var resp struct {
		Results []struct {
			Err string `json:"error,omitempty"`
		} `json:"results"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &resp))
	require.Len(t, resp.Results, 1)
	require.Empty(t, resp.Results[0].Err)

	code, body, _ = postTo(t, e.srv.URL+"/write?db=telegraf", gzipped(t, []byte("cpu,host=a usage_idle=93.5 1700000000000000000\n")),
		map[string]string{"Content-Type": "text/plain; charset=utf-8", "Content-Encoding": "gzip", "User-Agent": "Telegraf/1.34.0"})
	require.Equal(t, http.StatusNoContent, code, body)
	got := e.consumeSeries(t, 1)
	require.Equal(t, "cpu_usage_idle", got[0].Labels.Get("__name__"))
}
