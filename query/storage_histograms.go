package query

import (
	"context"
	"sort"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/cairn-dev/cairn/store"
)

// readHistograms reads the native histograms of the refs that have any
// in the range (store.SeriesRef.Histograms): a float-only query costs no
// read of the histograms table. The histograms get the counter reset
// hints Prometheus' TSDB would read them with, given the series' samples
// (store.DeriveCounterResetHints).
func (q *querier) readHistograms(ctx context.Context, refs []store.SeriesRef, samples map[uint64][]store.Sample, mint, maxt int64) (map[uint64][]store.HistogramSample, error) {
	var fps []uint64
	for _, r := range refs {
		if r.Histograms {
			fps = append(fps, r.Fingerprint)
		}
	}
	if len(fps) == 0 {
		return nil, nil
	}
	hs, err := q.reader.ReadHistograms(ctx, q.tenant, fps, mint, maxt)
	if err != nil {
		return nil, err
	}
	for fp, h := range hs {
		store.DeriveCounterResetHints(samples[fp], h)
	}
	return hs, nil
}

// mixedSeries is a stored series with native histograms, and perhaps
// float samples too, both sorted by time.
type mixedSeries struct {
	labels     labels.Labels
	samples    []store.Sample
	histograms []store.HistogramSample
}

var _ storage.Series = (*mixedSeries)(nil)

func (s *mixedSeries) Labels() labels.Labels { return s.labels }

// Iterator returns an iterator over the samples and histograms, reusing
// it when it is one of ours.
func (s *mixedSeries) Iterator(it chunkenc.Iterator) chunkenc.Iterator {
	mi, ok := it.(*mixedIterator)
	if !ok {
		mi = &mixedIterator{}
	}
	*mi = mixedIterator{samples: s.samples, histograms: s.histograms}
	return mi
}

// mixedIterator is a chunkenc.Iterator over float samples and native
// histograms in time order. A float sample and a histogram at the same
// time cannot both be stored in Prometheus; should the store hold both,
// the float wins. Stale markers pass through: floats as value.StaleNaN,
// histograms with that sum; the engine recognises both.
type mixedIterator struct {
	samples    []store.Sample
	histograms []store.HistogramSample
	// next float sample and histogram, not yet reached
	si, hi int
	cur    chunkenc.ValueType
	t      int64
	v      float64
	h      *store.HistogramSample
	done   bool // exhausted
}

var _ chunkenc.Iterator = (*mixedIterator)(nil)

func (it *mixedIterator) Next() chunkenc.ValueType {
	if it.done {
		return chunkenc.ValNone
	}
	haveS, haveH := it.si < len(it.samples), it.hi < len(it.histograms)
	switch {
	case haveS && (!haveH || it.samples[it.si].T <= it.histograms[it.hi].T):
		s := it.samples[it.si]
		it.si++
		if haveH && it.histograms[it.hi].T == s.T {
			it.hi++
		}
		it.cur, it.t, it.v, it.h = chunkenc.ValFloat, s.T, s.V, nil
	case haveH:
		it.h = &it.histograms[it.hi]
		it.hi++
		it.t, it.cur = it.h.T, chunkenc.ValHistogram
		if it.h.FH != nil {
			it.cur = chunkenc.ValFloatHistogram
		}
	default:
		it.cur, it.done, it.h = chunkenc.ValNone, true, nil
	}
	return it.cur
}

// Seek takes millis, an alias of int64, which keeps go vet's stdmethods
// check from mistaking it for io.Seeker's Seek.
func (it *mixedIterator) Seek(t millis) chunkenc.ValueType {
	if it.done {
		return chunkenc.ValNone
	}
	if it.cur != chunkenc.ValNone && it.t >= t {
		return it.cur
	}
	it.si += sort.Search(len(it.samples)-it.si, func(i int) bool { return it.samples[it.si+i].T >= t })
	it.hi += sort.Search(len(it.histograms)-it.hi, func(i int) bool { return it.histograms[it.hi+i].T >= t })
	return it.Next()
}

func (it *mixedIterator) At() (int64, float64) { return it.t, it.v }

// AtHistogram copies the current integer histogram into h, or into a new
// one when h is nil: the engine may change what it gets.
func (it *mixedIterator) AtHistogram(h *histogram.Histogram) (int64, *histogram.Histogram) {
	if it.h == nil || it.h.H == nil {
		return it.t, nil
	}
	if h == nil {
		return it.t, it.h.H.Copy()
	}
	it.h.H.CopyTo(h)
	return it.t, h
}

// AtFloatHistogram copies the current histogram into fh, or into a new
// one when fh is nil, converting an integer histogram.
func (it *mixedIterator) AtFloatHistogram(fh *histogram.FloatHistogram) (int64, *histogram.FloatHistogram) {
	switch {
	case it.h == nil:
		return it.t, nil
	case it.h.H != nil:
		return it.t, it.h.H.ToFloat(fh)
	case fh == nil:
		return it.t, it.h.FH.Copy()
	}
	it.h.FH.CopyTo(fh)
	return it.t, fh
}

func (it *mixedIterator) AtT() int64 { return it.t }

// AtST returns 0: the store keeps no start timestamps.
func (*mixedIterator) AtST() int64 { return 0 }

func (*mixedIterator) Err() error { return nil }
