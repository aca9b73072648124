package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// histogramSeriesSQL is the column of SelectSeries' query that tells
// whether a series has histograms on a day of days: 1 if histogram_series
// lists it. Like the label index subquery it names the shard-local table,
// which holds the rows of the series of its shard.
func (c *Client) histogramSeriesSQL(tenant string, days dayRange) string {
	return "toUInt8(fingerprint IN (SELECT fingerprint FROM " + c.localTable("histogram_series") +
		" WHERE tenant = " + quoteString(tenant) + " AND " + days.sql() + ")) AS histograms"
}

// ReadHistograms returns the native histograms of tenant's series fps
// with timestamps in [mint, maxt] (ms), by fingerprint: one per timestamp
// however often it was written, sorted by time, each sample with a
// histogram of its own. Series without histograms there are absent from
// the map. Read only the series whose SeriesRef.Histograms is set.
func (c *Client) ReadHistograms(ctx context.Context, tenant string, fps []uint64, mint, maxt int64) (map[uint64][]HistogramSample, error) {
	out := make(map[uint64][]HistogramSample)
	mint, maxt = max(mint, MinTime), min(maxt, MaxTime)
	if len(fps) == 0 || mint > maxt {
		return out, nil
	}
	for chunk := range slices.Chunk(fps, readChunk) {
		if err := c.readHistograms(ctx, tenant, chunk, mint, maxt, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (c *Client) readHistograms(ctx context.Context, tenant string, fps []uint64, mint, maxt int64, out map[uint64][]HistogramSample) error {
	rows, err := c.conn.Query(ctx, c.histogramsSQL(tenant, fps, mint, maxt))
	if err != nil {
		return fmt.Errorf("read histograms of %d series: %w", len(fps), err)
	}
	defer rows.Close()
	var (
		fp   uint64
		t    int64
		data []byte
	)
	for rows.Next() {
		if err := rows.Scan(&fp, &t, &data); err != nil {
			return fmt.Errorf("read histograms: scan: %w", err)
		}
		hs := out[fp]
		if n := len(hs); n > 0 && hs[n-1].T >= t {
			continue // already have it; the query sorts, this guards
		}
		s := HistogramSample{T: t}
		if err := decodeHistogram(data, &s); err != nil {
			return fmt.Errorf("read histogram of series %d at %d: %w", fp, t, err)
		}
		out[fp] = append(hs, s)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read histograms of %d series: %w", len(fps), err)
	}
	return nil
}

// histogramsSQL reads histograms in series and time order, each (series,
// timestamp) once, as samplesSQL reads samples.
func (c *Client) histogramsSQL(tenant string, fps []uint64, mint, maxt int64) string {
	var b strings.Builder
	b.WriteString("SELECT fingerprint, timestamp, histogram FROM ")
	b.WriteString(c.table("histograms"))
	writeSeriesWhere(&b, tenant, fps, "timestamp", mint, &maxt)
	b.WriteString(" ORDER BY fingerprint, timestamp LIMIT 1 BY fingerprint, timestamp")
	return b.String()
}
