package ingest

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/cairn-dev/cairn/store"
)

// labelsSent remembers, per tenant and series fingerprint, when this
// receiver last had a series' labels acknowledged by Kafka and for which
// UTC day. In between, the series travels as a reference
// (store.Series.IsRef): its fingerprint and samples, a fifth of the bytes
// of a node_exporter series with its labels, and nothing for the writer
// to decode or hash.
//
// What makes a reference safe: the writer stores a series' labels (the
// series and series_labels rows, one per day) when it meets them, and a
// reference goes to the same partition as its labels (the fingerprint
// picks the partition), after them. So a series is sent with labels again
// whenever a sample falls on a day other than the one they were last sent
// for, and at least every interval, which bounds how far back a reader
// of the topic must look to learn every series' labels (the query role's
// head replays the topic; see Tail). The entry is recorded only once
// Kafka acknowledged the labels: a request that failed sends them again
// on its retry. Two receivers, or two requests at once, may both send a
// series' labels; the store keeps one row.
//
// Memory is bounded by two generations of at most size/2 entries
// (tenantCache). A forgotten series is sent with its labels, nothing
// worse.
type labelsSent struct {
	interval time.Duration // 0 disables references

	mu   sync.RWMutex
	sent tenantCache[uint64, sentAt] // by tenant, then fingerprint
	// parts is the partition count of the metrics topic the labels went
	// to; when it changes, a fingerprint picks another partition than
	// its labels took, so every series is sent with labels again.
	parts atomic.Int64
	// epoch counts the partition count's changes, from 1: what was
	// decided in another epoch (a request's references and its record,
	// knownSeries' copies of entries) is void.
	epoch atomic.Uint64
}

// sentAt is when (Unix seconds) and for which day a series' labels were
// last acknowledged.
type sentAt struct {
	day int64
	at  int64
}

func newLabelsSent(interval time.Duration, size int) *labelsSent {
	ls := &labelsSent{interval: interval, sent: newTenantCache[uint64, sentAt](size)}
	ls.epoch.Store(1) // knownSeries' copies start in epoch 0, so void
	return ls
}

// partitions tells ls the metrics topic's partition count before a
// request is produced. A change forgets every series, so that each goes
// with its labels to its new partition before references follow there.
// (Series a request's decoder already made references, knownSeries, go
// as they are; their labels are in the topic, on the old partition.)
// It returns the epoch the request is produced in, for refer and record:
// a request whose epoch ended before it refers or records sends every
// series with labels and records nothing, since it shards by the old
// count.
func (ls *labelsSent) partitions(n int) (epoch uint64) {
	old := ls.parts.Load()
	if old == int64(n) || !ls.parts.CompareAndSwap(old, int64(n)) || old == 0 {
		return ls.epoch.Load()
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.sent = newTenantCache[uint64, sentAt](ls.sent.size)
	return ls.epoch.Add(1)
}

// refer turns into references, in place, the series of tenant whose
// labels went out recently enough for every day they have samples on,
// and returns the fingerprints of the others, which travel with their
// labels and are recorded (record) once Kafka acknowledged them. Each
// series' Fingerprint must be set. A series that is a reference already
// (the remote write decoder found it fresh, knownSeries) stays one, even
// if it turned stale since: its labels went out at most the time it took
// to decode the request more than interval ago. epoch is the request's
// (partitions).
func (ls *labelsSent) refer(tenant string, series []store.Series, now time.Time, epoch uint64) []uint64 {
	entry, current, unlock := ls.entries(tenant)
	defer unlock()
	oldest := ls.oldest(now.Unix())
	stale := epoch != current // the request shards by an old count
	var send []uint64
	for i := range series {
		s := &series[i]
		if s.IsRef() {
			continue
		}
		if e, ok := entry(s.Fingerprint); !stale && ok && e.fresh(oldest, s.Samples, s.Histograms) {
			s.Labels = labels.EmptyLabels()
			continue
		}
		if ls.interval > 0 {
			send = append(send, s.Fingerprint)
		}
	}
	return send
}

// entries returns a function that looks up the entry of a series of
// tenant, and the epoch the entries belong to. ls is read-locked until
// unlock is called.
func (ls *labelsSent) entries(tenant string) (entry func(fp uint64) (sentAt, bool), epoch uint64, unlock func()) {
	if ls.interval <= 0 {
		return func(uint64) (sentAt, bool) { return sentAt{}, false }, 0, func() {}
	}
	ls.mu.RLock()
	cur, prev := ls.sent.maps(tenant)
	return func(fp uint64) (sentAt, bool) {
		e, ok := cur[fp]
		if !ok {
			e, ok = prev[fp]
		}
		return e, ok
	}, ls.epoch.Load(), ls.mu.RUnlock
}

// oldest is the earliest time (Unix seconds) labels may have been sent
// for a series to go as a reference at now.
func (ls *labelsSent) oldest(now int64) int64 { return now - int64(ls.interval/time.Second) }

// fresh reports whether labels sent as e make a reference of samples and
// hs sent when labels sent at oldest or later still count.
func (e sentAt) fresh(oldest int64, samples []store.Sample, hs []store.HistogramSample) bool {
	return e.at >= oldest && onDay(samples, hs, e.day)
}

// record notes that the labels of the series fps of tenant, in a request
// received at now and produced in epoch, were acknowledged: they are
// references until the day of their samples changes or interval passes.
// Nothing is noted when the partition count changed since: the labels
// went to partitions the series' references no longer take.
func (ls *labelsSent) record(tenant string, fps []uint64, series []store.Series, now time.Time, epoch uint64) {
	if len(fps) == 0 {
		return
	}
	// The day of a series is that of its first sample; one with samples
	// on two days (a rare request across midnight) is sent with labels
	// again until its samples keep to one.
	days := make(map[uint64]int64, len(fps))
	for i := range series {
		if d, ok := firstDay(&series[i]); ok {
			days[series[i].Fingerprint] = d
		}
	}
	at := now.Unix()
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.epoch.Load() != epoch {
		return
	}
	for _, fp := range fps {
		d, ok := days[fp]
		if !ok {
			continue
		}
		ls.sent.put(tenant, fp, sentAt{day: d, at: at})
	}
}

// firstDay returns the day of the first sample or histogram of s.
func firstDay(s *store.Series) (int64, bool) {
	switch {
	case len(s.Samples) > 0:
		return store.DayOf(s.Samples[0].T), true
	case len(s.Histograms) > 0:
		return store.DayOf(s.Histograms[0].T), true
	}
	return 0, false
}

// onDay reports whether every sample and histogram is on day.
func onDay(samples []store.Sample, hs []store.HistogramSample, day int64) bool {
	for _, p := range samples {
		if store.DayOf(p.T) != day {
			return false
		}
	}
	for _, h := range hs {
		if store.DayOf(h.T) != day {
			return false
		}
	}
	return true
}
