package store

import (
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
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
	add("LabelNames", c.labelNamesSQL("t", week, nil))
	add("LabelNames with matchers", c.labelNamesSQL("t", week, []*labels.Matcher{eq("__name__", "up")}))
	add("LabelValues", c.labelValuesSQL("t", "job", week, nil))
	add("LabelValues of __name__ with matchers", c.labelValuesSQL("t", "__name__", week, []*labels.Matcher{eq("job", "api")}))
	add("LabelValues with matchers", c.labelValuesSQL("t", "instance", oneDay, []*labels.Matcher{eq("__name__", "up"), eq("job", "api")}))
	golden(t, "queries.sql", b.String())
}
