package builds

import (
	"github.com/prometheus/prometheus/model/labels"

	"github.com/cairn-dev/cairn/store"
)

// The metric series that finished runs feed; see doc.go.
const (
	MetricFinished = "cairn_build_finished_timestamp_seconds"
	MetricDuration = "cairn_build_duration_seconds"
	MetricLeadTime = "cairn_deployment_lead_time_seconds"
)

// Series returns one sample per metric for each event of a run that
// finished (success, failure or cancelled), at its FinishedAt:
// MetricFinished always, MetricDuration when the start is known, and
// MetricLeadTime for a successful deploy whose commit time is known.
// Running events, and statuses Cairn does not know, feed none.
//
// A sample is a function of its event alone, so an event delivered twice
// yields the same sample twice, which the store keeps once.
func Series(tenant string, events []store.BuildEvent) []store.Series {
	var out []store.Series
	for _, e := range events {
		if !finished(e.Status) || e.FinishedAt <= 0 {
			continue
		}
		add := func(name string, v float64) {
			out = append(out, store.Series{Tenant: tenant, Labels: seriesLabels(name, e), Samples: []store.Sample{{T: e.FinishedAt, V: v}}})
		}
		add(MetricFinished, float64(e.FinishedAt)/1000)
		if e.StartedAt > 0 && e.StartedAt <= e.FinishedAt {
			add(MetricDuration, float64(e.FinishedAt-e.StartedAt)/1000)
		}
		if e.Kind == store.KindDeploy && e.Status == store.StatusSuccess && e.CommitTime > 0 && e.CommitTime <= e.FinishedAt {
			add(MetricLeadTime, float64(e.FinishedAt-e.CommitTime)/1000)
		}
	}
	return out
}

// seriesLabels are the labels of a run's series; empty values are left
// out, as Prometheus treats an empty label as an absent one.
func seriesLabels(name string, e store.BuildEvent) labels.Labels {
	return labelsOf(labels.MetricName, name, "service", e.Service, "pipeline", e.Pipeline, "kind", e.Kind,
		"status", e.Status, "branch", e.Branch, "environment", e.Environment)
}
