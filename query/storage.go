package query

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/common/model"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/annotations"

	"github.com/cairn-dev/cairn/store"
)

// Reader is the part of the store that queries read from. *store.Client
// implements it; tests use an in-memory double.
//
// All time bounds are inclusive milliseconds since the Unix epoch.
type Reader interface {
	// SelectSeries returns the tenant's series that match all matchers and
	// may have samples in [mint, maxt], sorted by labels.
	SelectSeries(ctx context.Context, tenant string, mint, maxt int64, matchers ...*labels.Matcher) ([]store.SeriesRef, error)
	// ReadSamples returns the samples of the given series in [mint, maxt]:
	// one per timestamp, sorted by T, stale markers as value.StaleNaN.
	ReadSamples(ctx context.Context, tenant string, fps []uint64, mint, maxt int64) (map[uint64][]store.Sample, error)
	// ReadHistograms returns the native histograms of the given series in
	// [mint, maxt], as ReadSamples does samples. Queryable asks only for
	// series whose SeriesRef.Histograms is set.
	ReadHistograms(ctx context.Context, tenant string, fps []uint64, mint, maxt int64) (map[uint64][]store.HistogramSample, error)
	// LabelNames returns the sorted label names of the matching series.
	LabelNames(ctx context.Context, tenant string, mint, maxt int64, matchers ...*labels.Matcher) ([]string, error)
	// LabelValues returns the sorted values of label name of the matching series.
	LabelValues(ctx context.Context, tenant, name string, mint, maxt int64, matchers ...*labels.Matcher) ([]string, error)
}

var _ Reader = (*store.Client)(nil)

// selectSeriesFunc is the SelectHints.Func that the series API uses for
// lookups that need labels but no samples.
const selectSeriesFunc = "series"

// selectConcurrency bounds the store reads of one query in flight at once.
const selectConcurrency = 4

// Limits bound what one query may read from the store; zero means no
// bound. A query over a limit fails with a *LimitError.
type Limits struct {
	// MaxFetchedSeries bounds the series that all selectors of one query
	// select together (-query.max-fetched-series).
	MaxFetchedSeries int
	// MaxRange bounds the time span that one selector reads, its range
	// and the lookback delta included (-query.max-range).
	MaxRange time.Duration
}

// LimitError is a query that exceeds one of the Limits or of the engine's
// bounds. The API answers it 422 execution, naming the flag and its value.
type LimitError struct {
	Flag  string // the flag that sets the limit, like "-query.max-range"
	Value string // the limit, as the flag takes it
	What  string // what exceeded it
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s, more than the limit %s=%s allows", e.What, e.Flag, e.Value)
}

// Queryable is a storage.Queryable over a Reader, scoped to one tenant,
// for one query: the PromQL engine reads through it, and it counts the
// series the query selects against its Limits.
type Queryable struct {
	reader  Reader
	tenant  string
	limits  Limits
	recent  Recent        // nil: everything from reader
	fetched atomic.Int64  // series selected so far from reader
	merged  atomic.Int64  // series selected so far by queriers with a head part
	reads   chan struct{} // one token per store read in flight
}

var _ storage.Queryable = (*Queryable)(nil)

// NewQueryable returns a Queryable that reads tenant's data from r within
// limits. Use a new one for every query.
func NewQueryable(r Reader, tenant string, limits Limits) *Queryable {
	return &Queryable{reader: r, tenant: tenant, limits: limits, reads: make(chan struct{}, selectConcurrency)}
}

// Recent is an in-memory head of recent samples: store/head.Head.
type Recent interface {
	// From is the time (ms) from which the head holds every sample; ok
	// is false while it is not ready.
	From() (from int64, ok bool)
	// Querier returns a querier over tenant's samples in [mint, maxt].
	Querier(tenant string, mint, maxt int64) (storage.Querier, error)
}

// Querier returns a querier over [mint, maxt]. What the Recent head
// holds, from its From on, is read from it, anything older from the
// Reader, and the two merged by series.
func (q *Queryable) Querier(mint, maxt int64) (storage.Querier, error) {
	if q.recent == nil {
		return &querier{Queryable: q, mint: mint, maxt: maxt}, nil
	}
	from, ok := q.recent.From()
	if !ok || maxt < from {
		return &querier{Queryable: q, mint: mint, maxt: maxt}, nil
	}
	hq, err := q.recent.Querier(q.tenant, max(mint, from), maxt)
	if err != nil {
		return nil, fmt.Errorf("head: %w", err)
	}
	recent := &headQuerier{Querier: hq, q: q, mint: max(mint, from), maxt: maxt}
	if mint >= from {
		return &seriesLimitQuerier{Querier: recent, q: q}, nil
	}
	older := &querier{Queryable: q, mint: mint, maxt: from - 1}
	return &seriesLimitQuerier{Querier: storage.NewMergeQuerier([]storage.Querier{older, recent}, nil, storage.ChainedSeriesMerge), q: q}, nil
}

