package store_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/storetest"
)

// Integration tests of the log tables; they need CAIRN_TEST_CLICKHOUSE.

const (
	nsDay  = int64(86_400_000_000_000)
	logDay = 19675 * nsDay // 2023-11-14T00:00:00Z in ns
)

var (
	apiStream = labels.FromStrings("app", "api", "env", "prod")
	dbStream  = labels.FromStrings("app", "db", "env", "prod")
	devStream = labels.FromStrings("app", "api", "env", "dev", "pod", "x-1")
)

// logCorpus is a small varied corpus: three streams, two days, lines that
// exercise every filter.
func logCorpus() []store.LogEntry {
	e := func(stream labels.Labels, t int64, line string, md ...string) store.LogEntry {
		return store.LogEntry{Tenant: "t", Stream: stream, T: t, Line: line, Metadata: labels.FromStrings(md...)}
	}
	return []store.LogEntry{
		e(apiStream, logDay+1, "GET /users 200", "trace_id", "abc"),
		e(apiStream, logDay+2, "GET /orders 500 error: timeout"),
		e(apiStream, logDay+3, `50% done_ok C:\tmp it's "quoted"`),
		e(apiStream, logDay+4, "multi\nline ERROR"),
		e(dbStream, logDay+2, "slow query took 2s", "level", "warn"),
		e(dbStream, logDay+5, "connection error"),
		e(devStream, logDay+nsDay+1, "debug hello"),
	}
}

func writeLogs(t *testing.T, c *store.Client, token string, es []store.LogEntry) {
	t.Helper()
	require.NoError(t, c.WriteLogs(context.Background(), es, token))
}

// lines returns the lines the query reads, in order.
func lines(t *testing.T, c *store.Client, q store.LogQuery) []string {
	t.Helper()
	es, err := c.ReadLogs(context.Background(), q)
	require.NoError(t, err)
	out := []string{}
	for _, e := range es {
		out = append(out, e.Line)
	}
	return out
}

func TestLogsRoundTrip(t *testing.T) {
	c := storetest.OpenTest(t)
	ctx := context.Background()
	corpus := logCorpus()
	writeLogs(t, c, "logs-0-0-7", corpus)

	es, err := c.ReadLogs(ctx, store.LogQuery{Tenant: "t", Matchers: []*labels.Matcher{eq("env", "prod")},
		Start: 0, End: math.MaxInt64, Direction: store.Forward})
	require.NoError(t, err)
	require.Len(t, es, 6)
	// Forward: by time, then by stream fingerprint at equal timestamps.
	require.Equal(t, corpus[0], es[0])
	require.Equal(t, corpus[5], es[5])
	require.Equal(t, corpus[3], es[4], "newline kept, metadata empty")
	at2 := []string{es[1].Line, es[2].Line}
	require.ElementsMatch(t, []string{corpus[1].Line, corpus[4].Line}, at2)
	require.Equal(t, labels.FromStrings("level", "warn"), findLine(t, es, "slow query took 2s").Metadata)

	for _, tc := range []struct {
		name string
		q    store.LogQuery
		want []string
	}{
		{"backward is newest first", store.LogQuery{Matchers: []*labels.Matcher{eq("app", "api")}, Start: 0, End: math.MaxInt64},
			[]string{"debug hello", "multi\nline ERROR", `50% done_ok C:\tmp it's "quoted"`, "GET /orders 500 error: timeout", "GET /users 200"}},
		{"limit backward", store.LogQuery{Matchers: []*labels.Matcher{eq("app", "api")}, Start: 0, End: math.MaxInt64, Limit: 2},
			[]string{"debug hello", "multi\nline ERROR"}},
		{"limit forward", store.LogQuery{Matchers: []*labels.Matcher{eq("app", "api")}, Start: 0, End: math.MaxInt64, Limit: 2, Direction: store.Forward},
			[]string{"GET /users 200", "GET /orders 500 error: timeout"}},
		{"time range inclusive", store.LogQuery{Matchers: []*labels.Matcher{eq("app", "api")}, Start: logDay + 2, End: logDay + 3, Direction: store.Forward},
			[]string{"GET /orders 500 error: timeout", `50% done_ok C:\tmp it's "quoted"`}},
		{"second day only", store.LogQuery{Matchers: []*labels.Matcher{re("app", ".+")}, Start: logDay + nsDay, End: logDay + 2*nsDay},
			[]string{"debug hello"}},
		{"regexp selector", store.LogQuery{Matchers: []*labels.Matcher{re("app", "d.*"), eq("env", "prod")}, Start: 0, End: math.MaxInt64},
			[]string{"connection error", "slow query took 2s"}},
		{"not-equal selector matches missing label", store.LogQuery{Matchers: []*labels.Matcher{eq("app", "api"), neq("pod", "x-1")}, Start: 0, End: math.MaxInt64, Limit: 1},
			[]string{"multi\nline ERROR"}},
		{"no stream", store.LogQuery{Matchers: []*labels.Matcher{eq("app", "nope")}, Start: 0, End: math.MaxInt64}, []string{}},
		{"empty range", store.LogQuery{Matchers: []*labels.Matcher{eq("app", "api")}, Start: 10, End: 9}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.q.Tenant = "t"
			require.Equal(t, tc.want, lines(t, c, tc.q))
		})
	}
}

