package store

import (
	"flag"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
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
		Compression:     "auto",
		SeriesCacheSize: 1_000_000,
	}, c)
	require.NoError(t, c.Validate())

	require.NoError(t, fs.Parse([]string{"-clickhouse.addr", "a:1, b:2", "-clickhouse.database", "obs_1"}))
	require.Equal(t, []string{"a:1", "b:2"}, c.addrs())
	require.NoError(t, c.Validate())
}

func TestConfigValidate(t *testing.T) {
	valid := func() Config {
		return Config{Addr: "127.0.0.1:9000", Database: "cairn", DialTimeout: time.Second, MaxOpenConns: 1, Compression: "auto"}
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
		{"compression", func(c *Config) { c.Compression = "gzip" }, `-clickhouse.compression "gzip": want auto, lz4, zstd or none`},
		{"cluster with a quote", func(c *Config) { c.Cluster = "a'b" }, `-clickhouse.cluster "a'b"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := valid()
			tc.mutate(&c)
			require.ErrorContains(t, c.Validate(), tc.wantErr)
		})
	}
}

func TestConfigCompression(t *testing.T) {
	lz4 := &clickhouse.Compression{Method: clickhouse.CompressionLZ4}
	for _, tc := range []struct {
		compression, addr string
		want              *clickhouse.Compression
	}{
		{"auto", "127.0.0.1:9000", nil},
		{"auto", "localhost:9000, [::1]:9000, 127.0.0.2:9000", nil},
		{"auto", "127.0.0.1:9000,clickhouse:9000", lz4},
		{"auto", "10.0.0.5:9000", lz4},
		{"lz4", "127.0.0.1:9000", lz4},
		{"zstd", "127.0.0.1:9000", &clickhouse.Compression{Method: clickhouse.CompressionZSTD}},
		{"none", "10.0.0.5:9000", nil},
		{"true", "127.0.0.1:9000", lz4},
		{"1", "127.0.0.1:9000", lz4},
		{"false", "10.0.0.5:9000", nil},
		{"", "10.0.0.5:9000", lz4},
		{"", "127.0.0.1:9000", nil},
	} {
		c := Config{Addr: tc.addr, Compression: tc.compression}
		got, err := c.compression()
		require.NoError(t, err, tc)
		require.Equal(t, tc.want, got, tc)
	}
}
