package query

import (
	"sort"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/util/annotations"

	"github.com/cairn-dev/cairn/store"
)

// millis is a Unix timestamp in milliseconds.
type millis = int64

// seriesSet iterates over series read from the store. samples is nil for
// label-only lookups, so every series then has no samples.
type seriesSet struct {
	refs       []store.SeriesRef
	samples    map[uint64][]store.Sample
	histograms map[uint64][]store.HistogramSample // of the refs that have some
	idx        int
}

var _ storage.SeriesSet = (*seriesSet)(nil)

func (s *seriesSet) Next() bool {
	if s.idx+1 >= len(s.refs) {
		s.idx = len(s.refs)
		return false
	}
	s.idx++
	return true
}

func (s *seriesSet) At() storage.Series {
	ref := s.refs[s.idx]
	if hs := s.histograms[ref.Fingerprint]; len(hs) > 0 {
		return &mixedSeries{labels: ref.Labels, samples: s.samples[ref.Fingerprint], histograms: hs}
	}
	return &series{labels: ref.Labels, samples: s.samples[ref.Fingerprint]}
}

func (*seriesSet) Err() error                        { return nil }
func (*seriesSet) Warnings() annotations.Annotations { return nil }

// pendingSeriesSet is the series set of a read in flight: its first use
// waits for the read.
type pendingSeriesSet struct {
	done chan storage.SeriesSet
	set  storage.SeriesSet
}

var _ storage.SeriesSet = (*pendingSeriesSet)(nil)

func (p *pendingSeriesSet) wait() storage.SeriesSet {
	if p.set == nil {
		p.set = <-p.done
	}
	return p.set
}

func (p *pendingSeriesSet) Next() bool                        { return p.wait().Next() }
func (p *pendingSeriesSet) At() storage.Series                { return p.wait().At() }
func (p *pendingSeriesSet) Err() error                        { return p.wait().Err() }
func (p *pendingSeriesSet) Warnings() annotations.Annotations { return p.wait().Warnings() }

// series is one stored series with its float samples, sorted by time.
type series struct {
	labels  labels.Labels
	samples []store.Sample
}

var _ storage.Series = (*series)(nil)

func (s *series) Labels() labels.Labels { return s.labels }

// Iterator returns an iterator over the samples, reusing it when it is one
// of ours.
func (s *series) Iterator(it chunkenc.Iterator) chunkenc.Iterator {
	if si, ok := it.(*sampleIterator); ok {
		si.reset(s.samples)
		return si
	}
	return newSampleIterator(s.samples)
}

// sampleIterator is a chunkenc.Iterator over float samples. Stale markers
// pass through as value.StaleNaN; the engine recognises them.
type sampleIterator struct {
	samples []store.Sample
	idx     int
}

var _ chunkenc.Iterator = (*sampleIterator)(nil)

func newSampleIterator(samples []store.Sample) *sampleIterator {
	return &sampleIterator{samples: samples, idx: -1}
}

func (it *sampleIterator) reset(samples []store.Sample) {
	it.samples = samples
	it.idx = -1
}

func (it *sampleIterator) Next() chunkenc.ValueType {
	if it.idx+1 >= len(it.samples) {
		it.idx = len(it.samples)
		return chunkenc.ValNone
	}
	it.idx++
	return chunkenc.ValFloat
}

// Seek takes millis, an alias of int64, which keeps go vet's stdmethods
// check from mistaking it for io.Seeker's Seek.
func (it *sampleIterator) Seek(t millis) chunkenc.ValueType {
	if it.idx >= len(it.samples) {
		return chunkenc.ValNone
	}
	if it.idx >= 0 && it.samples[it.idx].T >= t {
		return chunkenc.ValFloat
	}
	from := max(it.idx, 0)
	it.idx = from + sort.Search(len(it.samples)-from, func(i int) bool {
		return it.samples[from+i].T >= t
	})
	if it.idx >= len(it.samples) {
		return chunkenc.ValNone
	}
	return chunkenc.ValFloat
}

func (it *sampleIterator) At() (int64, float64) {
	s := it.samples[it.idx]
	return s.T, s.V
}

func (it *sampleIterator) AtT() int64 { return it.samples[it.idx].T }

// AtST returns 0: the store keeps no start timestamps.
func (*sampleIterator) AtST() int64 { return 0 }

// AtHistogram is never called by a correct caller: Next and Seek report
// only ValFloat. It returns a nil histogram.
func (it *sampleIterator) AtHistogram(*histogram.Histogram) (int64, *histogram.Histogram) {
	return it.AtT(), nil
}

// AtFloatHistogram is never called by a correct caller, like AtHistogram.
func (it *sampleIterator) AtFloatHistogram(*histogram.FloatHistogram) (int64, *histogram.FloatHistogram) {
	return it.AtT(), nil
}

func (*sampleIterator) Err() error { return nil }
