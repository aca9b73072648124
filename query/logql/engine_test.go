package logql

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

const t0 = int64(1_700_000_000_000_000_000) // ns

func sec(s int64) int64 { return t0 + s*int64(time.Second) }

func entry(t int64, line string, stream ...string) store.LogEntry {
	return store.LogEntry{Tenant: "t", Stream: labels.FromStrings(stream...), T: t, Line: line}
}

func query(t *testing.T, e *Engine, q string, p Params) *Result {
	t.Helper()
	expr, err := Parse(q)
	require.NoError(t, err)
	p.Tenant = "t"
	res, err := e.Query(context.Background(), expr, p)
	require.NoError(t, err)
	return res
}

func matrixString(v any) string {
	m := v.(promql.Matrix)
	s := ""
	for _, sr := range m {
		s += sr.Metric.String() + ":"
		for _, p := range sr.Floats {
			s += fmt.Sprintf(" %d=%g", (p.T*1e6-t0)/int64(time.Second), p.F)
		}
		s += "\n"
	}
	return s
}

func TestRangeWindows(t *testing.T) {
	r := &memReader{entries: []store.LogEntry{
		entry(sec(0), "a", "app", "x"),    // in (−60, 0] only
		entry(sec(60), "b", "app", "x"),   // in (0, 60]: the end is inclusive
		entry(sec(61), "c", "app", "x"),   // in (60, 120]
		entry(sec(120), "dd", "app", "x"), // in (60, 120]
	}}
	e := NewEngine(r, Limits{})
	for _, q := range []string{`count_over_time({app="x"}[1m])`, `count_over_time({app="x"} | __error__="" [1m])`} {
		res := query(t, e, q, Params{Start: sec(0), End: sec(150), Step: time.Minute})
		require.Equal(t, "{app=\"x\"}: 0=1 60=1 120=2\n", matrixString(res.Value), q)
	}
	res := query(t, e, `bytes_over_time({app="x"}[2m])`, Params{Start: sec(120), End: sec(120)})
	require.Equal(t, `{app="x"} => 4 @[1700000120000]`, res.Value.(promql.Vector)[0].String())
	res = query(t, e, `rate({app="x"}[1m] offset 1m)`, Params{Start: sec(120), End: sec(120)})
	require.Equal(t, 1.0/60, res.Value.(promql.Vector)[0].F)
}

// TestCountPushdownMatchesGo compares the ClickHouse path (CountLogs) with
// the Go path over random lines, ranges, steps and offsets.
func TestCountPushdownMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	r := &memReader{}
	for i := range 2000 {
		app := []string{"a", "b", "c"}[rng.IntN(3)]
		r.entries = append(r.entries, entry(sec(rng.Int64N(3600)), fmt.Sprintf("line %d %s", i, []string{"info", "error"}[rng.IntN(2)]), "app", app, "env", "prod"))
	}
	e := NewEngine(r, Limits{})
	for _, op := range []string{"count_over_time", "rate", "bytes_over_time", "bytes_rate"} {
		for _, rs := range [][3]string{{"1m", "60", ""}, {"5m", "60", ""}, {"1m", "300", ""}, {"90s", "40", " offset 30s"}, {"7m", "60", " offset 1m"}} {
			params := Params{Start: sec(300), End: sec(3599), Step: mustDuration(rs[1] + "s")}
			pushed := fmt.Sprintf(`sum by (app) (%s({env="prod"} |= "error" | drop env [%s]%s))`, op, rs[0], rs[2])
			inGo := fmt.Sprintf(`sum by (app) (%s({env="prod"} |= "error" | __error__="" [%s]%s))`, op, rs[0], rs[2])
			r.counts, r.reads = 0, 0
			a := query(t, e, pushed, params)
			require.Equal(t, 1, r.counts)
			require.Zero(t, r.reads)
			b := query(t, e, inGo, params)
			require.Equal(t, matrixString(b.Value), matrixString(a.Value), pushed)
			require.NotEmpty(t, matrixString(a.Value))
		}
	}
}

func mustDuration(s string) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		panic(err)
	}
	return d
}

