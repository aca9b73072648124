package store

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strings"
	"time"
)

// Rollups keeps, for one writer, the aggregates so far of each series'
// latest two minutes, from which WriteMetrics computes the rows of
// rollups_1m without reading anything back: a new sample of one of the
// minutes, or of a later one, adds to that minute's aggregate, and the
// new aggregate is written as a row of its own, which replaces the
// minute's earlier rows because it counts more samples. A sample is new
// when it is later than every sample of its minute counted so far, or in
// a second of the minute with none counted; the minute's latest sample
// delivered again is skipped.
//
// What it cannot vouch for it leaves to ClickHouse: a series it does not
// hold (after a start, a Forget or 15 idle minutes), a late sample in a
// second with one counted (it may be that one again), a sample older
// than the two minutes, and a stale marker that may replace a counted
// sample make WriteMetrics aggregate the series' minutes from samples
// after inserting them, from the earliest minute concerned on, and hold
// the series again from its latest two minutes there.
//
// The aggregates are exact only if every sample of a series goes through
// one Rollups, in order of delivery; a writer that finds a partition's
// offsets not following on from what it read last must call Forget, as
// another writer may have written its series in between. A Rollups is
// not safe for concurrent use.
type Rollups struct {
	series  map[rollupKey]*rollupState
	now     func() time.Time
	swept   time.Time
	pending []rollupUpdate // of the write in progress
	seeds   []rollupSeed   // of the write in progress
	cold    int            // series of the write in progress aggregated by ClickHouse
	colds   uint64         // series aggregated by ClickHouse, over all writes
}

type rollupKey struct {
	tenant string
	fp     uint64
}

// rollupState is what a Rollups holds of a series: its latest minute,
// and the one before, so that a sample that comes up to a minute late,
// as when two senders' requests cross, is counted without asking
// ClickHouse.
type rollupState struct {
	cur, prev rollupMinute // prev.Count is 0 when there is none
	touched   int64        // unix seconds of the last write that changed it
}

// rollupMinute is a series' aggregate of one minute so far, with the
// seconds of the minute in which it counted a sample: a sample in a
// second not counted yet is new, whenever it comes.
type rollupMinute struct {
	RollupPoint
	seconds uint64 // bit s: a sample in second s of the minute is counted
}

// take counts a sample of m's minute into m, unless it is m's latest
// sample delivered again. It reports whether it could tell: a sample
// earlier than m's latest, in a second m counted a sample in already, may
// have been counted and is left to ClickHouse.
func (m *rollupMinute) take(t int64, v float64) (counted, ok bool) {
	switch {
	case m.Count == 0 || t > m.LastT:
	case t == m.LastT:
		return false, math.Float64bits(v) == math.Float64bits(m.Last)
	case m.maybeCounted(t):
		return false, false
	}
	m.seconds |= secondBit(t)
	m.add(t, v)
	return true, true
}

// maybeCounted reports whether m may have counted a sample at t: one in
// the second of t, and not later than its latest.
func (m *rollupMinute) maybeCounted(t int64) bool {
	return m.Count > 0 && t <= m.LastT && m.seconds&secondBit(t) != 0
}

// secondBit is the bit of rollupMinute.seconds for the second of t.
func secondBit(t int64) uint64 { return 1 << (t % 60_000 / 1000) }

// rollupUpdate is a change to one series' state, applied once its write
// succeeded: its minutes after the batch, or forgetting it.
type rollupUpdate struct {
	key      rollupKey
	state    *rollupState // nil: a series new to the Rollups
	cur, prv rollupMinute
	forget   bool
}

// rollupSeed names a series and a minute: one to aggregate from samples
// from (rollupRows.cold), or a series' latest minutes as ClickHouse
// aggregated them.
type rollupSeed struct {
	key      rollupKey
	cur, prv rollupMinute
}

// rollupIdle is how long a series' state stays without samples: a series
// back after longer is aggregated from samples again once.
const rollupIdle = 15 * time.Minute

// NewRollups returns an empty Rollups.
func NewRollups() *Rollups {
	return &Rollups{series: make(map[rollupKey]*rollupState), now: time.Now}
}

// Forget drops every series' state: the next sample of each is
// aggregated with its minute's samples in ClickHouse.
func (r *Rollups) Forget() { clear(r.series) }

// Len is the number of series whose latest minutes r holds.
func (r *Rollups) Len() int { return len(r.series) }

// Cold is the number of times a series was aggregated from samples by
// ClickHouse, in the writes r took part in: series r did not hold, and
// samples it could not place.
func (r *Rollups) Cold() uint64 { return r.colds }

// rollupRows are rows of rollups_1m, in columns, and the minutes to
// aggregate from samples instead.
type rollupRows struct {
	tenant []string
	fp     []uint64
	minute []int64
	min    []float64
	max    []float64
	sum    []float64
	count  []uint64
	last   []float64
	lastT  []int64
	// cold holds the series to aggregate from samples, each with the
	// earliest minute to aggregate from.
	cold []rollupSeed
}

func (w *rollupRows) reset() {
	w.truncate(0)
	w.cold = w.cold[:0]
}

