package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
	ddl     func(s schema) []string
}

// migrations lists every migration in order; versions are 1, 2, 3, …
func migrations() []migration {
	return []migration{
		{version: 1, name: "metrics", ddl: metricsDDL},
		{version: 2, name: "logs", ddl: logsDDL},
		{version: 3, name: "builds", ddl: buildsDDL},
		{version: 4, name: "alerts", ddl: alertsDDL},
		{version: 5, name: "rollups", ddl: rollupsDDL},
		{version: 6, name: "histograms", ddl: histogramsDDL},
		{version: 7, name: "rollup rows", ddl: rollupRowsDDL},
	}
}

// latestMigration is the number of the last migration this binary knows.
func latestMigration() int {
	ms := migrations()
	return ms[len(ms)-1].version
}

// DDL returns every statement that creates database and the schema of the
// latest migration, in order, for a single server of version v: what Open
// and Migrate would run against an empty server. It needs no connection,
// so `cairn migrate -dry-run` can print it for any target version.
// Config.DDL also covers cluster mode.
func DDL(v Version, database string) []string {
	return schemaDDL(newSchema(featuresOf(v), database, ""))
}

// DDL returns what DDL(v, c.Database) returns, for c.Cluster's servers in
// cluster mode.
func (c *Config) DDL(v Version) []string {
	return schemaDDL(newSchema(featuresOf(v), c.Database, c.Cluster))
}

func schemaDDL(s schema) []string {
	stmts := append([]string{createDatabase(s)}, schemaMigrationsDDL(s)...)
	for _, m := range migrations() {
		stmts = append(stmts, m.ddl(s)...)
	}
	return stmts
}

func createDatabase(s schema) string {
	return "CREATE DATABASE IF NOT EXISTS " + s.db + s.onCluster()
}

func schemaMigrationsDDL(s schema) []string {
	return s.createTable("schema_migrations", `(
    version    UInt32,
    name       String,
    flavour    String,
    applied_at DateTime
)`, "MergeTree", "", "ORDER BY version", "version")
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
func metricsDDL(s schema) []string {
	samples := s.createTable("samples", `(
    tenant      String`+s.codec("ZSTD(3)")+`,
    fingerprint UInt64`+s.codec("Delta, ZSTD(3)")+`,
    timestamp   Int64`+s.codec("DoubleDelta, ZSTD(3)")+`,
    value       Float64`+s.codec("Delta, ZSTD(3)")+`,
    flags       UInt8`+s.codec("ZSTD(3)")+`
)`, "ReplacingMergeTree", "", `PARTITION BY toDate(intDiv(timestamp, 86400000))
ORDER BY (tenant, fingerprint, timestamp)
`+s.bulkTableSettings(), "fingerprint")

	series := s.createTable("series", `(
    tenant       `+s.lowCard("String")+`,
    date         Date,
    fingerprint  UInt64,
    metric_name  `+s.lowCard("String")+`,
    label_names  Array(`+s.lowCard("String")+`),
    label_values Array(String)`+s.codec("ZSTD(3)")+`
)`, "ReplacingMergeTree", "", `PARTITION BY date
ORDER BY (tenant, metric_name, fingerprint, date)
`+s.tableSettings(), "fingerprint")

	return slices.Concat(samples, series, labelIndexDDL(s, "series_labels"))
}

// Migrate brings the database's schema up to the latest migration this
// binary knows, recording each applied one in schema_migrations. Running
// it again is a no-op. A database migrated further than this binary knows
// is an error wrapping ErrSchemaTooNew.
func (c *Client) Migrate(ctx context.Context) error {
	for _, stmt := range schemaMigrationsDDL(c.schema()) {
		if err := c.exec(ctx, stmt); err != nil {
			return fmt.Errorf("migrate %s: %w", c.db, err)
		}
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
	for _, stmt := range m.ddl(c.schema()) {
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