// seriesLimitQuerier applies Limits.MaxFetchedSeries to what a querier
// with a head part selects, counting each merged series once. The store's
// part also checks its own series before reading their samples: more
// there means more merged.
type seriesLimitQuerier struct {
	storage.Querier
	q *Queryable
}

func (l *seriesLimitQuerier) Select(ctx context.Context, sortSeries bool, hints *storage.SelectHints, matchers ...*labels.Matcher) storage.SeriesSet {
	ss := l.Querier.Select(ctx, sortSeries, hints, matchers...)
	if l.q.limits.MaxFetchedSeries <= 0 || (hints != nil && hints.Func == selectSeriesFunc) {
		return ss
	}
	return &limitedSeriesSet{SeriesSet: ss, q: l.q}
}

// limitedSeriesSet ends with a *LimitError once the query's series
// through the head exceed MaxFetchedSeries.
type limitedSeriesSet struct {
	storage.SeriesSet
	q   *Queryable
	err error
}

func (s *limitedSeriesSet) Next() bool {
	if s.err != nil || !s.SeriesSet.Next() {
		return false
	}
	if n, m := s.q.merged.Add(1), s.q.limits.MaxFetchedSeries; n > int64(m) {
		s.err = &LimitError{
			Flag: "-query.max-fetched-series", Value: strconv.Itoa(m),
			What: fmt.Sprintf("the query selects at least %d series", n),
		}
		return false
	}
	return true
}

func (s *limitedSeriesSet) Err() error {
	if s.err != nil {
		return s.err
	}
	return s.SeriesSet.Err()
}

// headQuerier reads the head within [mint, maxt] whatever the hints ask,
// so that it and the store's querier never read the same time, and
// applies the Limits' MaxRange.
type headQuerier struct {
	storage.Querier
	q          *Queryable
	mint, maxt int64
}

func (h *headQuerier) Select(ctx context.Context, sortSeries bool, hints *storage.SelectHints, matchers ...*labels.Matcher) storage.SeriesSet {
	if hints != nil {
		if hints.Func != selectSeriesFunc {
			if err := h.q.checkRange(hints.Start, hints.End, matchers); err != nil {
				return storage.ErrSeriesSet(err)
			}
		}
		c := *hints
		c.Start, c.End = max(c.Start, h.mint), min(c.End, h.maxt)
		if c.Start > c.End { // the selector reads only the store's part
			return storage.EmptySeriesSet()
		}
		hints = &c
	}
	return h.Querier.Select(ctx, sortSeries, hints, matchers...)
}

// checkRange applies Limits.MaxRange to a selector reading [mint, maxt].
func (q *Queryable) checkRange(mint, maxt int64, matchers []*labels.Matcher) error {
	// Selectors read left-open ranges: [1h] reads (t-1h, t], 1h of samples.
	if span, m := time.Duration(maxt-mint+1)*time.Millisecond, q.limits.MaxRange; m > 0 && span > m {
		return &LimitError{
			Flag: "-query.max-range", Value: model.Duration(m).String(),
			What: fmt.Sprintf("the selector %s reads %s of samples", selectorString(matchers), model.Duration(span)),
		}
	}
	return nil
}

type querier struct {
	*Queryable
	mint, maxt int64
}

var _ storage.Querier = (*querier)(nil)

// Select reads the matching series and their samples in the hinted time
// range. The engine calls Select for every selector of a query before it
// evaluates any, so Select starts the read and returns at once; the
// series set waits for it. The reads of one query thus run concurrently,
// at most selectConcurrency at a time.
func (q *querier) Select(ctx context.Context, sortSeries bool, hints *storage.SelectHints, matchers ...*labels.Matcher) storage.SeriesSet {
	mint, maxt := q.mint, q.maxt
	if hints != nil {
		if hints.Func != selectSeriesFunc {
			if err := q.checkRange(hints.Start, hints.End, matchers); err != nil {
				return storage.ErrSeriesSet(err)
			}
		}
		// Within the querier's range: with a head, the querier reads
		// only the time before it.
		mint, maxt = max(hints.Start, q.mint), min(hints.End, q.maxt)
		if mint > maxt { // the selector reads only the head's part
			return storage.EmptySeriesSet()
		}
	}
	if hints != nil && hints.Func == selectSeriesFunc {
		return q.read(ctx, sortSeries, hints, mint, maxt, matchers)
	}
	// The engine owns matchers and hints, and reads them while the read
	// runs; readers may sort matchers in place, as Prometheus' TSDB does.
	matchers = slices.Clone(matchers)
	if hints != nil {
		h := *hints
		hints = &h
	}
	done := make(chan storage.SeriesSet, 1) // never blocks the reader
	go func() {
		select {
		case q.reads <- struct{}{}:
		case <-ctx.Done():
			done <- storage.ErrSeriesSet(readError(ctx, ctx.Err()))
			return
		}
		defer func() { <-q.reads }()
		done <- q.read(ctx, sortSeries, hints, mint, maxt, matchers)
	}()
	return &pendingSeriesSet{done: done}
}

