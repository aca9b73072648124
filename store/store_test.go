package store_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/storetest"
)

// Integration tests: they need CAIRN_TEST_CLICKHOUSE (see storetest).

const (
	day  = 86_400_000
	day1 = 19675 * day // 2023-11-14T00:00:00Z
	day2 = day1 + day
	day3 = day2 + day
)

var stale = math.Float64frombits(value.StaleNaN)

func samples(ts ...int64) []store.Sample {
	out := make([]store.Sample, len(ts))
	for i, t := range ts {
		out[i] = store.Sample{T: t, V: float64(i + 1)}
	}
	return out
}

func write(t *testing.T, c *store.Client, token string, ss ...store.Series) {
	t.Helper()
	require.NoError(t, c.WriteSeries(context.Background(), ss, token))
}

func eq(n, v string) *labels.Matcher  { return labels.MustNewMatcher(labels.MatchEqual, n, v) }
func neq(n, v string) *labels.Matcher { return labels.MustNewMatcher(labels.MatchNotEqual, n, v) }
func re(n, v string) *labels.Matcher  { return labels.MustNewMatcher(labels.MatchRegexp, n, v) }
func nre(n, v string) *labels.Matcher { return labels.MustNewMatcher(labels.MatchNotRegexp, n, v) }

// selectStrings returns the selected series as strings, in result order.
func selectStrings(t *testing.T, c *store.Client, tenant string, mint, maxt int64, ms ...*labels.Matcher) []string {
	t.Helper()
	refs, err := c.SelectSeries(context.Background(), tenant, mint, maxt, ms...)
	require.NoError(t, err)
	out := []string{}
	for _, r := range refs {
		require.Equal(t, store.Fingerprint(r.Labels), r.Fingerprint, r.Labels.String())
		out = append(out, r.Labels.String())
	}
	return out
}

func TestMigrate(t *testing.T) {
	ctx := context.Background()
	cfg := storetest.Config(t)
	c := storetest.OpenConfig(t, cfg)

	require.NoError(t, c.Migrate(ctx), "second run")
	v, err := c.SchemaVersion(ctx)
	require.NoError(t, err)
	require.Equal(t, store.LatestMigration(), v)

	// A newer Cairn migrated the database further.
	require.NoError(t, c.RecordMigrationForTest(ctx, 99))
	old, err := store.Open(ctx, cfg, storetest.Logger(t))
	require.NoError(t, err)
	defer old.Close()
	err = old.Migrate(ctx)
	require.ErrorIs(t, err, store.ErrSchemaTooNew)
	require.ErrorContains(t, err, fmt.Sprintf("database records migration 99, this binary knows migrations up to %d", store.LatestMigration()))
}

func TestOpenUnreachable(t *testing.T) {
	storetest.Addr(t) // only with the integration tests
	cfg := storetest.Config(t)
	cfg.Addr = "127.0.0.1:1" // nothing listens on port 1
	_, err := store.Open(context.Background(), cfg, storetest.Logger(t))
	require.Error(t, err)
}

func TestServerVersion(t *testing.T) {
	c := storetest.OpenTest(t)
	v := c.ServerVersion()
	t.Log("server version", v)
	require.True(t, v.AtLeast(18, 16), v.String())
	require.NoError(t, c.Ping(context.Background()))
}