func findLine(t *testing.T, es []store.LogEntry, line string) store.LogEntry {
	t.Helper()
	for _, e := range es {
		if e.Line == line {
			return e
		}
	}
	t.Fatalf("no line %q", line)
	return store.LogEntry{}
}

func TestLogLineFilters(t *testing.T) {
	c := storetest.OpenTest(t)
	writeLogs(t, c, "", logCorpus())
	f := func(op store.LineFilterOp, v string) store.LineFilter { return store.LineFilter{Op: op, Value: v} }
	const (
		users   = "GET /users 200"
		orders  = "GET /orders 500 error: timeout"
		odd     = `50% done_ok C:\tmp it's "quoted"`
		multi   = "multi\nline ERROR"
		slow    = "slow query took 2s"
		connErr = "connection error"
	)
	for _, tc := range []struct {
		name    string
		filters []store.LineFilter
		want    []string
	}{
		{"contains", []store.LineFilter{f(store.LineContains, "error")}, []string{connErr, orders}},
		{"contains is case-sensitive", []store.LineFilter{f(store.LineContains, "ERROR")}, []string{multi}},
		{"not contains", []store.LineFilter{f(store.LineNotContains, "error")}, []string{multi, odd, slow, users}},
		{"contains percent", []store.LineFilter{f(store.LineContains, "50%")}, []string{odd}},
		{"percent is literal", []store.LineFilter{f(store.LineContains, "0% d")}, []string{odd}},
		{"underscore is literal", []store.LineFilter{f(store.LineContains, "e_o")}, []string{odd}},
		{"underscore is not a wildcard", []store.LineFilter{f(store.LineContains, "GET_/")}, []string{}},
		{"backslash", []store.LineFilter{f(store.LineContains, `C:\tmp`)}, []string{odd}},
		{"quotes", []store.LineFilter{f(store.LineContains, `it's "quoted"`)}, []string{odd}},
		{"newline", []store.LineFilter{f(store.LineContains, "multi\nline")}, []string{multi}},
		{"empty contains everything", []store.LineFilter{f(store.LineContains, "")}, []string{connErr, multi, odd, orders, slow, users}},
		{"empty not contains nothing", []store.LineFilter{f(store.LineNotContains, "")}, []string{}},
		{"regexp is not anchored", []store.LineFilter{f(store.LineMatches, "[0-9]{3}")}, []string{orders, users}},
		{"regexp anchors", []store.LineFilter{f(store.LineMatches, "^GET .* 200$")}, []string{users}},
		{"regexp case-insensitive", []store.LineFilter{f(store.LineMatches, "(?i)error")}, []string{connErr, multi, orders}},
		{"regexp dot does not match newline", []store.LineFilter{f(store.LineMatches, "multi.line")}, []string{}},
		{"regexp (?s) dot matches newline", []store.LineFilter{f(store.LineMatches, "(?s)multi.line")}, []string{multi}},
		{"regexp backslash", []store.LineFilter{f(store.LineMatches, `C:\\tmp`)}, []string{odd}},
		{"regexp alternation", []store.LineFilter{f(store.LineMatches, "timeout|took")}, []string{orders, slow}},
		{"not regexp", []store.LineFilter{f(store.LineNotMatches, "error|ERROR|GET")}, []string{odd, slow}},
		{"empty regexp matches everything", []store.LineFilter{f(store.LineMatches, "")}, []string{connErr, multi, odd, orders, slow, users}},
		{"chained", []store.LineFilter{f(store.LineContains, "GET"), f(store.LineNotContains, "users"), f(store.LineMatches, "5..")}, []string{orders}},
		{"injection", []store.LineFilter{f(store.LineContains, `' OR '1'='1`)}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := lines(t, c, store.LogQuery{Tenant: "t", Matchers: []*labels.Matcher{eq("env", "prod")},
				Start: 0, End: math.MaxInt64, LineFilters: tc.filters})
			// Sort for comparison: the order is tested elsewhere.
			require.ElementsMatch(t, tc.want, got)
		})
	}

	_, err := c.ReadLogs(context.Background(), store.LogQuery{Tenant: "t", Matchers: []*labels.Matcher{eq("env", "prod")},
		End: math.MaxInt64, LineFilters: []store.LineFilter{f(store.LineMatches, "a(b")}})
	require.ErrorIs(t, err, store.ErrInvalidQuery)
	require.ErrorContains(t, err, `|~ "a(b"`)
}

