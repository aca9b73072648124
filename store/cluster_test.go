package store_test

import (
	"context"
	"fmt"
	"math"
	"net"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/storetest"
)

// TestCluster applies the schema in cluster mode to the test cluster (two
// shards of one replica each, deploy/local/cluster.sh), writes every kind
// of data so that it lands on both shards, and checks that every read
// returns the union of both shards, each row once, also after a batch was
// written twice; that rollups, their recomputation and retention work
// across shards. It needs CAIRN_TEST_CLICKHOUSE_CLUSTER and
// CAIRN_TEST_CLICKHOUSE_CLUSTER_NAME.
func TestCluster(t *testing.T) {
	cfg := storetest.ClusterConfig(t)
	c := storetest.OpenConfig(t, cfg)
	require.NoError(t, c.Migrate(t.Context()), "migrating again is a no-op")
	shards := clusterShards(t, c, cfg.Cluster)
	require.GreaterOrEqual(t, len(shards), 2, "the test cluster has two shards")

	t.Run("metrics", func(t *testing.T) { testClusterMetrics(t, c, cfg.Database, shards) })
	t.Run("histograms", func(t *testing.T) { testClusterHistograms(t, c, cfg.Database, shards) })
	t.Run("logs", func(t *testing.T) { testClusterLogs(t, c, cfg.Database, shards) })
	t.Run("builds and alerts", func(t *testing.T) { testClusterBuildsAlerts(t, c) })
	t.Run("retention", func(t *testing.T) { testClusterRetention(t, c, cfg.Database, shards) })
}

func testClusterMetrics(t *testing.T, c *store.Client, db string, shards []driver.Conn) {
	ctx := t.Context()
	var ss []store.Series
	var fps []uint64
	for i := range 16 {
		ls := labels.FromStrings("__name__", "up", "job", "api", "instance", fmt.Sprintf("host-%d", i))
		ss = append(ss, store.Series{Tenant: "t", Labels: ls, Samples: samples(day1, day1+15_000, day1+60_000, day2)})
		fps = append(fps, store.Fingerprint(ls))
	}
	write(t, c, "metrics-1", ss...)
	write(t, c, "metrics-1", ss...) // redelivered

	// Each series lives on one shard, and every shard has some.
	placed := fingerprintsByShard(t, shards, "SELECT DISTINCT fingerprint FROM "+db+".samples_local")
	requirePartition(t, placed, fps)
	require.Equal(t, placed, fingerprintsByShard(t, shards, "SELECT DISTINCT fingerprint FROM "+db+".series_labels_local"),
		"a series' label index rows live on its shard")

	require.Len(t, selectStrings(t, c, "t", day1, day2, eq("__name__", "up")), 16)
	require.Len(t, selectStrings(t, c, "t", day1, day2, eq("job", "api")), 16, "resolved through series_labels on each shard")
	require.Len(t, selectStrings(t, c, "t", day1, day2, re("instance", "host-1.*")), 7)
	got, err := c.ReadSamples(ctx, "t", fps, day1, day2)
	require.NoError(t, err)
	require.Len(t, got, 16)
	for _, fp := range fps {
		require.Equal(t, samples(day1, day1+15_000, day1+60_000, day2), got[fp], "each sample once")
	}
	values, err := c.LabelValues(ctx, "t", "instance", day1, day2)
	require.NoError(t, err)
	require.Len(t, values, 16)
	names, err := c.LabelNames(ctx, "t", day1, day2, eq("job", "api"))
	require.NoError(t, err)
	require.Equal(t, []string{"__name__", "instance", "job"}, names)

	want, err := c.RawRollupForTest(ctx, "t")
	require.NoError(t, err)
	require.Len(t, want, 16)
	rollups, err := c.ReadRollup(ctx, "t", fps, day1, day2)
	require.NoError(t, err)
	require.Equal(t, want, rollups, "kept by each shard's view; the repeated batch was dropped on arrival")
	// Recomputing drops the day on every shard and aggregates it again;
	// twice, so that the second insert repeats the first one's blocks.
	for range 2 {
		require.NoError(t, c.RecomputeRollups(ctx, time.UnixMilli(day1)))
		require.NoError(t, c.RecomputeRollups(ctx, time.UnixMilli(day2)))
		rollups, err := c.ReadRollup(ctx, "t", fps, day1, day2)
		require.NoError(t, err)
		require.Equal(t, want, rollups)
	}
}