// TestScanBatches reads in batches smaller than the runs of entries that
// share a timestamp.
func TestScanBatches(t *testing.T) {
	r := &memReader{}
	for i := range 50 {
		for j := range 7 { // seven lines per timestamp
			r.entries = append(r.entries, entry(sec(int64(i)), fmt.Sprintf(`{"i":%d,"j":%d}`, i, j), "app", "x"))
		}
	}
	e := NewEngine(r, Limits{})
	e.batch = 5
	res := query(t, e, `{app="x"} | json | j="3"`, Params{Start: sec(0), End: sec(50), Limit: 20, Direction: store.Forward})
	require.Len(t, res.Streams, 20, "one stream per i")
	require.Equal(t, `{app="x", i="0", j="3"}`, res.Streams[0].Labels.String())
	require.Equal(t, `{app="x", i="1", j="3"}`, res.Streams[1].Labels.String())
	require.Equal(t, `{app="x", i="10", j="3"}`, res.Streams[2].Labels.String(), "streams sorted by label text")
	require.Equal(t, `{app="x", i="9", j="3"}`, res.Streams[19].Labels.String())
	res = query(t, e, `{app="x"} | json | j="3" | line_format "{{.i}}"`, Params{Start: sec(0), End: sec(50), Limit: 20, Direction: store.Backward})
	var got []string
	for _, s := range res.Streams {
		for _, en := range s.Entries {
			got = append(got, en.Line)
		}
	}
	require.Len(t, got, 20)
	require.Contains(t, got, "49")
	require.Contains(t, got, "30")
	require.NotContains(t, got, "29")

	res = query(t, e, `sum(count_over_time({app="x"} | json | j!="0" [1m]))`, Params{Start: sec(59), End: sec(59)})
	require.Equal(t, "300", fmt.Sprint(res.Value.(promql.Vector)[0].F))

	e.limits.MaxScanLines = 100
	expr, _ := Parse(`count_over_time({app="x"} | json [1m])`)
	_, err := e.Query(context.Background(), expr, Params{Tenant: "t", Start: sec(59), End: sec(59)})
	require.ErrorContains(t, err, "more than 100 log lines")
}