func TestSelectSeries(t *testing.T) {
	c := storetest.OpenTest(t)
	ctx := context.Background()
	write(t, c, "",
		store.Series{Tenant: "t", Labels: labels.FromStrings("__name__", "up", "job", "api", "instance", "a"), Samples: samples(day1 + 1000)},
		store.Series{Tenant: "t", Labels: labels.FromStrings("__name__", "up", "job", "api", "instance", "b"), Samples: samples(day1 + 1000)},
		store.Series{Tenant: "t", Labels: labels.FromStrings("__name__", "up", "job", "db", "instance", "c"), Samples: samples(day1 + 1000)},
		store.Series{Tenant: "t", Labels: labels.FromStrings("__name__", "up", "instance", "d"), Samples: samples(day1 + 1000)},
		store.Series{Tenant: "t", Labels: labels.FromStrings("__name__", "http_requests_total", "job", "api", "path", `/it's\odd`), Samples: samples(day1 + 1000)},
		store.Series{Tenant: "t", Labels: labels.FromStrings("__name__", "multi", "text", "line\nbreak"), Samples: samples(day1 + 1000)},
	)
	const (
		upA   = `{__name__="up", instance="a", job="api"}`
		upB   = `{__name__="up", instance="b", job="api"}`
		upC   = `{__name__="up", instance="c", job="db"}`
		upD   = `{__name__="up", instance="d"}`
		http  = `{__name__="http_requests_total", job="api", path="/it's\\odd"}`
		multi = `{__name__="multi", text="line\nbreak"}`
	)
	for _, tc := range []struct {
		name string
		ms   []*labels.Matcher
		want []string
	}{
		{"metric name", []*labels.Matcher{eq("__name__", "up")}, []string{upA, upB, upC, upD}},
		{"name and label", []*labels.Matcher{eq("__name__", "up"), eq("job", "api")}, []string{upA, upB}},
		{"label only", []*labels.Matcher{eq("job", "api")}, []string{http, upA, upB}},
		{"not equal matches missing", []*labels.Matcher{eq("__name__", "up"), neq("job", "api")}, []string{upC, upD}},
		{"empty matches missing", []*labels.Matcher{eq("__name__", "up"), eq("job", "")}, []string{upD}},
		{"not empty", []*labels.Matcher{eq("__name__", "up"), neq("job", "")}, []string{upA, upB, upC}},
		{"regexp is anchored", []*labels.Matcher{re("job", "a")}, []string{}},
		{"regexp", []*labels.Matcher{re("job", "a.*")}, []string{http, upA, upB}},
		{"regexp set", []*labels.Matcher{re("job", "api|db")}, []string{http, upA, upB, upC}},
		{"regexp set with empty", []*labels.Matcher{eq("__name__", "up"), re("job", "db|")}, []string{upC, upD}},
		{"regexp on name", []*labels.Matcher{re("__name__", "u.|http_.*")}, []string{http, upA, upB, upC, upD}},
		{"not regexp matches missing", []*labels.Matcher{eq("__name__", "up"), nre("job", "a.*")}, []string{upC, upD}},
		{"not regexp set", []*labels.Matcher{nre("__name__", "up|multi")}, []string{http}},
		{"case-insensitive regexp", []*labels.Matcher{re("job", "(?i)API")}, []string{http, upA, upB}},
		{"dot matches newline", []*labels.Matcher{re("text", "line.break")}, []string{multi}},
		{"quote and backslash", []*labels.Matcher{eq("path", `/it's\odd`)}, []string{http}},
		{"quote and backslash in regexp", []*labels.Matcher{re("path", `/it's\\o.*`)}, []string{http}},
		{"injection attempt", []*labels.Matcher{eq("job", `api' OR '1' = '1`)}, []string{}},
		{"no matchers", nil, []string{http, multi, upA, upB, upC, upD}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, selectStrings(t, c, "t", day1, day2-1, tc.ms...))
		})
	}

	// The day before and after hold nothing.
	require.Empty(t, selectStrings(t, c, "t", day1-day, day1-1, eq("__name__", "up")))
	require.Empty(t, selectStrings(t, c, "t", day2, day3, eq("__name__", "up")))
	refs, err := c.SelectSeries(ctx, "t", day1+5000, day1, eq("__name__", "up"))
	require.NoError(t, err)
	require.Empty(t, refs, "mint > maxt")
}

