package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrSchemaTooNew means the database was migrated by a newer Cairn than
// this binary: it must not write to tables it does not know.
var ErrSchemaTooNew = errors.New("schema is newer than this binary")

// migration is one numbered, append-only step of the schema. Statements
// must be idempotent (IF NOT EXISTS, IF EXISTS): a crash between applying
// them and recording the migration re-runs them. Never edit a released
// migration; add a new one.
type migration struct {
	version int
	name    string
	ddl     func(f features, db string) []string
}

// migrations lists every migration in order; versions are 1, 2, 3, …
func migrations() []migration {
	return []migration{
		{version: 1, name: "metrics", ddl: metricsDDL},
		{version: 2, name: "logs", ddl: logsDDL},
		{version: 3, name: "builds", ddl: buildsDDL},
		{version: 4, name: "alerts", ddl: alertsDDL},
		{version: 5, name: "rollups", ddl: rollupsDDL},
	}
}

// latestMigration is the number of the last migration this binary knows.
func latestMigration() int {
	ms := migrations()
	return ms[len(ms)-1].version
}

// DDL returns every statement that creates database and the schema of the
// latest migration, in order, for a server of version v: what Open and
// Migrate would run against an empty server. It needs no connection, so
// `cairn migrate -dry-run` can print it for any target version.
func DDL(v Version, database string) []string {
	f := featuresOf(v)
	db := quoteIdent(database)
	stmts := []string{createDatabase(db), schemaMigrationsDDL(db)}
	for _, m := range migrations() {
		stmts = append(stmts, m.ddl(f, db)...)
	}
	return stmts
}

func createDatabase(db string) string {
	return "CREATE DATABASE IF NOT EXISTS " + db
}

func schemaMigrationsDDL(db string) string {
	return `CREATE TABLE IF NOT EXISTS ` + db + `.schema_migrations
(
    version    UInt32,
    name       String,
    flavour    String,
    applied_at DateTime
)
ENGINE = MergeTree
ORDER BY version`
}

// lowCard wraps a column type in LowCardinality on modern servers, where it
// is no longer experimental.
func (f features) lowCard(typ string) string {
	if f.modern {
		return "LowCardinality(" + typ + ")"
	}
	return typ
}

// codec is a column's compression clause on modern servers; 18.16 knows
// no codecs and uses LZ4 for everything.
func (f features) codec(c string) string {
	if f.modern {
		return " CODEC(" + c + ")"
	}
	return ""
}

// tableSettings ends a MergeTree definition. Modern servers remember the
// last inserts' deduplication tokens (insert_deduplication_token) even on
// non-replicated tables.
func (f features) tableSettings() string {
	s := "SETTINGS index_granularity = 8192"
	if f.modern {
		s += ", non_replicated_deduplication_window = 1000"
	}
	return s
}

// bulkTableSettings ends the definition of samples and samples_1m. On
// modern servers their compressed blocks hold at least 256 KiB of
// uncompressed data (four granules of an 8-byte column) instead of 64 KiB:
// ZSTD then sees the timestamps of neighbouring series, which mostly
// repeat, and a day of samples takes ~6% less (docs/benchmarks.md), while
// a read of one granule decompresses at most four. Log lines gain nothing
// from it: a granule of them already fills the largest block.
func (f features) bulkTableSettings() string {
	if f.modern {
		return f.tableSettings() + ", min_compress_block_size = 262144"
	}
	return f.tableSettings()
}

// metricsDDL creates the three metrics tables; doc.go explains them.
// Sample values use Delta+ZSTD rather than Gorilla+ZSTD: on node_exporter
// data (TestFootprint) Gorilla's XOR leaves ZSTD little to find in counters
// of ticks or bytes, whose increments repeat, and takes 2.36 bytes per
// value where Delta takes 1.82. ZSTD(3), not (1), because level 1 does
// badly on runs (a constant tenant column: 0.26 bytes per row, against
// 0.003 at level 3).
// samples.tenant stays a plain String on modern servers too: sorted first,
// it compresses to almost nothing anyway, and the driver appends
// LowCardinality columns row by row through reflection, which the hot
// path should not pay.
func metricsDDL(f features, db string) []string {
	samples := `CREATE TABLE IF NOT EXISTS ` + db + `.samples
(
    tenant      String` + f.codec("ZSTD(3)") + `,
    fingerprint UInt64` + f.codec("Delta, ZSTD(3)") + `,
    timestamp   Int64` + f.codec("DoubleDelta, ZSTD(3)") + `,
    value       Float64` + f.codec("Delta, ZSTD(3)") + `,
    flags       UInt8` + f.codec("ZSTD(3)") + `
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(intDiv(timestamp, 86400000))
ORDER BY (tenant, fingerprint, timestamp)
` + f.bulkTableSettings()

	series := `CREATE TABLE IF NOT EXISTS ` + db + `.series
(
    tenant       ` + f.lowCard("String") + `,
    date         Date,
    fingerprint  UInt64,
    metric_name  ` + f.lowCard("String") + `,
    label_names  Array(` + f.lowCard("String") + `),
    label_values Array(String)` + f.codec("ZSTD(3)") + `
)
ENGINE = ReplacingMergeTree
PARTITION BY date
ORDER BY (tenant, metric_name, fingerprint, date)
` + f.tableSettings()

	return []string{samples, series, labelIndexDDL(f, db, "series_labels")}
}

// Migrate brings the database's schema up to the latest migration this
// binary knows, recording each applied one in schema_migrations. Running
// it again is a no-op. A database migrated further than this binary knows
// is an error wrapping ErrSchemaTooNew.
func (c *Client) Migrate(ctx context.Context) error {
	if err := c.exec(ctx, schemaMigrationsDDL(c.db)); err != nil {
		return fmt.Errorf("migrate %s: %w", c.db, err)
	}
	current, err := c.SchemaVersion(ctx)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", c.db, err)
	}
	ms := migrations()
	if latest := latestMigration(); current > latest {
		return fmt.Errorf("migrate %s: database records migration %d, this binary knows migrations up to %d; upgrade Cairn: %w",
			c.db, current, latest, ErrSchemaTooNew)
	}
	for _, m := range ms {
		if m.version <= current {
			continue
		}
		if err := c.apply(ctx, m); err != nil {
			return fmt.Errorf("migrate %s: %w", c.db, err)
		}
	}
	return nil
}

func (c *Client) apply(ctx context.Context, m migration) error {
	start := time.Now()
	for _, stmt := range m.ddl(c.feat, c.db) {
		if err := c.exec(ctx, stmt); err != nil {
			return fmt.Errorf("apply migration %d (%s): %w", m.version, m.name, err)
		}
	}
	// Through a batch: 18.16 waits for data blocks after an INSERT even
	// when the statement has its VALUES inline.
	if err := c.insert(ctx, "schema_migrations", "version, name, flavour, applied_at", "",
		[]uint32{uint32(m.version)}, []string{m.name}, []string{c.feat.flavour()}, []time.Time{time.Now()}); err != nil {
		return fmt.Errorf("record migration %d (%s): %w", m.version, m.name, err)
	}
	c.logger.Info("applied migration", "version", m.version, "name", m.name,
		"flavour", c.feat.flavour(), "duration", time.Since(start))
	return nil
}

// SchemaVersion is the highest migration recorded in the database, 0 for
// none.
func (c *Client) SchemaVersion(ctx context.Context) (int, error) {
	var v uint32
	row := c.conn.QueryRow(ctx, "SELECT max(version) FROM "+c.table("schema_migrations"))
	if err := row.Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return int(v), nil
}
