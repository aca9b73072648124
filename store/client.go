package store

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Client reads and writes Cairn's tables in one ClickHouse database. It is
// safe for concurrent use; it starts no goroutines of its own.
type Client struct {
	conn    driver.Conn
	db      string // validated identifier, safe in SQL as is
	version Version
	feat    features
	cluster string       // Config.Cluster
	cache   *seriesCache // (tenant, series, day) in the series tables
	streams *seriesCache // (tenant, stream, day) in the log stream tables
	batches batchPool
	// blockRows is the most rows an insert sends in one block of the
	// native protocol (insertBlockRows; insert).
	blockRows int
	logger    *slog.Logger
}

// Open connects to ClickHouse, creates cfg.Database when it is missing and
// detects the server's version. It does not migrate: call Migrate.
func Open(ctx context.Context, cfg Config, logger *slog.Logger) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	compression, err := cfg.compression()
	if err != nil {
		return nil, err
	}
	opts := &clickhouse.Options{
		Addr: cfg.addrs(),
		// No database here: it may not exist yet, and every query names
		// its tables in full.
		Auth:         clickhouse.Auth{Username: cfg.User, Password: cfg.Password},
		DialTimeout:  cfg.DialTimeout,
		MaxOpenConns: cfg.MaxOpenConns,
		MaxIdleConns: cfg.MaxOpenConns,
		Compression:  compression,
	}
	conn, err := clickhouse.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("open ClickHouse %s: %w", cfg.Addr, err)
	}
	c := &Client{
		conn:      retryConn{conn},
		db:        cfg.Database,
		cluster:   cfg.Cluster,
		cache:     newSeriesCache(cfg.SeriesCacheSize),
		streams:   newSeriesCache(cfg.SeriesCacheSize),
		blockRows: insertBlockRows,
		logger:    logger.With("component", "store"),
	}
	if err := c.init(ctx); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("open ClickHouse %s: %w", cfg.Addr, err)
	}
	c.logger.Info("connected to ClickHouse", "addr", cfg.Addr, "database", c.db, "cluster", c.cluster,
		"server_version", c.version.String(), "schema_flavour", c.feat.flavour())
	return c, nil
}

func (c *Client) init(ctx context.Context) error {
	if err := c.conn.Ping(ctx); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	sv, err := c.conn.ServerVersion()
	if err != nil {
		return fmt.Errorf("read server version: %w", err)
	}
	c.version = Version{Major: int(sv.Version.Major), Minor: int(sv.Version.Minor), Patch: int(sv.Version.Patch)}
	c.feat = featuresOf(c.version)
	return c.ensureDatabase(ctx)
}

// ensureDatabase creates the database unless it exists. It looks first,
// so that a user allowed to use the database but not to create databases
// can still open it. In cluster mode it creates it on every server (ON
// CLUSTER) when this one lacks it.
func (c *Client) ensureDatabase(ctx context.Context) error {
	var n uint64
	if err := c.conn.QueryRow(ctx, "SELECT count() FROM system.databases WHERE name = "+quoteString(c.db)).Scan(&n); err != nil {
		return fmt.Errorf("look up database %s: %w", c.db, err)
	}
	if n > 0 {
		return nil
	}
	if err := c.exec(ctx, createDatabase(c.schema())); err != nil {
		return err
	}
	c.logger.Info("created database", "database", c.db)
	return nil
}

// Close closes the connection pool.
func (c *Client) Close() error {
	if err := c.conn.Close(); err != nil {
		return fmt.Errorf("close ClickHouse connections: %w", err)
	}
	return nil
}

// Ping checks that a server answers.
func (c *Client) Ping(ctx context.Context) error {
	if err := c.conn.Ping(ctx); err != nil {
		return fmt.Errorf("ping ClickHouse: %w", err)
	}
	return nil
}

// ServerVersion is the version of the server Open connected to.
func (c *Client) ServerVersion() Version { return c.version }

// Database is the database the client works in.
func (c *Client) Database() string { return c.db }

// table is the fully qualified name of one of Cairn's tables.
func (c *Client) table(name string) string { return c.db + "." + name }

func (c *Client) exec(ctx context.Context, query string) error {
	if err := c.conn.Exec(ctx, query); err != nil {
		return fmt.Errorf("exec %s: %w", abbreviate(query), err)
	}
	return nil
}

// abbreviate shortens SQL for error messages.
func abbreviate(query string) string {
	const max = 120
	if len(query) <= max {
		return query
	}
	return query[:max] + "…"
}
