package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
)

// logDaysOf is the range of days holding [mint, maxt] (ns), clamped to
// what the schema stores; ok is false when nothing can be stored there.
func logDaysOf(mint, maxt int64) (r dayRange, ok bool) {
	mint, maxt = max(mint, MinLogTime), min(maxt, MaxLogTime)
	if mint > maxt {
		return dayRange{}, false
	}
	return dayRange{first: logDayOf(mint), last: logDayOf(maxt)}, true
}

// SelectStreams returns the log streams of tenant that match every
// matcher and may have entries in [mint, maxt] (ns): they have entries on
// a day that overlaps it. Matchers have Prometheus (and LogQL) semantics.
// The result is sorted by labels.
func (c *Client) SelectStreams(ctx context.Context, tenant string, mint, maxt int64, matchers ...*labels.Matcher) ([]StreamRef, error) {
	days, ok := logDaysOf(mint, maxt)
	if !ok {
		return nil, nil
	}
	rows, err := c.conn.Query(ctx, c.selectStreamsSQL(tenant, days, matchers))
	if err != nil {
		return nil, fmt.Errorf("select log streams: %w", err)
	}
	defer rows.Close()
	var (
		out           []StreamRef
		fp            uint64
		names, values []string
		sb            = labels.NewScratchBuilder(0)
	)
	for rows.Next() {
		if err := rows.Scan(&fp, &names, &values); err != nil {
			return nil, fmt.Errorf("select log streams: scan: %w", err)
		}
		out = append(out, StreamRef{Fingerprint: fp, Labels: arrayLabels(&sb, names, values)})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select log streams: %w", err)
	}
	slices.SortFunc(out, func(a, b StreamRef) int { return labels.Compare(a.Labels, b.Labels) })
	return out, nil
}

// arrayLabels rebuilds labels from parallel name and value arrays.
func arrayLabels(sb *labels.ScratchBuilder, names, values []string) labels.Labels {
	sb.Reset()
	for i := range min(len(names), len(values)) {
		sb.Add(names[i], values[i])
	}
	sb.Sort()
	return sb.Labels()
}

// ReadLogs returns the entries q selects, each once however often it was
// written, in q.Direction and, within a timestamp, by stream fingerprint
// and line; at most q.Limit of them. Stream resolution happens first
// (SelectStreams), then the records of the matching streams are read with
// the line filters applied in ClickHouse. With a limit, the range is read
// in windows from its newest (Backward) or oldest end, each twice as long
// as the one before, until the limit is met, so that the newest lines of
// a long range cost little more than those of a short one. A line filter
// with an invalid regular expression is an error wrapping
// ErrInvalidQuery.
func (c *Client) ReadLogs(ctx context.Context, q LogQuery) ([]LogEntry, error) {
	filters, err := lineFiltersSQL(q.LineFilters)
	if err != nil {
		return nil, err
	}
	start, end := max(q.Start, MinLogTime), min(q.End, MaxLogTime)
	if start > end || q.Limit < 0 {
		return nil, nil
	}
	refs, err := c.SelectStreams(ctx, q.Tenant, start, end, q.Matchers...)
	if err != nil || len(refs) == 0 {
		return nil, err
	}
	streams := make(map[uint64]labels.Labels, len(refs))
	fps := make([]uint64, len(refs))
	for i, r := range refs {
		streams[r.Fingerprint], fps[i] = r.Labels, r.Fingerprint
	}
	var out []LogEntry
	for _, w := range logWindows(start, end, q.Direction, q.Limit > 0) {
		limit := 0
		if q.Limit > 0 {
			limit = q.Limit - len(out)
		}
		rows, err := c.readLogWindow(ctx, q, fps, streams, w, filters, limit)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			out = append(out, r.entry)
		}
		if q.Limit > 0 && len(out) >= q.Limit {
			break
		}
	}
	return out, nil
}

// logWindowsPerRange is how many first windows fit in a range: the first
// window is 1/32 of it, so at most six windows cover it.
const logWindowsPerRange = 32

