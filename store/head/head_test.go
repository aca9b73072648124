package head

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

func newTestHead(t *testing.T, window time.Duration) (*Head, *metrics.Set) {
	t.Helper()
	set := metrics.NewSet()
	h, err := New(Config{Window: window, Dir: t.TempDir()}, slogDiscard(), set)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, h.Close()) })
	return h, set
}

// read returns every series of tenant matching ms in [mint, maxt], as
// labels → samples (float samples as T/V, histograms with their count as V).
func read(t *testing.T, h *Head, tenant string, mint, maxt int64, ms ...*labels.Matcher) map[string][]store.Sample {
	t.Helper()
	q, err := h.Querier(tenant, mint, maxt)
	require.NoError(t, err)
	defer q.Close()
	out := map[string][]store.Sample{}
	if len(ms) == 0 {
		ms = append(ms, labels.MustNewMatcher(labels.MatchRegexp, labels.MetricName, ".+"))
	}
	ss := q.Select(context.Background(), true, nil, ms...)
	var it chunkenc.Iterator
	for ss.Next() {
		s := ss.At()
		var smp []store.Sample
		it = s.Iterator(it)
		for typ := it.Next(); typ != chunkenc.ValNone; typ = it.Next() {
			switch typ {
			case chunkenc.ValFloat:
				ts, v := it.At()
				smp = append(smp, store.Sample{T: ts, V: v})
			case chunkenc.ValHistogram:
				ts, hh := it.AtHistogram(nil)
				smp = append(smp, store.Sample{T: ts, V: float64(hh.Count)})
			default:
				t.Fatalf("unexpected value type %v", typ)
			}
		}
		require.NoError(t, it.Err())
		out[s.Labels().String()] = smp
	}
	require.NoError(t, ss.Err())
	return out
}

func TestHeadAppendQuery(t *testing.T) {
	h, set := newTestHead(t, time.Hour)
	ctx := context.Background()
	now := time.Now().UnixMilli()
	up := labels.FromStrings("__name__", "up", "job", "a")
	other := labels.FromStrings("__name__", "up", "job", "b")
	hist := labels.FromStrings("__name__", "latency", "job", "a")
	require.NoError(t, h.Append(ctx, []store.Series{
		{Tenant: "t1", Labels: up, Samples: []store.Sample{{T: now - 2000, V: 1}, {T: now - 1000, V: 2}}},
		{Tenant: "t2", Labels: other, Samples: []store.Sample{{T: now - 1000, V: 7}}},
		{Tenant: "t1", Labels: hist, Histograms: []store.HistogramSample{{T: now - 1000, H: &histogram.Histogram{Count: 3, ZeroCount: 3, ZeroThreshold: 1e-128, Sum: 1, Schema: 0}}}},
	}))
	require.NoError(t, h.Append(ctx, []store.Series{
		{Tenant: "t1", Labels: up, Samples: []store.Sample{
			{T: now, V: math.Float64frombits(value.StaleNaN)},
			{T: now - 1500, V: 9},                       // out of order, within the window: kept
			{T: now - 2*time.Hour.Milliseconds(), V: 9}, // older than the window: refused
		}},
	}))

	got := read(t, h, "t1", now-time.Hour.Milliseconds(), now, labels.MustNewMatcher(labels.MatchEqual, "job", "a"))
	require.Len(t, got, 2)
	ups := got[up.String()]
	require.Len(t, ups, 4)
	require.Equal(t, []store.Sample{{T: now - 2000, V: 1}, {T: now - 1500, V: 9}, {T: now - 1000, V: 2}}, ups[:3])
	require.True(t, value.IsStaleNaN(ups[3].V))
	require.Equal(t, []store.Sample{{T: now - 1000, V: 3}}, got[hist.String()])

	// Tenants are apart; a tenant the head never saw reads nothing.
	require.Equal(t, map[string][]store.Sample{other.String(): {{T: now - 1000, V: 7}}}, read(t, h, "t2", 0, now))
	require.Empty(t, read(t, h, "t3", 0, now))
	// The range bounds the samples.
	require.Equal(t, []store.Sample{{T: now - 1000, V: 2}}, read(t, h, "t1", now-1000, now-1, labels.MustNewMatcher(labels.MatchEqual, "__name__", "up"))[up.String()])

	require.Equal(t, 6.0, metricValue(t, set, "cairn_head_samples_appended_total"))
	require.Equal(t, 1.0, metricValue(t, set, "cairn_head_samples_refused_total"))
}

