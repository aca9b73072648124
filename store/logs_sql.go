package store

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
)

// ErrInvalidQuery marks a query the store cannot run as given, such as a
// line filter with an invalid regular expression: the caller's mistake,
// a 400 in an HTTP API.
var ErrInvalidQuery = errors.New("invalid query")

// LineFilterOp is a LogQL line filter operator.
type LineFilterOp int

// The line filters of LogQL. Contains and NotContains compare bytes
// exactly; Matches and NotMatches take an RE2 expression (Go's syntax)
// that matches anywhere in the line, as in Loki: it is not anchored, and
// "." does not match a newline unless the expression says (?s).
const (
	LineContains    LineFilterOp = iota + 1 // |=
	LineNotContains                         // !=
	LineMatches                             // |~
	LineNotMatches                          // !~
)

func (op LineFilterOp) String() string {
	switch op {
	case LineContains:
		return "|="
	case LineNotContains:
		return "!="
	case LineMatches:
		return "|~"
	case LineNotMatches:
		return "!~"
	}
	return "LineFilterOp(" + strconv.Itoa(int(op)) + ")"
}

// LineFilter keeps the log lines that satisfy Op with Value.
type LineFilter struct {
	Op    LineFilterOp
	Value string
}

func (f LineFilter) String() string { return f.Op.String() + " " + strconv.Quote(f.Value) }

// Direction orders log entries by time.
type Direction int

// Backward, the zero value and Loki's default, returns the newest entries
// first; Forward the oldest.
const (
	Backward Direction = iota
	Forward
)

// LogQuery selects log entries of one tenant: those of the streams that
// match every matcher, with timestamps in [Start, End] (ns, inclusive;
// Loki's exclusive end is End-1), whose lines pass every line filter.
type LogQuery struct {
	Tenant      string
	Matchers    []*labels.Matcher
	Start, End  int64
	LineFilters []LineFilter
	Direction   Direction
	Limit       int // at most this many entries; 0 for no limit
}

// lineFilterSQL translates f into a condition on log_records.line.
// Substring filters use LIKE rather than position, because the modern
// schema's n-gram index can skip granules for LIKE and match but not for
// position. ClickHouse's match lets "." match newlines unless told
// otherwise; (?-s) restores the RE2 and Go default that Loki has. It
// wraps the expression as a group, (?-s:…), rather than prefixing it:
// 18.16 ignores a leading (?i) when it looks for a literal the line must
// contain, so '(?i)error' would not match "ERROR" there, while a group
// keeps its flags.
func lineFilterSQL(f LineFilter) (string, error) {
	switch f.Op {
	case LineContains, LineNotContains:
		cond := "1" // every line contains ""
		if f.Value != "" {
			cond = "line LIKE " + quoteString("%"+escapeLike(f.Value)+"%")
		}
		if f.Op == LineNotContains {
			return negate(cond), nil
		}
		return cond, nil
	case LineMatches, LineNotMatches:
		// Checked alone, so that the group around it cannot balance a
		// stray parenthesis.
		if _, err := regexp.Compile(f.Value); err != nil {
			return "", fmt.Errorf("line filter %s: %w: %w", f, ErrInvalidQuery, err)
		}
		cond := "1"
		if f.Value != "" {
			cond = "match(line, " + quoteString("(?-s:"+f.Value+")") + ")"
		}
		if f.Op == LineNotMatches {
			return negate(cond), nil
		}
		return cond, nil
	}
	return "", fmt.Errorf("line filter %s: %w: unknown operator", f, ErrInvalidQuery)
}

func negate(cond string) string {
	if cond == "1" {
		return "0"
	}
	return "NOT (" + cond + ")"
}

// escapeLike escapes LIKE's wildcards % and _ and its escape character,
// so that the pattern matches s literally.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// lineFiltersSQL is the conjunction of fs, each prefixed with " AND ".
func lineFiltersSQL(fs []LineFilter) (string, error) {
	var b strings.Builder
	for _, f := range fs {
		cond, err := lineFilterSQL(f)
		if err != nil {
			return "", err
		}
		if cond != "1" {
			b.WriteString(" AND " + cond)
		}
	}
	return b.String(), nil
}

// streamLabelExpr is the SQL expression for the value of label name in a
// row of log_streams: "" when the stream has no such label.
func streamLabelExpr(name string) string {
	return "label_values[indexOf(label_names, " + quoteString(name) + ")]"
}

