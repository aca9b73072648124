package query

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/cairn-dev/cairn/store"
)

// DORA performance bands.
const (
	BandElite  = "elite"
	BandHigh   = "high"
	BandMedium = "medium"
	BandLow    = "low"
)

// DefaultChangeFailureWindow is how long after a deploy a failed deploy, a
// rollback or a firing alert of the service still counts against it.
const DefaultChangeFailureWindow = 24 * time.Hour

// Band thresholds, after the 2023 Accelerate State of DevOps (DORA)
// report. The report gives ranges with gaps and overlaps; these close
// them, each band's bound belonging to the better band:
//
//	deployment frequency  elite ≥ 1/day (on demand), high ≥ 1/week, medium ≥ 1/month (30 days), low below
//	lead time for changes elite < 1 day, high < 1 week, medium < 30 days, low ≥ 30 days
//	change failure rate   elite ≤ 5%, high ≤ 10%, medium ≤ 15%, low above
//	time to restore       elite < 1 hour, high < 1 day, medium < 1 week, low ≥ 1 week
//
// docs/api.md repeats this table; keep the two in step.
const (
	day   = 24 * time.Hour
	week  = 7 * day
	month = 30 * day
)

// DORAMetric is one DORA metric over a window. Value is nil, and Band
// empty, when there is nothing to compute it from.
type DORAMetric struct {
	Value   *float64 `json:"value"`
	Unit    string   `json:"unit"`
	Samples int      `json:"samples"` // the deploys or incidents it was computed from
	Band    string   `json:"band"`
	Source  string   `json:"source,omitempty"` // time to restore only: "alerts" or "deploys"
}

// DeployCounts counts the finished deploys in a window.
type DeployCounts struct {
	Total      int `json:"total"` // successful and failed; cancelled and running ones are left out
	Successful int `json:"successful"`
	Failed     int `json:"failed"`
	// FailedChanges are the deploys the change failure rate counts.
	FailedChanges int `json:"failed_changes"`
}

// DORA is the four DORA metrics of one service over [From, To].
type DORA struct {
	Service             string       `json:"service"`
	Environment         string       `json:"environment"`
	From                string       `json:"from"`
	To                  string       `json:"to"`
	ChangeFailureWindow float64      `json:"change_failure_window_seconds"`
	Deployments         DeployCounts `json:"deployments"`
	DeploymentFrequency DORAMetric   `json:"deployment_frequency"`
	LeadTime            DORAMetric   `json:"lead_time_for_changes"`
	ChangeFailureRate   DORAMetric   `json:"change_failure_rate"`
	TimeToRestore       DORAMetric   `json:"time_to_restore"`
}

// DORAInput is what ComputeDORA reads: a service's runs and alert state
// changes, as read from the store, and the window. Runs and alerts may
// reach past To by the change failure window: the deploys and alerts
// that follow the window's last deploys.
type DORAInput struct {
	Service, Environment string
	From, To             time.Time
	Window               time.Duration // change failure window; 0 for DefaultChangeFailureWindow
	Builds               []store.BuildEvent
	Alerts               []store.AlertState
}

// ComputeDORA computes the DORA metrics. A deploy is a run of kind deploy
// with status success or failure, finished (its time is FinishedAt) in
// [From, To]; builds, cancelled and running deploys are ignored.
func ComputeDORA(in DORAInput) DORA {
	if in.Window <= 0 {
		in.Window = DefaultChangeFailureWindow
	}
	from, to := in.From.UnixMilli(), in.To.UnixMilli()
	all := deploys(in.Builds)
	var inWindow []store.BuildEvent
	for _, d := range all {
		if d.FinishedAt >= from && d.FinishedAt <= to {
			inWindow = append(inWindow, d)
		}
	}
	out := DORA{
		Service:             in.Service,
		Environment:         in.Environment,
		From:                formatTime(from),
		To:                  formatTime(to),
		ChangeFailureWindow: in.Window.Seconds(),
	}
	firing := firingTimes(in.Alerts)
	var leadTimes []float64
	for _, d := range inWindow {
		out.Deployments.Total++
		if d.Status == store.StatusSuccess {
			out.Deployments.Successful++
			if d.CommitTime > 0 && d.FinishedAt >= d.CommitTime {
				leadTimes = append(leadTimes, float64(d.FinishedAt-d.CommitTime)/1e3)
			}
		} else {
			out.Deployments.Failed++
		}
		if failedChange(d, all, firing, in.Window.Milliseconds()) {
			out.Deployments.FailedChanges++
		}
	}
	out.DeploymentFrequency = deploymentFrequency(out.Deployments.Successful, in.To.Sub(in.From))
	out.LeadTime = durationMetric(leadTimes, leadTimeBand)
	out.ChangeFailureRate = changeFailureRate(out.Deployments.FailedChanges, out.Deployments.Total)
	out.TimeToRestore = timeToRestore(in.Alerts, all, from, to)
	return out
}

// deploys returns the finished successful and failed deploys of runs, by
// finish time.
func deploys(runs []store.BuildEvent) []store.BuildEvent {
	var out []store.BuildEvent
	for _, r := range runs {
		if r.Kind == store.KindDeploy && r.FinishedAt > 0 &&
			(r.Status == store.StatusSuccess || r.Status == store.StatusFailure) {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b store.BuildEvent) int { return cmp.Compare(a.FinishedAt, b.FinishedAt) })
	return out
}

// isRollback reports whether a deploy rolls back: its trigger is
// "rollback", or its pipeline's name or a "rollback" label says so.
func isRollback(d store.BuildEvent) bool {
	return strings.EqualFold(d.Trigger, "rollback") ||
		strings.Contains(strings.ToLower(d.Pipeline), "rollback") ||
		strings.EqualFold(d.Labels.Get("rollback"), "true")
}