// TestHeadReferences: a reference appends under the labels its tenant's
// head last appended with its fingerprint; one it has no labels for, in
// that tenant, is skipped and counted; labels not appended to for
// labelsTTL are forgotten.
func TestHeadReferences(t *testing.T) {
	h, set := newTestHead(t, time.Hour)
	clock := time.Now()
	h.now = func() time.Time { return clock }
	ctx := context.Background()
	now := clock.UnixMilli()
	up := labels.FromStrings("__name__", "up", "job", "a")
	fp := store.Fingerprint(up)
	ref := func(tenant string, fp uint64, ts int64, v float64) store.Series {
		return store.Series{Tenant: tenant, Fingerprint: fp, Samples: []store.Sample{{T: ts, V: v}}}
	}
	counts := func(appended, unresolved float64) {
		t.Helper()
		require.Equal(t, appended, metricValue(t, set, "cairn_head_samples_appended_total"), "appended")
		require.Equal(t, unresolved, metricValue(t, set, "cairn_head_unresolved_samples_total"), "unresolved")
	}

	// Before its labels, a reference resolves to nothing; the labels
	// come with a fingerprint of 0, which the head computes.
	require.NoError(t, h.Append(ctx, []store.Series{ref("t1", fp, now, 0)}))
	counts(0, 1)
	require.NoError(t, h.Append(ctx, []store.Series{{Tenant: "t1", Labels: up, Samples: []store.Sample{{T: now + 1000, V: 1}}}}))
	counts(1, 1)

	require.NoError(t, h.Append(ctx, []store.Series{
		ref("t1", fp, now+2000, 2),
		ref("t1", 42, now+2000, 9), // a fingerprint never seen
		ref("t2", fp, now+2000, 9), // labels of another tenant
		{Tenant: "t1", Fingerprint: 43, Histograms: []store.HistogramSample{{T: now + 2000, H: &histogram.Histogram{Count: 1, ZeroCount: 1, ZeroThreshold: 1e-128}}}},
	}))
	counts(2, 4)
	require.Equal(t, map[string][]store.Sample{up.String(): {{T: now + 1000, V: 1}, {T: now + 2000, V: 2}}},
		read(t, h, "t1", now-time.Hour.Milliseconds(), now+time.Hour.Milliseconds()))
	require.Empty(t, read(t, h, "t2", now-time.Hour.Milliseconds(), now+time.Hour.Milliseconds()))

	// Each append, a reference's too, keeps the labels another labelsTTL.
	ttl := h.cfg.labelsTTL()
	clock = clock.Add(ttl - time.Minute)
	require.NoError(t, h.Append(ctx, []store.Series{ref("t1", fp, now+3000, 3)}))
	clock = clock.Add(ttl - time.Minute)
	require.NoError(t, h.Append(ctx, []store.Series{ref("t1", fp, now+4000, 4)}))
	counts(4, 4)
	// Past it, they are gone (the TSDB may still hold the series): a
	// reference waits for the labels to come again.
	clock = clock.Add(ttl + sweepEvery)
	require.NoError(t, h.Append(ctx, []store.Series{ref("t1", fp, now+5000, 5)}))
	counts(4, 5)
	require.NoError(t, h.Append(ctx, []store.Series{
		{Tenant: "t1", Labels: up, Fingerprint: fp, Samples: []store.Sample{{T: now + 6000, V: 6}}},
		ref("t1", fp, now+7000, 7),
	}))
	counts(6, 5)
	got := read(t, h, "t1", now-time.Hour.Milliseconds(), now+time.Hour.Milliseconds())
	require.Equal(t, []float64{1, 2, 3, 4, 6, 7}, values(got[up.String()]))
}

func TestLabelsTTL(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want time.Duration
	}{
		{Config{Window: 24 * time.Hour, LabelsInterval: 10 * time.Minute}, 24 * time.Hour},
		{Config{Window: time.Minute, LabelsInterval: 10 * time.Minute}, 70 * time.Minute},
		{Config{Window: time.Minute}, time.Hour},
		{Config{Window: 2 * time.Hour, LabelsInterval: 3 * time.Hour}, 4 * time.Hour},
	} {
		require.Equal(t, tc.want, tc.cfg.labelsTTL(), "%+v", tc.cfg)
	}
}