func testClusterLogs(t *testing.T, c *store.Client, db string, shards []driver.Conn) {
	ctx := t.Context()
	var es []store.LogEntry
	var fps []uint64
	for i := range 12 {
		stream := labels.FromStrings("app", "api", "pod", fmt.Sprintf("api-%d", i))
		fps = append(fps, store.Fingerprint(stream))
		for j := range 5 {
			es = append(es, store.LogEntry{Tenant: "t", Stream: stream, T: (day1 + int64(j)*1000) * 1e6, Line: fmt.Sprintf("GET /%d status=%d", j, 200+j)})
		}
	}
	writeLogs(t, c, "logs-1", es)
	writeLogs(t, c, "logs-1", es) // redelivered
	placed := fingerprintsByShard(t, shards, "SELECT DISTINCT fingerprint FROM "+db+".log_records_local")
	requirePartition(t, placed, fps)

	refs, err := c.SelectStreams(ctx, "t", day1*1e6, day2*1e6, re("pod", "api-.*"))
	require.NoError(t, err)
	require.Len(t, refs, 12, "resolved through log_labels on each shard")
	q := store.LogQuery{Tenant: "t", Matchers: []*labels.Matcher{eq("app", "api")}, Start: day1 * 1e6, End: day2 * 1e6}
	require.Len(t, lines(t, c, q), 60, "each entry once")
	q.Limit, q.Direction = 7, store.Backward
	require.Len(t, lines(t, c, q), 7)
	q.Limit = 0
	q.LineFilters = []store.LineFilter{{Op: store.LineContains, Value: "status=204"}}
	require.Len(t, lines(t, c, q), 12)
	counts, err := c.CountLogs(ctx, q, 3_600_000_000_000)
	require.NoError(t, err)
	require.Len(t, counts, 12)
	values, err := c.LogLabelValues(ctx, "t", "pod", day1*1e6, day2*1e6)
	require.NoError(t, err)
	require.Len(t, values, 12)
}

func testClusterBuildsAlerts(t *testing.T, c *store.Client) {
	ctx := t.Context()
	var events []store.BuildEvent
	var ids []string
	for i := range 10 {
		id := fmt.Sprintf("gh/%d/1", i)
		ids = append(ids, id)
		events = append(events,
			build(id, "api", store.KindDeploy, store.StatusRunning, day1+int64(i)*60_000, 0),
			build(id, "api", store.KindDeploy, store.StatusSuccess, day1+int64(i)*60_000, day1+int64(i)*60_000+30_000))
	}
	require.NoError(t, c.WriteBuilds(ctx, events, "builds-1"))
	require.NoError(t, c.WriteBuilds(ctx, events, "builds-1"))
	got, err := c.ReadBuilds(ctx, store.BuildQuery{Tenant: "t", From: day1, To: day2})
	require.NoError(t, err)
	require.Len(t, got, 10, "one run each, from whichever shard holds it")
	for _, b := range got {
		require.Equal(t, store.StatusSuccess, b.Status, b.ID)
	}
	slices.Reverse(ids)
	require.Equal(t, ids, buildIDs(t, c, store.BuildQuery{Tenant: "t", From: day1, To: day2}))

	var states []store.AlertState
	for i := range 10 {
		ls := labels.FromStrings("alertname", fmt.Sprintf("A%d", i), "service", "api")
		for k, s := range []string{store.AlertPending, store.AlertFiring, store.AlertResolved} {
			states = append(states, store.AlertState{Tenant: "t", Labels: ls, State: s, T: day1 + int64(i*10+k)*1000})
		}
	}
	require.NoError(t, c.WriteAlertStates(ctx, states, "alerts-1"))
	require.NoError(t, c.WriteAlertStates(ctx, states, "alerts-1"))
	read, err := c.ReadAlertStates(ctx, store.AlertQuery{Tenant: "t", Service: "api", From: day1, To: day2})
	require.NoError(t, err)
	require.Len(t, read, 30)
	require.True(t, slices.IsSortedFunc(read, func(a, b store.AlertState) int { return int(a.T - b.T) }))
}

