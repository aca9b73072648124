package store

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// RetentionConfig says how long each kind of data is kept, in whole
// days; 0 keeps it forever.
type RetentionConfig struct {
	Metrics model.Duration // samples, series, their label index and rollups
	Logs    model.Duration // log entries, streams and their label index
	Builds  model.Duration // build and deploy events
	Alerts  model.Duration // alert state history
}

const retentionDay = model.Duration(24 * time.Hour)

// RegisterFlags registers the -retention.* flags on fs, with defaults:
// metrics 90d, logs 30d, builds and alerts 365d (DORA reports look back
// a year).
func (c *RetentionConfig) RegisterFlags(fs *flag.FlagSet) {
	c.Metrics, c.Logs, c.Builds, c.Alerts = 90*retentionDay, 30*retentionDay, 365*retentionDay, 365*retentionDay
	fs.Var(&c.Metrics, "retention.metrics", "how long to keep metric samples, series and rollups: a `duration` in whole days (90d, 1y); 0 keeps them forever")
	fs.Var(&c.Logs, "retention.logs", "how long to keep log entries and streams: a `duration` in whole days; 0 keeps them forever")
	fs.Var(&c.Builds, "retention.builds", "how long to keep build and deploy events: a `duration` in whole days; 0 keeps them forever")
	fs.Var(&c.Alerts, "retention.alerts", "how long to keep alert state history: a `duration` in whole days; 0 keeps it forever")
}

// Validate checks that every retention is 0 or a positive whole number of
// days: data is dropped a day partition at a time.
func (c *RetentionConfig) Validate() error {
	var errs []error
	for _, k := range c.kinds() {
		if k.keep < 0 || k.keep%retentionDay != 0 {
			errs = append(errs, fmt.Errorf("-retention.%s %s: want 0 or a whole number of days, such as 30d", k.name, k.keep))
		}
	}
	return errors.Join(errs...)
}

// retentionKind is one kind of data, its retention and its tables.
type retentionKind struct {
	name   string // as in the flag
	keep   model.Duration
	tables []dayTable
}

// dayTable is a table partitioned by day and the expression of its
// partition key, a Date.
type dayTable struct {
	name, day string
}

// keepDays is the number of whole days before today that k keeps; 0 for
// all.
func (k retentionKind) keepDays() int64 { return int64(k.keep / retentionDay) }

// kinds lists every kind of data with its tables; every table of the
// schema is in exactly one kind (schema_migrations is in none).
func (c *RetentionConfig) kinds() []retentionKind {
	return []retentionKind{
		{name: "metrics", keep: c.Metrics, tables: []dayTable{
			{"samples", "toDate(intDiv(timestamp, 86400000))"}, {"series", "date"}, {"series_labels", "date"},
			{"rollups_1m", "toDate(intDiv(minute, 86400000))"},
			{"histograms", "toDate(intDiv(timestamp, 86400000))"}, {"histogram_series", "date"},
		}},
		{name: "logs", keep: c.Logs, tables: []dayTable{
			{"log_records", "toDate(intDiv(timestamp, 86400000000000))"}, {"log_streams", "date"}, {"log_labels", "date"},
		}},
		{name: "builds", keep: c.Builds, tables: []dayTable{{"build_events", "toDate(intDiv(started_at, 86400000))"}}},
		{name: "alerts", keep: c.Alerts, tables: []dayTable{{"alert_states", "toDate(intDiv(timestamp, 86400000))"}}},
	}
}

// Retainer enforces retention: on every server by dropping whole day
// partitions older than the retention, once an hour; on modern servers
// also by TTL, which it keeps equal to the configuration.
type Retainer struct {
	client   *Client
	cfg      RetentionConfig
	logger   *slog.Logger
	interval time.Duration
}

// NewRetainer returns a Retainer of c's database. It starts nothing: call
// Run.
func NewRetainer(c *Client, cfg RetentionConfig, logger *slog.Logger) *Retainer {
	return &Retainer{client: c, cfg: cfg, logger: logger.With("component", "retention"), interval: time.Hour}
}

