package main

import (
	"bytes"
	"context"
	"flag"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/storetest"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func runCLI(t *testing.T, environ map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, env{stdout: &stdout, stderr: &stderr, getenv: func(k string) string { return environ[k] }})
	return code, stdout.String(), stderr.String()
}

func TestEveryFlagHasEnvAndDefaultShown(t *testing.T) {
	_, out, _ := runCLI(t, nil, "serve", "-h")
	for _, want := range []string{
		"-kafka.brokers string", "[CAIRN_KAFKA_BROKERS]",
		"-clickhouse.addr string", `(default "127.0.0.1:9000") [CAIRN_CLICKHOUSE_ADDR]`,
		`-listen string`, `(default "127.0.0.1:9480") [CAIRN_LISTEN]`,
		"[CAIRN_WRITER_FLUSH_INTERVAL]", "[CAIRN_QUERY_TIMEOUT]",
	} {
		require.Contains(t, out, want)
	}
}

func TestParseFlagsEnvironment(t *testing.T) {
	newFS := func() (*flag.FlagSet, *string, *int) {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		return fs, fs.String("kafka.brokers", "", ""), fs.Int("kafka.partitions", 4, "")
	}
	environ := map[string]string{"CAIRN_KAFKA_BROKERS": "k:9092", "CAIRN_KAFKA_PARTITIONS": "8"}
	getenv := func(k string) string { return environ[k] }

	fs, brokers, parts := newFS()
	require.NoError(t, parseFlags(fs, nil, getenv))
	require.Equal(t, "k:9092", *brokers)
	require.Equal(t, 8, *parts)

	fs, brokers, _ = newFS()
	require.NoError(t, parseFlags(fs, []string{"-kafka.brokers=flag:1"}, getenv))
	require.Equal(t, "flag:1", *brokers, "the command line wins over the environment")

	fs, _, _ = newFS()
	environ["CAIRN_KAFKA_PARTITIONS"] = "many"
	require.ErrorContains(t, parseFlags(fs, nil, getenv), "environment variable CAIRN_KAFKA_PARTITIONS")

	fs, _, _ = newFS()
	delete(environ, "CAIRN_KAFKA_PARTITIONS")
	require.ErrorContains(t, parseFlags(fs, []string{"stray"}, getenv), `unexpected argument "stray"`)
}

func TestExitCodes(t *testing.T) {
	code, _, stderr := runCLI(t, nil, "nope")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, `unknown command "nope"`)

	code, _, stderr = runCLI(t, nil, "serve", "-roles", "ingest,cooking")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, `-roles: unknown role "cooking"`)

	code, _, stderr = runCLI(t, nil, "serve", "-no-such-flag")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, "flag provided but not defined: -no-such-flag")

	code, _, stderr = runCLI(t, map[string]string{"CAIRN_LOG_LEVEL": "loud"}, "serve", "-kafka.brokers", "k:1")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, `-log.level: "loud"`)

	code, out, _ := runCLI(t, nil, "version")
	require.Equal(t, 0, code)
	require.Contains(t, out, "cairn dev (revision")
}

// TestMigrateDryRunTargetVersion checks that the dry run prints the
// store's DDL for the named version without connecting (no server is
// given). The DDL itself is golden-tested in store.
func TestMigrateDryRunTargetVersion(t *testing.T) {
	for _, v := range []string{"18.16", "23.8"} {
		t.Run(v, func(t *testing.T) {
			code, out, stderr := runCLI(t, nil, "migrate", "-dry-run", "-target-version", v, "-clickhouse.addr", "192.0.2.1:9000", "-clickhouse.database", "obs")
			require.Equal(t, 0, code, stderr)
			ver, err := store.ParseVersion(v)
			require.NoError(t, err)
			var want strings.Builder
			for _, stmt := range store.DDL(ver, "obs") {
				want.WriteString(strings.TrimSpace(stmt) + ";\n\n")
			}
			require.Equal(t, want.String(), out)
			require.Contains(t, out, "CREATE TABLE IF NOT EXISTS obs.samples")
		})
	}
	code, _, stderr := runCLI(t, nil, "migrate", "-dry-run", "-target-version", "banana")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, "-target-version")
	code, _, stderr = runCLI(t, nil, "migrate", "-target-version", "23.8")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, "-target-version works with -dry-run only")
	for _, args := range [][]string{{"-recompute-rollups-days", "-1"}, {"-recompute-rollups-days", "2", "-dry-run"}} {
		code, _, stderr = runCLI(t, nil, append([]string{"migrate"}, args...)...)
		require.Equal(t, 2, code, "%v", args)
		require.Contains(t, stderr, "-recompute-rollups-days")
	}
}

// TestMigrateRecomputesRollups rebuilds the rollups of days written
// without them, as after migration 7, with `cairn migrate
// -recompute-rollups-days`.
func TestMigrateRecomputesRollups(t *testing.T) {
	cfg := storetest.Config(t)
	ctx := context.Background()
	st := storetest.OpenConfig(t, cfg)
	ls := labels.FromStrings("__name__", "old", "job", "x")
	now := time.Now().UnixMilli()
	var samples []store.Sample
	for i := range int64(10) {
		samples = append(samples, store.Sample{T: now - 86_400_000 - i*30_000, V: float64(i)}, store.Sample{T: now - i*30_000, V: 1})
	}
	require.NoError(t, st.WriteSeries(ctx, []store.Series{{Tenant: "t", Labels: ls, Samples: samples}}, ""))
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{cfg.Addr}})
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.Exec(ctx, "TRUNCATE TABLE "+cfg.Database+".rollups_1m"))
	fp := store.Fingerprint(ls)
	count := func() uint64 {
		rollups, err := st.ReadRollup(ctx, "t", []uint64{fp}, 0, math.MaxInt64)
		require.NoError(t, err)
		var n uint64
		for _, p := range rollups[fp] {
			n += p.Count
		}
		return n
	}
	require.Zero(t, count())

	// Three days: samples of the last five minutes of yesterday and today
	// span three just after midnight.
	code, out, stderr := runCLI(t, nil, "migrate", "-clickhouse.addr", cfg.Addr, "-clickhouse.database", cfg.Database, "-recompute-rollups-days", "3")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, out, "rebuilt from samples")
	require.Equal(t, uint64(20), count())
}
