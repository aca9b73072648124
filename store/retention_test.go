package store

import (
	"flag"
	"io"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

func TestRetentionConfig(t *testing.T) {
	var c RetentionConfig
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.RegisterFlags(fs)
	require.NoError(t, fs.Parse(nil))
	day := model.Duration(24 * time.Hour)
	require.Equal(t, RetentionConfig{Metrics: 90 * day, Logs: 30 * day, Builds: 365 * day, Alerts: 365 * day}, c)
	require.NoError(t, c.Validate())

	require.NoError(t, fs.Parse([]string{"-retention.metrics", "1y", "-retention.logs", "2w", "-retention.alerts", "0"}))
	require.Equal(t, 365*day, c.Metrics)
	require.Equal(t, 14*day, c.Logs)
	require.Equal(t, model.Duration(0), c.Alerts)
	require.NoError(t, c.Validate())

	require.Error(t, fs.Parse([]string{"-retention.builds", "soon"}))
	require.NoError(t, fs.Parse([]string{"-retention.builds", "36h", "-retention.logs", "90m"}))
	err := c.Validate()
	require.ErrorContains(t, err, "-retention.builds 1d12h: want 0 or a whole number of days")
	require.ErrorContains(t, err, "-retention.logs 1h30m")
}

func TestRetentionKindsCoverSchema(t *testing.T) {
	var c RetentionConfig
	tables := map[string]bool{}
	for _, k := range c.kinds() {
		for _, tb := range k.tables {
			require.False(t, tables[tb.name], "%s in two kinds", tb.name)
			tables[tb.name] = true
		}
	}
	schema := map[string]bool{} // the tables the migrations leave
	for _, m := range migrations() {
		for _, stmt := range m.ddl(newSchema(features{modern: true}, "db", "")) {
			if name, ok := createdTable(stmt); ok {
				schema[name] = true
			}
			if name, ok := droppedTable(stmt); ok {
				delete(schema, name)
			}
		}
	}
	for name := range schema {
		require.True(t, tables[name], "table %s has no retention kind", name)
	}
	for name := range tables {
		require.True(t, schema[name], "retention kind of table %s, which the schema does not have", name)
	}
}

func TestPartitionDay(t *testing.T) {
	d, ok := partitionDay("20231114")
	require.True(t, ok)
	require.Equal(t, int64(19675), d)
	d, ok = partitionDay("19700101")
	require.True(t, ok)
	require.Zero(t, d)
	_, ok = partitionDay("all")
	require.False(t, ok, "an unpartitioned table's partition")
}

func TestTTLChanges(t *testing.T) {
	const (
		noTTL   = "ReplacingMergeTree PARTITION BY date ORDER BY (tenant, fingerprint, date) SETTINGS index_granularity = 8192, non_replicated_deduplication_window = 1000"
		withTTL = "ReplacingMergeTree PARTITION BY date ORDER BY (tenant, fingerprint, date) TTL date + toIntervalDay(31) SETTINGS index_granularity = 8192, non_replicated_deduplication_window = 1000, ttl_only_drop_parts = 1"
	)
	series := dayTable{"series", "date"}
	require.Equal(t, "date + toIntervalDay(31)", ttlExpr(series, 30))
	require.Equal(t, "toDate(intDiv(timestamp, 86400000)) + toIntervalDay(2)", ttlExpr(dayTable{"samples", "toDate(intDiv(timestamp, 86400000))"}, 1))
	require.Equal(t, "", ttlExpr(series, 0))

	require.Equal(t, []string{
		"ALTER TABLE db.series MODIFY SETTING ttl_only_drop_parts = 1",
		"ALTER TABLE db.series MODIFY TTL date + toIntervalDay(31)",
	}, ttlChanges("db.series", noTTL, ttlExpr(series, 30)))
	require.Empty(t, ttlChanges("db.series", withTTL, ttlExpr(series, 30)), "unchanged")
	require.Equal(t, []string{"ALTER TABLE db.series MODIFY TTL date + toIntervalDay(8)"},
		ttlChanges("db.series", withTTL, ttlExpr(series, 7)))
	require.Equal(t, []string{"ALTER TABLE db.series REMOVE TTL"}, ttlChanges("db.series", withTTL, ""))
	require.Empty(t, ttlChanges("db.series", noTTL, ""))
}