// Run sets the tables' TTL (modern servers), then drops expired
// partitions now and every hour until ctx is done. A failed pass is
// logged and retried at the next; Run returns nil when ctx ends.
func (r *Retainer) Run(ctx context.Context) error {
	if err := r.ApplyTTL(ctx); err != nil && ctx.Err() == nil {
		r.logger.Error("cannot set TTL; dropping partitions on schedule instead", "err", err)
	}
	tick := time.NewTicker(r.interval)
	defer tick.Stop()
	for {
		if err := r.Enforce(ctx, time.Now()); err != nil && ctx.Err() == nil {
			r.logger.Error("retention pass incomplete; retrying next hour", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// Enforce drops every day partition that has expired at now: those of a
// day before today (UTC) minus the kind's retention. Retention 30d at
// any time of 2023-12-31 keeps 2023-12-01 and later.
func (r *Retainer) Enforce(ctx context.Context, now time.Time) error {
	parts, err := r.partitions(ctx)
	if err != nil {
		return err
	}
	today := DayOf(now.UnixMilli())
	var errs []error
	for _, k := range r.cfg.kinds() {
		if k.keepDays() == 0 {
			continue
		}
		cutoff := today - k.keepDays()
		for _, t := range k.tables {
			for _, p := range parts[t.name] {
				if p.day >= cutoff {
					continue
				}
				if err := r.client.exec(ctx, "ALTER TABLE "+r.client.localTable(t.name)+r.client.schema().onCluster()+
					" DROP PARTITION ID "+quoteString(p.id)); err != nil {
					errs = append(errs, fmt.Errorf("drop expired partition %s of %s: %w", p.id, t.name, err))
					continue
				}
				r.logger.Info("dropped expired partition", "table", t.name, "partition", p.id, "retention", k.keep.String())
			}
		}
	}
	return errors.Join(errs...)
}

// partition is one day partition of a table.
type partition struct {
	id  string // partition_id, YYYYMMDD for a Date key
	day int64
}

// partitions lists the day partitions of the database's tables, by table;
// in cluster mode those of every shard, by the table they belong to.
func (r *Retainer) partitions(ctx context.Context) (map[string][]partition, error) {
	rows, err := r.client.conn.Query(ctx, "SELECT DISTINCT table, partition_id FROM "+r.client.systemTable("parts")+
		" WHERE database = "+quoteString(r.client.db)+" AND active ORDER BY table, partition_id")
	if err != nil {
		return nil, fmt.Errorf("list partitions: %w", err)
	}
	defer rows.Close()
	out := make(map[string][]partition)
	var table, id string
	for rows.Next() {
		if err := rows.Scan(&table, &id); err != nil {
			return nil, fmt.Errorf("list partitions: scan: %w", err)
		}
		if day, ok := partitionDay(id); ok {
			table = r.client.fromLocal(table)
			out[table] = append(out[table], partition{id: id, day: day})
		}
	}
	return out, rows.Err()
}

// partitionDay is the day number of a Date partition's ID, YYYYMMDD.
func partitionDay(id string) (int64, bool) {
	t, err := time.Parse("20060102", id)
	if err != nil {
		return 0, false
	}
	return t.Unix() / secondsPerDay, true
}

// ApplyTTL makes every table's TTL match the configuration, on modern
// servers; it changes only tables whose TTL differs, since a change
// rewrites TTL information of every part. 18.16 has no TTL: a no-op
// there.
func (r *Retainer) ApplyTTL(ctx context.Context) error {
	if !r.client.feat.modern {
		return nil
	}
	var errs []error
	for _, k := range r.cfg.kinds() {
		for _, t := range k.tables {
			engine, err := r.client.engineFull(ctx, r.client.schema().local(t.name))
			if err != nil {
				errs = append(errs, err)
				continue
			}
			for _, stmt := range ttlChanges(r.client.localTable(t.name)+r.client.schema().onCluster(), engine, ttlExpr(t, k.keepDays())) {
				if err := r.client.exec(ctx, stmt); err != nil {
					errs = append(errs, err)
					continue
				}
				r.logger.Info("changed TTL", "table", t.name, "retention", k.keep.String())
			}
		}
	}
	return errors.Join(errs...)
}

// ttlExpr is a table's TTL expression for keeping days days before
// today, "" for none. A row of day D expires once today is D+days+1,
// as Enforce has it.
func ttlExpr(t dayTable, days int64) string {
	if days == 0 {
		return ""
	}
	return t.day + " + toIntervalDay(" + strconv.FormatInt(days+1, 10) + ")"
}

// ttlChanges returns the statements that give table the TTL expr, given
// its engine_full from system.tables. With a TTL, whole parts expire
// together (they belong to one day), so ttl_only_drop_parts lets the
// server drop them rather than rewrite them.
func ttlChanges(table, engineFull, expr string) []string {
	current := ""
	if i := strings.Index(engineFull, " TTL "); i >= 0 {
		current = engineFull[i+len(" TTL "):]
		if j := strings.Index(current, " SETTINGS "); j >= 0 {
			current = current[:j]
		}
	}
	switch {
	case current == expr:
		return nil
	case expr == "":
		return []string{"ALTER TABLE " + table + " REMOVE TTL"}
	}
	stmts := []string{"ALTER TABLE " + table + " MODIFY TTL " + expr}
	if !strings.Contains(engineFull, "ttl_only_drop_parts = 1") {
		stmts = append([]string{"ALTER TABLE " + table + " MODIFY SETTING ttl_only_drop_parts = 1"}, stmts...)
	}
	return stmts
}

// engineFull is a table's engine clause as the server reports it.
func (c *Client) engineFull(ctx context.Context, table string) (string, error) {
	var s string
	err := c.conn.QueryRow(ctx, "SELECT engine_full FROM system.tables WHERE database = "+
		quoteString(c.db)+" AND name = "+quoteString(table)).Scan(&s)
	if err != nil {
		return "", fmt.Errorf("read engine of %s: %w", table, err)
	}
	return s, nil
}
