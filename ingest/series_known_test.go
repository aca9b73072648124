package ingest

import (
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/ingest/remotewrite"
	"github.com/cairn-dev/cairn/store"
)

// TestKnownSeriesSentCopies follows one known series through the copy of
// its labelsSent entry that knownSeries keeps: taken on the first lookup
// after its labels were acknowledged, enough on its own while it is
// fresh, void when the partition count changes, and never fresher than
// what labelsSent recorded.
func TestKnownSeriesSentCopies(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	today, tomorrow := t0.UnixMilli(), t0.Add(24*time.Hour).UnixMilli()
	raw, other := []byte("encoded labels"), []byte("other labels")
	const fp = 42

	known := newKnownSeries(100)
	sent := newLabelsSent(10*time.Minute, 100)
	sent.partitions(4)
	known.add("t", []knownEntry{{raw: raw, fp: fp}})

	type result struct {
		fp    uint64
		fresh bool
	}
	look := func(at time.Time, raw []byte, ts int64) result {
		f, done := known.lookup("t", sent, at.Unix())
		defer done()
		fp, fresh := lookupOne(f, raw, []store.Sample{{T: ts, V: 1}})
		return result{fp, fresh}
	}
	copyOf := func() (sentAt, uint64) {
		known.mu.RLock()
		defer known.mu.RUnlock()
		cur, prev := known.known.tables("t")
		return find(cur, prev, known.key(raw)).sent.unpack(), known.copiesEpoch
	}
	ack := func(at time.Time) {
		sent.record("t", []uint64{fp}, []store.Series{{Labels: labels.FromStrings("__name__", "m"), Fingerprint: fp, Samples: []store.Sample{{T: today}}}}, at, sent.epoch.Load())
	}

	require.Equal(t, result{0, false}, look(t0, other, today), "an unknown label set")
	require.Equal(t, result{fp, false}, look(t0, raw, today), "known, labels not sent yet")
	s, _ := copyOf()
	require.Equal(t, sentAt{}, s, "nothing to copy")

	ack(t0)
	require.Equal(t, result{fp, true}, look(t0.Add(time.Minute), raw, today), "fresh, from labelsSent")
	s, epoch := copyOf()
	require.Equal(t, sentAt{day: store.DayOf(today), at: t0.Unix()}, s, "the entry was copied")
	require.Equal(t, sent.epoch.Load(), epoch)

	// labelsSent forgets the series (its generations turned over): the
	// copy alone still makes it a reference, as the labels did go out.
	sent.mu.Lock()
	sent.sent = newTenantCache[uint64, sentAt](100)
	sent.mu.Unlock()
	require.Equal(t, result{fp, true}, look(t0.Add(2*time.Minute), raw, today), "fresh, from the copy")
	require.Equal(t, result{fp, false}, look(t0.Add(2*time.Minute), raw, tomorrow), "its labels went out for another day")
	require.Equal(t, result{fp, false}, look(t0.Add(11*time.Minute), raw, today), "its labels went out too long ago")

	// A new partition count voids every copy.
	ack(t0.Add(3 * time.Minute))
	require.Equal(t, result{fp, true}, look(t0.Add(4*time.Minute), raw, today))
	sent.partitions(8)
	require.Equal(t, result{fp, false}, look(t0.Add(4*time.Minute), raw, today), "sent before the partition count changed")
	ack(t0.Add(5 * time.Minute))
	require.Equal(t, result{fp, true}, look(t0.Add(6*time.Minute), raw, today), "sent again since")
	s, epoch = copyOf()
	require.Equal(t, sentAt{day: store.DayOf(today), at: t0.Add(5 * time.Minute).Unix()}, s)
	require.Equal(t, sent.epoch.Load(), epoch, "copied in the new epoch")

	// The partition count changes while a request is decoded: the copy it
	// took is stored as of the epoch it was taken in, and so is void in
	// the next.
	// (The copy in hand, from 5 minutes, is too old at 16, so the decode
	// takes a new one.)
	ack(t0.Add(14 * time.Minute))
	f, done := known.lookup("t", sent, t0.Add(16*time.Minute).Unix())
	_, fresh := lookupOne(f, raw, []store.Sample{{T: today, V: 1}})
	require.True(t, fresh, "fresh when decoded")
	// Another request sees the new count; it waits for the read locks
	// the decode holds.
	changed := make(chan struct{})
	go func() {
		sent.partitions(16)
		close(changed)
	}()
	done()
	<-changed
	s, epoch = copyOf()
	require.Equal(t, t0.Add(14*time.Minute).Unix(), s.at, "the copy was stored")
	require.NotEqual(t, sent.epoch.Load(), epoch)
	require.Equal(t, result{fp, false}, look(t0.Add(16*time.Minute), raw, today), "void in the new epoch")
}

// lookupOne asks known about one series.
func lookupOne(known remotewrite.Known, raw []byte, samples []store.Sample) (uint64, bool) {
	series, isKnown := []store.Series{{Samples: samples}}, []bool{false}
	known([][]byte{raw}, series, isKnown)
	return series[0].Fingerprint, isKnown[0]
}

// TestKnownTable fills a table past several doublings and checks that
// every key keeps its fingerprint and copy, that absent keys are absent,
// and that clearSent voids the copies only.
func TestKnownTable(t *testing.T) {
	var tab knownTable
	require.Nil(t, tab.get(rawKey{1, 2}), "empty")
	require.Nil(t, (*knownTable)(nil).get(rawKey{1, 2}), "no table")
	const n = 5000
	key := func(i int) rawKey {
		// The even keys' first words have no low bits, so that they
		// all start probing at slot 0 and run long; the odd ones
		// spread.
		if i%2 == 0 {
			return rawKey{uint64(i) << 40, uint64(i) + 1}
		}
		return rawKey{uint64(i) * 0x9e3779b97f4a7c15, uint64(i) + 1}
	}
	for i := range n {
		require.True(t, tab.put(key(i), uint64(i)), "new key %d", i)
	}
	require.False(t, tab.put(key(7), 77), "a key again")
	require.Equal(t, n, tab.n)
	require.LessOrEqual(t, tab.n*4, len(tab.slots)*3)
	for i := range n {
		v := tab.get(key(i))
		require.NotNil(t, v, "key %d", i)
		want := uint64(i)
		if i == 7 {
			want = 77
		}
		require.Equal(t, want, v.fp)
		v.sent = packSent(sentAt{day: int64(i), at: 1_800_000_000})
	}
	require.Nil(t, tab.get(rawKey{3, n + 5}))
	tab.clearSent()
	for i := range n {
		require.Zero(t, tab.get(key(i)).sent, "key %d", i)
	}
}

func TestPackedSent(t *testing.T) {
	for _, e := range []sentAt{{}, {day: 20414, at: 1_763_800_000}, {day: -3, at: 1<<32 - 1}} {
		require.Equal(t, e, packSent(e).unpack())
	}
}
