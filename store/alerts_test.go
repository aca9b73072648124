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

// Integration tests of alert_states; they need CAIRN_TEST_CLICKHOUSE.

// incident is one alert's history: pending, firing, resolved.
func incident(ls labels.Labels, start int64) []store.AlertState {
	s := store.AlertState{Tenant: "t", RuleGroup: "slo", AlertName: ls.Get("alertname"), Labels: ls, ActiveAt: start, Value: 0.07}
	pending, firing, resolved := s, s, s
	pending.State, pending.T = store.AlertPending, start
	firing.State, firing.T, firing.FiredAt = store.AlertFiring, start+60_000, start+60_000
	resolved.State, resolved.T, resolved.FiredAt, resolved.ResolvedAt = store.AlertResolved, start+600_000, start+60_000, start+600_000
	return []store.AlertState{pending, firing, resolved}
}

func TestAlertStates(t *testing.T) {
	cfg := storetest.Config(t)
	c := storetest.OpenConfig(t, cfg)
	ctx := context.Background()
	api := labels.FromStrings("alertname", "HighErrorRate", "service", "api", "severity", "page")
	web := labels.FromStrings("alertname", "HighLatency", "service", "web", "severity", "ticket")
	batch := append(incident(api, day1+1000), incident(web, day1+2000)...)
	require.NoError(t, c.WriteAlertStates(ctx, batch, "alerts-0-0-6"))
	require.NoError(t, c.WriteAlertStates(ctx, batch, "alerts-0-0-6"))
	again := storetest.OpenConfig(t, cfg)
	require.NoError(t, again.WriteAlertStates(ctx, append(batch, batch...), ""))
	// Out of range: dropped, not an error.
	require.NoError(t, c.WriteAlertStates(ctx, []store.AlertState{{Tenant: "t", Labels: api, T: -1}}, ""))

	got, err := c.ReadAlertStates(ctx, store.AlertQuery{Tenant: "t", Service: "api", From: 0, To: math.MaxInt64})
	require.NoError(t, err)
	want := incident(api, day1+1000)
	for i := range want {
		want[i].Service, want[i].Severity = "api", "page" // from the labels
	}
	require.Equal(t, want, got)

	states := func(q store.AlertQuery) []string {
		t.Helper()
		q.Tenant = "t"
		got, err := c.ReadAlertStates(ctx, q)
		require.NoError(t, err)
		out := []string{}
		for _, s := range got {
			out = append(out, s.Service+":"+s.State)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		q    store.AlertQuery
		want []string
	}{
		{"all by time", store.AlertQuery{From: 0, To: math.MaxInt64},
			[]string{"api:pending", "web:pending", "api:firing", "web:firing", "api:resolved", "web:resolved"}},
		{"states", store.AlertQuery{From: 0, To: math.MaxInt64, States: []string{store.AlertFiring, store.AlertResolved}},
			[]string{"api:firing", "web:firing", "api:resolved", "web:resolved"}},
		{"service and state", store.AlertQuery{Service: "web", From: 0, To: math.MaxInt64, States: []string{store.AlertResolved}},
			[]string{"web:resolved"}},
		{"range inclusive", store.AlertQuery{From: day1 + 61_000, To: day1 + 601_000}, []string{"api:firing", "web:firing", "api:resolved"}},
		{"limit", store.AlertQuery{From: 0, To: math.MaxInt64, Limit: 1}, []string{"api:pending"}},
		{"empty range", store.AlertQuery{From: 1, To: 0}, []string{}},
		{"unknown service", store.AlertQuery{Service: "db", From: 0, To: math.MaxInt64}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, states(tc.q))
		})
	}

	other, err := c.ReadAlertStates(ctx, store.AlertQuery{Tenant: "other", From: 0, To: math.MaxInt64})
	require.NoError(t, err)
	require.Empty(t, other)
}
