package query

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store/storetest"
)

// TestBuildsAPIStore writes the builds fixture and its alert history
// through the real store and checks that /api/v1/builds and
// /api/v1/dora answer over ClickHouse as they do over memBuilds.
func TestBuildsAPIStore(t *testing.T) {
	client := storetest.OpenTest(t)
	ctx := context.Background()
	fx := buildsFixture()
	require.NoError(t, client.WriteBuilds(ctx, fx.builds, "builds-api-test"))
	require.NoError(t, client.WriteAlertStates(ctx, fx.alerts, "builds-api-test"))
	store, mem := buildsServer(t, client), buildsServer(t, buildsFixture())
	for _, path := range []string{
		"/api/v1/builds",
		"/api/v1/builds?kind=deploy&status=success",
		"/api/v1/builds?kind=build&limit=2",
		"/api/v1/builds?environment=production&from=2026-11-18T00:00:00Z&to=1795046400",
		"/api/v1/dora?service=checkout",
		"/api/v1/dora?service=checkout&environment=production&change_failure_window=12h",
		"/api/v1/dora?service=payments",
	} {
		t.Run(path, func(t *testing.T) {
			code, got := getJSON(t, store, path)
			require.Equal(t, 200, code, got)
			_, want := getJSON(t, mem, path)
			g, err := json.Marshal(got)
			require.NoError(t, err)
			w, err := json.Marshal(want)
			require.NoError(t, err)
			require.JSONEq(t, string(w), string(g))
		})
	}
	// Another tenant's view is empty.
	code, got := getJSON(t, store, "/api/v1/builds", "X-Scope-OrgID", "team-a")
	require.Equal(t, 200, code)
	require.Equal(t, []any{}, got["data"])
}