// read selects the series, counts them against MaxFetchedSeries, and
// reads their samples unless the hints ask for labels only.
func (q *querier) read(ctx context.Context, sortSeries bool, hints *storage.SelectHints, mint, maxt int64, matchers []*labels.Matcher) storage.SeriesSet {
	refs, err := q.reader.SelectSeries(ctx, q.tenant, mint, maxt, matchers...)
	if err != nil {
		return storage.ErrSeriesSet(readError(ctx, fmt.Errorf("select series: %w", err)))
	}
	if sortSeries && !slices.IsSortedFunc(refs, compareRefs) {
		slices.SortFunc(refs, compareRefs)
	}
	if hints != nil && hints.Limit > 0 && len(refs) > hints.Limit {
		refs = refs[:hints.Limit]
	}
	if len(refs) == 0 {
		return storage.EmptySeriesSet()
	}
	if hints != nil && hints.Func == selectSeriesFunc {
		return &seriesSet{refs: refs, idx: -1}
	}
	if n, m := q.fetched.Add(int64(len(refs))), q.limits.MaxFetchedSeries; m > 0 && n > int64(m) {
		return storage.ErrSeriesSet(&LimitError{
			Flag: "-query.max-fetched-series", Value: strconv.Itoa(m),
			What: fmt.Sprintf("the query selects at least %d series", n),
		})
	}
	fps := make([]uint64, len(refs))
	for i, r := range refs {
		fps[i] = r.Fingerprint
	}
	samples, err := q.reader.ReadSamples(ctx, q.tenant, fps, mint, maxt)
	if err != nil {
		return storage.ErrSeriesSet(readError(ctx, fmt.Errorf("read samples of %d series: %w", len(fps), err)))
	}
	histograms, err := q.readHistograms(ctx, refs, samples, mint, maxt)
	if err != nil {
		return storage.ErrSeriesSet(readError(ctx, fmt.Errorf("read histograms: %w", err)))
	}
	return &seriesSet{refs: refs, samples: samples, histograms: histograms, idx: -1}
}

// selectorString prints matchers as a selector, for messages.
func selectorString(ms []*labels.Matcher) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.String()
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// LabelValues returns the values of name, at most hints.Limit of them.
func (q *querier) LabelValues(ctx context.Context, name string, hints *storage.LabelHints, matchers ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	vals, err := q.reader.LabelValues(ctx, q.tenant, name, q.mint, q.maxt, matchers...)
	if err != nil {
		return nil, nil, readError(ctx, fmt.Errorf("read values of label %q: %w", name, err))
	}
	return truncate(vals, hints), nil, nil
}

// LabelNames returns the label names, at most hints.Limit of them.
func (q *querier) LabelNames(ctx context.Context, hints *storage.LabelHints, matchers ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	names, err := q.reader.LabelNames(ctx, q.tenant, q.mint, q.maxt, matchers...)
	if err != nil {
		return nil, nil, readError(ctx, fmt.Errorf("read label names: %w", err))
	}
	return truncate(names, hints), nil, nil
}

func (*querier) Close() error { return nil }

func truncate(vals []string, hints *storage.LabelHints) []string {
	if hints != nil && hints.Limit > 0 && len(vals) > hints.Limit {
		return vals[:hints.Limit]
	}
	return vals
}

// readError classifies a Reader error. When the context ended, the error
// keeps context.Canceled or context.DeadlineExceeded in its chain, so the
// API answers "canceled" or "timeout"; anything else is a storage failure,
// which the API answers as "internal".
func readError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		return fmt.Errorf("%w: %w", ctxErr, err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return promql.ErrStorage{Err: err}
}

func compareRefs(a, b store.SeriesRef) int { return labels.Compare(a.Labels, b.Labels) }