// testClusterRetention checks that a retention pass finds the expired
// partitions of every shard and drops them on every shard.
func testClusterRetention(t *testing.T, c *store.Client, db string, shards []driver.Conn) {
	ctx := t.Context()
	days := func(n int) model.Duration { return model.Duration(time.Duration(n) * 24 * time.Hour) }
	r := store.NewRetainer(c, store.RetentionConfig{Metrics: days(1), Logs: days(1), Builds: 0, Alerts: 0}, storetest.Logger(t))
	require.NoError(t, r.ApplyTTL(ctx))
	// day2 is kept, day1 is not.
	require.NoError(t, r.Enforce(ctx, time.UnixMilli(day2+day+3_600_000)))
	for i, sh := range shards {
		var n uint64
		require.NoError(t, sh.QueryRow(ctx, "SELECT count() FROM system.parts WHERE active AND database = '"+db+
			"' AND partition_id = '20231114' AND table IN ('samples_local', 'series_local', 'log_records_local')").Scan(&n))
		require.Zero(t, n, "shard %d keeps day1's partitions", i+1)
	}
	got, err := c.ReadSamples(ctx, "t", nil, 0, math.MaxInt64)
	require.NoError(t, err)
	require.Empty(t, got)
	refs, err := c.SelectSeries(ctx, "t", day1, day2, eq("__name__", "up"))
	require.NoError(t, err)
	require.Len(t, refs, 16, "day2's series rows stay")
	for _, ref := range refs {
		s, err := c.ReadSamples(ctx, "t", []uint64{ref.Fingerprint}, 0, math.MaxInt64)
		require.NoError(t, err)
		require.Equal(t, []store.Sample{{T: day2, V: 4}}, s[ref.Fingerprint])
	}
}

// clusterShards connects to one server of every shard of the cluster, as
// the cluster's definition on the client's server names them.
func clusterShards(t *testing.T, c *store.Client, cluster string) []driver.Conn {
	rows, err := c.ConnForTest().Query(t.Context(), "SELECT host_address, port FROM system.clusters WHERE cluster = '"+cluster+
		"' AND replica_num = 1 ORDER BY shard_num")
	require.NoError(t, err)
	defer rows.Close()
	var out []driver.Conn
	for rows.Next() {
		var host string
		var port uint16
		require.NoError(t, rows.Scan(&host, &port))
		conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{net.JoinHostPort(host, strconv.Itoa(int(port)))}, DialTimeout: 5 * time.Second})
		require.NoError(t, err)
		t.Cleanup(func() { _ = conn.Close() })
		out = append(out, conn)
	}
	require.NoError(t, rows.Err())
	return out
}

// fingerprintsByShard runs query, which selects fingerprints from local
// tables, on every shard.
func fingerprintsByShard(t *testing.T, shards []driver.Conn, query string) [][]uint64 {
	out := make([][]uint64, len(shards))
	for i, sh := range shards {
		rows, err := sh.Query(context.Background(), query+" ORDER BY fingerprint")
		require.NoError(t, err)
		for rows.Next() {
			var fp uint64
			require.NoError(t, rows.Scan(&fp))
			out[i] = append(out[i], fp)
		}
		require.NoError(t, rows.Err())
		rows.Close()
	}
	return out
}

// requirePartition checks that every shard holds some of fps and that
// each of fps is on exactly one shard.
func requirePartition(t *testing.T, placed [][]uint64, fps []uint64) {
	t.Helper()
	var all []uint64
	for i, p := range placed {
		require.NotEmpty(t, p, "shard %d holds none of the series", i+1)
		all = append(all, p...)
	}
	slices.Sort(all)
	want := slices.Clone(fps)
	slices.Sort(want)
	require.Equal(t, want, all, "every series on exactly one shard")
}
