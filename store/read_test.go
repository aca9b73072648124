package store

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"
)

// TestQueries pins the SQL of every read shape in testdata/queries.sql,
// which doubles as their documentation; doc.go explains what each reads.
func TestQueries(t *testing.T) {
	c := &Client{db: "cairn"}
	eq := func(n, v string) *labels.Matcher { return labels.MustNewMatcher(labels.MatchEqual, n, v) }
	re := func(n, v string) *labels.Matcher { return labels.MustNewMatcher(labels.MatchRegexp, n, v) }
	nre := func(n, v string) *labels.Matcher { return labels.MustNewMatcher(labels.MatchNotRegexp, n, v) }
	oneDay := dayRange{first: 19675, last: 19675}
	week := dayRange{first: 19675, last: 19681}
	var b strings.Builder
	add := func(name, query string) {
		b.WriteString("-- " + name + "\n" + query + ";\n\n")
	}
	add("SelectSeries up{job=\"api\"}: metric name on the sort key",
		c.selectSeriesSQL("t", oneDay, []*labels.Matcher{eq("__name__", "up"), eq("job", "api")}))
	add("SelectSeries {job=~\"api|db\", instance!~\"test.*\"}: no metric name, label index first",
		c.selectSeriesSQL("t", week, []*labels.Matcher{re("job", "api|db"), nre("instance", "test.*")}))
	add("SelectSeries {__name__=~\"http_.*\", env=\"\"}: nothing for the index",
		c.selectSeriesSQL("t", week, []*labels.Matcher{re("__name__", "http_.*"), eq("env", "")}))
	add("ReadSamples", c.samplesSQL("t", []uint64{1, 18446744073709551615}, 1699920000000, 1700006399999))
	add("ReadHistograms", c.histogramsSQL("t", []uint64{1, 18446744073709551615}, 1699920000000, 1700006399999))
	add("LabelNames", c.labelNamesSQL("t", week, nil))
	add("LabelNames with matchers", c.labelNamesSQL("t", week, []*labels.Matcher{eq("__name__", "up")}))
	add("LabelValues", c.labelValuesSQL("t", "job", week, nil))
	add("LabelValues of __name__ with matchers", c.labelValuesSQL("t", "__name__", week, []*labels.Matcher{eq("job", "api")}))
	add("LabelValues with matchers", c.labelValuesSQL("t", "instance", oneDay, []*labels.Matcher{eq("__name__", "up"), eq("job", "api")}))
	add("ReadRollup", c.rollupSQL("t", []uint64{1, 18446744073709551615}, 1699920000000, 1700006399999))
	add("WriteMetrics: minutes of cold series from samples", c.minutesSinceSQL("t", []uint64{1, 2}, 1699920000000))
	add("RecomputeRollups of 2023-11-14 (drop, then insert)", c.dropRollupDaySQL(time.Date(2023, 11, 14, 0, 0, 0, 0, time.UTC))+
		";\n"+c.recomputeRollupSQL(19675))
	addLogQueries(t, c, add)
	add("ReadBuilds all of a week", c.readBuildsSQL(BuildQuery{Tenant: "t", From: 1699920000000, To: 1700524799999}))
	add("ReadAlertStates service=api firing and resolved of a week", c.readAlertStatesSQL(AlertQuery{Tenant: "t",
		Service: "api", From: 1699920000000, To: 1700524799999, States: []string{AlertFiring, AlertResolved}}))
	add("ReadBuilds service=api kind=deploy status=success, limit 50", c.readBuildsSQL(BuildQuery{Tenant: "t",
		Service: "api", Kind: KindDeploy, Status: StatusSuccess, From: 1699920000000, To: 1700524799999, Limit: 50}))
	golden(t, "queries.sql", b.String())
}

