package store

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// rollupSample is a sample row for observe: tenant "t", fingerprint fp.
type rollupSample struct {
	fp    uint64
	t     int64
	v     float64
	stale bool
}

// observeRows runs observe over samples, which must be in (fingerprint,
// time) order, and returns the rows and the cold series with the minute
// to aggregate from.
func observeRows(r *Rollups, samples ...rollupSample) (rows []RollupPoint, cold map[uint64]int64) {
	var (
		w      rollupRows
		tenant []string
		fp     []uint64
		ts     []int64
		val    []float64
		flags  []uint8
	)
	for _, s := range samples {
		tenant, fp, ts, val = append(tenant, "t"), append(fp, s.fp), append(ts, s.t), append(val, s.v)
		var f uint8
		if s.stale {
			f = staleFlag
		}
		flags = append(flags, f)
	}
	r.observe(&w, tenant, fp, ts, val, flags)
	for i := range w.fp {
		rows = append(rows, RollupPoint{T: w.minute[i], Min: w.min[i], Max: w.max[i], Sum: w.sum[i], Count: w.count[i], Last: w.last[i], LastT: w.lastT[i]})
	}
	cold = map[uint64]int64{}
	for _, c := range w.cold {
		cold[c.key.fp] = c.cur.T
	}
	return rows, cold
}

// b is the start of the minute before warmRollups' latest.
const b = 600_000

// warmRollups returns a Rollups that holds series 1 with its latest
// minute starting at b+60 s: samples at b+60 s (1) and b+75 s (2), and
// the minute before: b+15 s (5).
func warmRollups(now func() time.Time) *Rollups {
	r := NewRollups()
	r.now = now
	prev := rollupMinute{RollupPoint: RollupPoint{T: b, Min: 5, Max: 5, Sum: 5, Count: 1, Last: 5, LastT: b + 15_000}, seconds: 1 << 15}
	cur := rollupMinute{RollupPoint: RollupPoint{T: b + 60_000, Min: 1, Max: 2, Sum: 3, Count: 2, Last: 2, LastT: b + 75_000}, seconds: 1<<0 | 1<<15}
	r.seed(rollupKey{"t", 1}, cur, prev)
	r.commit()
	return r
}