func TestHeadReady(t *testing.T) {
	h, _ := newTestHead(t, time.Hour)
	_, ok := h.From()
	require.False(t, ok, "not ready before Ready")
	now := time.Now()
	h.Ready(now.Add(-2 * time.Hour).UnixMilli())
	from, ok := h.From()
	require.True(t, ok)
	require.InDelta(t, now.Add(-time.Hour).UnixMilli(), from, float64(time.Second.Milliseconds()), "never earlier than the window")
	h.Ready(now.Add(-time.Minute).UnixMilli())
	from, _ = h.From()
	require.Equal(t, now.Add(-time.Minute).UnixMilli(), from)

	h.Invalidate("missed a message")
	_, ok = h.From()
	require.False(t, ok, "invalidated")
	h.Ready(now.UnixMilli())
	_, ok = h.From()
	require.False(t, ok, "for good")

}

func TestTemporaryDir(t *testing.T) {
	h, err := New(Config{Window: time.Hour}, slogDiscard(), metrics.NewSet())
	require.NoError(t, err)
	require.DirExists(t, h.cfg.Dir)
	require.NoError(t, h.Append(context.Background(), []store.Series{{Tenant: "t", Labels: labels.FromStrings("__name__", "x"),
		Samples: []store.Sample{{T: time.Now().UnixMilli(), V: 1}}}}))
	require.NoError(t, h.Close())
	require.NoDirExists(t, h.cfg.Dir, "a temporary directory is removed by Close")
	require.ErrorContains(t, h.Append(context.Background(), []store.Series{{Tenant: "u", Labels: labels.FromStrings("__name__", "x"),
		Samples: []store.Sample{{T: time.Now().UnixMilli(), V: 1}}}}), "head closed")
}

func TestDirIsEmptiedOnlyWhenItIsTheHeads(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "precious"), []byte("x"), 0o644))
	_, err := New(Config{Window: time.Hour, Dir: dir}, slogDiscard(), metrics.NewSet())
	require.ErrorContains(t, err, "refusing to empty it")
	require.FileExists(t, filepath.Join(dir, "precious"))

	dir = filepath.Join(t.TempDir(), "head") // missing: created and marked
	h, err := New(Config{Window: time.Hour, Dir: dir}, slogDiscard(), metrics.NewSet())
	require.NoError(t, err)
	require.NoError(t, h.Append(context.Background(), []store.Series{{Tenant: "t", Labels: labels.FromStrings("__name__", "x"),
		Samples: []store.Sample{{T: time.Now().UnixMilli(), V: 1}}}}))
	require.NoError(t, h.Close())
	h, err = New(Config{Window: time.Hour, Dir: dir}, slogDiscard(), metrics.NewSet())
	require.NoError(t, err, "a head's own directory is emptied")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "only the marker is left")
	require.NoError(t, h.Close())
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, ""},
		{Config{Window: time.Hour, Dir: "/tmp/x"}, ""},
		{Config{Window: -time.Second}, "-query.head.window must not be negative"},
		{Config{Window: time.Second, Dir: "/tmp/x"}, "-query.head.window=1s: must be at least 1m"},
		{Config{Window: time.Hour}, ""},
	} {
		err := tc.cfg.Validate()
		if tc.want == "" {
			require.NoError(t, err)
			continue
		}
		require.ErrorContains(t, err, tc.want)
	}
}

var _ storage.Querier = storage.NoopQuerier()

// TestHeadUnresolvedMovesFrom checks that the head claims completeness
// only after the newest sample it had to drop for want of its labels,
// before and after Ready.
func TestHeadUnresolvedMovesFrom(t *testing.T) {
	h, _ := newTestHead(t, time.Hour)
	ctx := context.Background()
	now := time.Now().UnixMilli()
	ready := now - 30*60_000
	unresolved := func(ts int64) {
		t.Helper()
		require.NoError(t, h.Append(ctx, []store.Series{{Tenant: "t", Fingerprint: 7, Samples: []store.Sample{{T: ts - 1000, V: 1}, {T: ts, V: 1}}}}))
	}

	unresolved(ready - 60_000) // during the replay, before where Ready will point
	h.Ready(ready)
	from, ok := h.From()
	require.True(t, ok)
	require.Equal(t, ready, from)

	unresolved(now - 60_000) // after Ready: the head lacks this
	from, ok = h.From()
	require.True(t, ok)
	require.Equal(t, now-60_000+1, from)

	unresolved(now - 120_000) // older than the gap: no change
	from, _ = h.From()
	require.Equal(t, now-60_000+1, from)
}