// addLogQueries adds the read shapes of the log tables.
func addLogQueries(t *testing.T, c *Client, add func(name, query string)) {
	eq := func(n, v string) *labels.Matcher { return labels.MustNewMatcher(labels.MatchEqual, n, v) }
	re := func(n, v string) *labels.Matcher { return labels.MustNewMatcher(labels.MatchRegexp, n, v) }
	oneDay := dayRange{first: 19675, last: 19675}
	week := dayRange{first: 19675, last: 19681}
	const start, end = 1699920000000000000, 1700006399999999999
	add("SelectStreams {app=\"api\", env=~\"prod|staging\"}: label index first",
		c.selectStreamsSQL("t", oneDay, []*labels.Matcher{eq("app", "api"), re("env", "prod|staging")}))
	add("SelectStreams {app=~\"api-.*\"}: label index range of one label",
		c.selectStreamsSQL("t", week, []*labels.Matcher{re("app", "api-.*")}))
	filters, err := lineFiltersSQL([]LineFilter{{LineContains, "error"}, {LineNotContains, "timeout"}, {LineMatches, "(?i)status=5.."}, {LineNotMatches, "health"}})
	if err != nil {
		t.Fatal(err)
	}
	add("ReadLogs backward, limit 100, |= \"error\" != \"timeout\" |~ \"(?i)status=5..\" !~ \"health\"",
		c.readLogsSQL("t", []uint64{1, 2}, start, end, filters, Backward, 100))
	add("ReadLogs forward, no limit", c.readLogsSQL("t", []uint64{1}, start, end, "", Forward, 0))
	add("CountLogs, step 1m", c.countLogsSQL("t", []uint64{1, 2}, start, end, 60_000_000_000, filters))
	add("LogLabelNames", c.logLabelNamesSQL("t", week, nil))
	add("LogLabelNames with matchers", c.logLabelNamesSQL("t", week, []*labels.Matcher{eq("app", "api")}))
	add("LogLabelValues", c.logLabelValuesSQL("t", "env", week, nil))
	add("LogLabelValues with matchers", c.logLabelValuesSQL("t", "env", week, []*labels.Matcher{eq("app", "api")}))
}

func TestSortSamples(t *testing.T) {
	s := func(ts ...int64) []Sample {
		out := make([]Sample, len(ts))
		for i, x := range ts {
			out[i] = Sample{T: x, V: float64(x)}
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		in, out []Sample
	}{
		{"empty", nil, nil},
		{"sorted", s(1, 2, 3), s(1, 2, 3)},
		{"two parts", s(4, 5, 6, 1, 2, 3), s(1, 2, 3, 4, 5, 6)},
		{"interleaved parts", s(1, 3, 5, 2, 4, 6), s(1, 2, 3, 4, 5, 6)},
		{"written twice", s(1, 2, 3, 1, 2, 3), s(1, 2, 3)},
		{"duplicate inside a run", s(1, 2, 2, 3), s(1, 2, 3)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.out, sortSamples(tc.in))
		})
	}
}

// TestSampleArena feeds rows as ClickHouse sends them — runs of one
// series, a series in several runs (one per part), runs crossing block
// boundaries — and checks each series comes out whole, sorted and
// without repeats, and that appending to one series' slice leaves the
// others intact.
func TestSampleArena(t *testing.T) {
	type row struct {
		fp uint64
		t  int64
	}
	var rows []row
	want := map[uint64][]Sample{}
	// fp 1: one long run crossing several blocks; fp 2: two parts, the
	// later one first; fp 3: interleaved with fp 2 and written twice;
	// fp 4: one sample.
	for i := range int64(3 * maxArenaBlock) {
		rows = append(rows, row{1, i})
		want[1] = append(want[1], Sample{T: i, V: float64(i)})
	}
	for _, part := range [][2]int64{{100, 200}, {0, 100}} {
		for i := part[0]; i < part[1]; i++ {
			rows = append(rows, row{2, i})
		}
		for i := part[0]; i < part[1]; i++ {
			rows = append(rows, row{3, i}, row{3, i})
		}
	}
	for i := range int64(200) {
		want[2] = append(want[2], Sample{T: i, V: float64(i)})
		want[3] = append(want[3], Sample{T: i, V: float64(i)})
	}
	rows = append(rows, row{4, 7})
	want[4] = []Sample{{T: 7, V: 7}}

	var a sampleArena
	for _, r := range rows {
		a.add(r.fp, Sample{T: r.t, V: float64(r.t)})
	}
	got := a.bySeries()
	require.Equal(t, want, got)
	for fp := range got {
		got[fp] = append(got[fp], Sample{T: -1})
	}
	for fp, ss := range got {
		require.Equal(t, want[fp], ss[:len(ss)-1], "series %d after appending to every series", fp)
	}
}