func TestRollupsObserve(t *testing.T) {
	minute := func(start int64, p RollupPoint) RollupPoint { p.T = start; return p }
	for _, tc := range []struct {
		name    string
		samples []rollupSample
		rows    []RollupPoint
		cold    map[uint64]int64
	}{
		{
			name:    "a series not seen is aggregated from samples",
			samples: []rollupSample{{fp: 2, t: b + 130_000, v: 1}, {fp: 2, t: b + 190_000, v: 1}},
			cold:    map[uint64]int64{2: b + 120_000},
		},
		{
			name:    "stale markers only: nothing",
			samples: []rollupSample{{fp: 1, t: b + 90_000, stale: true}, {fp: 2, t: b + 130_000, stale: true}},
		},
		{
			name:    "later samples add to the latest minute",
			samples: []rollupSample{{fp: 1, t: b + 90_000, v: -1}, {fp: 1, t: b + 91_000, stale: true}, {fp: 1, t: b + 105_000, v: 7}},
			rows:    []RollupPoint{minute(b+60_000, RollupPoint{Min: -1, Max: 7, Sum: 9, Count: 4, Last: 7, LastT: b + 105_000})},
		},
		{
			name:    "and start the next minutes",
			samples: []rollupSample{{fp: 1, t: b + 90_000, v: 3}, {fp: 1, t: b + 135_000, v: 4}, {fp: 1, t: b + 185_000, v: 6}, {fp: 1, t: b + 190_000, v: 8}},
			rows: []RollupPoint{
				minute(b+60_000, RollupPoint{Min: 1, Max: 3, Sum: 6, Count: 3, Last: 3, LastT: b + 90_000}),
				minute(b+120_000, RollupPoint{Min: 4, Max: 4, Sum: 4, Count: 1, Last: 4, LastT: b + 135_000}),
				minute(b+180_000, RollupPoint{Min: 6, Max: 8, Sum: 14, Count: 2, Last: 8, LastT: b + 190_000}),
			},
		},
		{
			name:    "the latest sample delivered again counts once",
			samples: []rollupSample{{fp: 1, t: b + 75_000, v: 2}},
		},
		{
			name:    "a late sample in a new second of the latest minute counts, and is not its last",
			samples: []rollupSample{{fp: 1, t: b + 61_500, v: 10}},
			rows:    []RollupPoint{minute(b+60_000, RollupPoint{Min: 1, Max: 10, Sum: 13, Count: 3, Last: 2, LastT: b + 75_000})},
		},
		{
			name:    "a late sample of the minute before counts there",
			samples: []rollupSample{{fp: 1, t: b + 30_000, v: -4}, {fp: 1, t: b + 80_000, v: 0}},
			rows: []RollupPoint{
				minute(b, RollupPoint{Min: -4, Max: 5, Sum: 1, Count: 2, Last: -4, LastT: b + 30_000}),
				minute(b+60_000, RollupPoint{Min: 0, Max: 2, Sum: 3, Count: 3, Last: 0, LastT: b + 80_000}),
			},
		},
		{
			name:    "the latest sample again with another value is ClickHouse's",
			samples: []rollupSample{{fp: 1, t: b + 75_000, v: 3}, {fp: 1, t: b + 90_000, v: 1}},
			cold:    map[uint64]int64{1: b},
		},
		{
			name:    "so is a late sample in a second with one counted",
			samples: []rollupSample{{fp: 1, t: b + 60_500, v: 2}},
			cold:    map[uint64]int64{1: b},
		},
		{
			name:    "a later sample in the second of the latest counts",
			samples: []rollupSample{{fp: 1, t: b + 75_500, v: 4}},
			rows:    []RollupPoint{minute(b+60_000, RollupPoint{Min: 1, Max: 4, Sum: 7, Count: 3, Last: 4, LastT: b + 75_500})},
		},
		{
			name:    "and one older than the minute before",
			samples: []rollupSample{{fp: 1, t: b - 1000, v: 2}, {fp: 1, t: b + 90_000, v: 2}},
			cold:    map[uint64]int64{1: b - 60_000},
		},
		{
			name:    "a stale marker in a second with no sample counts nowhere",
			samples: []rollupSample{{fp: 1, t: b + 16_000, stale: true}, {fp: 1, t: b + 76_000, stale: true}, {fp: 1, t: b + 300_000, stale: true}},
		},
		{
			name:    "one in a second with a sample may have replaced it",
			samples: []rollupSample{{fp: 1, t: b + 75_000, stale: true}},
			cold:    map[uint64]int64{1: b},
		},
		{
			name:    "unless it is later than the minute's latest",
			samples: []rollupSample{{fp: 1, t: b + 75_001, stale: true}},
		},
		{
			name:    "and one older than the minute before may have too",
			samples: []rollupSample{{fp: 1, t: b - 30_000, stale: true}, {fp: 1, t: b + 90_000, v: 1}},
			cold:    map[uint64]int64{1: b - 60_000},
		},
		{
			name:    "a series not seen beside one seen",
			samples: []rollupSample{{fp: 1, t: b + 90_000, v: 1}, {fp: 3, t: b + 90_000, v: 1}},
			rows:    []RollupPoint{minute(b+60_000, RollupPoint{Min: 1, Max: 2, Sum: 4, Count: 3, Last: 1, LastT: b + 90_000})},
			cold:    map[uint64]int64{3: b + 60_000},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := warmRollups(time.Now)
			rows, cold := observeRows(r, tc.samples...)
			require.Equal(t, tc.rows, rows)
			if tc.cold == nil {
				tc.cold = map[uint64]int64{}
			}
			require.Equal(t, tc.cold, cold)

			// A retry of the write computes the same rows.
			again, coldAgain := observeRows(r, tc.samples...)
			require.Equal(t, rows, again)
			require.Equal(t, cold, coldAgain)

			// Committed, a series sent to ClickHouse is forgotten, and one
			// that was not keeps its latest two minutes.
			r.commit()
			if _, ok := cold[1]; ok {
				require.NotContains(t, r.series, rollupKey{"t", 1})
			} else {
				st := r.series[rollupKey{"t", 1}]
				require.NotNil(t, st)
				for _, p := range rows[max(len(rows)-2, 0):] {
					require.Contains(t, []RollupPoint{st.cur.RollupPoint, st.prev.RollupPoint}, p)
				}
			}
			require.NotContains(t, r.series, rollupKey{"t", 2})
		})
	}
}

func TestRollupsNil(t *testing.T) {
	var r *Rollups
	rows, cold := observeRows(r, rollupSample{fp: 1, t: 90_000, v: 1}, rollupSample{fp: 2, t: 190_000, stale: true}, rollupSample{fp: 2, t: 200_000, v: 1})
	require.Empty(t, rows)
	require.Equal(t, map[uint64]int64{1: 60_000, 2: 180_000}, cold)
	r.seed(rollupKey{"t", 1}, rollupMinute{}, rollupMinute{})
	r.commit()
}

