package tenant

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/stretchr/testify/require"
)

var testDefaults = Limits{IngestionRate: 0, IngestionBurst: 1000, MaxFetchedSeries: 100, MaxRange: time.Hour, MaxSamples: 5000, Timeout: time.Minute}

func TestParseOverrides(t *testing.T) {
	for _, tc := range []struct {
		name    string
		file    string
		want    map[string]Limits // overridden is checked separately
		set     map[string][]string
		wantErr string
	}{
		{name: "empty file", file: "", want: map[string]Limits{}},
		{name: "no overrides", file: "overrides: {}\n", want: map[string]Limits{}},
		{
			name: "some limits of some tenants",
			file: "overrides:\n  team-a:\n    ingestion_rate: 10.5\n    ingestion_burst: 20\n    max_range: 7d\n  team-b:\n    max_fetched_series: 0\n    max_samples: 10\n    timeout: 30s\n  team-c:\n",
			want: map[string]Limits{
				"team-a": {IngestionRate: 10.5, IngestionBurst: 20, MaxFetchedSeries: 100, MaxRange: 7 * 24 * time.Hour, MaxSamples: 5000, Timeout: time.Minute},
				"team-b": {IngestionBurst: 1000, MaxFetchedSeries: 0, MaxRange: time.Hour, MaxSamples: 10, Timeout: 30 * time.Second},
				"team-c": testDefaults,
			},
			set: map[string][]string{"team-a": {IngestionRate, IngestionBurst, MaxRange}, "team-b": {MaxFetchedSeries, MaxSamples, Timeout}, "team-c": nil},
		},
		{name: "unknown field", file: "overrides:\n  team-a:\n    ingestion_rat: 1\n", wantErr: "line 3: field ingestion_rat not found"},
		{name: "unknown top-level field", file: "limits: {}\n", wantErr: "field limits not found"},
		{name: "negative rate", file: "overrides:\n  team-a:\n    ingestion_rate: -1\n", wantErr: `overrides: tenant "team-a": ingestion_rate: -1, must not be negative`},
		{name: "zero burst", file: "overrides:\n  team-a:\n    ingestion_burst: 0\n", wantErr: `tenant "team-a": ingestion_burst: 0, must be at least 1`},
		{name: "zero timeout", file: "overrides:\n  t:\n    timeout: 0s\n", wantErr: `tenant "t": timeout: 0s, must be positive`},
		{name: "zero max samples", file: "overrides:\n  t:\n    max_samples: 0\n", wantErr: `tenant "t": max_samples: 0, must be positive`},
		{name: "bad duration", file: "overrides:\n  t:\n    max_range: 7 days\n", wantErr: `tenant "t": max_range: unknown unit " days" in duration "7 days"`},
		{name: "wrong type", file: "overrides:\n  t:\n    max_fetched_series: many\n", wantErr: "cannot unmarshal !!str `many` into int"},
		{name: "bad tenant ID", file: "overrides:\n  a/b:\n    timeout: 1s\n", wantErr: `overrides: X-Scope-OrgID: tenant ID has unsupported character '/'`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseOverrides([]byte(tc.file), testDefaults)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Len(t, got, len(tc.want))
			for id, want := range tc.want {
				for _, name := range tc.set[id] {
					require.True(t, got[id].Overridden(name), "%s %s", id, name)
					require.Equal(t, OverridesFlag, got[id].Source(name, "-flag"))
				}
				require.Equal(t, len(tc.set[id]), len(got[id].overridden), id)
				g := got[id]
				g.overridden = nil
				require.Equal(t, want, g, id)
			}
		})
	}
}

func TestOverridesFor(t *testing.T) {
	path := writeFile(t, "overrides:\n  team-a:\n    max_fetched_series: 7\n")
	o, err := NewOverrides(OverridesConfig{File: path, Period: time.Hour}, testDefaults, discard(), metrics.NewSet())
	require.NoError(t, err)
	require.Equal(t, 7, o.For("team-a").MaxFetchedSeries)
	require.Equal(t, OverridesFlag, o.For("team-a").Source(MaxFetchedSeries, "-query.max-fetched-series"))
	require.Equal(t, "-query.max-range", o.For("team-a").Source(MaxRange, "-query.max-range"))
	require.Equal(t, 100, o.For("team-b").MaxFetchedSeries)
	require.False(t, o.For("team-b").Overridden(MaxFetchedSeries))

	none, err := NewOverrides(OverridesConfig{}, testDefaults, discard(), metrics.NewSet())
	require.NoError(t, err)
	require.Equal(t, testDefaults, none.For("team-a"))
	require.NoError(t, none.Run(context.Background()), "without a file Run returns at once")
}

func TestOverridesBadFileAtStart(t *testing.T) {
	for _, tc := range []struct{ name, file, want string }{
		{"bad field", "overrides:\n  team-a:\n    max_range: -1h\n", `tenant "team-a": max_range: not a valid duration string: "-1h"`},
		{"missing file", "", "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "missing.yaml")
			if tc.file != "" {
				path = writeFile(t, tc.file)
			}
			_, err := NewOverrides(OverridesConfig{File: path, Period: time.Hour}, testDefaults, discard(), metrics.NewSet())
			require.ErrorContains(t, err, tc.want)
			require.ErrorContains(t, err, "-limits.overrides-file "+path)
		})
	}
}

// TestOverridesReload: a good file replaces the limits, a bad one keeps
// the last good limits and is logged and counted.
func TestOverridesReload(t *testing.T) {
	path := writeFile(t, "overrides:\n  team-a:\n    max_samples: 10\n")
	set := metrics.NewSet()
	var logs bytes.Buffer
	o, err := NewOverrides(OverridesConfig{File: path, Period: 10 * time.Millisecond}, testDefaults, slog.New(slog.NewTextHandler(&logs, nil)), set)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()

	require.NoError(t, os.WriteFile(path, []byte("overrides:\n  team-a:\n    max_samples: 20\n"), 0o644))
	require.Eventually(t, func() bool { return o.For("team-a").MaxSamples == 20 }, 5*time.Second, 5*time.Millisecond)

	require.NoError(t, os.WriteFile(path, []byte("overrides:\n  team-a:\n    max_samples: lots\n"), 0o644))
	require.Eventually(t, func() bool {
		return metricsText(set, `cairn_limits_overrides_last_reload_successful 0`)
	}, 5*time.Second, 5*time.Millisecond)
	require.Equal(t, 20, o.For("team-a").MaxSamples, "the last good file stays")
	require.True(t, metricsText(set, `cairn_limits_overrides_reloads_total{result="failure"}`))
	cancel()
	require.NoError(t, <-done)
	require.Contains(t, logs.String(), "overrides_reload_failed")
	require.Contains(t, logs.String(), "overrides_reloaded")
	require.Contains(t, logs.String(), "cannot unmarshal !!str `lots` into int")
}

func metricsText(set *metrics.Set, substr string) bool {
	var b bytes.Buffer
	set.WritePrometheus(&b)
	return bytes.Contains(b.Bytes(), []byte(substr))
}

func writeFile(t *testing.T, content string) string {
	path := filepath.Join(t.TempDir(), "overrides.yaml")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	return path
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
