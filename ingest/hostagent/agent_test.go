package hostagent

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/ingest/remotewrite"
	"github.com/cairn-dev/cairn/store"
)

func TestCollect(t *testing.T) {
	now := time.UnixMilli(1700000000000)
	series, err := Collect(context.Background(), "node", "host-1", now)
	require.NoError(t, err)
	names := map[string]bool{}
	for _, s := range series {
		names[s.Labels.Get(labels.MetricName)] = true
		require.Equal(t, "host-1", s.Labels.Get("instance"))
		require.Equal(t, "node", s.Labels.Get("job"))
		require.Len(t, s.Samples, 1)
		require.Equal(t, now.UnixMilli(), s.Samples[0].T)
	}
	for _, want := range []string{"node_cpu_seconds_total", "node_memory_MemAvailable_bytes", "node_load1", "node_network_receive_bytes_total", "node_boot_time_seconds", "up"} {
		require.True(t, names[want], "missing %s", want)
	}
}

func TestPushOnce(t *testing.T) {
	var got []store.Series
	var hdr http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var err error
		got, err = remotewrite.DecodeV1(body, "x", 64<<20)
		require.NoError(t, err)
		hdr = r.Header
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	cfg := Config{URL: srv.URL + "/api/v1/write", Interval: time.Second, Timeout: time.Second, Job: "node", Instance: "h", Tenant: "team-a"}
	require.NoError(t, cfg.Validate())
	a := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, a.PushOnce(context.Background()))
	require.NotEmpty(t, got)
	require.Equal(t, "team-a", hdr.Get("X-Scope-OrgID"))
	require.Equal(t, "snappy", hdr.Get("Content-Encoding"))
}

func TestPushOnceReportsRejection(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "series has 99 labels", http.StatusBadRequest)
	}))
	defer srv.Close()
	cfg := Config{URL: srv.URL, Interval: time.Second, Timeout: time.Second, Job: "node", Instance: "h"}
	require.NoError(t, cfg.Validate())
	err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil))).PushOnce(context.Background())
	require.ErrorContains(t, err, "400 Bad Request: series has 99 labels")
}

func TestConfigValidate(t *testing.T) {
	cfg := Config{URL: "ftp://x", Interval: time.Millisecond, Timeout: 0, Tenant: "a/b"}
	err := cfg.Validate()
	require.ErrorContains(t, err, `-agent.url: "ftp://x" is not an http(s) URL`)
	require.ErrorContains(t, err, "-agent.interval: 1ms")
	require.ErrorContains(t, err, "-agent.timeout")
	require.ErrorContains(t, err, "-agent.tenant")
}