func TestRollupsForgetAndIdle(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { return now }
	r := warmRollups(clock)
	r.Forget()
	_, cold := observeRows(r, rollupSample{fp: 1, t: b + 90_000, v: 1})
	require.Equal(t, map[uint64]int64{1: b + 60_000}, cold)

	r = warmRollups(clock)
	require.Equal(t, 1, r.Len())
	now = now.Add(rollupIdle - time.Second)
	r.commit()
	require.Equal(t, 1, r.Len(), "not idle long enough")
	now = now.Add(2 * time.Second)
	r.commit()
	require.Equal(t, 1, r.Len(), "swept at most once a minute")
	now = now.Add(time.Minute)
	r.commit()
	require.Zero(t, r.Len())
}

func TestRollupMinuteTake(t *testing.T) {
	var m rollupMinute
	m.T = 60_000
	for _, tc := range []struct {
		t           int64
		v           float64
		counted, ok bool
	}{
		{61_000, math.NaN(), true, true}, // ClickHouse's min and max keep a first NaN
		{62_000, 5, true, true},
		{62_000, 5, false, true},           // the latest again
		{62_500, 6, true, true},            // later than the latest
		{62_200, 5, false, false},          // in a second counted, and earlier
		{61_000, math.NaN(), false, false}, // not the latest
		{59_999 + 60_000, 1, true, true},   // a new second
	} {
		counted, ok := m.take(tc.t, tc.v)
		require.Equal(t, tc.counted, counted, "sample at %d", tc.t)
		require.Equal(t, tc.ok, ok, "sample at %d", tc.t)
	}
	require.True(t, math.IsNaN(m.Min) && math.IsNaN(m.Max) && math.IsNaN(m.Sum))
	require.Equal(t, uint64(4), m.Count)
	require.Equal(t, RollupPoint{T: 60_000, Count: 4, Last: 1, LastT: 119_999}, RollupPoint{T: m.T, Count: m.Count, Last: m.Last, LastT: m.LastT})
}

// TestRollupsAcrossWrites runs writes one after another: a minute that
// became the one before still takes late samples, a series held with one
// minute only sends a marker before it to ClickHouse, and a write that
// never committed leaves nothing behind.
func TestRollupsAcrossWrites(t *testing.T) {
	r := warmRollups(time.Now)
	rows, cold := observeRows(r, rollupSample{fp: 1, t: b + 130_000, v: 6})
	require.Empty(t, cold)
	require.Equal(t, []RollupPoint{{T: b + 120_000, Min: 6, Max: 6, Sum: 6, Count: 1, Last: 6, LastT: b + 130_000}}, rows)
	r.commit()
	st := r.series[rollupKey{"t", 1}]
	require.Equal(t, int64(b+60_000), st.prev.T)
	require.Equal(t, uint64(1<<0|1<<15), st.prev.seconds)
	require.Equal(t, uint64(1<<10), st.cur.seconds)

	// Late into the minute before, in a second with none counted.
	rows, cold = observeRows(r, rollupSample{fp: 1, t: b + 70_000, v: 0})
	require.Empty(t, cold)
	require.Equal(t, []RollupPoint{{T: b + 60_000, Min: 0, Max: 2, Sum: 3, Count: 3, Last: 2, LastT: b + 75_000}}, rows)

	// Not committed: the next write starts from the same state.
	again, _ := observeRows(r, rollupSample{fp: 1, t: b + 70_000, v: 0})
	require.Equal(t, rows, again)
	r.commit()
	require.Equal(t, uint64(3), r.series[rollupKey{"t", 1}].prev.Count)

	// A series held with its latest minute only.
	r.seed(rollupKey{"t", 5}, rollupMinute{RollupPoint: RollupPoint{T: b, Count: 1, LastT: b + 1000}, seconds: 1 << 1}, rollupMinute{})
	r.commit()
	_, cold = observeRows(r, rollupSample{fp: 5, t: b - 30_000, stale: true})
	require.Equal(t, map[uint64]int64{5: b - 60_000}, cold)
	require.Equal(t, uint64(1), func() uint64 { r.commit(); return r.Cold() }())
}

func TestLatestTwo(t *testing.T) {
	minute := func(start int64) rollupMinute { return rollupMinute{RollupPoint: RollupPoint{T: start, Count: 1}} }
	type seeded struct {
		fp       uint64
		cur, prv rollupMinute
	}
	var got []seeded
	l := latestTwo{seed: func(fp uint64, cur, prv rollupMinute) { got = append(got, seeded{fp, cur, prv}) }}
	for _, row := range []struct {
		fp     uint64
		minute int64
	}{{1, 0}, {1, 60_000}, {1, 120_000}, {2, 60_000}, {3, 0}, {3, 180_000}} {
		l.add(row.fp, minute(row.minute))
	}
	l.flush()
	l.flush() // nothing more
	require.Equal(t, []seeded{
		{1, minute(120_000), minute(60_000)},
		{2, minute(60_000), rollupMinute{}},
		{3, minute(180_000), minute(0)},
	}, got)
}