// streamPostings picks the matcher that log_labels resolves to stream
// fingerprints, and returns its condition on log_labels, or "" when no
// matcher qualifies. Any matcher that does not match the empty string
// qualifies, since a stream it selects has the label; point lookups
// (equality, set regexps) are preferred to range scans of one label's
// values. LogQL requires such a matcher in every selector, so log queries
// always start from the index.
func streamPostings(ms []*labels.Matcher) string {
	var best *labels.Matcher
	for _, m := range ms {
		if m.Matches("") {
			continue
		}
		if indexable(m) != nil {
			best = m
			break
		}
		if best == nil {
			best = m
		}
	}
	if best == nil {
		return ""
	}
	return "name = " + quoteString(best.Name) + " AND " + matchSQL("value", best)
}

// streamsFrom is the FROM … WHERE part of a query over log_streams: rows
// of tenant within days whose labels satisfy every matcher, resolved
// through log_labels first when a matcher allows.
func (c *Client) streamsFrom(tenant string, days dayRange, ms []*labels.Matcher) string {
	var b strings.Builder
	b.WriteString(" FROM " + c.table("log_streams"))
	if cond := streamPostings(ms); cond != "" {
		b.WriteString(" PREWHERE fingerprint IN (SELECT fingerprint FROM " + c.localTable("log_labels"))
		b.WriteString(" WHERE tenant = " + quoteString(tenant) + " AND " + days.sql() + " AND " + cond + ")")
	}
	b.WriteString(" WHERE tenant = " + quoteString(tenant) + " AND " + days.sql())
	for _, m := range ms {
		b.WriteString(" AND " + matchSQL(streamLabelExpr(m.Name), m))
	}
	return b.String()
}

func (c *Client) selectStreamsSQL(tenant string, days dayRange, ms []*labels.Matcher) string {
	return "SELECT fingerprint, label_names, label_values" + c.streamsFrom(tenant, days, ms) + " LIMIT 1 BY fingerprint"
}

// logRecordsWhere is the FROM … WHERE part of a query over log_records.
func (c *Client) logRecordsWhere(tenant string, fps []uint64, start, end int64, filters string) string {
	var b strings.Builder
	b.WriteString(" FROM " + c.table("log_records"))
	writeSeriesWhere(&b, tenant, fps, "timestamp", start, &end)
	b.WriteString(filters)
	return b.String()
}

// readLogsSQL reads entries in the query's order, each (stream, timestamp,
// line) once: LIMIT 1 BY hides rows written twice and not yet merged, and
// applies before the LIMIT.
func (c *Client) readLogsSQL(tenant string, fps []uint64, start, end int64, filters string, dir Direction, limit int) string {
	order := " DESC"
	if dir == Forward {
		order = ""
	}
	q := "SELECT fingerprint, timestamp, line, metadata_names, metadata_values" +
		c.logRecordsWhere(tenant, fps, start, end, filters) +
		" ORDER BY timestamp" + order + ", fingerprint, line LIMIT 1 BY fingerprint, timestamp, line"
	if limit > 0 {
		q += " LIMIT " + strconv.Itoa(limit)
	}
	return q
}

// countLogsSQL counts entries and their bytes per stream and step bucket.
// The inner GROUP BY collapses duplicates; a bucket is labelled with its
// end, (t-step, t], and buckets are aligned so that end is one.
func (c *Client) countLogsSQL(tenant string, fps []uint64, start, end, step int64, filters string) string {
	phase := end % step
	s := strconv.FormatInt(step, 10)
	// (t - phase) rounded up to a multiple of step, plus phase; written so
	// that no intermediate value is negative.
	bucket := "intDiv(timestamp + " + strconv.FormatInt(step-1-phase, 10) + ", " + s + ") * " + s +
		" + " + strconv.FormatInt(phase, 10)
	return "SELECT fingerprint, t, count(), toUInt64(sum(bytes)) FROM (SELECT fingerprint, toInt64(" + bucket +
		") AS t, any(length(line)) AS bytes" + c.logRecordsWhere(tenant, fps, start, end, filters) +
		" GROUP BY fingerprint, timestamp, cityHash64(line)) GROUP BY fingerprint, t ORDER BY fingerprint, t"
}