// logWindows splits [start, end] into the windows ReadLogs reads in turn:
// with windowed, from the end the direction starts at, the first 1/32 of
// the range and each next window twice the one before; else the range.
func logWindows(start, end int64, dir Direction, windowed bool) [][2]int64 {
	if !windowed {
		return [][2]int64{{start, end}}
	}
	var out [][2]int64
	size := max((end-start)/logWindowsPerRange, 1)
	for lo, hi := start, end; lo <= hi; {
		if dir == Forward {
			w := [2]int64{lo, min(lo+size-1, hi)}
			out, lo = append(out, w), w[1]+1
		} else {
			w := [2]int64{max(hi-size+1, lo), hi}
			out, hi = append(out, w), w[0]-1
		}
		if size <= (end-start)/2 {
			size *= 2
		} else {
			size = end - start + 1 // the rest, without overflowing
		}
	}
	return out
}

// readLogWindow reads the entries of window w, at most limit (0: all), in
// the query's order: each chunk of streams in one query, and chunks merged
// and limited again.
func (c *Client) readLogWindow(ctx context.Context, q LogQuery, fps []uint64, streams map[uint64]labels.Labels,
	w [2]int64, filters string, limit int) ([]logRow, error) {
	var (
		rows []logRow
		err  error
	)
	for chunk := range slices.Chunk(fps, readChunk) {
		query := c.readLogsSQL(q.Tenant, chunk, w[0], w[1], filters, q.Direction, limit)
		if rows, err = c.readLogs(ctx, query, q.Tenant, streams, rows); err != nil {
			return nil, err
		}
	}
	if len(fps) > readChunk { // each chunk is in order; together they are not
		slices.SortStableFunc(rows, logRowOrder(q.Direction))
		if limit > 0 && len(rows) > limit {
			rows = rows[:limit]
		}
	}
	return rows, nil
}

// logRow is an entry read and its stream's fingerprint.
type logRow struct {
	fp    uint64
	entry LogEntry
}

// logRowOrder is the order of readLogsSQL, for merging chunks.
func logRowOrder(dir Direction) func(a, b logRow) int {
	return func(a, b logRow) int {
		c := cmp.Compare(a.entry.T, b.entry.T)
		if dir == Backward {
			c = -c
		}
		if c != 0 {
			return c
		}
		if c = cmp.Compare(a.fp, b.fp); c != 0 {
			return c
		}
		return strings.Compare(a.entry.Line, b.entry.Line)
	}
}

func (c *Client) readLogs(ctx context.Context, query, tenant string, streams map[uint64]labels.Labels, out []logRow) ([]logRow, error) {
	rows, err := c.conn.Query(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("read log records: %w", err)
	}
	defer rows.Close()
	var (
		fp            uint64
		t             int64
		line          string
		names, values []string
		sb            = labels.NewScratchBuilder(0)
	)
	for rows.Next() {
		if err := rows.Scan(&fp, &t, &line, &names, &values); err != nil {
			return nil, fmt.Errorf("read log records: scan: %w", err)
		}
		out = append(out, logRow{fp: fp, entry: LogEntry{
			Tenant:   tenant,
			Stream:   streams[fp],
			T:        t,
			Line:     line,
			Metadata: arrayLabels(&sb, names, values),
		}})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read log records: %w", err)
	}
	return out, nil
}

// StreamCounts are the entries of one stream, and their bytes, per step.
type StreamCounts struct {
	Stream StreamRef
	Points []CountPoint // by time; steps without entries are absent
}

// CountPoint counts the entries of one step.
type CountPoint struct {
	T     int64  // ns; the step is (T-step, T]
	Count uint64 // entries, each once however often written
	Bytes uint64 // bytes of their lines
}