func (w *rollupRows) len() int { return len(w.fp) }

func (w *rollupRows) truncate(n int) {
	clear(w.tenant[n:])
	w.tenant, w.fp, w.minute = w.tenant[:n], w.fp[:n], w.minute[:n]
	w.min, w.max, w.sum = w.min[:n], w.max[:n], w.sum[:n]
	w.count, w.last, w.lastT = w.count[:n], w.last[:n], w.lastT[:n]
}

func (w *rollupRows) add(tenant string, fp uint64, p *RollupPoint) {
	w.tenant = append(w.tenant, tenant)
	w.fp = append(w.fp, fp)
	w.minute = append(w.minute, p.T)
	w.min = append(w.min, p.Min)
	w.max = append(w.max, p.Max)
	w.sum = append(w.sum, p.Sum)
	w.count = append(w.count, p.Count)
	w.last = append(w.last, p.Last)
	w.lastT = append(w.lastT, p.LastT)
}

// observe computes the rollup rows of sample rows in (tenant,
// fingerprint, timestamp) order into w, and records in r the series'
// new states, applied by commit; it first drops what an observe staged
// for a write that did not succeed. r may be nil: every series is then
// aggregated from samples.
func (r *Rollups) observe(w *rollupRows, tenant []string, fp []uint64, ts []int64, val []float64, flags []uint8) {
	r.begin()
	n := len(w.cold)
	for i := 0; i < len(fp); {
		j := i + 1
		for j < len(fp) && fp[j] == fp[i] && tenant[j] == tenant[i] {
			j++
		}
		r.observeSeries(w, rollupKey{tenant[i], fp[i]}, ts[i:j], val[i:j], flags[i:j])
		i = j
	}
	if r != nil {
		r.cold = len(w.cold) - n
	}
}

// observeSeries adds the rows of one series' samples, in time order.
func (r *Rollups) observeSeries(w *rollupRows, key rollupKey, ts []int64, val []float64, flags []uint8) {
	var st *rollupState
	if r != nil {
		st = r.series[key]
	}
	first := firstValue(ts, flags)
	if first < 0 && st == nil {
		return // stale markers of a series not held: they count nowhere
	}
	if st == nil {
		w.coldFrom(key, minuteOf(ts[first]))
		return
	}
	var (
		cur, prv           = st.cur, st.prev
		curDirty, prvDirty bool
		n                  = w.len()
	)
	for i, t := range ts {
		m, counted, ok := minuteOf(t), false, true
		switch {
		case flags[i] != 0:
			// A stale marker is no value, unless it comes in a second
			// with one counted, which it may replace in samples.
			// Minutes between the two kept ones have none.
			ok = m > cur.T || m == cur.T && !cur.maybeCounted(t) ||
				prv.Count > 0 && (m == prv.T && !prv.maybeCounted(t) || m > prv.T && m < cur.T)
		case m == cur.T:
			counted, ok = cur.take(t, val[i])
			curDirty = curDirty || counted
		case m > cur.T:
			if prvDirty {
				w.add(key.tenant, key.fp, &prv.RollupPoint)
			}
			prv, prvDirty = cur, curDirty
			cur, curDirty = rollupMinute{RollupPoint: RollupPoint{T: m}}, true
			cur.take(t, val[i])
		case m == prv.T && prv.Count > 0:
			counted, ok = prv.take(t, val[i])
			prvDirty = prvDirty || counted
		default:
			ok = false // older than the minutes kept
		}
		if !ok {
			// ClickHouse aggregates the series from the earliest minute
			// the batch or the state touches, and starts it again.
			w.truncate(n)
			from := min(minuteOf(ts[0]), st.cur.T)
			if st.prev.Count > 0 {
				from = min(from, st.prev.T)
			}
			w.coldFrom(key, from)
			r.pending = append(r.pending, rollupUpdate{key: key, state: st, forget: true})
			return
		}
	}
	if prvDirty {
		w.add(key.tenant, key.fp, &prv.RollupPoint)
	}
	if curDirty {
		w.add(key.tenant, key.fp, &cur.RollupPoint)
	}
	if curDirty || prvDirty {
		r.pending = append(r.pending, rollupUpdate{key: key, state: st, cur: cur, prv: prv})
	}
}

// coldFrom has ClickHouse aggregate key's series from minute on.
func (w *rollupRows) coldFrom(key rollupKey, minute int64) {
	w.cold = append(w.cold, rollupSeed{key: key, cur: rollupMinute{RollupPoint: RollupPoint{T: minute}}})
}

// firstValue is the index of the first sample that is not a stale
// marker, -1 if none.
func firstValue(ts []int64, flags []uint8) int {
	for i := range ts {
		if flags[i] == 0 {
			return i
		}
	}
	return -1
}

// begin drops what is staged for commit.
func (r *Rollups) begin() {
	if r != nil {
		clear(r.pending)
		clear(r.seeds)
		r.pending, r.seeds, r.cold = r.pending[:0], r.seeds[:0], 0
	}
}

