package store

import (
	"flag"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestConfigDefaults(t *testing.T) {
	var c Config
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	c.RegisterFlags(fs)
	require.NoError(t, fs.Parse(nil))
	require.Equal(t, Config{
		Addr:            "127.0.0.1:9000",
		Database:        "cairn",
		User:            "default",
		DialTimeout:     5 * time.Second,
		MaxOpenConns:    16,
		Compression:     true,
		SeriesCacheSize: 1_000_000,
	}, c)
	require.NoError(t, c.Validate())

	require.NoError(t, fs.Parse([]string{"-clickhouse.addr", "a:1, b:2", "-clickhouse.database", "obs_1"}))
	require.Equal(t, []string{"a:1", "b:2"}, c.addrs())
	require.NoError(t, c.Validate())
}

func TestConfigValidate(t *testing.T) {
	valid := func() Config {
		return Config{Addr: "127.0.0.1:9000", Database: "cairn", DialTimeout: time.Second, MaxOpenConns: 1}
	}
	for _, tc := range []struct {
		name    string
		mutate  func(*Config)
		wantErr string
	}{
		{"empty addr", func(c *Config) { c.Addr = " , " }, "-clickhouse.addr is empty"},
		{"no port", func(c *Config) { c.Addr = "localhost" }, `-clickhouse.addr "localhost"`},
		{"database with a dash", func(c *Config) { c.Database = "my-db" }, `-clickhouse.database "my-db"`},
		{"database with a quote", func(c *Config) { c.Database = "a`b" }, "-clickhouse.database"},
		{"empty database", func(c *Config) { c.Database = "" }, "-clickhouse.database"},
		{"dial timeout", func(c *Config) { c.DialTimeout = 0 }, "-clickhouse.dial-timeout 0s: must be positive"},
		{"connections", func(c *Config) { c.MaxOpenConns = 0 }, "-clickhouse.max-open-conns 0"},
		{"cache", func(c *Config) { c.SeriesCacheSize = -1 }, "-clickhouse.series-cache-size -1"},
		{"cluster with a quote", func(c *Config) { c.Cluster = "a'b" }, `-clickhouse.cluster "a'b"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := valid()
			tc.mutate(&c)
			require.ErrorContains(t, c.Validate(), tc.wantErr)
		})
	}
}