func TestLogsWriteTwiceReadOnce(t *testing.T) {
	cfg := storetest.Config(t)
	c := storetest.OpenConfig(t, cfg)
	ctx := context.Background()
	batch := logCorpus()
	writeLogs(t, c, "logs-0-0-7", batch)
	writeLogs(t, c, "logs-0-0-7", batch)
	// A restarted writer, no token: only the schema and reads can help.
	again := storetest.OpenConfig(t, cfg)
	writeLogs(t, again, "", batch)
	writeLogs(t, again, "", append(batch, batch...))
	// The same line at the same time with other metadata is the same entry.
	changed := batch[0]
	changed.Metadata = labels.FromStrings("trace_id", "other")
	writeLogs(t, again, "", []store.LogEntry{changed})

	all := store.LogQuery{Tenant: "t", Matchers: []*labels.Matcher{re("app", ".+")}, End: math.MaxInt64}
	es, err := c.ReadLogs(ctx, all)
	require.NoError(t, err)
	require.Len(t, es, len(batch))
	counts, err := c.CountLogs(ctx, all, math.MaxInt64)
	require.NoError(t, err)
	var n uint64
	for _, sc := range counts {
		for _, p := range sc.Points {
			n += p.Count
		}
	}
	require.Equal(t, uint64(len(batch)), n)
	refs, err := c.SelectStreams(ctx, "t", 0, math.MaxInt64, re("app", ".+"))
	require.NoError(t, err)
	require.Len(t, refs, 3)
	values, err := c.LogLabelValues(ctx, "t", "app", 0, math.MaxInt64)
	require.NoError(t, err)
	require.Equal(t, []string{"api", "db"}, values)
}

func TestCountLogs(t *testing.T) {
	c := storetest.OpenTest(t)
	ctx := context.Background()
	const step = 10
	var batch []store.LogEntry
	// Entries at logDay+1 … logDay+25 with lines of 1, 2, 3, … bytes.
	for i := int64(1); i <= 25; i++ {
		batch = append(batch, store.LogEntry{Tenant: "t", Stream: apiStream, T: logDay + i, Line: strings.Repeat("x", int(i))})
	}
	batch = append(batch, store.LogEntry{Tenant: "t", Stream: dbStream, T: logDay + 3, Line: "error"})
	writeLogs(t, c, "", batch)

	// Buckets end at logDay+25, +15, +5: (-5, 5], (5, 15], (15, 25].
	q := store.LogQuery{Tenant: "t", Matchers: []*labels.Matcher{eq("env", "prod")}, Start: logDay, End: logDay + 25}
	got, err := c.CountLogs(ctx, q, step)
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, apiStream, got[0].Stream.Labels)
	require.Equal(t, store.Fingerprint(apiStream), got[0].Stream.Fingerprint)
	require.Equal(t, []store.CountPoint{
		{T: logDay + 5, Count: 5, Bytes: 1 + 2 + 3 + 4 + 5},
		{T: logDay + 15, Count: 10, Bytes: 6 + 7 + 8 + 9 + 10 + 11 + 12 + 13 + 14 + 15},
		{T: logDay + 25, Count: 10, Bytes: 16 + 17 + 18 + 19 + 20 + 21 + 22 + 23 + 24 + 25},
	}, got[0].Points)
	require.Equal(t, []store.CountPoint{{T: logDay + 5, Count: 1, Bytes: 5}}, got[1].Points)

	// With a line filter and a range that cuts a bucket.
	q.Start, q.End = logDay+12, logDay+22
	q.LineFilters = []store.LineFilter{{Op: store.LineNotContains, Value: "error"}}
	got, err = c.CountLogs(ctx, q, step)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, []store.CountPoint{
		{T: logDay + 12, Count: 1, Bytes: 12},
		{T: logDay + 22, Count: 10, Bytes: 13 + 14 + 15 + 16 + 17 + 18 + 19 + 20 + 21 + 22},
	}, got[0].Points)

	_, err = c.CountLogs(ctx, q, 0)
	require.ErrorIs(t, err, store.ErrInvalidQuery)
}

