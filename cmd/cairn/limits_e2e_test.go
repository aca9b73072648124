package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/ingest/remotewrite"
	"github.com/cairn-dev/cairn/store"
)

// tenantRequest sends a request as tenant and returns the status, the
// body and the headers.
func tenantRequest(t *testing.T, method, u, tenantID, contentType string, body []byte, hdr ...string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("X-Scope-OrgID", tenantID)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := httpClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// TestTenantLimitsEndToEnd runs `cairn serve` with an overrides file:
// team-a's ingestion rate and max_fetched_series apply to team-a only, a
// reloaded file changes them while Cairn runs, and a bad file on reload
// keeps the last good one.
func TestTenantLimitsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	overrides := filepath.Join(t.TempDir(), "overrides.yaml")
	require.NoError(t, os.WriteFile(overrides, []byte("overrides:\n  team-a:\n    ingestion_rate: 0.01\n    ingestion_burst: 3\n    max_fetched_series: 1\n"), 0o644))
	listen := freeAddr(t)
	p := startCairn(t, listen, append(serveArgs(t, listen), "-limits.overrides-file", overrides, "-limits.overrides-period", "100ms")...)

	now := time.Now().UnixMilli()
	write := func(tenantID string) (int, string, http.Header) {
		body, err := remotewrite.EncodeV1([]store.Series{
			{Labels: labels.FromStrings("__name__", "lim_a", "job", "x"), Samples: []store.Sample{{T: now, V: 1}}},
			{Labels: labels.FromStrings("__name__", "lim_b", "job", "x"), Samples: []store.Sample{{T: now, V: 2}}},
		})
		require.NoError(t, err)
		return tenantRequest(t, http.MethodPost, p.base+"/api/v1/write", tenantID, "application/x-protobuf", body, "Content-Encoding", "snappy")
	}
	code, body, _ := write("team-a")
	require.Equal(t, http.StatusNoContent, code, body)
	code, body, h := write("team-a")
	require.Equal(t, http.StatusTooManyRequests, code, body)
	require.NotEmpty(t, h.Get("Retry-After"))
	require.Contains(t, body, `tenant "team-a" is over its ingestion rate limit ingestion_rate=0.01 per second (-limits.overrides-file)`)
	for range 2 {
		code, body, _ = write("team-b")
		require.Equal(t, http.StatusNoContent, code, "team-b has no override: %s", body)
	}

	query := func(tenantID string) (int, promResponse) {
		code, body, _ := tenantRequest(t, http.MethodGet, p.base+"/api/v1/query?query="+url.QueryEscape(`{job="x"}`), tenantID, "", nil)
		var pr promResponse
		require.NoError(t, json.Unmarshal([]byte(body), &pr), body)
		return code, pr
	}
	require.Eventually(t, func() bool { _, pr := query("team-b"); return len(pr.Data.Result) == 2 }, 15*time.Second, 100*time.Millisecond)
	code, pr := query("team-a")
	require.Equal(t, http.StatusUnprocessableEntity, code)
	require.Equal(t, "the query selects at least 2 series, more than the limit max_fetched_series=1 for tenant team-a allows (-limits.overrides-file)", pr.Error)

	require.NoError(t, os.WriteFile(overrides, []byte("overrides:\n  team-a:\n    max_fetched_series: 5\n"), 0o644))
	require.Eventually(t, func() bool { code, pr := query("team-a"); return code == http.StatusOK && len(pr.Data.Result) == 2 }, 10*time.Second, 50*time.Millisecond,
		"the reloaded file raised team-a's limit")

	require.NoError(t, os.WriteFile(overrides, []byte("overrides:\n  team-a:\n    max_fetched_series: -1\n"), 0o644))
	require.Eventually(t, func() bool {
		_, m, _ := tenantRequest(t, http.MethodGet, p.base+"/metrics", "", "", nil)
		return strings.Contains(m, "cairn_limits_overrides_last_reload_successful 0")
	}, 10*time.Second, 50*time.Millisecond)
	code, pr = query("team-a")
	require.Equal(t, http.StatusOK, code, "the last good file stays: %s", pr.Error)
	require.Contains(t, p.output(), "overrides_reload_failed")
	require.Contains(t, p.output(), `max_fetched_series: -1, must not be negative`)
	p.stop(t)
}

// TestServeRefusesBadOverridesFile: a bad overrides file at start is an
// error naming the tenant and the field, before Cairn connects to
// anything.
func TestServeRefusesBadOverridesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "overrides.yaml")
	require.NoError(t, os.WriteFile(path, []byte("overrides:\n  team-a:\n    ingestion_burst: 0\n"), 0o644))
	code, _, stderr := runCLI(t, nil, "serve", "-roles", "ingest", "-listen", "127.0.0.1:0", "-kafka.brokers", "192.0.2.1:9092", "-limits.overrides-file", path)
	require.NotEqual(t, 0, code)
	require.Contains(t, stderr, "-limits.overrides-file "+path+`: overrides: tenant "team-a": ingestion_burst: 0, must be at least 1`)
}

// TestInfluxClientStartEndToEnd is what an InfluxDB 1.x client does
// against `cairn serve` before it writes: /ping, then CREATE DATABASE.
func TestInfluxClientStartEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	listen := freeAddr(t)
	p := startCairn(t, listen, serveArgs(t, listen)...)
	code, _, h := tenantRequest(t, http.MethodGet, p.base+"/ping", "team-a", "", nil)
	require.Equal(t, http.StatusNoContent, code)
	require.Equal(t, "1.8.10", h.Get("X-Influxdb-Version"))
	code, body, _ := tenantRequest(t, http.MethodPost, p.base+"/query", "team-a", "application/x-www-form-urlencoded", []byte(url.Values{"q": {`CREATE DATABASE "telegraf"`}}.Encode()))
	require.Equal(t, http.StatusOK, code, body)
	require.JSONEq(t, `{"results":[{"statement_id":0}]}`, body)
	code, body, _ = tenantRequest(t, http.MethodPost, p.base+"/write?db=telegraf", "team-a", "text/plain; charset=utf-8", []byte("lim_cpu,host=a usage=1\n"))
	require.Equal(t, http.StatusNoContent, code, body)
	p.stop(t)
}
