package store

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// This file turns Go values into ClickHouse SQL text. Queries are built as
// text, not with server-side parameters, because 18.16 has none; every
// value goes through quoteString, quoteIdent or strconv, never through
// fmt's %s on its own.

// quoteString returns s as a ClickHouse string literal. Backslash and
// quote are escaped, and so is every control byte, so the literal survives
// logs and terminals; all other bytes pass through unchanged, since
// ClickHouse strings are bytes.
func quoteString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' || c == '\'':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\x%02X`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// quoteIdent returns name as an identifier: bare when it is a plain one,
// else in backquotes.
func quoteIdent(name string) string {
	if databaseName.MatchString(name) {
		return name
	}
	return "`" + strings.NewReplacer(`\`, `\\`, "`", "\\`").Replace(name) + "`"
}

func quoteStrings(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = quoteString(s)
	}
	return strings.Join(q, ", ")
}

// dateLiteral is the SQL Date for day number day (days since 1970-01-01).
func dateLiteral(day int64) string {
	return "toDate('" + time.Unix(day*secondsPerDay, 0).UTC().Format(time.DateOnly) + "')"
}

// labelExpr is the SQL expression for the value of label name in a row of
// the series table: "" when the series has no such label, exactly the
// Prometheus meaning of a missing label.
func labelExpr(name string) string {
	if name == labels.MetricName {
		return "metric_name"
	}
	return "label_values[indexOf(label_names, " + quoteString(name) + ")]"
}

// matcherSQL translates m into a condition over the series table.
// Prometheus semantics carry over because labelExpr yields "" for a
// missing label: job="" matches series without job, job!="a" matches them
// too. Regular expressions are fully anchored and, as in Prometheus, let
// "." match a newline; ClickHouse's match uses RE2, as Go does.
func matcherSQL(m *labels.Matcher) string {
	return matchSQL(labelExpr(m.Name), m)
}

// matchSQL translates m into a condition on the SQL expression expr, which
// holds the label's value.
func matchSQL(expr string, m *labels.Matcher) string {
	switch m.Type {
	case labels.MatchEqual:
		return expr + " = " + quoteString(m.Value)
	case labels.MatchNotEqual:
		return expr + " != " + quoteString(m.Value)
	case labels.MatchRegexp:
		return regexpSQL(expr, m)
	case labels.MatchNotRegexp:
		return "NOT (" + regexpSQL(expr, m) + ")"
	}
	// Unreachable with matchers built by labels.NewMatcher; match nothing
	// rather than everything.
	return "0"
}

// regexpSQL is the positive condition of a regexp matcher, using the
// cheapest form that means the same.
func regexpSQL(expr string, m *labels.Matcher) string {
	switch m.Value {
	case ".*":
		return "1"
	case ".+":
		return expr + " != ''"
	}
	if set := m.SetMatches(); len(set) > 0 {
		if len(set) == 1 {
			return expr + " = " + quoteString(set[0])
		}
		return expr + " IN (" + quoteStrings(set) + ")"
	}
	return "match(" + expr + ", " + quoteString("^(?s:"+m.Value+")$") + ")"
}

// postingsMatcher picks the matcher whose values the label index can
// resolve to fingerprints: an equality or set regexp on a label other than
// the metric name that matches no empty value (a matcher that matches ""
// also matches series without the label, which the index does not list).
// It returns an empty name when the selector has a metric name for the
// series table's sort key, or no such matcher.
func postingsMatcher(ms []*labels.Matcher) (name string, values []string) {
	for _, m := range ms {
		if m.Name == labels.MetricName && indexable(m) != nil {
			return "", nil
		}
	}
	for _, m := range ms {
		if vals := indexable(m); vals != nil {
			return m.Name, vals
		}
	}
	return "", nil
}

// indexable returns the values an equality or set regexp matcher accepts,
// or nil for other matchers and those that accept "".
func indexable(m *labels.Matcher) []string {
	var vals []string
	switch m.Type {
	case labels.MatchEqual:
		vals = []string{m.Value}
	case labels.MatchRegexp:
		vals = m.SetMatches()
	}
	if containsEmpty(vals) {
		return nil
	}
	return vals
}

func containsEmpty(ss []string) bool {
	for _, s := range ss {
		if s == "" {
			return true
		}
	}
	return false
}

func formatUints(b *strings.Builder, vs []uint64) {
	for i, v := range vs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.FormatUint(v, 10))
	}
}

// writeSeriesWhere writes the WHERE clause that selects tenant's series
// fps, with col (a timestamp or minute) from from on and, when to is not
// nil, up to *to, inclusive.
func writeSeriesWhere(b *strings.Builder, tenant string, fps []uint64, col string, from int64, to *int64) {
	b.WriteString(" WHERE tenant = " + quoteString(tenant) + " AND fingerprint IN (")
	formatUints(b, fps)
	b.WriteString(") AND " + col + " >= " + strconv.FormatInt(from, 10))
	if to != nil {
		b.WriteString(" AND " + col + " <= " + strconv.FormatInt(*to, 10))
	}
}
