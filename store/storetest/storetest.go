package storetest

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/cairn-dev/cairn/store"
)

// EnvAddr is the environment variable naming the test server.
const EnvAddr = "CAIRN_TEST_CLICKHOUSE"

// EnvClusterAddr names one server (host:port) of a test cluster of
// several shards, and EnvCluster the cluster's name in the servers'
// remote_servers, for cluster-mode tests; deploy/local/up.sh sets both.
const (
	EnvClusterAddr = "CAIRN_TEST_CLICKHOUSE_CLUSTER"
	EnvCluster     = "CAIRN_TEST_CLICKHOUSE_CLUSTER_NAME"
)

// Addr returns the test server's address, skipping t when none is set or
// under -short, which promises a run without servers.
func Addr(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test; skipped with -short")
	}
	addr := os.Getenv(EnvAddr)
	if addr == "" {
		t.Skip(EnvAddr + " not set; run make test")
	}
	return addr
}

// Config returns the configuration of a new database on the test server
// with a random name, and drops that database when t ends. The database
// itself is created by store.Open.
func Config(t testing.TB) store.Config {
	t.Helper()
	cfg := store.Config{
		Addr:            Addr(t),
		Database:        fmt.Sprintf("cairn_test_%016x", rand.Uint64()),
		User:            "default",
		DialTimeout:     5 * time.Second,
		MaxOpenConns:    4,
		Compression:     "lz4",
		SeriesCacheSize: 10_000,
	}
	t.Cleanup(func() { drop(t, cfg) })
	return cfg
}

// ClusterConfig returns the configuration of a new database with a
// random name in cluster mode on the test cluster, and drops that
// database on every server when t ends. It skips t when the cluster is
// not set, or under -short.
func ClusterConfig(t testing.TB) store.Config {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test; skipped with -short")
	}
	addr, cluster := os.Getenv(EnvClusterAddr), os.Getenv(EnvCluster)
	if addr == "" || cluster == "" {
		t.Skip(EnvClusterAddr + " and " + EnvCluster + " not set; run make test")
	}
	cfg := store.Config{
		Addr:            addr,
		Database:        fmt.Sprintf("cairn_test_%016x", rand.Uint64()),
		User:            "default",
		DialTimeout:     5 * time.Second,
		MaxOpenConns:    4,
		Compression:     "lz4",
		SeriesCacheSize: 10_000,
		Cluster:         cluster,
	}
	t.Cleanup(func() { drop(t, cfg) })
	return cfg
}

// OpenTest returns a client of a new, migrated database on the test
// server; the client is closed and the database dropped when t ends.
func OpenTest(t testing.TB) *store.Client {
	t.Helper()
	return OpenConfig(t, Config(t))
}

// OpenConfig opens and migrates the database of cfg, closing the client
// when t ends. Use it for a second client of a Config's database.
func OpenConfig(t testing.TB, cfg store.Config) *store.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := store.Open(ctx, cfg, Logger(t))
	if err != nil {
		t.Fatalf("%s=%s is set but the server is unusable: %v", EnvAddr, cfg.Addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Migrate(ctx); err != nil {
		t.Fatalf("migrate test database: %v", err)
	}
	return c
}

// Logger logs to the test's output.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func drop(t testing.TB, cfg store.Config) {
	conn, err := clickhouse.Open(&clickhouse.Options{
		Addr:        []string{cfg.Addr},
		Auth:        clickhouse.Auth{Username: cfg.User, Password: cfg.Password},
		DialTimeout: cfg.DialTimeout,
	})
	if err != nil {
		t.Errorf("drop test database %s: %v", cfg.Database, err)
		return
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	stmt := "DROP DATABASE IF EXISTS " + cfg.Database
	if cfg.Cluster != "" {
		stmt += " ON CLUSTER " + cfg.Cluster
	}
	if err := conn.Exec(ctx, stmt); err != nil {
		t.Errorf("drop test database %s: %v", cfg.Database, err)
	}
}
