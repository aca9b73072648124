package store

import (
	"context"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// RecordMigrationForTest records a migration as applied without applying
// it, as a newer binary would have.
func (c *Client) RecordMigrationForTest(ctx context.Context, version int) error {
	return c.insert(ctx, "schema_migrations", "version, name, flavour, applied_at", "",
		[]uint32{uint32(version)}, []string{"from the future"}, []string{"modern"}, []time.Time{time.Now()})
}

// LatestMigration is the number of the last migration.
func LatestMigration() int { return latestMigration() }

// RawRollupForTest computes the minute aggregates of tenant's series
// from samples with plain aggregate functions, each sample once: what
// ReadRollup must return.
func (c *Client) RawRollupForTest(ctx context.Context, tenant string) (map[uint64][]RollupPoint, error) {
	out := make(map[uint64][]RollupPoint)
	query := "SELECT fingerprint, intDiv(timestamp, 60000) * 60000 AS minute, min(value), max(value), sum(value), " +
		"count(), argMax(value, timestamp), max(timestamp) FROM (SELECT fingerprint, timestamp, value FROM " +
		c.table("samples") + " WHERE tenant = " + quoteString(tenant) + " AND flags = 0 LIMIT 1 BY fingerprint, timestamp)" +
		" GROUP BY fingerprint, minute ORDER BY fingerprint, minute"
	return out, c.readRollup(ctx, query, out)
}

// Modern reports whether the client uses the modern schema flavour.
func (c *Client) Modern() bool { return c.feat.modern }

// ConnForTest is the client's connection pool, for tests that inspect
// the server (system tables, OPTIMIZE).
func (c *Client) ConnForTest() driver.Conn { return c.conn }

// SetBlockRowsForTest sets the most rows an insert sends in one block.
func (c *Client) SetBlockRowsForTest(n int) { c.blockRows = n }
