package store_test

import (
	"context"
	"math"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/storetest"
)

// Integration tests of build_events; they need CAIRN_TEST_CLICKHOUSE.

func build(id, service, kind, status string, started, finished int64) store.BuildEvent {
	return store.BuildEvent{Tenant: "t", ID: id, Service: service, Pipeline: "ci", Kind: kind, Status: status,
		Commit: "c0ffee", Branch: "main", StartedAt: started, FinishedAt: finished}
}

func buildIDs(t *testing.T, c *store.Client, q store.BuildQuery) []string {
	t.Helper()
	bs, err := c.ReadBuilds(context.Background(), q)
	require.NoError(t, err)
	out := []string{}
	for _, b := range bs {
		out = append(out, b.ID)
	}
	return out
}

func TestBuildsRoundTrip(t *testing.T) {
	c := storetest.OpenTest(t)
	ctx := context.Background()
	full := store.BuildEvent{Tenant: "t", ID: "github/42/1", Version: 7, Service: "api", Pipeline: "deploy.yml",
		Kind: store.KindDeploy, Status: store.StatusSuccess, Commit: "0123abc", Branch: "main", Environment: "prod",
		StartedAt: day1 + 1000, FinishedAt: day1 + 61_000, CommitTime: day1 - 3_600_000, URL: "https://ci/42",
		Trigger: "push", Labels: labels.FromStrings("actor", "ada", "repo", "org/api")}
	require.NoError(t, c.WriteBuilds(ctx, []store.BuildEvent{full}, ""))
	got, err := c.ReadBuilds(ctx, store.BuildQuery{Tenant: "t", From: 0, To: math.MaxInt64})
	require.NoError(t, err)
	require.Equal(t, []store.BuildEvent{full}, got)
}

func TestBuildVersions(t *testing.T) {
	cfg := storetest.Config(t)
	c := storetest.OpenConfig(t, cfg)
	ctx := context.Background()
	running := build("run-1", "api", store.KindBuild, store.StatusRunning, day1+1000, 0)
	failed := build("run-1", "api", store.KindBuild, store.StatusFailure, day1+1000, day1+5000)
	// Versions default to max(start, finish): the finished event wins
	// whatever the order of arrival, and repeats are read once.
	require.NoError(t, c.WriteBuilds(ctx, []store.BuildEvent{failed}, "builds-0-1-1"))
	require.NoError(t, c.WriteBuilds(ctx, []store.BuildEvent{running, failed}, "builds-0-0-1"))
	require.NoError(t, c.WriteBuilds(ctx, []store.BuildEvent{running, failed}, "builds-0-0-1"))
	again := storetest.OpenConfig(t, cfg)
	require.NoError(t, again.WriteBuilds(ctx, []store.BuildEvent{failed, running, failed}, ""))

	got, err := c.ReadBuilds(ctx, store.BuildQuery{Tenant: "t", From: 0, To: math.MaxInt64})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, store.StatusFailure, got[0].Status)
	require.Equal(t, uint64(day1+5000), got[0].Version)
	// Filters see the latest version only.
	require.Empty(t, buildIDs(t, c, store.BuildQuery{Tenant: "t", Status: store.StatusRunning, From: 0, To: math.MaxInt64}))

	// A later version that moves the start to another day replaces the
	// earlier one in every range.
	moved := failed
	moved.Version, moved.StartedAt, moved.Status = math.MaxInt64, day2+1, store.StatusSuccess
	require.NoError(t, c.WriteBuilds(ctx, []store.BuildEvent{moved}, ""))
	require.Empty(t, buildIDs(t, c, store.BuildQuery{Tenant: "t", From: day1, To: day2 - 1}))
	got, err = c.ReadBuilds(ctx, store.BuildQuery{Tenant: "t", From: day2, To: day3})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, store.StatusSuccess, got[0].Status)
}

func TestReadBuilds(t *testing.T) {
	c := storetest.OpenTest(t)
	ctx := context.Background()
	deploy := build("d1", "api", store.KindDeploy, store.StatusSuccess, day1+4000, day1+5000)
	deploy.Environment = "prod"
	feature := build("b3", "api", store.KindBuild, store.StatusSuccess, day1+3000, day1+3500)
	feature.Branch, feature.Pipeline = "feature", "lint"
	noStart := build("d2", "web", store.KindDeploy, store.StatusCancelled, 0, day2+1)
	require.NoError(t, c.WriteBuilds(ctx, []store.BuildEvent{
		build("b1", "api", store.KindBuild, store.StatusSuccess, day1+1000, day1+1500),
		build("b2", "api", store.KindBuild, store.StatusFailure, day1+2000, day1+2500),
		feature, deploy, noStart,
		build("w1", "web", store.KindBuild, store.StatusSuccess, day2+2000, day2+3000),
		build("dropped", "web", store.KindBuild, store.StatusSuccess, 0, 0),
		{Tenant: "other", ID: "x1", Service: "api", Kind: store.KindBuild, StartedAt: day1 + 1},
	}, ""))
	all := store.BuildQuery{Tenant: "t", From: 0, To: math.MaxInt64}
	with := func(f func(*store.BuildQuery)) store.BuildQuery {
		q := all
		f(&q)
		return q
	}
	for _, tc := range []struct {
		name string
		q    store.BuildQuery
		want []string
	}{
		{"all, newest first", all, []string{"w1", "d2", "d1", "b3", "b2", "b1"}},
		{"service", with(func(q *store.BuildQuery) { q.Service = "web" }), []string{"w1", "d2"}},
		{"kind", with(func(q *store.BuildQuery) { q.Kind = store.KindDeploy }), []string{"d2", "d1"}},
		{"status", with(func(q *store.BuildQuery) { q.Status = store.StatusFailure }), []string{"b2"}},
		{"branch", with(func(q *store.BuildQuery) { q.Branch = "feature" }), []string{"b3"}},
		{"pipeline", with(func(q *store.BuildQuery) { q.Pipeline = "lint" }), []string{"b3"}},
		{"environment", with(func(q *store.BuildQuery) { q.Environment = "prod" }), []string{"d1"}},
		{"combined", with(func(q *store.BuildQuery) { q.Service, q.Kind, q.Status = "api", store.KindBuild, store.StatusSuccess }), []string{"b3", "b1"}},
		{"range inclusive", with(func(q *store.BuildQuery) { q.From, q.To = day1+2000, day1+3000 }), []string{"b3", "b2"}},
		{"start defaults to finish", with(func(q *store.BuildQuery) { q.From, q.To = day2+1, day2+1 }), []string{"d2"}},
		{"limit", with(func(q *store.BuildQuery) { q.Limit = 2 }), []string{"w1", "d2"}},
		{"no match", with(func(q *store.BuildQuery) { q.Service = "nope" }), []string{}},
		{"empty range", with(func(q *store.BuildQuery) { q.From, q.To = 10, 9 }), []string{}},
		{"tenant isolation", with(func(q *store.BuildQuery) { q.Tenant = "nobody" }), []string{}},
		{"injection", with(func(q *store.BuildQuery) { q.Service = "x' OR 1 = 1 OR service = '" }), []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, buildIDs(t, c, tc.q))
		})
	}
	other := buildIDs(t, c, store.BuildQuery{Tenant: "other", From: 0, To: math.MaxInt64})
	require.Equal(t, []string{"x1"}, other)
}