func TestReadSamples(t *testing.T) {
	c := storetest.OpenTest(t)
	ctx := context.Background()
	ls := labels.FromStrings("__name__", "temp", "room", "attic")
	fp := store.Fingerprint(ls)
	// Out of order, across midnight, in two batches, and with a stale
	// marker.
	write(t, c, "b1", store.Series{Tenant: "t", Labels: ls, Samples: []store.Sample{
		{T: day2 + 3000, V: 4}, {T: day2 - 1000, V: 1}, {T: day2 + 5000, V: stale},
	}})
	write(t, c, "b2", store.Series{Tenant: "t", Labels: ls, Samples: []store.Sample{
		{T: day2 + 1000, V: 3}, {T: day2, V: 2}, {T: day2 + 7000, V: -0.5},
	}})

	got, err := c.ReadSamples(ctx, "t", []uint64{fp}, 0, math.MaxInt64)
	require.NoError(t, err)
	require.Len(t, got[fp], 6)
	wantT := []int64{day2 - 1000, day2, day2 + 1000, day2 + 3000, day2 + 5000, day2 + 7000}
	wantV := []float64{1, 2, 3, 4, 0, -0.5}
	for i, s := range got[fp] {
		require.Equal(t, wantT[i], s.T, i)
		if i == 4 {
			require.True(t, s.IsStale(), "stale marker comes back as StaleNaN, got %v", s.V)
			require.Equal(t, value.StaleNaN, math.Float64bits(s.V))
			continue
		}
		require.False(t, s.IsStale())
		require.Equal(t, wantV[i], s.V, i)
	}

	// Time range, inclusive at both ends.
	got, err = c.ReadSamples(ctx, "t", []uint64{fp}, day2, day2+3000)
	require.NoError(t, err)
	require.Equal(t, []store.Sample{{T: day2, V: 2}, {T: day2 + 1000, V: 3}, {T: day2 + 3000, V: 4}}, got[fp])

	// Series selection sees both days; one day alone sees the series too.
	require.Len(t, selectStrings(t, c, "t", day1, day1+1), 1)
	require.Len(t, selectStrings(t, c, "t", day2, day2), 1)

	// Unknown fingerprints, empty ranges.
	got, err = c.ReadSamples(ctx, "t", []uint64{fp + 1}, 0, math.MaxInt64)
	require.NoError(t, err)
	require.Empty(t, got)
	got, err = c.ReadSamples(ctx, "t", nil, 0, math.MaxInt64)
	require.NoError(t, err)
	require.Empty(t, got)
}

// TestCompression writes and reads through each wire compression: the
// inserts go out compressed (or not) and the results come back so.
func TestCompression(t *testing.T) {
	for _, method := range []string{"auto", "lz4", "zstd", "none"} {
		t.Run(method, func(t *testing.T) {
			cfg := storetest.Config(t)
			cfg.Compression = method
			c := storetest.OpenConfig(t, cfg)
			ls := labels.FromStrings("__name__", "up", "job", method)
			fp := store.Fingerprint(ls)
			var ss []store.Sample
			for i := range 5000 {
				ss = append(ss, store.Sample{T: day1 + int64(i)*15_000, V: float64(i % 7)})
			}
			write(t, c, "", store.Series{Tenant: "t", Labels: ls, Samples: ss})
			got, err := c.ReadSamples(context.Background(), "t", []uint64{fp}, 0, math.MaxInt64)
			require.NoError(t, err)
			require.Equal(t, map[uint64][]store.Sample{fp: ss}, got)
		})
	}
}

// TestInsertBlocks writes a batch of many insert blocks: every sample
// arrives once, and each table gets one part, as the server joins the
// blocks of an insert before it writes them.
func TestInsertBlocks(t *testing.T) {
	cfg := storetest.Config(t)
	c := storetest.OpenConfig(t, cfg)
	c.SetBlockRowsForTest(1000)
	ctx := context.Background()
	var batch []store.Series
	for i := range 7 {
		s := store.Series{Tenant: "t", Labels: labels.FromStrings("__name__", "m", "i", fmt.Sprint(i))}
		for j := range 999 {
			s.Samples = append(s.Samples, store.Sample{T: day1 + int64(j)*15_000, V: float64(i*1000 + j)})
		}
		batch = append(batch, s)
	}
	write(t, c, "", batch...)

	for _, s := range batch {
		fp := store.Fingerprint(s.Labels)
		got, err := c.ReadSamples(ctx, "t", []uint64{fp}, 0, math.MaxInt64)
		require.NoError(t, err)
		require.Equal(t, s.Samples, got[fp], s.Labels.String())
	}
	for _, table := range []string{"samples", "rollups_1m"} {
		// One part, written as one: not merged from several (level 0).
		var parts, level uint64
		require.NoError(t, c.ConnForTest().QueryRow(ctx, "SELECT count(), toUInt64(max(level)) FROM system.parts WHERE database = '"+
			cfg.Database+"' AND table = '"+table+"'").Scan(&parts, &level))
		require.Equal(t, []uint64{1, 0}, []uint64{parts, level}, table)
	}
}

