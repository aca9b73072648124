package store

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// Config says how to reach ClickHouse and how the store uses it.
type Config struct {
	// Addr is one or more comma-separated host:port native-protocol
	// addresses of equivalent servers; connections go to the first that
	// answers.
	Addr     string
	Database string // created by Open when missing
	User     string
	Password string

	DialTimeout  time.Duration // per connection attempt
	MaxOpenConns int           // connections the pool may hold open at once
	// Compression of inserts and results on the wire: auto (or empty),
	// lz4, zstd or none, and a boolean as when the flag was one (true:
	// lz4). auto is none when every address is a loopback one, where
	// compressing only costs both ends CPU, and lz4 otherwise.
	Compression string

	// SeriesCacheSize bounds the writer's memory of (tenant, series, day)
	// triples already in the series tables, and separately of (tenant,
	// stream, day) triples in the log stream tables. A miss costs a few
	// redundant rows, never correctness.
	SeriesCacheSize int

	// Cluster names a cluster of the servers' remote_servers for cluster
	// mode: DDL runs ON CLUSTER, tables are Replicated and sharded by
	// fingerprint under Distributed tables, through which the store reads
	// and writes. "" for a single server. See doc.go ("Cluster mode").
	Cluster string
}

// RegisterFlags registers the -clickhouse.* flags on fs, with defaults.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "clickhouse.addr", "127.0.0.1:9000", "ClickHouse native protocol address host:port; several, comma-separated, for failover")
	fs.StringVar(&c.Database, "clickhouse.database", "cairn", "ClickHouse database holding Cairn's tables; created when missing")
	fs.StringVar(&c.User, "clickhouse.user", "default", "ClickHouse user")
	fs.StringVar(&c.Password, "clickhouse.password", "", "ClickHouse password")
	fs.DurationVar(&c.DialTimeout, "clickhouse.dial-timeout", 5*time.Second, "timeout for opening one ClickHouse connection")
	fs.IntVar(&c.MaxOpenConns, "clickhouse.max-open-conns", 16, "maximum open ClickHouse connections")
	fs.StringVar(&c.Compression, "clickhouse.compression", "auto", "compression of ClickHouse traffic: lz4, zstd, none, or auto: none when every -clickhouse.addr is a loopback address (compressing costs both ends CPU and saves nothing there), lz4 otherwise")
	fs.IntVar(&c.SeriesCacheSize, "clickhouse.series-cache-size", 1_000_000, "series-days the writer remembers as already indexed; 0 disables the cache")
	fs.StringVar(&c.Cluster, "clickhouse.cluster", "", "ClickHouse cluster (remote_servers) to spread the schema over: ON CLUSTER DDL, Replicated tables sharded by series under Distributed tables; empty for one server")
}

// databaseName is what Validate accepts as a database name: a plain
// identifier, so it never needs quoting in SQL.
var databaseName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

// Validate checks c for mistakes that would otherwise surface only when
// connecting.
func (c *Config) Validate() error {
	var errs []error
	addrs := c.addrs()
	if len(addrs) == 0 {
		errs = append(errs, errors.New("-clickhouse.addr is empty"))
	}
	for _, a := range addrs {
		if _, _, err := net.SplitHostPort(a); err != nil {
			errs = append(errs, fmt.Errorf("-clickhouse.addr %q: %w", a, err))
		}
	}
	if !databaseName.MatchString(c.Database) {
		errs = append(errs, fmt.Errorf("-clickhouse.database %q: want letters, digits and underscores, not starting with a digit, at most 64", c.Database))
	}
	if c.DialTimeout <= 0 {
		errs = append(errs, fmt.Errorf("-clickhouse.dial-timeout %s: must be positive", c.DialTimeout))
	}
	if c.MaxOpenConns <= 0 {
		errs = append(errs, fmt.Errorf("-clickhouse.max-open-conns %d: must be positive", c.MaxOpenConns))
	}
	if c.Cluster != "" && !databaseName.MatchString(c.Cluster) {
		errs = append(errs, fmt.Errorf("-clickhouse.cluster %q: want letters, digits and underscores, not starting with a digit, at most 64", c.Cluster))
	}
	if _, err := c.compression(); err != nil {
		errs = append(errs, err)
	}
	if c.SeriesCacheSize < 0 {
		errs = append(errs, fmt.Errorf("-clickhouse.series-cache-size %d: must not be negative", c.SeriesCacheSize))
	}
	return errors.Join(errs...)
}

// compression returns the driver's compression for c.Compression, nil for
// none.
func (c *Config) compression() (*clickhouse.Compression, error) {
	name := c.Compression
	if on, err := strconv.ParseBool(name); err == nil {
		// The flag was a boolean once: true was LZ4.
		name = map[bool]string{true: "lz4", false: "none"}[on]
	}
	switch name {
	case "auto", "":
		for _, a := range c.addrs() {
			if !loopback(a) {
				return &clickhouse.Compression{Method: clickhouse.CompressionLZ4}, nil
			}
		}
		return nil, nil
	case "lz4":
		return &clickhouse.Compression{Method: clickhouse.CompressionLZ4}, nil
	case "zstd":
		return &clickhouse.Compression{Method: clickhouse.CompressionZSTD}, nil
	case "none":
		return nil, nil
	}
	return nil, fmt.Errorf("-clickhouse.compression %q: want auto, lz4, zstd or none", c.Compression)
}

// loopback reports whether addr (host:port) names this machine's
// loopback interface: "localhost" or a loopback IP. Other names are not
// resolved, so they count as remote.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (c *Config) addrs() []string {
	var out []string
	for a := range strings.SplitSeq(c.Addr, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}
