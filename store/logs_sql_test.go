package store

import (
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"
)

func TestLineFilterSQL(t *testing.T) {
	for _, tc := range []struct {
		name    string
		f       LineFilter
		want    string
		wantErr string
	}{
		{"contains", LineFilter{LineContains, "error"}, `line LIKE '%error%'`, ""},
		{"not contains", LineFilter{LineNotContains, "error"}, `NOT (line LIKE '%error%')`, ""},
		{"wildcards are literal", LineFilter{LineContains, `50%_off`}, `line LIKE '%50\\%\\_off%'`, ""},
		{"backslash and quote", LineFilter{LineContains, `C:\it's`}, `line LIKE '%C:\\\\it\'s%'`, ""},
		{"control bytes", LineFilter{LineContains, "a\nb"}, `line LIKE '%a\x0Ab%'`, ""},
		{"empty contains", LineFilter{LineContains, ""}, `1`, ""},
		{"empty not contains", LineFilter{LineNotContains, ""}, `0`, ""},
		{"regexp unanchored, no dot-newline", LineFilter{LineMatches, "err.r"}, `match(line, '(?-s:err.r)')`, ""},
		{"regexp flags stay inside the group", LineFilter{LineMatches, "(?i)error"}, `match(line, '(?-s:(?i)error)')`, ""},
		{"regexp escapes", LineFilter{LineMatches, `a\.b'`}, `match(line, '(?-s:a\\.b\')')`, ""},
		{"not regexp", LineFilter{LineNotMatches, "a|b"}, `NOT (match(line, '(?-s:a|b)'))`, ""},
		{"empty regexp", LineFilter{LineMatches, ""}, `1`, ""},
		{"empty not regexp", LineFilter{LineNotMatches, ""}, `0`, ""},
		{"invalid regexp", LineFilter{LineMatches, "a(b"}, "", `line filter |~ "a(b": invalid query: error parsing regexp`},
		{"stray parenthesis is not balanced by the group", LineFilter{LineMatches, "a)|(b"}, "", "invalid query"},
		{"unknown operator", LineFilter{Op: 9}, "", "LineFilterOp(9)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := lineFilterSQL(tc.f)
			if tc.wantErr != "" {
				require.ErrorIs(t, err, ErrInvalidQuery)
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestStreamPostings(t *testing.T) {
	m := func(typ labels.MatchType, n, v string) *labels.Matcher { return labels.MustNewMatcher(typ, n, v) }
	for _, tc := range []struct {
		name string
		ms   []*labels.Matcher
		want string
	}{
		{"equality", []*labels.Matcher{m(labels.MatchEqual, "app", "api")}, `name = 'app' AND value = 'api'`},
		{"equality preferred to a regexp", []*labels.Matcher{m(labels.MatchRegexp, "env", "pr.*"), m(labels.MatchEqual, "app", "api")}, `name = 'app' AND value = 'api'`},
		{"set regexp", []*labels.Matcher{m(labels.MatchRegexp, "app", "api|db")}, `name = 'app' AND value IN ('api', 'db')`},
		{"regexp scans one label", []*labels.Matcher{m(labels.MatchRegexp, "app", "a.+")}, `name = 'app' AND match(value, '^(?s:a.+)$')`},
		{"not empty", []*labels.Matcher{m(labels.MatchNotEqual, "app", "")}, `name = 'app' AND value != ''`},
		{"matchers of empty values do not qualify", []*labels.Matcher{m(labels.MatchEqual, "app", ""), m(labels.MatchNotEqual, "env", "x"), m(labels.MatchRegexp, "pod", ".*")}, ``},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, streamPostings(tc.ms))
		})
	}
}

func TestSplitLogsByDays(t *testing.T) {
	ls := labels.FromStrings("app", "x")
	at := func(days ...int64) []LogEntry {
		var es []LogEntry
		for _, d := range days {
			es = append(es, LogEntry{Tenant: "t", Stream: ls, T: d*nsPerDay + 5})
		}
		return es
	}
	one := at(10, 11, 12)
	require.Equal(t, [][]LogEntry{one}, splitLogsByDays(one, 3))
	chunks := splitLogsByDays(at(17, 10, 13, 11, 12), 3)
	require.Equal(t, [][]LogEntry{at(10, 11, 12), at(13), at(17)}, chunks)
}

func TestLogBatchFill(t *testing.T) {
	const d = 19675 * nsPerDay
	api := labels.FromStrings("app", "api", "zone", "")
	db := labels.FromStrings("app", "db")
	cache := newSeriesCache(100)
	cache.add([]seriesKey{{tenant: "t", fp: Fingerprint(db), day: 19675}})
	var b logBatch
	b.fill([]LogEntry{
		{Tenant: "t", Stream: api, T: d + 1, Line: "a", Metadata: labels.FromStrings("k", "v")},
		{Tenant: "t", Stream: api, T: d + nsPerDay, Line: "b"},
		{Tenant: "t", Stream: db, T: d + 2, Line: "c"},
		{Tenant: "t", Stream: api, T: -1, Line: "dropped"},
		{Tenant: "t", Stream: api, T: d + 3, Line: "d"},
	}, cache)
	require.Equal(t, 1, b.dropped)
	require.Equal(t, []string{"a", "b", "c", "d"}, b.records.line)
	fp := Fingerprint(api)
	require.Equal(t, []uint64{fp, fp, Fingerprint(db), fp}, b.records.fp)
	require.Equal(t, [][]string{{"k"}, {}, {}, {}}, b.records.mdNames)
	require.Equal(t, []seriesKey{{"t", fp, 19675}, {"t", fp, 19676}}, b.keys, "db is cached; api once per day")
	require.Equal(t, [][]string{{"app", "zone"}, {"app", "zone"}}, b.streams.names)
	require.Equal(t, []string{"app", "app"}, b.index.name, "the index skips the empty label")
}

func TestLogWindows(t *testing.T) {
	require.Equal(t, [][2]int64{{0, 999}}, logWindows(0, 999, Backward, false))
	back := logWindows(0, 3199, Backward, true)
	require.Equal(t, [][2]int64{{3101, 3199}, {2903, 3100}, {2507, 2902}, {1715, 2506}, {131, 1714}, {0, 130}}, back)
	fwd := logWindows(0, 3199, Forward, true)
	require.Equal(t, [][2]int64{{0, 98}, {99, 296}, {297, 692}, {693, 1484}, {1485, 3068}, {3069, 3199}}, fwd)
	require.Equal(t, [][2]int64{{5, 5}}, logWindows(5, 5, Backward, true))
	require.Equal(t, [][2]int64{{5, 5}, {6, 6}}, logWindows(5, 6, Forward, true))
	// The whole storable range: no overflow, and the windows tile it.
	for _, dir := range []Direction{Backward, Forward} {
		ws := logWindows(MinLogTime, MaxLogTime, dir, true)
		require.LessOrEqual(t, len(ws), 7)
		covered := int64(0)
		for _, w := range ws {
			require.LessOrEqual(t, w[0], w[1])
			covered += w[1] - w[0] + 1
		}
		require.Equal(t, MaxLogTime-MinLogTime+1, covered)
	}
}
