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

// minuteOf is the start of the minute of t (ms, storable).
func minuteOf(t int64) int64 { return t - t%60_000 }

// add counts one more sample into p, one not counted yet. min and max
// compare the way ClickHouse's do, so that p equals what the server
// computes from the same samples.
func (p *RollupPoint) add(t int64, v float64) {
	if p.Count == 0 {
		*p = RollupPoint{T: p.T, Min: v, Max: v, Sum: v, Count: 1, Last: v, LastT: t}
		return
	}
	if v < p.Min {
		p.Min = v
	}
	if v > p.Max {
		p.Max = v
	}
	p.Sum += v
	p.Count++
	if t > p.LastT {
		p.Last, p.LastT = v, t
	}
}

// ReadRollup returns the minute aggregates of tenant's series fps for the
// minutes that start in [mint, maxt] (ms), by fingerprint and sorted by
// time. Minutes without samples, and series without any, are absent.
//
// Every aggregate is exact, each sample counted once, when the samples
// were written through WriteMetrics; doc.go ("Rollups") has the details.
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
	return c.queryMinutes(ctx, "read rollups", query, false, func(fp uint64, m *rollupMinute) {
		out[fp] = append(out[fp], m.RollupPoint)
	})
}

// queryMinutes runs a query whose rows are a fingerprint, a RollupPoint's
// fields in order and, withSeconds, rollupMinute.seconds, and calls f on
// each; op names the query in errors.
func (c *Client) queryMinutes(ctx context.Context, op, query string, withSeconds bool, f func(fp uint64, m *rollupMinute)) error {
	rows, err := c.conn.Query(ctx, query)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer rows.Close()
	var (
		fp uint64
		m  rollupMinute
		p  = &m.RollupPoint
	)
	dest := []any{&fp, &p.T, &p.Min, &p.Max, &p.Sum, &p.Count, &p.Last, &p.LastT}
	if withSeconds {
		dest = append(dest, &m.seconds)
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("%s: scan: %w", op, err)
		}
		f(fp, &m)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// rollupColumns are rollups_1m's columns, in the order of RollupPoint
// after the fingerprint.
const rollupColumns = "minute, value_min, value_max, value_sum, value_count, value_last, last_timestamp"

// rollupSQL reads the most complete row of each series and minute: FINAL
// keeps the one with the highest value_count, and of equal ones the last
// written.
func (c *Client) rollupSQL(tenant string, fps []uint64, mint, maxt int64) string {
	var b strings.Builder
	b.WriteString("SELECT fingerprint, " + rollupColumns + " FROM ")
	b.WriteString(c.table("rollups_1m") + " FINAL")
	writeSeriesWhere(&b, tenant, fps, "minute", mint, &maxt)
	b.WriteString(" ORDER BY fingerprint, minute")
	return b.String()
}

// rollupAggregates computes rollups_1m's columns after the fingerprint
// from samples rows, each sample once when read with FINAL.
const rollupAggregates = `intDiv(timestamp, 60000) * 60000 AS minute, min(value), max(value), sum(value), count(),
    argMax(value, timestamp), max(timestamp)`

// RecomputeRollups rebuilds the minute aggregates of the UTC day of day
// from samples: it drops the day's rollups_1m partition and aggregates
// the day's samples read with FINAL, which merges duplicates away. It
// repairs a day whose rollups went wrong, or were never written (samples
// from before migration 7). A day that still receives samples may be
// rebuilt too: a writer's row written in the moment between the drop and
// the insert loses to the rebuilt one, or replaces it with a more
// complete one.
func (c *Client) RecomputeRollups(ctx context.Context, day time.Time) error {
	d := DayOf(day.UnixMilli())
	if d < 0 || d > maxDay {
		return fmt.Errorf("recompute rollups of %s: %w: outside the storable days", day.Format(time.DateOnly), ErrInvalidQuery)
	}
	date := time.Unix(d*secondsPerDay, 0).UTC()
	if err := c.exec(ctx, c.dropRollupDaySQL(date)); err != nil {
		return fmt.Errorf("recompute rollups of %s: %w", date.Format(time.DateOnly), err)
	}
	if err := c.exec(c.insertContext(ctx, "", "rollups_1m"), c.recomputeRollupSQL(d)); err != nil {
		return fmt.Errorf("recompute rollups of %s: %w", date.Format(time.DateOnly), err)
	}
	c.logger.Info("recomputed rollups", "day", date.Format(time.DateOnly))
	return nil
}

func (c *Client) dropRollupDaySQL(date time.Time) string {
	return "ALTER TABLE " + c.localTable("rollups_1m") + c.schema().onCluster() + " DROP PARTITION ID " + quoteString(date.Format("20060102"))
}

func (c *Client) recomputeRollupSQL(day int64) string {
	from := day * msPerDay
	return "INSERT INTO " + c.table("rollups_1m") + " (tenant, fingerprint, " + rollupColumns + ")" +
		" SELECT tenant, fingerprint, " + rollupAggregates + " FROM " + c.table("samples") + " FINAL" +
		" WHERE timestamp >= " + strconv.FormatInt(from, 10) + " AND timestamp < " + strconv.FormatInt(from+msPerDay, 10) +
		" AND flags = 0 GROUP BY tenant, fingerprint, minute"
}

// minutesSinceSQL aggregates, by minute, the samples of tenant's series
// fps from the minute of since on, and sets a bit for each second of
// the minute with a sample (rollupMinute.seconds).
func (c *Client) minutesSinceSQL(tenant string, fps []uint64, since int64) string {
	var b strings.Builder
	b.WriteString("SELECT fingerprint, " + rollupAggregates +
		", groupBitOr(bitShiftLeft(toUInt64(1), toUInt64(intDiv(timestamp, 1000) - intDiv(timestamp, 60000) * 60))) FROM " + c.table("samples") + " FINAL")
	writeSeriesWhere(&b, tenant, fps, "timestamp", since, nil)
	b.WriteString(" AND flags = 0 GROUP BY fingerprint, minute ORDER BY fingerprint, minute")
	return b.String()
}
