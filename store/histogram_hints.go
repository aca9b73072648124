package store

import (
	"slices"
	"sort"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/value"
)

// Counter reset hints, the way Prometheus' TSDB reports them.
//
// The TSDB does not return the hints it was given: it keeps the
// histograms of a series in chunks, and reads each histogram back with
// the hint of its place in its chunk. A histogram that continues the
// chunk of the one before it (same kind, same schema and zero threshold,
// same custom bounds, no counter decreased) reads as NotCounterReset; one
// that starts a chunk reads as UnknownCounterReset, whatever it was given,
// and the engine then detects a reset itself; a gauge histogram reads as
// GaugeType. PromQL's results carry hints (sum of counters that did not
// reset is a not_reset counter), so the store, to answer as Prometheus
// does, gives histograms the hint the TSDB would read them with: the
// writer for those that follow another sample of their series in the
// same batch, and the reader, DeriveCounterResetHints, for those that
// follow another sample in the range it read. The first histogram of a
// batch keeps the hint it was given.

// tsdbHint is the hint the TSDB reads h with when prev is the histogram
// right before it in its series, or nil when that sample is a float.
// A stale marker keeps its own hint: the engine reads only its sum.
func tsdbHint(prev *HistogramSample, h HistogramSample) histogram.CounterResetHint {
	hint := h.hint()
	switch {
	case value.IsStaleNaN(h.sum()):
		return hint
	case hint == histogram.GaugeType:
		return histogram.GaugeType
	case continuesChunk(prev, h):
		return histogram.NotCounterReset
	}
	return histogram.UnknownCounterReset
}

// continuesChunk tells whether the TSDB appends h to the chunk of prev,
// as its histogram appenders' appendable checks do.
func continuesChunk(prev *HistogramSample, h HistogramSample) bool {
	if prev == nil || (prev.H == nil) != (h.H == nil) || prev.hint() == histogram.GaugeType ||
		value.IsStaleNaN(prev.sum()) || h.hint() == histogram.CounterReset {
		return false
	}
	p, c := prev.float(), h.float()
	if p.Schema != c.Schema || p.ZeroThreshold != c.ZeroThreshold {
		return false
	}
	if histogram.IsCustomBucketsSchema(c.Schema) && !histogram.CustomBucketBoundsMatch(p.CustomValues, c.CustomValues) {
		return false
	}
	c.CounterResetHint = histogram.UnknownCounterReset // detect, do not trust
	return !c.DetectReset(p)
}

func (s HistogramSample) hint() histogram.CounterResetHint {
	if s.H != nil {
		return s.H.CounterResetHint
	}
	return s.FH.CounterResetHint
}

func (s HistogramSample) sum() float64 {
	if s.H != nil {
		return s.H.Sum
	}
	return s.FH.Sum
}

// float is a float histogram of s that the caller may change: a
// conversion of an integer histogram, else a shallow copy.
func (s HistogramSample) float() *histogram.FloatHistogram {
	if s.H != nil {
		return s.H.ToFloat(nil)
	}
	c := *s.FH
	return &c
}

func (s HistogramSample) setHint(hint histogram.CounterResetHint) {
	if s.H != nil {
		s.H.CounterResetHint = hint
	} else {
		s.FH.CounterResetHint = hint
	}
}

// DeriveCounterResetHints gives every histogram of hs that follows
// another sample of its series (in samples or hs, both sorted by time)
// the hint Prometheus' TSDB would read it with; see tsdbHint. It changes
// the histograms in place: call it on histograms the caller owns, such as
// ReadHistograms' results.
func DeriveCounterResetHints(samples []Sample, hs []HistogramSample) {
	si := 0
	var prev *HistogramSample
	for i := range hs {
		h := hs[i]
		floatBefore := false
		for si < len(samples) && samples[si].T <= h.T {
			si, floatBefore = si+1, true
		}
		if floatBefore {
			prev = nil
		}
		if i > 0 || floatBefore {
			h.setHint(tsdbHint(prev, h))
		}
		prev = &hs[i]
	}
}

// batchHints returns the hints the writer stores with s's histograms,
// by index: the TSDB's for those that follow another sample of s, the
// given one for the first. Neither list need be sorted.
func batchHints(s Series) []histogram.CounterResetHint {
	order := make([]int, len(s.Histograms))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return s.Histograms[order[a]].T < s.Histograms[order[b]].T })
	ts := make([]int64, len(s.Samples))
	for i, p := range s.Samples {
		ts[i] = p.T
	}
	slices.Sort(ts)

	hints := make([]histogram.CounterResetHint, len(s.Histograms))
	si := 0
	var prev *HistogramSample
	for n, i := range order {
		h := s.Histograms[i]
		floatBefore := false
		for si < len(ts) && ts[si] <= h.T {
			si, floatBefore = si+1, true
		}
		if floatBefore {
			prev = nil
		}
		if n > 0 || floatBefore {
			hints[i] = tsdbHint(prev, h)
		} else {
			hints[i] = h.hint()
		}
		prev = &s.Histograms[i]
	}
	return hints
}
