package query

import (
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

var doraT0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// at is doraT0 plus d, in ms.
func doraAt(d time.Duration) int64 { return doraT0.Add(d).UnixMilli() }

func doraDeploy(id string, finished time.Duration, status string) store.BuildEvent {
	return store.BuildEvent{ID: id, Service: "checkout", Kind: store.KindDeploy, Status: status,
		Environment: "production", StartedAt: doraAt(finished - time.Minute), FinishedAt: doraAt(finished)}
}

func doraAlert(name, state string, t time.Duration) store.AlertState {
	return store.AlertState{AlertName: name, Labels: labels.FromStrings("alertname", name, "service", "checkout"),
		State: state, T: doraAt(t), Service: "checkout"}
}

func metricValue(m DORAMetric) float64 {
	if m.Value == nil {
		return -1
	}
	return *m.Value
}

func TestDORADeploymentFrequency(t *testing.T) {
	for _, tc := range []struct {
		name    string
		deploys int
		window  time.Duration
		want    float64
		band    string
	}{
		{"one a day is elite", 7, 7 * day, 1, BandElite},
		{"just under one a day is high", 6, 7 * day, 6.0 / 7, BandHigh},
		{"once a week is high", 1, 7 * day, 1.0 / 7, BandHigh},
		{"under once a week is medium", 4, 30 * day, 4.0 / 30, BandMedium},
		{"once a month is medium", 1, 30 * day, 1.0 / 30, BandMedium},
		{"under once a month is low", 1, 31 * day, 1.0 / 31, BandLow},
		{"none is low", 0, 7 * day, 0, BandLow},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var runs []store.BuildEvent
			for i := range tc.deploys {
				runs = append(runs, doraDeploy(string(rune('a'+i)), time.Duration(i+1)*time.Hour, store.StatusSuccess))
			}
			// A failure, a cancelled deploy and a build are not successful deploys.
			runs = append(runs, doraDeploy("f", 30*time.Minute, store.StatusFailure), doraDeploy("c", 40*time.Minute, store.StatusCancelled),
				store.BuildEvent{ID: "b", Kind: store.KindBuild, Status: store.StatusSuccess, FinishedAt: doraAt(time.Hour)})
			got := ComputeDORA(DORAInput{From: doraT0, To: doraT0.Add(tc.window), Builds: runs})
			require.InDelta(t, tc.want, metricValue(got.DeploymentFrequency), 1e-9)
			require.Equal(t, tc.band, got.DeploymentFrequency.Band)
			require.Equal(t, tc.deploys, got.DeploymentFrequency.Samples)
		})
	}
}

func TestDORALeadTime(t *testing.T) {
	withCommit := func(id string, lead time.Duration) store.BuildEvent {
		d := doraDeploy(id, 40*day, store.StatusSuccess)
		d.CommitTime = d.FinishedAt - lead.Milliseconds()
		return d
	}
	for _, tc := range []struct {
		name string
		runs []store.BuildEvent
		want float64 // seconds; -1 for none
		band string
	}{
		{"none without commit times", []store.BuildEvent{doraDeploy("a", 40*day, store.StatusSuccess)}, -1, ""},
		{"under a day is elite", []store.BuildEvent{withCommit("a", day-time.Second)}, 86399, BandElite},
		{"a day is high", []store.BuildEvent{withCommit("a", day)}, 86400, BandHigh},
		{"a week is medium", []store.BuildEvent{withCommit("a", week)}, week.Seconds(), BandMedium},
		{"30 days is low", []store.BuildEvent{withCommit("a", month)}, month.Seconds(), BandLow},
		{"median of odd", []store.BuildEvent{withCommit("a", time.Hour), withCommit("b", 3*time.Hour), withCommit("c", 10*day)}, 3 * 3600, BandElite},
		{"median of even", []store.BuildEvent{withCommit("a", time.Hour), withCommit("b", 3*time.Hour)}, 2 * 3600, BandElite},
		{"failed deploys do not count", []store.BuildEvent{withCommit("a", time.Hour), func() store.BuildEvent {
			d := withCommit("b", 20*day)
			d.Status = store.StatusFailure
			return d
		}()}, 3600, BandElite},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ComputeDORA(DORAInput{From: doraT0, To: doraT0.Add(60 * day), Builds: tc.runs})
			require.InDelta(t, tc.want, metricValue(got.LeadTime), 1e-6)
			require.Equal(t, tc.band, got.LeadTime.Band)
		})
	}
}