func TestLogLabels(t *testing.T) {
	c := storetest.OpenTest(t)
	ctx := context.Background()
	writeLogs(t, c, "", logCorpus())
	all := [2]int64{0, math.MaxInt64}
	first := [2]int64{logDay, logDay + nsDay - 1}
	second := [2]int64{logDay + nsDay, logDay + 2*nsDay}
	for _, tc := range []struct {
		name  string
		label string // "" for LogLabelNames
		rng   [2]int64
		ms    []*labels.Matcher
		want  []string
	}{
		{"names", "", all, nil, []string{"app", "env", "pod"}},
		{"names on day 1", "", first, nil, []string{"app", "env"}},
		{"names of matched streams", "", all, []*labels.Matcher{eq("env", "dev")}, []string{"app", "env", "pod"}},
		{"names of matched streams on day 1", "", first, []*labels.Matcher{eq("app", "api")}, []string{"app", "env"}},
		{"names of no stream", "", all, []*labels.Matcher{eq("app", "none")}, []string{}},
		{"values", "app", all, nil, []string{"api", "db"}},
		{"values on day 2", "env", second, nil, []string{"dev"}},
		{"values of matched streams", "env", all, []*labels.Matcher{eq("app", "api")}, []string{"dev", "prod"}},
		{"values of matched streams by regexp", "app", all, []*labels.Matcher{re("env", "pr.*")}, []string{"api", "db"}},
		{"values of a missing label", "nope", all, nil, []string{}},
		{"values of a label missing in matched streams", "pod", all, []*labels.Matcher{eq("env", "prod")}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			var err error
			if tc.label == "" {
				got, err = c.LogLabelNames(ctx, "t", tc.rng[0], tc.rng[1], tc.ms...)
			} else {
				got, err = c.LogLabelValues(ctx, "t", tc.label, tc.rng[0], tc.rng[1], tc.ms...)
			}
			require.NoError(t, err)
			if got == nil {
				got = []string{}
			}
			require.Equal(t, tc.want, got)
		})
	}

	refs, err := c.SelectStreams(ctx, "t", 0, math.MaxInt64, re("app", "api|db"))
	require.NoError(t, err)
	var got []string
	for _, r := range refs {
		require.Equal(t, store.Fingerprint(r.Labels), r.Fingerprint)
		got = append(got, r.Labels.String())
	}
	require.Equal(t, []string{devStream.String(), apiStream.String(), dbStream.String()}, got)
}

func TestLogsTenantIsolation(t *testing.T) {
	c := storetest.OpenTest(t)
	ctx := context.Background()
	writeLogs(t, c, "", logCorpus())
	q := store.LogQuery{Tenant: "other", Matchers: []*labels.Matcher{re("app", ".+")}, End: math.MaxInt64}
	es, err := c.ReadLogs(ctx, q)
	require.NoError(t, err)
	require.Empty(t, es)
	counts, err := c.CountLogs(ctx, q, nsDay)
	require.NoError(t, err)
	require.Empty(t, counts)
	refs, err := c.SelectStreams(ctx, "other", 0, math.MaxInt64)
	require.NoError(t, err)
	require.Empty(t, refs)
	names, err := c.LogLabelNames(ctx, "other", 0, math.MaxInt64)
	require.NoError(t, err)
	require.Empty(t, names)
	names, err = c.LogLabelNames(ctx, "other", 0, math.MaxInt64, eq("app", "api"))
	require.NoError(t, err)
	require.Empty(t, names)
	values, err := c.LogLabelValues(ctx, "other", "app", 0, math.MaxInt64)
	require.NoError(t, err)
	require.Empty(t, values)
	values, err = c.LogLabelValues(ctx, "other", "env", 0, math.MaxInt64, eq("app", "api"))
	require.NoError(t, err)
	require.Empty(t, values)
}

func TestReadLogsManyStreams(t *testing.T) {
	c := storetest.OpenTest(t)
	// More streams than one records query names: the chunks' results
	// merge into one order and one limit.
	const n = 9000
	batch := make([]store.LogEntry, n)
	for i := range batch {
		batch[i] = store.LogEntry{Tenant: "t", Stream: labels.FromStrings("app", "many", "i", fmt.Sprint(i)),
			T: logDay + int64(i), Line: fmt.Sprint("line ", i)}
	}
	writeLogs(t, c, "", batch)
	q := store.LogQuery{Tenant: "t", Matchers: []*labels.Matcher{eq("app", "many")}, End: math.MaxInt64, Limit: 3}
	require.Equal(t, []string{"line 8999", "line 8998", "line 8997"}, lines(t, c, q))
	q.Direction = store.Forward
	require.Equal(t, []string{"line 0", "line 1", "line 2"}, lines(t, c, q))
	q.Limit = 0
	require.Len(t, lines(t, c, q), n)
}

