package ingest

import (
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

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
		fp, fresh := f(raw, []store.Sample{{T: ts, V: 1}}, nil)
		return result{fp, fresh}
	}
	copyOf := func() (sentAt, uint32) {
		known.mu.RLock()
		defer known.mu.RUnlock()
		cur, prev := known.known.maps("t")
		v, ok := cur[known.key(raw)]
		if !ok {
			v = prev[known.key(raw)]
		}
		return v.sent, v.epoch
	}
	ack := func(at time.Time) {
		sent.record("t", []uint64{fp}, []store.Series{{Labels: labels.FromStrings("__name__", "m"), Fingerprint: fp, Samples: []store.Sample{{T: today}}}}, at)
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
}