func TestWriteTwiceReadOnce(t *testing.T) {
	cfg := storetest.Config(t)
	c := storetest.OpenConfig(t, cfg)
	ctx := context.Background()
	ls := labels.FromStrings("__name__", "up", "job", "api")
	fp := store.Fingerprint(ls)
	batch := []store.Series{{Tenant: "t", Labels: ls, Samples: samples(day1+1000, day1+2000, day2+1000)}}

	require.NoError(t, c.WriteSeries(ctx, batch, "metrics-0-10-20"))
	require.NoError(t, c.WriteSeries(ctx, batch, "metrics-0-10-20"))
	// A restarted writer has an empty cache and rewrites the series rows;
	// without a token, only the read path can hide the duplicates.
	again := storetest.OpenConfig(t, cfg)
	require.NoError(t, again.WriteSeries(ctx, batch, ""))
	require.NoError(t, again.WriteSeries(ctx, append(batch, batch...), ""))

	got, err := c.ReadSamples(ctx, "t", []uint64{fp}, 0, math.MaxInt64)
	require.NoError(t, err)
	require.Equal(t, map[uint64][]store.Sample{fp: batch[0].Samples}, got)
	require.Equal(t, []string{ls.String()}, selectStrings(t, c, "t", 0, math.MaxInt64))
	values, err := c.LabelValues(ctx, "t", "job", 0, math.MaxInt64)
	require.NoError(t, err)
	require.Equal(t, []string{"api"}, values)
}

func TestLabels(t *testing.T) {
	c := storetest.OpenTest(t)
	ctx := context.Background()
	write(t, c, "",
		store.Series{Tenant: "t", Labels: labels.FromStrings("__name__", "up", "job", "api", "zone", "eu"), Samples: samples(day1 + 1)},
		store.Series{Tenant: "t", Labels: labels.FromStrings("__name__", "up", "job", "db", "zone", "us"), Samples: samples(day1+2, day2+2)},
		store.Series{Tenant: "t", Labels: labels.FromStrings("__name__", "build_info", "version", "1.2"), Samples: samples(day2 + 3)},
		store.Series{Tenant: "t", Labels: labels.FromStrings("job", "nameless"), Samples: samples(day2 + 4)},
	)
	all := [2]int64{0, math.MaxInt64}
	first := [2]int64{day1, day2 - 1}
	second := [2]int64{day2, day2 + 10}
	for _, tc := range []struct {
		name  string
		label string // "" for LabelNames
		rng   [2]int64
		ms    []*labels.Matcher
		want  []string
	}{
		{"names", "", all, nil, []string{"__name__", "job", "version", "zone"}},
		{"names on day 1", "", first, nil, []string{"__name__", "job", "zone"}},
		{"names on day 2", "", second, nil, []string{"__name__", "job", "version", "zone"}},
		{"names of matched series", "", all, []*labels.Matcher{eq("__name__", "build_info")}, []string{"__name__", "version"}},
		{"names of nameless series", "", all, []*labels.Matcher{eq("job", "nameless")}, []string{"job"}},
		{"names of no series", "", all, []*labels.Matcher{eq("job", "none")}, []string{}},
		{"names of matched series on day 1", "", first, []*labels.Matcher{re("__name__", ".+")}, []string{"__name__", "job", "zone"}},
		{"values", "job", all, nil, []string{"api", "db", "nameless"}},
		{"metric names", "__name__", all, nil, []string{"build_info", "up"}},
		{"metric names on day 1", "__name__", first, nil, []string{"up"}},
		{"values on day 2", "job", second, nil, []string{"db", "nameless"}},
		{"values of matched series", "zone", all, []*labels.Matcher{eq("job", "api")}, []string{"eu"}},
		{"values of matched series on day 2", "zone", second, []*labels.Matcher{eq("__name__", "up")}, []string{"us"}},
		{"metric names of matched series", "__name__", all, []*labels.Matcher{re("job", ".+")}, []string{"up"}},
		{"values of a missing label", "nope", all, nil, []string{}},
		{"values of a missing label with matchers", "version", all, []*labels.Matcher{eq("__name__", "up")}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			var err error
			if tc.label == "" {
				got, err = c.LabelNames(ctx, "t", tc.rng[0], tc.rng[1], tc.ms...)
			} else {
				got, err = c.LabelValues(ctx, "t", tc.label, tc.rng[0], tc.rng[1], tc.ms...)
			}
			require.NoError(t, err)
			if got == nil {
				got = []string{}
			}
			require.Equal(t, tc.want, got)
		})
	}
}