func TestMetricQueries(t *testing.T) {
	r := &memReader{entries: []store.LogEntry{
		entry(sec(1), `level=info path=/a took=100ms size=1KB`, "app", "api", "pod", "p1"),
		entry(sec(2), `level=error path=/a took=300ms size=2KB`, "app", "api", "pod", "p1"),
		entry(sec(3), `level=info path=/b took=1s size=3KB`, "app", "api", "pod", "p2"),
		entry(sec(4), `level=info path=/b took=2s size=4KB`, "app", "api", "pod", "p2"),
		entry(sec(5), `level=info path=/c took=bad size=5KB`, "app", "api", "pod", "p2"),
	}}
	e := NewEngine(r, Limits{})
	at := Params{Start: sec(10), End: sec(10)}
	for _, tc := range []struct{ q, want string }{
		{`sum by (pod) (count_over_time({app="api"}[1m]))`, `{pod="p1"} => 2, {pod="p2"} => 3`},
		{`count without (pod) (count_over_time({app="api"}[1m]))`, `{app="api"} => 2`},
		{`topk(1, count_over_time({app="api"}[1m]))`, `{app="api", pod="p2"} => 3`},
		{`bottomk(1, count_over_time({app="api"}[1m]))`, `{app="api", pod="p1"} => 2`},
		{`max(count_over_time({app="api"}[1m]))`, `{} => 3`},
		{`min(count_over_time({app="api"}[1m]))`, `{} => 2`},
		{`avg(count_over_time({app="api"}[1m]))`, `{} => 2.5`},
		{`sum by (level) (count_over_time({app="api"} | logfmt [1m]))`, `{level="error"} => 1, {level="info"} => 4`},
		{`sum_over_time({app="api"} | logfmt | unwrap duration(took) | __error__="" [1m]) by (pod)`, `{pod="p1"} => 0.4, {pod="p2"} => 3`},
		{`avg_over_time({app="api"} | logfmt | unwrap bytes(size) [1m]) by (path)`, `{path="/a"} => 1500, {path="/b"} => 3500, {path="/c"} => 5000`},
		{`max_over_time({app="api"} | logfmt | unwrap duration_seconds(took) | __error__="" [1m]) without (took, size, level, path)`, `{app="api", pod="p1"} => 0.3, {app="api", pod="p2"} => 2`},
		{`quantile_over_time(0.5, {app="api"} | logfmt | unwrap bytes(size) [1m]) by (app)`, `{app="api"} => 3000`},
		{`first_over_time({app="api"} | logfmt | unwrap bytes(size) [1m]) by (app)`, `{app="api"} => 1000`},
		{`last_over_time({app="api"} | logfmt | unwrap bytes(size) [1m]) by (app)`, `{app="api"} => 5000`},
		{`stddev_over_time({app="api"} | logfmt | unwrap bytes(size) [1m]) by (app)`, `{app="api"} => 1414.213562373095`},
		{`sum(rate({app="api"} | logfmt | level="info" [1m]))`, `{} => 0.06666666666666667`},
		{`sum(count_over_time({app="api"}[1m])) / 5`, `{} => 1`},
		{`10 - sum(count_over_time({app="api"}[1m])) * 2`, `{} => 0`},
		{`count_over_time({app="api"}[1m]) > 2`, `{app="api", pod="p2"} => 3`},
		{`2 < count_over_time({app="api"}[1m])`, `{app="api", pod="p2"} => 3`},
		{`count_over_time({app="api"}[1m]) > bool 2`, `{app="api", pod="p1"} => 0, {app="api", pod="p2"} => 1`},
		{`sum by (pod) (count_over_time({app="api"}[1m])) / on (pod) count_over_time({app="api"}[1m])`, `{pod="p1"} => 1, {pod="p2"} => 1`},
		{`sum by (app) (count_over_time({app="api"}[1m])) + ignoring (pod) count_over_time({app="api", pod="p1"}[1m])`, `{app="api"} => 7`},
		{`count_over_time({app="api"}[1m]) and count_over_time({app="api", pod="p1"}[1m])`, `{app="api", pod="p1"} => 2`},
		{`count_over_time({app="api"}[1m]) unless count_over_time({app="api", pod="p1"}[1m])`, `{app="api", pod="p2"} => 3`},
		{`sum(count_over_time({app="nope"}[1m])) or vector(0)`, `{} => 0`},
		{`count_over_time({app="api", pod="p1"}[1m]) or count_over_time({app="api"}[1m])`, `{app="api", pod="p1"} => 2, {app="api", pod="p2"} => 3`},
	} {
		res := query(t, e, tc.q, at)
		s := ""
		for i, smp := range res.Value.(promql.Vector) {
			if i > 0 {
				s += ", "
			}
			s += fmt.Sprintf("%s => %v", smp.Metric, smp.F)
		}
		require.Equal(t, tc.want, s, tc.q)
	}

	res := query(t, e, `2 * 3 ^ 2`, at)
	require.Equal(t, promql.Scalar{T: sec(10) / 1e6, V: 18}, res.Value)
	expr, err := Parse(`count_over_time({app="api"}[1m]) + ignoring (pod) count_over_time({app="api"}[1m])`)
	require.NoError(t, err)
	_, err = e.Query(context.Background(), expr, Params{Tenant: "t", Start: sec(10), End: sec(10)})
	require.ErrorContains(t, err, "many-to-many matching not allowed")

	expr, _ = Parse(`sum(sum_over_time({app="api"} | logfmt | unwrap duration(took) [1m]))`)
	_, err = e.Query(context.Background(), expr, Params{Tenant: "t", Start: sec(10), End: sec(10)})
	require.ErrorContains(t, err, "pipeline error: 'SampleExtractionErr' for series: '{__error__=\"SampleExtractionErr\", __error_details__=\"time: invalid duration \\\"bad\\\"\", app=\"api\", level=\"info\", path=\"/c\", pod=\"p2\", size=\"5KB\"}'")

	expr, _ = Parse(`{app="api"}`)
	_, err = e.Query(context.Background(), expr, Params{Tenant: "t", Start: sec(10), End: sec(10)})
	require.ErrorIs(t, err, ErrInstantLogQuery)

	e.limits.MaxSeries = 1
	expr, _ = Parse(`count_over_time({app="api"}[1m])`)
	_, err = e.Query(context.Background(), expr, Params{Tenant: "t", Start: sec(10), End: sec(10)})
	require.ErrorContains(t, err, "maximum of series (1) reached")
}