// failedChange reports whether deploy d counts against the change
// failure rate: it failed; or the next deploy to its environment, within
// window, failed or rolled back; or an alert of the service fired after
// it, within window and before the next deploy (a later deploy owns the
// alerts that follow it).
func failedChange(d store.BuildEvent, all []store.BuildEvent, firing []int64, window int64) bool {
	if d.Status == store.StatusFailure {
		return true
	}
	end := d.FinishedAt + window
	if next, ok := nextDeploy(d, all); ok && next.FinishedAt <= end {
		if next.Status == store.StatusFailure || isRollback(next) {
			return true
		}
		end = next.FinishedAt
	}
	for _, t := range firing {
		if t > d.FinishedAt && t <= end {
			return true
		}
	}
	return false
}

// nextDeploy returns the first deploy after d to d's environment.
func nextDeploy(d store.BuildEvent, all []store.BuildEvent) (store.BuildEvent, bool) {
	for _, n := range all {
		if n.FinishedAt > d.FinishedAt && n.Environment == d.Environment && n.ID != d.ID {
			return n, true
		}
	}
	return store.BuildEvent{}, false
}

// firingTimes returns when alerts started firing, in order.
func firingTimes(alerts []store.AlertState) []int64 {
	var out []int64
	for _, a := range alerts {
		if a.State == store.AlertFiring {
			out = append(out, a.T)
		}
	}
	slices.Sort(out)
	return out
}

func deploymentFrequency(successful int, window time.Duration) DORAMetric {
	m := DORAMetric{Unit: "deployments_per_day", Samples: successful}
	if window <= 0 {
		return m
	}
	perDay := float64(successful) / (float64(window) / float64(day))
	m.Value = &perDay
	switch {
	case perDay >= 1:
		m.Band = BandElite
	case perDay >= 1.0/7:
		m.Band = BandHigh
	case perDay >= 1.0/30:
		m.Band = BandMedium
	default:
		m.Band = BandLow
	}
	return m
}

func changeFailureRate(failed, total int) DORAMetric {
	m := DORAMetric{Unit: "ratio", Samples: total}
	if total == 0 {
		return m
	}
	rate := float64(failed) / float64(total)
	m.Value = &rate
	switch {
	case rate <= 0.05:
		m.Band = BandElite
	case rate <= 0.10:
		m.Band = BandHigh
	case rate <= 0.15:
		m.Band = BandMedium
	default:
		m.Band = BandLow
	}
	return m
}

// durationMetric is the median of seconds, banded.
func durationMetric(seconds []float64, band func(time.Duration) string) DORAMetric {
	m := DORAMetric{Unit: "seconds", Samples: len(seconds)}
	if len(seconds) == 0 {
		return m
	}
	v := median(seconds)
	m.Value = &v
	m.Band = band(time.Duration(v * float64(time.Second)))
	return m
}

func leadTimeBand(d time.Duration) string {
	switch {
	case d < day:
		return BandElite
	case d < week:
		return BandHigh
	case d < month:
		return BandMedium
	}
	return BandLow
}

func restoreBand(d time.Duration) string {
	switch {
	case d < time.Hour:
		return BandElite
	case d < day:
		return BandHigh
	case d < week:
		return BandMedium
	}
	return BandLow
}

// timeToRestore is the median time from an alert of the service firing
// to its resolution, over the incidents that started firing in [from,
// to] and have resolved. Without any, it is the median time from a
// failed deploy in the window to the next successful deploy to its
// environment.
func timeToRestore(alerts []store.AlertState, all []store.BuildEvent, from, to int64) DORAMetric {
	if s := alertRestores(alerts, from, to); len(s) > 0 {
		m := durationMetric(s, restoreBand)
		m.Source = "alerts"
		return m
	}
	var s []float64
	for _, d := range all {
		if d.Status != store.StatusFailure || d.FinishedAt < from || d.FinishedAt > to {
			continue
		}
		for _, n := range all {
			if n.FinishedAt > d.FinishedAt && n.Environment == d.Environment && n.Status == store.StatusSuccess {
				s = append(s, float64(n.FinishedAt-d.FinishedAt)/1e3)
				break
			}
		}
	}
	m := durationMetric(s, restoreBand)
	if len(s) > 0 {
		m.Source = "deploys"
	}
	return m
}

// alertRestores pairs each alert's firing with its next resolution, an
// alert being its label set, and returns the durations in seconds of the
// incidents that fired in [from, to].
func alertRestores(alerts []store.AlertState, from, to int64) []float64 {
	sorted := slices.Clone(alerts)
	slices.SortStableFunc(sorted, func(a, b store.AlertState) int { return cmp.Compare(a.T, b.T) })
	open := map[uint64]int64{}
	var out []float64
	for _, a := range sorted {
		key := a.Labels.Hash() ^ hashString(a.AlertName)
		switch a.State {
		case store.AlertFiring:
			if _, ok := open[key]; !ok {
				open[key] = a.T
			}
		case store.AlertResolved:
			start, ok := open[key]
			if !ok {
				start = a.FiredAt // fired before the states read
			}
			delete(open, key)
			end := a.T
			if a.ResolvedAt > 0 {
				end = a.ResolvedAt
			}
			if start > 0 && start >= from && start <= to && end >= start {
				out = append(out, float64(end-start)/1e3)
			}
		}
	}
	return out
}

func hashString(s string) uint64 {
	h := uint64(14695981039346656037) // FNV-1a
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// formatTime formats ms as RFC 3339 in UTC, with milliseconds when there
// are any.
func formatTime(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.999Z07:00")
}
