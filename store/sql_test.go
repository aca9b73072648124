package store

import (
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"
)

func TestQuoteString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{``, `''`},
		{`up`, `'up'`},
		{`it's`, `'it\'s'`},
		{`a\b`, `'a\\b'`},
		{`\'`, `'\\\''`},
		{`'; DROP TABLE samples; --`, `'\'; DROP TABLE samples; --'`},
		{"line\nbreak\x00nul\x7f", `'line\x0Abreak\x00nul\x7F'`},
		{`ünïcode ✓`, `'ünïcode ✓'`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			require.Equal(t, tc.want, quoteString(tc.in))
		})
	}
}

func TestQuoteIdent(t *testing.T) {
	require.Equal(t, "cairn", quoteIdent("cairn"))
	require.Equal(t, "cairn_test_01", quoteIdent("cairn_test_01"))
	require.Equal(t, "`my-db`", quoteIdent("my-db"))
	require.Equal(t, "`a\\`b\\\\`", quoteIdent("a`b\\"))
}

func TestMatcherSQL(t *testing.T) {
	const job = "label_values[indexOf(label_names, 'job')]"
	for _, tc := range []struct {
		name string
		m    *labels.Matcher
		want string
	}{
		{"name equal", labels.MustNewMatcher(labels.MatchEqual, "__name__", "up"), `metric_name = 'up'`},
		{"equal", labels.MustNewMatcher(labels.MatchEqual, "job", "api"), job + ` = 'api'`},
		{"equal empty matches missing", labels.MustNewMatcher(labels.MatchEqual, "job", ""), job + ` = ''`},
		{"not equal", labels.MustNewMatcher(labels.MatchNotEqual, "job", "api"), job + ` != 'api'`},
		{"not equal empty", labels.MustNewMatcher(labels.MatchNotEqual, "job", ""), job + ` != ''`},
		{"regexp anchored", labels.MustNewMatcher(labels.MatchRegexp, "job", "api.*"), `match(` + job + `, '^(?s:api.*)$')`},
		{"regexp alternation anchored as a whole", labels.MustNewMatcher(labels.MatchRegexp, "job", "a.|b.*"), `match(` + job + `, '^(?s:a.|b.*)$')`},
		{"not regexp", labels.MustNewMatcher(labels.MatchNotRegexp, "job", "api.*"), `NOT (match(` + job + `, '^(?s:api.*)$'))`},
		{"regexp set", labels.MustNewMatcher(labels.MatchRegexp, "job", "api|db"), job + ` IN ('api', 'db')`},
		{"regexp literal", labels.MustNewMatcher(labels.MatchRegexp, "job", "api"), job + ` = 'api'`},
		{"regexp set with empty", labels.MustNewMatcher(labels.MatchRegexp, "job", "api|"), job + ` IN ('api', '')`},
		{"not regexp set", labels.MustNewMatcher(labels.MatchNotRegexp, "__name__", "up|down"), `NOT (metric_name IN ('up', 'down'))`},
		{"regexp any", labels.MustNewMatcher(labels.MatchRegexp, "job", ".*"), `1`},
		{"regexp nonempty", labels.MustNewMatcher(labels.MatchRegexp, "job", ".+"), job + ` != ''`},
		{"not regexp nonempty", labels.MustNewMatcher(labels.MatchNotRegexp, "job", ".+"), `NOT (` + job + ` != '')`},
		{"case-insensitive regexp", labels.MustNewMatcher(labels.MatchRegexp, "job", "(?i)api"), `match(` + job + `, '^(?s:(?i)api)$')`},
		{"quote in value", labels.MustNewMatcher(labels.MatchEqual, "job", "it's"), job + ` = 'it\'s'`},
		{"backslash in value", labels.MustNewMatcher(labels.MatchNotEqual, "path", `C:\dir`), `label_values[indexOf(label_names, 'path')] != 'C:\\dir'`},
		{"injection in value", labels.MustNewMatcher(labels.MatchEqual, "job", `x' OR 1 = 1 --`), job + ` = 'x\' OR 1 = 1 --'`},
		{"quote in name", labels.MustNewMatcher(labels.MatchEqual, "jo'b", "x"), `label_values[indexOf(label_names, 'jo\'b')] = 'x'`},
		{"regexp escapes", labels.MustNewMatcher(labels.MatchRegexp, "path", `a\.b'c+`), `match(label_values[indexOf(label_names, 'path')], '^(?s:a\\.b\'c+)$')`},
		{"regexp literal escapes", labels.MustNewMatcher(labels.MatchRegexp, "path", `a\.b'c`), `label_values[indexOf(label_names, 'path')] = 'a.b\'c'`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, matcherSQL(tc.m))
		})
	}
}

func TestPostingsMatcher(t *testing.T) {
	eq := func(n, v string) *labels.Matcher { return labels.MustNewMatcher(labels.MatchEqual, n, v) }
	re := func(n, v string) *labels.Matcher { return labels.MustNewMatcher(labels.MatchRegexp, n, v) }
	for _, tc := range []struct {
		name       string
		ms         []*labels.Matcher
		wantName   string
		wantValues []string
	}{
		{"metric name uses the sort key", []*labels.Matcher{eq("__name__", "up"), eq("job", "a")}, "", nil},
		{"metric name set uses the sort key", []*labels.Matcher{eq("job", "a"), re("__name__", "up|down")}, "", nil},
		{"equality", []*labels.Matcher{re("__name__", "up.*"), eq("job", "a")}, "job", []string{"a"}},
		{"set regexp", []*labels.Matcher{re("job", "a|b")}, "job", []string{"a", "b"}},
		{"empty equality matches missing labels", []*labels.Matcher{eq("job", "")}, "", nil},
		{"set with empty matches missing labels", []*labels.Matcher{re("job", "a|")}, "", nil},
		{"first usable", []*labels.Matcher{re("job", "a.*"), eq("env", "prod")}, "env", []string{"prod"}},
		{"none", []*labels.Matcher{labels.MustNewMatcher(labels.MatchNotEqual, "job", "a")}, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name, values := postingsMatcher(tc.ms)
			require.Equal(t, tc.wantName, name)
			require.Equal(t, tc.wantValues, values)
		})
	}
}

func TestDaysOf(t *testing.T) {
	for _, tc := range []struct {
		name       string
		mint, maxt int64
		want       dayRange
		ok         bool
	}{
		{"one day", 1_700_000_000_000, 1_700_000_100_000, dayRange{19675, 19675}, true},
		{"midnight is the next day", 19676*msPerDay - 1, 19676 * msPerDay, dayRange{19675, 19676}, true},
		{"clamped", -1 << 62, 1 << 62, dayRange{0, maxDay}, true},
		{"empty", 10, 9, dayRange{}, false},
		{"before the epoch", -100, -1, dayRange{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := daysOf(tc.mint, tc.maxt)
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.want, got)
		})
	}
	require.Equal(t, "date = toDate('2023-11-15')", dayRange{19676, 19676}.sql())
	require.Equal(t, "date >= toDate('1970-01-01') AND date <= toDate('2105-12-31')", dayRange{0, maxDay}.sql())
}
