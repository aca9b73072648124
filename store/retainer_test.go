package store_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/storetest"
)

// TestRetention writes data 40 days old and fresh data of every kind, runs
// one retention pass, and checks that only the old data of kinds kept 30
// days is gone. It needs CAIRN_TEST_CLICKHOUSE.
func TestRetention(t *testing.T) {
	c := storetest.OpenTest(t)
	ctx := context.Background()
	const old, fresh = day1, day1 + 40*day // ms
	now := time.UnixMilli(fresh + 12*3_600_000)
	ls := labels.FromStrings("__name__", "up", "job", "api")
	write(t, c, "", store.Series{Tenant: "t", Labels: ls, Samples: []store.Sample{{T: old, V: 1}, {T: fresh, V: 2}}})
	writeLogs(t, c, "", []store.LogEntry{
		{Tenant: "t", Stream: apiStream, T: old * 1e6, Line: "old"},
		{Tenant: "t", Stream: apiStream, T: fresh * 1e6, Line: "fresh"},
	})
	require.NoError(t, c.WriteBuilds(ctx, []store.BuildEvent{
		build("old", "api", store.KindDeploy, store.StatusSuccess, old, old+1),
		build("fresh", "api", store.KindDeploy, store.StatusSuccess, fresh, fresh+1),
	}, ""))
	alerts := labels.FromStrings("alertname", "Down", "service", "api")
	require.NoError(t, c.WriteAlertStates(ctx, []store.AlertState{
		{Tenant: "t", Labels: alerts, State: store.AlertFiring, T: old},
		{Tenant: "t", Labels: alerts, State: store.AlertFiring, T: fresh},
	}, ""))

	days := func(n int) model.Duration { return model.Duration(time.Duration(n) * 24 * time.Hour) }
	cfg := store.RetentionConfig{Metrics: days(30), Logs: days(30), Builds: days(30), Alerts: 0}
	r := store.NewRetainer(c, cfg, storetest.Logger(t))
	require.NoError(t, r.ApplyTTL(ctx), "a no-op on 18.16, TTLs on modern servers")
	require.NoError(t, r.Enforce(ctx, now))
	require.NoError(t, r.Enforce(ctx, now), "a second pass finds nothing to drop")

	fp := store.Fingerprint(ls)
	got, err := c.ReadSamples(ctx, "t", []uint64{fp}, 0, math.MaxInt64)
	require.NoError(t, err)
	require.Equal(t, []store.Sample{{T: fresh, V: 2}}, got[fp])
	require.Empty(t, selectStrings(t, c, "t", old, old+day-1), "old series rows gone")
	require.Len(t, selectStrings(t, c, "t", fresh, fresh), 1)
	values, err := c.LabelValues(ctx, "t", "job", old, old+day-1)
	require.NoError(t, err)
	require.Empty(t, values, "old label index rows gone")

	require.Equal(t, []string{"fresh"}, lines(t, c, store.LogQuery{Tenant: "t", Matchers: []*labels.Matcher{eq("app", "api")}, End: math.MaxInt64}))
	refs, err := c.SelectStreams(ctx, "t", old*1e6, (old+day)*1e6-1)
	require.NoError(t, err)
	require.Empty(t, refs, "old stream rows gone")

	require.Equal(t, []string{"fresh"}, buildIDs(t, c, store.BuildQuery{Tenant: "t", From: 0, To: math.MaxInt64}))

	states, err := c.ReadAlertStates(ctx, store.AlertQuery{Tenant: "t", From: 0, To: math.MaxInt64})
	require.NoError(t, err)
	require.Len(t, states, 2, "alerts are kept forever")

	// Run returns when its context ends.
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- r.Run(runCtx) }()
	cancel()
	require.NoError(t, <-done)
}