// CountLogs counts the entries q selects, and the bytes of their lines,
// per stream and step: what LogQL's count_over_time, rate,
// bytes_over_time and bytes_rate, and Loki's index stats and log volume,
// need, without reading lines into Go. Steps are aligned so that q.End
// ends one; q.Direction and q.Limit do not apply. The result is sorted by
// stream labels.
func (c *Client) CountLogs(ctx context.Context, q LogQuery, step int64) ([]StreamCounts, error) {
	if step <= 0 {
		return nil, fmt.Errorf("count logs: step %d: %w: must be positive", step, ErrInvalidQuery)
	}
	filters, err := lineFiltersSQL(q.LineFilters)
	if err != nil {
		return nil, err
	}
	start, end := max(q.Start, MinLogTime), min(q.End, MaxLogTime)
	if start > end {
		return nil, nil
	}
	step = min(step, MaxLogTime) // keeps the bucket arithmetic within Int64
	refs, err := c.SelectStreams(ctx, q.Tenant, start, end, q.Matchers...)
	if err != nil || len(refs) == 0 {
		return nil, err
	}
	points := make(map[uint64][]CountPoint, len(refs))
	fps := make([]uint64, len(refs))
	for i, r := range refs {
		fps[i] = r.Fingerprint
	}
	for chunk := range slices.Chunk(fps, readChunk) {
		if err := c.countLogs(ctx, c.countLogsSQL(q.Tenant, chunk, start, end, step, filters), points); err != nil {
			return nil, err
		}
	}
	var out []StreamCounts
	for _, r := range refs {
		if ps := points[r.Fingerprint]; len(ps) > 0 {
			out = append(out, StreamCounts{Stream: r, Points: ps})
		}
	}
	return out, nil
}

func (c *Client) countLogs(ctx context.Context, query string, out map[uint64][]CountPoint) error {
	rows, err := c.conn.Query(ctx, query)
	if err != nil {
		return fmt.Errorf("count log records: %w", err)
	}
	defer rows.Close()
	var (
		fp uint64
		p  CountPoint
	)
	for rows.Next() {
		if err := rows.Scan(&fp, &p.T, &p.Count, &p.Bytes); err != nil {
			return fmt.Errorf("count log records: scan: %w", err)
		}
		out[fp] = append(out[fp], p)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("count log records: %w", err)
	}
	return nil
}

// LogLabelNames returns the sorted label names of tenant's log streams
// with entries on days overlapping [mint, maxt] (ns) that match every
// matcher. With no matchers it reads only log_labels.
func (c *Client) LogLabelNames(ctx context.Context, tenant string, mint, maxt int64, matchers ...*labels.Matcher) ([]string, error) {
	days, ok := logDaysOf(mint, maxt)
	if !ok {
		return nil, nil
	}
	names, err := c.queryStrings(ctx, c.logLabelNamesSQL(tenant, days, matchers))
	if err != nil {
		return nil, fmt.Errorf("log label names: %w", err)
	}
	return names, nil
}

func (c *Client) logLabelNamesSQL(tenant string, days dayRange, ms []*labels.Matcher) string {
	if len(ms) == 0 {
		return "SELECT DISTINCT name FROM " + c.table("log_labels") +
			" WHERE tenant = " + quoteString(tenant) + " AND " + days.sql() + " ORDER BY name"
	}
	return "SELECT DISTINCT arrayJoin(arrayFilter((n, v) -> v != '', label_names, label_values)) AS n" +
		c.streamsFrom(tenant, days, ms) + " ORDER BY n"
}

// LogLabelValues returns the sorted values of label name in tenant's log
// streams with entries on days overlapping [mint, maxt] (ns) that match
// every matcher. With no matchers it reads only log_labels' rows for name.
func (c *Client) LogLabelValues(ctx context.Context, tenant, name string, mint, maxt int64, matchers ...*labels.Matcher) ([]string, error) {
	days, ok := logDaysOf(mint, maxt)
	if !ok {
		return nil, nil
	}
	values, err := c.queryStrings(ctx, c.logLabelValuesSQL(tenant, name, days, matchers))
	if err != nil {
		return nil, fmt.Errorf("log label values of %q: %w", name, err)
	}
	return values, nil
}

func (c *Client) logLabelValuesSQL(tenant, name string, days dayRange, ms []*labels.Matcher) string {
	if len(ms) == 0 {
		return "SELECT DISTINCT value FROM " + c.table("log_labels") +
			" WHERE tenant = " + quoteString(tenant) + " AND " + days.sql() +
			" AND name = " + quoteString(name) + " ORDER BY value"
	}
	expr := streamLabelExpr(name)
	return "SELECT DISTINCT " + expr + " AS v" + c.streamsFrom(tenant, days, ms) +
		" AND " + expr + " != '' ORDER BY v"
}