// seed records a series' latest minutes as ClickHouse aggregated them,
// to start from after commit.
func (r *Rollups) seed(key rollupKey, cur, prv rollupMinute) {
	if r != nil {
		r.seeds = append(r.seeds, rollupSeed{key: key, cur: cur, prv: prv})
	}
}

// commit applies the states of a write that succeeded, and now and then
// drops the states of series idle for rollupIdle.
func (r *Rollups) commit() {
	if r == nil {
		return
	}
	now := r.now()
	touched := now.Unix()
	for _, u := range r.pending {
		switch {
		case u.forget:
			delete(r.series, u.key)
		case u.state != nil:
			u.state.cur, u.state.prev, u.state.touched = u.cur, u.prv, touched
		default:
			r.series[u.key] = &rollupState{cur: u.cur, prev: u.prv, touched: touched}
		}
	}
	for _, s := range r.seeds {
		r.series[s.key] = &rollupState{cur: s.cur, prev: s.prv, touched: touched}
	}
	r.colds += uint64(r.cold)
	r.begin()
	if now.Sub(r.swept) < time.Minute {
		return
	}
	r.swept = now
	idle := now.Add(-rollupIdle).Unix()
	for k, s := range r.series {
		if s.touched < idle {
			delete(r.series, k)
		}
	}
}

// writeRollups inserts the rows observe computed, then aggregates the
// cold series from samples, which the batch's insert reached, and
// inserts those rows too.
func (c *Client) writeRollups(ctx context.Context, w *rollupRows, r *Rollups, token string) error {
	if w.len() > 0 {
		if err := c.insertRollups(ctx, w, token); err != nil {
			return err
		}
	}
	if len(w.cold) == 0 {
		return nil
	}
	w.truncate(0)
	if err := c.aggregateCold(ctx, w, r); err != nil {
		return err
	}
	if w.len() == 0 {
		return nil
	}
	// Never deduplicated: the same rows may be right again after others
	// (a sample's value replaced, then put back), and a server that drops
	// a block equal to an earlier one would keep the others.
	return c.insertRollups(ctx, w, noDedup)
}

func (c *Client) insertRollups(ctx context.Context, w *rollupRows, token string) error {
	return c.insert(ctx, "rollups_1m", "tenant, fingerprint, "+rollupColumns, token,
		w.tenant, w.fp, w.minute, w.min, w.max, w.sum, w.count, w.last, w.lastT)
}

// coldSpan bounds how much earlier than a cold series' own first minute
// a query may aggregate it from: the series of one query share the
// earliest, so that a series with a sample an hour late does not make
// the others of its chunk read the hour again.
const coldSpan = 5 * 60_000

// aggregateCold puts into w the minutes of the cold series that ClickHouse
// aggregates from samples, from each series' earliest cold minute on (or
// up to coldSpan before), by tenant and in chunks of series, and seeds r
// with each series' latest two.
func (c *Client) aggregateCold(ctx context.Context, w *rollupRows, r *Rollups) error {
	cold := w.cold
	slices.SortFunc(cold, func(a, b rollupSeed) int {
		return cmp.Or(strings.Compare(a.key.tenant, b.key.tenant), cmp.Compare(a.cur.T, b.cur.T))
	})
	var fps []uint64
	for i := 0; i < len(cold); {
		j := i + 1
		for j < len(cold) && j-i < readChunk && cold[j].key.tenant == cold[i].key.tenant && cold[j].cur.T-cold[i].cur.T <= coldSpan {
			j++
		}
		fps = fps[:0]
		for _, s := range cold[i:j] {
			fps = append(fps, s.key.fp)
		}
		// Sorted by time within the tenant: the chunk's first is its
		// earliest.
		tenant, since := cold[i].key.tenant, cold[i].cur.T
		if err := c.aggregateSince(ctx, w, r, tenant, fps, since); err != nil {
			return err
		}
		i = j
	}
	return nil
}

func (c *Client) aggregateSince(ctx context.Context, w *rollupRows, r *Rollups, tenant string, fps []uint64, since int64) error {
	latest := latestTwo{seed: func(fp uint64, cur, prv rollupMinute) { r.seed(rollupKey{tenant, fp}, cur, prv) }}
	err := c.queryMinutes(ctx, "aggregate rollups from samples", c.minutesSinceSQL(tenant, fps, since), true, func(fp uint64, m *rollupMinute) {
		w.add(tenant, fp, &m.RollupPoint)
		latest.add(fp, *m)
	})
	if err != nil {
		return err
	}
	latest.flush()
	return nil
}

// latestTwo passes on, from minutes in (fingerprint, minute) order, each
// fingerprint's latest two: cur, and prv (empty when it has one).
type latestTwo struct {
	seed     func(fp uint64, cur, prv rollupMinute)
	fp       uint64
	cur, prv rollupMinute
	any      bool
}

func (l *latestTwo) add(fp uint64, m rollupMinute) {
	if l.any && fp != l.fp {
		l.flush()
	}
	l.fp, l.prv, l.cur, l.any = fp, l.cur, m, true
}

func (l *latestTwo) flush() {
	if l.any {
		l.seed(l.fp, l.cur, l.prv)
	}
	l.cur, l.prv, l.any = rollupMinute{}, rollupMinute{}, false
}