func TestDORAChangeFailureRate(t *testing.T) {
	ok := func(id string, h int) store.BuildEvent {
		return doraDeploy(id, time.Duration(h)*time.Hour, store.StatusSuccess)
	}
	successes := func(n int) []store.BuildEvent {
		var out []store.BuildEvent
		for i := range n {
			out = append(out, ok(string(rune('A'+i)), 100+i*48)) // two days apart: nothing follows within 24h
		}
		return out
	}
	rollback := ok("r", 2)
	rollback.Trigger = "rollback"
	otherEnv := doraDeploy("e", 2*time.Hour, store.StatusFailure)
	otherEnv.Environment = "staging"
	for _, tc := range []struct {
		name   string
		runs   []store.BuildEvent
		alerts []store.AlertState
		failed int
		total  int
		band   string
	}{
		{"no deploys", nil, nil, 0, 0, ""},
		{"all good", successes(4), nil, 0, 4, BandElite},
		{"a failed deploy counts", append(successes(3), doraDeploy("f", 50*time.Hour, store.StatusFailure)), nil, 1, 4, BandLow},
		{"a success followed by a failure within the window counts too",
			append(successes(2), ok("a", 1), doraDeploy("f", 10*time.Hour, store.StatusFailure)), nil, 2, 4, BandLow},
		{"a failure after the window does not count against the deploy before",
			append(successes(1), ok("a", 1), doraDeploy("f", 26*time.Hour, store.StatusFailure)), nil, 1, 3, BandLow},
		{"followed by a rollback", append(successes(1), ok("a", 1), rollback), nil, 1, 3, BandLow},
		{"a failure in another environment does not count", append(successes(1), ok("a", 1), otherEnv), nil, 1, 3, BandLow},
		{"followed by a firing alert", append(successes(19), ok("a", 1)),
			[]store.AlertState{doraAlert("HighErrorRate", store.AlertFiring, 3*time.Hour)}, 1, 20, BandElite},
		{"an alert belongs to the latest deploy before it", append(successes(8), ok("a", 1), ok("b", 2)),
			[]store.AlertState{doraAlert("HighErrorRate", store.AlertFiring, 3*time.Hour)}, 1, 10, BandHigh},
		{"an alert after the window does not count", append(successes(1), ok("a", 1)),
			[]store.AlertState{doraAlert("HighErrorRate", store.AlertFiring, 26*time.Hour)}, 0, 2, BandElite},
		{"pending and resolved alerts do not count", append(successes(1), ok("a", 1)),
			[]store.AlertState{doraAlert("X", store.AlertPending, 2*time.Hour), doraAlert("X", store.AlertResolved, 3*time.Hour)}, 0, 2, BandElite},
		{"15% is medium", append(successes(17), doraDeploy("f1", 51*time.Hour, store.StatusFailure), doraDeploy("f2", 53*time.Hour, store.StatusFailure),
			doraDeploy("f3", 55*time.Hour, store.StatusFailure)), nil, 3, 20, BandMedium},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ComputeDORA(DORAInput{From: doraT0, To: doraT0.Add(60 * day), Builds: tc.runs, Alerts: tc.alerts})
			require.Equal(t, tc.failed, got.Deployments.FailedChanges)
			require.Equal(t, tc.total, got.Deployments.Total)
			require.Equal(t, tc.band, got.ChangeFailureRate.Band)
			if tc.total > 0 {
				require.InDelta(t, float64(tc.failed)/float64(tc.total), metricValue(got.ChangeFailureRate), 1e-9)
			}
		})
	}
}

func TestDORATimeToRestore(t *testing.T) {
	other := doraAlert("Latency", store.AlertFiring, 2*time.Hour)
	other.Labels = labels.FromStrings("alertname", "Latency", "service", "checkout", "route", "/pay")
	resolvedWithFiredAt := doraAlert("Old", store.AlertResolved, 2*time.Hour)
	resolvedWithFiredAt.FiredAt = doraAt(90 * time.Minute)
	for _, tc := range []struct {
		name   string
		runs   []store.BuildEvent
		alerts []store.AlertState
		want   float64 // seconds; -1 for none
		band   string
		source string
	}{
		{"nothing to restore", nil, nil, -1, "", ""},
		{"under an hour is elite", nil, []store.AlertState{
			doraAlert("X", store.AlertFiring, time.Hour), doraAlert("X", store.AlertResolved, time.Hour+59*time.Minute)}, 59 * 60, BandElite, "alerts"},
		{"an hour is high", nil, []store.AlertState{
			doraAlert("X", store.AlertFiring, time.Hour), doraAlert("X", store.AlertResolved, 2*time.Hour)}, 3600, BandHigh, "alerts"},
		{"a day is medium", nil, []store.AlertState{
			doraAlert("X", store.AlertFiring, time.Hour), doraAlert("X", store.AlertResolved, day+time.Hour)}, day.Seconds(), BandMedium, "alerts"},
		{"a week is low", nil, []store.AlertState{
			doraAlert("X", store.AlertFiring, time.Hour), doraAlert("X", store.AlertResolved, week+time.Hour)}, week.Seconds(), BandLow, "alerts"},
		{"alerts pair by label set; unresolved ones are left out", nil, []store.AlertState{
			doraAlert("X", store.AlertFiring, time.Hour), other, doraAlert("X", store.AlertResolved, time.Hour+10*time.Minute),
			doraAlert("X", store.AlertFiring, 5*time.Hour)}, 600, BandElite, "alerts"},
		{"a resolution whose firing was not read uses FiredAt", nil, []store.AlertState{resolvedWithFiredAt}, 1800, BandElite, "alerts"},
		{"firing before the window is left out", nil, []store.AlertState{
			doraAlert("X", store.AlertFiring, -time.Hour), doraAlert("X", store.AlertResolved, time.Hour)}, -1, "", ""},
		{"without alerts: failed deploy to the next success",
			[]store.BuildEvent{doraDeploy("f", time.Hour, store.StatusFailure), doraDeploy("f2", 2*time.Hour, store.StatusFailure),
				doraDeploy("ok", 4*time.Hour, store.StatusSuccess)}, nil, 2.5 * 3600, BandHigh, "deploys"},
		{"alerts win over deploys",
			[]store.BuildEvent{doraDeploy("f", time.Hour, store.StatusFailure), doraDeploy("ok", 4*time.Hour, store.StatusSuccess)},
			[]store.AlertState{doraAlert("X", store.AlertFiring, time.Hour), doraAlert("X", store.AlertResolved, time.Hour+time.Minute)}, 60, BandElite, "alerts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ComputeDORA(DORAInput{From: doraT0, To: doraT0.Add(30 * day), Builds: tc.runs, Alerts: tc.alerts})
			require.InDelta(t, tc.want, metricValue(got.TimeToRestore), 1e-6)
			require.Equal(t, tc.band, got.TimeToRestore.Band)
			require.Equal(t, tc.source, got.TimeToRestore.Source)
		})
	}
}