func TestTenantIsolation(t *testing.T) {
	c := storetest.OpenTest(t)
	ctx := context.Background()
	ls := labels.FromStrings("__name__", "secret", "job", "a")
	fp := store.Fingerprint(ls)
	write(t, c, "", store.Series{Tenant: "tenant-a", Labels: ls, Samples: samples(day1 + 1)})

	require.Len(t, selectStrings(t, c, "tenant-a", 0, math.MaxInt64), 1)
	require.Empty(t, selectStrings(t, c, "tenant-b", 0, math.MaxInt64))
	require.Empty(t, selectStrings(t, c, "tenant-b", 0, math.MaxInt64, eq("__name__", "secret")))
	require.Empty(t, selectStrings(t, c, "tenant-b", 0, math.MaxInt64, eq("job", "a")))
	got, err := c.ReadSamples(ctx, "tenant-b", []uint64{fp}, 0, math.MaxInt64)
	require.NoError(t, err)
	require.Empty(t, got)
	names, err := c.LabelNames(ctx, "tenant-b", 0, math.MaxInt64)
	require.NoError(t, err)
	require.Empty(t, names)
	names, err = c.LabelNames(ctx, "tenant-b", 0, math.MaxInt64, eq("job", "a"))
	require.NoError(t, err)
	require.Empty(t, names)
	values, err := c.LabelValues(ctx, "tenant-b", "__name__", 0, math.MaxInt64)
	require.NoError(t, err)
	require.Empty(t, values)
	values, err = c.LabelValues(ctx, "tenant-b", "job", 0, math.MaxInt64, re("__name__", ".+"))
	require.NoError(t, err)
	require.Empty(t, values)
}

func TestWriteManyDays(t *testing.T) {
	c := storetest.OpenTest(t)
	ctx := context.Background()
	ls := labels.FromStrings("__name__", "backfill")
	fp := store.Fingerprint(ls)
	// 200 days in one batch: more partitions than one insert may touch.
	var ss []store.Sample
	for d := range int64(200) {
		ss = append(ss, store.Sample{T: day1 + d*day + 7, V: float64(d)})
	}
	rand.Shuffle(len(ss), func(i, j int) { ss[i], ss[j] = ss[j], ss[i] })
	// Out of range: dropped, not an error.
	ss = append(ss, store.Sample{T: -1, V: 1}, store.Sample{T: store.MaxTime + 1, V: 1})
	write(t, c, "backfill-0-1-2", store.Series{Tenant: "t", Labels: ls, Samples: ss})

	got, err := c.ReadSamples(ctx, "t", []uint64{fp}, 0, math.MaxInt64)
	require.NoError(t, err)
	require.Len(t, got[fp], 200)
	for d, s := range got[fp] {
		require.Equal(t, store.Sample{T: day1 + int64(d)*day + 7, V: float64(d)}, s)
	}
	require.Len(t, selectStrings(t, c, "t", day1+150*day, day1+150*day), 1)
}

