package builds

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/util/teststorage"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

func TestSeries(t *testing.T) {
	events := []store.BuildEvent{
		{ID: "a", Service: "api", Pipeline: "CI", Kind: store.KindBuild, Status: store.StatusSuccess, Branch: "main",
			StartedAt: 1_700_000_000_000, FinishedAt: 1_700_000_090_500},
		{ID: "b", Service: "api", Kind: store.KindDeploy, Status: store.StatusRunning, Environment: "prod", StartedAt: 1_700_000_000_000},
		{ID: "c", Service: "api", Kind: store.KindDeploy, Status: store.StatusSuccess, Environment: "prod",
			FinishedAt: 1_700_000_100_000, CommitTime: 1_699_999_000_000}, // start unknown: no duration
		{ID: "d", Service: "api", Kind: store.KindDeploy, Status: store.StatusFailure, Environment: "prod",
			StartedAt: 1_700_000_000_000, FinishedAt: 1_700_000_200_000, CommitTime: 1_699_999_000_000}, // failed: no lead time
		{ID: "e", Service: "api", Kind: store.KindBuild, Status: "neutral", StartedAt: 1, FinishedAt: 2}, // unknown status
	}
	var got []string
	for _, s := range Series("t", events) {
		require.Equal(t, "t", s.Tenant)
		require.Len(t, s.Samples, 1)
		got = append(got, s.Labels.String()+" "+formatSample(s.Samples[0]))
	}
	require.Equal(t, []string{
		`{__name__="cairn_build_finished_timestamp_seconds", branch="main", kind="build", pipeline="CI", service="api", status="success"} 1700000090500 1.7000000905e+09`,
		`{__name__="cairn_build_duration_seconds", branch="main", kind="build", pipeline="CI", service="api", status="success"} 1700000090500 90.5`,
		`{__name__="cairn_build_finished_timestamp_seconds", environment="prod", kind="deploy", service="api", status="success"} 1700000100000 1.7000001e+09`,
		`{__name__="cairn_deployment_lead_time_seconds", environment="prod", kind="deploy", service="api", status="success"} 1700000100000 1100`,
		`{__name__="cairn_build_finished_timestamp_seconds", environment="prod", kind="deploy", service="api", status="failure"} 1700000200000 1.7000002e+09`,
		`{__name__="cairn_build_duration_seconds", environment="prod", kind="deploy", service="api", status="failure"} 1700000200000 200`,
	}, got)
	// A redelivered event yields the very same samples.
	require.Equal(t, Series("t", events[:1]), Series("t", events[:1]))
}

func formatSample(s store.Sample) string {
	return fmtInt(s.T) + " " + fmtFloat(s.V)
}

func fmtInt(n int64) string     { return strconv.FormatInt(n, 10) }
func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// TestSeriesQueries runs the queries ingest's doc.go gives for build
// metrics on the samples of a day of runs, one of them delivered twice.
func TestSeriesQueries(t *testing.T) {
	const day = int64(1_700_006_400_000) // 2023-11-15T00:00:00Z
	run := func(id, kind, status, env string, start, finish int64) store.BuildEvent {
		return store.BuildEvent{ID: id, Service: "api", Pipeline: "CI", Kind: kind, Status: status, Branch: "main",
			Environment: env, StartedAt: day + start*1000, FinishedAt: day + finish*1000, CommitTime: day}
	}
	events := []store.BuildEvent{
		run("1", store.KindBuild, store.StatusSuccess, "", 0, 100),
		run("1", store.KindBuild, store.StatusSuccess, "", 0, 100), // redelivered
		run("2", store.KindBuild, store.StatusFailure, "", 3600, 3660),
		run("3", store.KindBuild, store.StatusSuccess, "", 7200, 7500),
		run("4", store.KindDeploy, store.StatusSuccess, "prod", 7600, 7900),
	}
	st := teststorage.New(t)
	ctx := context.Background()
	for _, s := range Series("t", events) { // one commit per event: the redelivery comes later
		app := st.Appender(ctx)
		_, err := app.Append(0, s.Labels, s.Samples[0].T, s.Samples[0].V)
		require.NoError(t, err)
		require.NoError(t, app.Commit())
	}
	engine := promql.NewEngine(promql.EngineOpts{MaxSamples: 1e6, Timeout: time.Minute, LookbackDelta: 5 * time.Minute})
	at := time.UnixMilli(day + 8000*1000)
	for _, tc := range []struct{ query, want string }{
		{`sum by (service, status) (count_over_time(cairn_build_finished_timestamp_seconds{kind="build"}[1d]))`,
			`{service="api", status="failure"} => 1 @[1700014400000]` + "\n" + `{service="api", status="success"} => 2 @[1700014400000]`},
		{`sum by (service, environment, status) (count_over_time(cairn_build_finished_timestamp_seconds{kind="deploy"}[1d]))`,
			`{environment="prod", service="api", status="success"} => 1 @[1700014400000]`},
		{`sum(count_over_time(cairn_build_finished_timestamp_seconds{kind="build",status="failure"}[1d]))
		  / sum(count_over_time(cairn_build_finished_timestamp_seconds{kind="build"}[1d]))`,
			`{} => 0.3333333333333333 @[1700014400000]`},
		{`quantile_over_time(0.9, cairn_build_duration_seconds{kind="build",pipeline="CI",status="success"}[7d])`,
			`{branch="main", kind="build", pipeline="CI", service="api", status="success"} => 280 @[1700014400000]`},
		{`time() - max(max_over_time(cairn_build_finished_timestamp_seconds{kind="deploy",status="success"}[30d]))`,
			`{} => 100 @[1700014400000]`},
		{`quantile_over_time(0.5, cairn_deployment_lead_time_seconds{environment="prod"}[30d])`,
			`{branch="main", environment="prod", kind="deploy", pipeline="CI", service="api", status="success"} => 7900 @[1700014400000]`},
	} {
		q, err := engine.NewInstantQuery(ctx, st, nil, tc.query, at)
		require.NoError(t, err)
		res := q.Exec(ctx)
		require.NoError(t, res.Err, tc.query)
		if v, ok := res.Value.(promql.Vector); ok {
			slices.SortFunc(v, func(a, b promql.Sample) int { return labels.Compare(a.Metric, b.Metric) })
		}
		require.Equal(t, tc.want, res.Value.String(), tc.query)
		q.Close()
	}
}
