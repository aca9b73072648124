package store_test

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/storetest"
)

// Integration tests of rollups_1m; they need CAIRN_TEST_CLICKHOUSE.

// rollupData is a generated data set: series with irregular samples over
// the last minutes of day1 and the first of day2, stale markers, equal
// values and a NaN-free spread of magnitudes.
func rollupData(seed uint64) []store.Series {
	rng := rand.New(rand.NewPCG(seed, seed))
	var out []store.Series
	for i := range 20 {
		ls := labels.FromStrings("__name__", "rollup_test", "i", string(rune('a'+i)))
		var ss []store.Sample
		for t := day2 - 10*60_000 + int64(rng.IntN(5000)); t < day2+10*60_000; t += 1000 + int64(rng.IntN(20_000)) {
			v := math.Round(rng.NormFloat64()*1000) / 8
			switch rng.IntN(20) {
			case 0:
				v = stale
			case 1:
				v = 42
			}
			ss = append(ss, store.Sample{T: t, V: v})
		}
		out = append(out, store.Series{Tenant: "t", Labels: ls, Samples: ss})
	}
	return out
}

// requireRollupsEqual compares rollups, sums within float tolerance.
func requireRollupsEqual(t *testing.T, want, got map[uint64][]store.RollupPoint) {
	t.Helper()
	require.Len(t, got, len(want))
	for fp, ps := range want {
		require.Len(t, got[fp], len(ps), "series %x", fp)
		for i, p := range ps {
			g := got[fp][i]
			require.InDelta(t, p.Sum, g.Sum, 1e-9, "series %x minute %d", fp, p.T)
			g.Sum = p.Sum
			require.Equal(t, p, g)
		}
	}
}

func TestRollups(t *testing.T) {
	c := storetest.OpenTest(t)
	ctx := context.Background()
	data := rollupData(1)
	// In two batches, so partial aggregates of one minute meet in reads.
	write(t, c, "rollup-0-0-10", data[:10]...)
	write(t, c, "rollup-0-10-20", data[10:]...)
	fps := make([]uint64, len(data))
	for i, s := range data {
		fps[i] = store.Fingerprint(s.Labels)
	}

	want, err := c.RawRollupForTest(ctx, "t")
	require.NoError(t, err)
	require.Len(t, want, 20)
	got, err := c.ReadRollup(ctx, "t", fps, 0, math.MaxInt64)
	require.NoError(t, err)
	requireRollupsEqual(t, want, got)

	// A range selects minutes by their start; other tenants see nothing.
	got, err = c.ReadRollup(ctx, "t", fps[:1], day2-60_000, day2)
	require.NoError(t, err)
	for _, p := range got[fps[0]] {
		require.Contains(t, []int64{day2 - 60_000, day2}, p.T)
	}
	got, err = c.ReadRollup(ctx, "other", fps, 0, math.MaxInt64)
	require.NoError(t, err)
	require.Empty(t, got)
}

func TestRollupsRedelivered(t *testing.T) {
	c := storetest.OpenTest(t)
	ctx := context.Background()
	data := rollupData(2)
	fps := make([]uint64, len(data))
	for i, s := range data {
		fps[i] = store.Fingerprint(s.Labels)
	}
	write(t, c, "rollup-0-0-20", data...)
	write(t, c, "rollup-0-0-20", data...) // the same batch again
	want, err := c.RawRollupForTest(ctx, "t")
	require.NoError(t, err)
	// The rows of a batch written again count no sample twice.
	got, err := c.ReadRollup(ctx, "t", fps, 0, math.MaxInt64)
	require.NoError(t, err)
	requireRollupsEqual(t, want, got)

	// Recomputing both days makes every aggregate exact, once.
	for _, d := range []int64{day1, day2} {
		require.NoError(t, c.RecomputeRollups(ctx, time.UnixMilli(d)))
	}
	got, err = c.ReadRollup(ctx, "t", fps, 0, math.MaxInt64)
	require.NoError(t, err)
	requireRollupsEqual(t, want, got)
}

// TestRollupsStream writes a stream of batches the way a writer does,
// with one Rollups: samples in time windows, some a window late, some
// many minutes late, batches delivered twice, and the Rollups forgotten
// midway. Every minute's row equals the raw aggregate.
func TestRollupsStream(t *testing.T) {
	c := storetest.OpenTest(t)
	ctx := context.Background()
	data := rollupData(3)
	rng := rand.New(rand.NewPCG(3, 3))
	const window = 20_000 // ms of samples per batch
	batches := map[int64][]store.Series{}
	for _, s := range data {
		for _, p := range s.Samples {
			w := (p.T - day2) / window
			switch rng.IntN(10) {
			case 0:
				w++ // a window late: two senders' requests crossed
			case 1:
				w += 12 // four minutes late
			}
			batches[w] = append(batches[w], store.Series{Tenant: "t", Labels: s.Labels, Samples: []store.Sample{p}})
		}
	}
	windows := make([]int64, 0, len(batches))
	for w := range batches {
		windows = append(windows, w)
	}
	slices.Sort(windows)
	r := store.NewRollups()
	seriesWrites := 0 // each series once in each write it has samples in
	for i, w := range windows {
		seriesWrites += len(distinctSeries(batches[w]))
		if i%10 == 3 {
			seriesWrites += len(distinctSeries(batches[w]))
		}
		require.NoError(t, c.WriteMetrics(ctx, &store.Metrics{Series: batches[w]}, "", r))
		switch i % 10 {
		case 3:
			require.NoError(t, c.WriteMetrics(ctx, &store.Metrics{Series: batches[w]}, "", r)) // delivered again
		case 7:
			r.Forget()
		}
	}
	require.NotZero(t, r.Len())
	// ClickHouse aggregated the series the Rollups did not hold (at the
	// start, after each Forget) and the samples four minutes late; the
	// rest, most of the series' writes, came from the Rollups alone.
	t.Logf("series aggregated by ClickHouse: %d of %d series' writes", r.Cold(), seriesWrites)
	require.NotZero(t, r.Cold())
	require.Less(t, r.Cold(), uint64(seriesWrites/2), "of %d series' writes", seriesWrites)

	fps := make([]uint64, len(data))
	for i, s := range data {
		fps[i] = store.Fingerprint(s.Labels)
	}
	want, err := c.RawRollupForTest(ctx, "t")
	require.NoError(t, err)
	got, err := c.ReadRollup(ctx, "t", fps, 0, math.MaxInt64)
	require.NoError(t, err)
	requireRollupsEqual(t, want, got)
}

// distinctSeries returns the label sets of batch, once each.
func distinctSeries(batch []store.Series) map[string]bool {
	out := map[string]bool{}
	for _, s := range batch {
		out[s.Labels.String()] = true
	}
	return out
}
