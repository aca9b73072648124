package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// RollupPoint aggregates the samples of one series in one minute, stale
// markers excluded.
type RollupPoint struct {
	T        int64 // ms: the start of the minute
	Min, Max float64
	Sum      float64
	Count    uint64
	Last     float64 // the value of the minute's latest sample
	LastT    int64   // ms: that sample's timestamp
}

// ReadRollup returns the minute aggregates of tenant's series fps for the
// minutes that start in [mint, maxt] (ms), by fingerprint and sorted by
// time. Minutes without samples, and series without any, are absent.
//
// Min, Max, Last and LastT are exact however often a batch was written.
// Sum and Count count a batch written twice twice on 18.16, and on modern
// servers when the repeat came without the first write's token; see
// RecomputeRollups and doc.go.
func (c *Client) ReadRollup(ctx context.Context, tenant string, fps []uint64, mint, maxt int64) (map[uint64][]RollupPoint, error) {
	out := make(map[uint64][]RollupPoint)
	mint, maxt = max(mint, MinTime), min(maxt, MaxTime)
	if len(fps) == 0 || mint > maxt {
		return out, nil
	}
	for chunk := range slices.Chunk(fps, readChunk) {
		if err := c.readRollup(ctx, c.rollupSQL(tenant, chunk, mint, maxt), out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (c *Client) readRollup(ctx context.Context, query string, out map[uint64][]RollupPoint) error {
	rows, err := c.conn.Query(ctx, query)
	if err != nil {
		return fmt.Errorf("read rollups: %w", err)
	}
	defer rows.Close()
	var (
		fp uint64
		p  RollupPoint
	)
	for rows.Next() {
		if err := rows.Scan(&fp, &p.T, &p.Min, &p.Max, &p.Sum, &p.Count, &p.Last, &p.LastT); err != nil {
			return fmt.Errorf("read rollups: scan: %w", err)
		}
		out[fp] = append(out[fp], p)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read rollups: %w", err)
	}
	return nil
}

// rollupSQL merges the partial aggregates that inserts left for each
// series and minute; merges in the background leave fewer of them.
func (c *Client) rollupSQL(tenant string, fps []uint64, mint, maxt int64) string {
	var b strings.Builder
	b.WriteString("SELECT fingerprint, minute, minMerge(value_min), maxMerge(value_max), sumMerge(value_sum), " +
		"countMerge(value_count), argMaxMerge(value_last), maxMerge(last_timestamp) FROM ")
	b.WriteString(c.table("samples_1m"))
	b.WriteString(" WHERE tenant = " + quoteString(tenant) + " AND fingerprint IN (")
	formatUints(&b, fps)
	b.WriteString(") AND minute >= " + strconv.FormatInt(mint, 10))
	b.WriteString(" AND minute <= " + strconv.FormatInt(maxt, 10))
	b.WriteString(" GROUP BY fingerprint, minute ORDER BY fingerprint, minute")
	return b.String()
}

// RecomputeRollups rebuilds the minute aggregates of the UTC day of day
// from samples, each sample counted once: it drops the day's samples_1m
// partition and aggregates the day's samples read with FINAL, which
// merges duplicates away. Afterwards Sum and Count of that day are exact
// even where a batch was written twice. Run it for days that no longer
// receive samples, such as the day before yesterday: samples written to
// the day while it runs may be counted twice or not at all.
func (c *Client) RecomputeRollups(ctx context.Context, day time.Time) error {
	d := DayOf(day.UnixMilli())
	if d < 0 || d > maxDay {
		return fmt.Errorf("recompute rollups of %s: %w: outside the storable days", day.Format(time.DateOnly), ErrInvalidQuery)
	}
	date := time.Unix(d*secondsPerDay, 0).UTC()
	if err := c.exec(ctx, c.dropRollupDaySQL(date)); err != nil {
		return fmt.Errorf("recompute rollups of %s: %w", date.Format(time.DateOnly), err)
	}
	if err := c.exec(c.insertContext(ctx, "", "samples_1m"), c.recomputeRollupSQL(d)); err != nil {
		return fmt.Errorf("recompute rollups of %s: %w", date.Format(time.DateOnly), err)
	}
	c.logger.Info("recomputed rollups", "day", date.Format(time.DateOnly))
	return nil
}

func (c *Client) dropRollupDaySQL(date time.Time) string {
	return "ALTER TABLE " + c.localTable("samples_1m") + c.schema().onCluster() + " DROP PARTITION ID " + quoteString(date.Format("20060102"))
}

func (c *Client) recomputeRollupSQL(day int64) string {
	from := day * msPerDay
	return "INSERT INTO " + c.table("samples_1m") +
		" (tenant, fingerprint, minute, value_min, value_max, value_sum, value_count, value_last, last_timestamp)" +
		" SELECT " + rollupSelect + " FROM " + c.table("samples") + " FINAL" +
		" WHERE timestamp >= " + strconv.FormatInt(from, 10) + " AND timestamp < " + strconv.FormatInt(from+msPerDay, 10) +
		" AND flags = 0 GROUP BY tenant, fingerprint, minute"
}
