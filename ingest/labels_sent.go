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
	// epoch counts the partition count's changes: a copy of an entry
	// taken in another epoch (knownSeries keeps some) is void.
	epoch atomic.Uint32
}

// sentAt is when (Unix seconds) and for which day a series' labels were
// last acknowledged.
type sentAt struct {
	day int64
	at  int64
}

func newLabelsSent(interval time.Duration, size int) *labelsSent {
	return &labelsSent{interval: interval, sent: newTenantCache[uint64, sentAt](size)}
}

// partitions tells ls the metrics topic's partition count before a
// request is produced. A change forgets every series, so that each goes
// with its labels to its new partition before references follow there.
// (Series a request's decoder already made references, knownSeries, go
// as they are; their labels are in the topic, on the old partition.)
func (ls *labelsSent) partitions(n int) {
	old := ls.parts.Load()
	if old == int64(n) || !ls.parts.CompareAndSwap(old, int64(n)) || old == 0 {
		return
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.sent = newTenantCache[uint64, sentAt](ls.sent.size)
	ls.epoch.Add(1)
}

// refer turns into references, in place, the series of tenant whose
// labels went out recently enough for every day they have samples on,
// and returns the fingerprints of the others, which travel with their
// labels and are recorded (record) once Kafka acknowledged them. Each
// series' Fingerprint must be set. A series that is a reference already
// (the remote write decoder found it fresh, knownSeries) stays one, even
// if it turned stale since: its labels went out at most the time it took
// to decode the request more than interval ago.
func (ls *labelsSent) refer(tenant string, series []store.Series, now time.Time) []uint64 {
	fresh, unlock := ls.fresh(tenant, now.Unix())
	defer unlock()
	var send []uint64
	for i := range series {
		s := &series[i]
		switch {
		case s.IsRef():
		case fresh(s.Fingerprint, s.Samples, s.Histograms):
			s.Labels = labels.EmptyLabels()
		case ls.interval > 0:
			send = append(send, s.Fingerprint)
		}
	}
	return send
}

// fresh returns a function that tells whether a series of tenant may go
// as a reference at now (Unix seconds): Kafka acknowledged its labels
// within interval, for the day of every sample. ls is read-locked until
// unlock is called.
func (ls *labelsSent) fresh(tenant string, now int64) (fresh func(fp uint64, samples []store.Sample, hs []store.HistogramSample) bool, unlock func()) {
	entry, _, unlock := ls.entries(tenant)
	oldest := ls.oldest(now)
	return func(fp uint64, samples []store.Sample, hs []store.HistogramSample) bool {
		e, ok := entry(fp)
		return ok && e.fresh(oldest, samples, hs)
	}, unlock
}

// entries returns a function that looks up the entry of a series of
// tenant, and the epoch the entries belong to. ls is read-locked until
// unlock is called.
func (ls *labelsSent) entries(tenant string) (entry func(fp uint64) (sentAt, bool), epoch uint32, unlock func()) {
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
// received at now, were acknowledged: they are references until the day
// of their samples changes or interval passes.
func (ls *labelsSent) record(tenant string, fps []uint64, series []store.Series, now time.Time) {
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