// TestWriteMetricsRefs writes references in columns (Metrics.Refs) beside
// series with labels, in one batch and in one spanning more days than an
// insert may touch, and reads every sample back once.
func TestWriteMetricsRefs(t *testing.T) {
	c := storetest.OpenTest(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		days int64
	}{{"one day", 1}, {"split by days", 100}} {
		t.Run(tc.name, func(t *testing.T) {
			ls := labels.FromStrings("__name__", "refs", "case", tc.name)
			fp := store.Fingerprint(ls)
			write(t, c, "", store.Series{Tenant: "t", Labels: ls, Samples: []store.Sample{{T: day1, V: -1}}})
			var m store.Metrics
			want := []store.Sample{{T: day1, V: -1}}
			for d := range tc.days {
				p := store.Sample{T: day1 + d*day + 15_000, V: float64(d)}
				want = append(want, p)
				m.Refs.Add("t", fp, p.T, p.V)
			}
			m.Refs.Add("other", fp, day1+30_000, 9) // another tenant's series of the same fingerprint
			slices.Reverse(m.Refs.FP)               // all one fingerprint; the writer sorts by time
			slices.Reverse(m.Refs.T)
			slices.Reverse(m.Refs.V)
			m.Refs.Spans = []store.TenantSpan{{Tenant: "other", End: 1}, {Tenant: "t", End: m.Refs.Len()}}
			require.NoError(t, c.WriteMetrics(ctx, &m, "", nil))

			got, err := c.ReadSamples(ctx, "t", []uint64{fp}, 0, math.MaxInt64)
			require.NoError(t, err)
			require.Equal(t, want, got[fp])
			got, err = c.ReadSamples(ctx, "other", []uint64{fp}, 0, math.MaxInt64)
			require.NoError(t, err)
			require.Equal(t, []store.Sample{{T: day1 + 30_000, V: 9}}, got[fp])
		})
	}
}

func TestReadManySeries(t *testing.T) {
	c := storetest.OpenTest(t)
	ctx := context.Background()
	// More series than one samples query names.
	const n = 9000
	batch := make([]store.Series, n)
	fps := make([]uint64, n)
	for i := range batch {
		batch[i] = store.Series{Tenant: "t", Labels: labels.FromStrings("__name__", "many", "i", string(rune('a'+i%26))+string(rune('0'+i/26%10))+string(rune('A'+i/260))), Samples: samples(day1+int64(i), day1+int64(i)+1)}
		fps[i] = store.Fingerprint(batch[i].Labels)
	}
	write(t, c, "", batch...)
	refs, err := c.SelectSeries(ctx, "t", day1, day2, eq("__name__", "many"))
	require.NoError(t, err)
	require.Len(t, refs, n)
	got, err := c.ReadSamples(ctx, "t", fps, 0, math.MaxInt64)
	require.NoError(t, err)
	require.Len(t, got, n)
	for i, fp := range fps {
		require.Equal(t, batch[i].Samples, got[fp])
	}
}

func TestConcurrentWrites(t *testing.T) {
	c := storetest.OpenTest(t)
	ctx := context.Background()
	ls := labels.FromStrings("__name__", "shared")
	fp := store.Fingerprint(ls)
	errs := make(chan error, 4)
	for w := range 4 {
		go func() {
			var ss []store.Sample
			for i := range 50 {
				ss = append(ss, store.Sample{T: day1 + int64(i*4+w), V: float64(w)})
			}
			own := labels.FromStrings("__name__", "own", "writer", string(rune('a'+w)))
			errs <- c.WriteSeries(ctx, []store.Series{
				{Tenant: "t", Labels: ls, Samples: ss},
				{Tenant: "t", Labels: own, Samples: ss},
			}, "")
		}()
	}
	for range 4 {
		require.NoError(t, <-errs)
	}
	got, err := c.ReadSamples(ctx, "t", []uint64{fp}, 0, math.MaxInt64)
	require.NoError(t, err)
	require.Len(t, got[fp], 200)
	require.Len(t, selectStrings(t, c, "t", day1, day1), 5)
}