func TestWriteLogsManyDays(t *testing.T) {
	c := storetest.OpenTest(t)
	var batch []store.LogEntry
	// 70 days: more than one insert may touch, so two inserts.
	for d := range int64(70) {
		batch = append(batch, store.LogEntry{Tenant: "t", Stream: apiStream, T: logDay + d*nsDay, Line: fmt.Sprint(d)})
	}
	// Out of range: dropped, not an error.
	batch = append(batch, store.LogEntry{Tenant: "t", Stream: apiStream, T: -1, Line: "before"},
		store.LogEntry{Tenant: "t", Stream: apiStream, T: store.MaxLogTime + 1, Line: "after"})
	writeLogs(t, c, "backfill-0-0-1", batch)
	got := lines(t, c, store.LogQuery{Tenant: "t", Matchers: []*labels.Matcher{eq("app", "api")}, End: math.MaxInt64, Direction: store.Forward})
	require.Len(t, got, 70)
	require.Equal(t, "0", got[0])
	require.Equal(t, "69", got[69])
}

func TestReadLogsWindows(t *testing.T) {
	c := storetest.OpenTest(t)
	// Entries spread so that a limited read crosses several windows.
	var batch []store.LogEntry
	for _, off := range []int64{0, 50, 1000, 3000, 3150, 3199, 3199} {
		batch = append(batch, store.LogEntry{Tenant: "t", Stream: apiStream, T: logDay + off, Line: fmt.Sprint(off)},
			store.LogEntry{Tenant: "t", Stream: dbStream, T: logDay + off, Line: fmt.Sprint(off)})
	}
	writeLogs(t, c, "", batch)
	q := store.LogQuery{Tenant: "t", Matchers: []*labels.Matcher{eq("app", "api")}, Start: logDay, End: logDay + 3199, Limit: 4}
	require.Equal(t, []string{"3199", "3150", "3000", "1000"}, lines(t, c, q))
	q.Direction = store.Forward
	require.Equal(t, []string{"0", "50", "1000", "3000"}, lines(t, c, q))
	q.Limit = 100
	require.Equal(t, []string{"0", "50", "1000", "3000", "3150", "3199"}, lines(t, c, q))
	q.Matchers, q.Limit, q.Direction = []*labels.Matcher{eq("env", "prod")}, 3, store.Backward
	require.Equal(t, []string{"3199", "3199", "3150"}, lines(t, c, q))
}

func BenchmarkWriteLogs(b *testing.B) {
	c := storetest.OpenTest(b)
	ctx := context.Background()
	const streams, perStream = 100, 100
	batch := make([]store.LogEntry, 0, streams*perStream)
	for s := range streams {
		stream := labels.FromStrings("app", "bench", "pod", fmt.Sprint("pod-", s))
		for i := range perStream {
			batch = append(batch, store.LogEntry{Tenant: "bench", Stream: stream,
				Line:     fmt.Sprintf("level=info msg=\"request served\" path=/api/v1/items/%d status=200 duration=%dms", i, i%97),
				Metadata: labels.FromStrings("trace_id", fmt.Sprintf("%016x", s*perStream+i))})
		}
	}
	t := logDay
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for i := range batch {
			t++
			batch[i].T = t
		}
		if err := c.WriteLogs(ctx, batch, ""); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "lines/s")
}

func BenchmarkReadLogs(b *testing.B) {
	c := storetest.OpenTest(b)
	ctx := context.Background()
	var batch []store.LogEntry
	for i := range 100_000 {
		batch = append(batch, store.LogEntry{Tenant: "bench", Stream: labels.FromStrings("app", "bench", "pod", fmt.Sprint("pod-", i%50)),
			T: logDay + int64(i)*1_000_000, Line: fmt.Sprintf("request %d status=%d", i, 200+i%7*50)})
	}
	if err := c.WriteLogs(ctx, batch, ""); err != nil {
		b.Fatal(err)
	}
	q := store.LogQuery{Tenant: "bench", Matchers: []*labels.Matcher{eq("app", "bench")}, Start: logDay, End: logDay + nsDay - 1,
		LineFilters: []store.LineFilter{{Op: store.LineContains, Value: "status=500"}}, Limit: 1000}
	b.ReportAllocs()
	for b.Loop() {
		es, err := c.ReadLogs(ctx, q)
		if err != nil || len(es) != 1000 {
			b.Fatal(len(es), err)
		}
	}
}
