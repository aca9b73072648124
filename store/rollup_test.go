package store_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
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
	got, err := c.ReadRollup(ctx, "t", fps, 0, math.MaxInt64)
	require.NoError(t, err)
	// On modern servers the repeated insert never reached the view; on
	// 18.16 it did, and left rows equal to the first insert's, which
	// reads take once.
	requireRollupsEqual(t, want, got)

	// Some of the samples again, in another insert: a minute whose
	// samples it holds all leaves a row equal to the first one's; one
	// whose samples it holds some of counts those twice in sum and count
	// (its row has another samples_hash) until the days are recomputed;
	// min, max and last stay exact.
	var again []store.Series
	extra := map[uint64]map[int64][]float64{} // by series and minute: the samples counted twice
	for _, s := range data[:10] {
		fp := store.Fingerprint(s.Labels)
		part := store.Series{Tenant: s.Tenant, Labels: s.Labels}
		byMinute := map[int64][]store.Sample{}
		for i, p := range s.Samples {
			if i%2 == 0 {
				part.Samples = append(part.Samples, p)
			}
			if !value.IsStaleNaN(p.V) {
				byMinute[p.T/60_000*60_000] = append(byMinute[p.T/60_000*60_000], p)
			}
		}
		again = append(again, part)
		extra[fp] = map[int64][]float64{}
		for m, ps := range byMinute {
			var sub []float64
			for _, p := range part.Samples {
				if p.T/60_000*60_000 == m && !value.IsStaleNaN(p.V) {
					sub = append(sub, p.V)
				}
			}
			if len(sub) < len(ps) {
				extra[fp][m] = sub
			}
		}
	}
	twice := 0
	for _, ms := range extra {
		twice += len(ms)
	}
	require.NotZero(t, twice, "some minutes are partly in the second insert")
	write(t, c, "rollup-again", again...)
	got, err = c.ReadRollup(ctx, "t", fps, 0, math.MaxInt64)
	require.NoError(t, err)
	for fp, ps := range want {
		for i, p := range ps {
			for _, v := range extra[fp][p.T] {
				p.Count++
				p.Sum += v
			}
			g := got[fp][i]
			require.InDelta(t, p.Sum, g.Sum, 1e-9, "series %x minute %d", fp, p.T)
			g.Sum = p.Sum
			require.Equal(t, p, g)
		}
	}

	// Recomputing both days makes every aggregate exact, once.
	for _, d := range []int64{day1, day2} {
		require.NoError(t, c.RecomputeRollups(ctx, time.UnixMilli(d)))
	}
	got, err = c.ReadRollup(ctx, "t", fps, 0, math.MaxInt64)
	require.NoError(t, err)
	requireRollupsEqual(t, want, got)
}

// TestRollupsMigration upgrades a database whose minute aggregates are in
// samples_1m (migrations 1 to 6) to rollups_1m (migration 7): the old
// minutes are copied, new inserts reach rollups_1m alone, and the copy
// repeated (a crash before the migration was recorded) counts nothing
// twice.
func TestRollupsMigration(t *testing.T) {
	ctx := context.Background()
	cfg := storetest.Config(t)
	c, err := store.Open(ctx, cfg, storetest.Logger(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	require.NoError(t, c.ApplyMigrationsForTest(ctx, 1, 6))
	data := rollupData(3)
	fps := make([]uint64, len(data))
	for i, s := range data {
		fps[i] = store.Fingerprint(s.Labels)
	}
	write(t, c, "before", data[:12]...)
	oldRows := func() uint64 {
		var n uint64
		require.NoError(t, c.ConnForTest().QueryRow(ctx, "SELECT count() FROM "+cfg.Database+".samples_1m").Scan(&n))
		return n
	}
	before := oldRows()
	require.NotZero(t, before, "the old view kept samples_1m")

	require.NoError(t, c.Migrate(ctx))
	v, err := c.SchemaVersion(ctx)
	require.NoError(t, err)
	require.Equal(t, store.LatestMigration(), v)
	want, err := c.RawRollupForTest(ctx, "t")
	require.NoError(t, err)
	got, err := c.ReadRollup(ctx, "t", fps, 0, math.MaxInt64)
	require.NoError(t, err)
	requireRollupsEqual(t, want, got)

	write(t, c, "after", data[12:]...)
	require.Equal(t, before, oldRows(), "samples_1m is no longer fed")
	require.NoError(t, c.ApplyMigrationsForTest(ctx, 7, 7))
	want, err = c.RawRollupForTest(ctx, "t")
	require.NoError(t, err)
	require.Len(t, want, len(data))
	got, err = c.ReadRollup(ctx, "t", fps, 0, math.MaxInt64)
	require.NoError(t, err)
	requireRollupsEqual(t, want, got)
}