// TestWriteSeriesLarge writes a batch large enough that the writer loads
// its numeric columns into the driver's in one copy each (minLoadRows),
// series out of order and one late sample, and reads every sample back.
func TestWriteSeriesLarge(t *testing.T) {
	c := storetest.OpenTest(t)
	ctx := context.Background()
	const series, perSeries = 300, 20
	var batch []store.Series
	want := map[uint64][]store.Sample{}
	fps := make([]uint64, 0, series)
	for i := range series {
		ls := labels.FromStrings("__name__", "large", "i", fmt.Sprint(i))
		fp := store.Fingerprint(ls)
		fps = append(fps, fp)
		for j := range perSeries {
			p := store.Sample{T: day1 + int64(j)*15_000, V: float64(i*perSeries+j) - 0.5}
			if j == perSeries-1 && i%7 == 0 {
				p.V = stale
			}
			want[fp] = append(want[fp], p)
			s := store.Series{Tenant: "t", Fingerprint: fp, Samples: []store.Sample{p}}
			if j == 0 {
				s.Labels = ls
			}
			batch = append(batch, s)
		}
	}
	// The last round first, and series in reverse order: the writer sorts.
	batch[0], batch[len(batch)-1] = batch[len(batch)-1], batch[0]
	slices.Reverse(batch[1 : len(batch)-1])
	write(t, c, "", batch...)
	got, err := c.ReadSamples(ctx, "t", fps, 0, math.MaxInt64)
	require.NoError(t, err)
	require.Len(t, got, series)
	for fp, w := range want {
		require.Len(t, got[fp], perSeries)
		for j := range w {
			require.Equal(t, w[j].T, got[fp][j].T)
			require.Equal(t, math.Float64bits(w[j].V), math.Float64bits(got[fp][j].V), "fingerprint %x sample %d", fp, j)
		}
	}
}

func BenchmarkWriteSeries(b *testing.B) {
	c := storetest.OpenTest(b)
	ctx := context.Background()
	const series, perSeries = 1000, 10
	batch := make([]store.Series, series)
	for i := range batch {
		batch[i] = store.Series{
			Tenant:  "bench",
			Labels:  labels.FromStrings("__name__", "bench_metric", "instance", "host-"+string(rune('a'+i%26)), "i", string(rune(i))),
			Samples: make([]store.Sample, perSeries),
		}
	}
	t := int64(day1)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for i := range batch {
			for j := range batch[i].Samples {
				t += 10
				batch[i].Samples[j] = store.Sample{T: t, V: float64(j)}
			}
		}
		if err := c.WriteSeries(ctx, batch, ""); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*series*perSeries)/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkWriteSeriesRefs writes the writer's usual batch, 249,600
// one-sample references to 10,400 series of one tenant, and reports the
// CPU this process spent per sample (user and system time, so the
// driver's encoding and socket writes count and the server's work does
// not).
func BenchmarkWriteSeriesRefs(b *testing.B) {
	c := storetest.OpenTest(b)
	ctx := context.Background()
	const series, rounds = 10_400, 24
	rnd := rand.New(rand.NewPCG(5, 6))
	batch := make([]store.Series, 0, series*rounds)
	for i := range series {
		ls := labels.FromStrings("__name__", "bench_metric", "i", fmt.Sprint(i))
		batch = append(batch, store.Series{Tenant: "bench", Labels: ls, Fingerprint: store.Fingerprint(ls), Samples: []store.Sample{{T: day1}}})
	}
	write := func() {
		if err := c.WriteSeries(ctx, batch, ""); err != nil {
			b.Fatal(err)
		}
	}
	write() // the series rows, so that the rest are references
	for i := range batch[:series] {
		batch[i].Labels = labels.EmptyLabels()
	}
	for r := 1; r < rounds; r++ {
		for i := range series {
			batch = append(batch, store.Series{Tenant: "bench", Fingerprint: batch[i].Fingerprint, Samples: []store.Sample{{}}})
		}
	}
	t := int64(day1)
	start := cpuTime()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for r := range rounds {
			t += 15_000
			for i := range series {
				s := &batch[r*series+i]
				s.Samples[0] = store.Sample{T: t, V: float64(rnd.IntN(1000))}
			}
		}
		write()
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N*len(batch)), "cpu-ns/sample")
}

// cpuTime is the CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
