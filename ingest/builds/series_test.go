package builds

import (
	"strconv"
	"testing"

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
