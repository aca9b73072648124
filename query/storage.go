package query

import (
	"context"
	"errors"
	"fmt"
	"slices"

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
	// LabelNames returns the sorted label names of the matching series.
	LabelNames(ctx context.Context, tenant string, mint, maxt int64, matchers ...*labels.Matcher) ([]string, error)
	// LabelValues returns the sorted values of label name of the matching series.
	LabelValues(ctx context.Context, tenant, name string, mint, maxt int64, matchers ...*labels.Matcher) ([]string, error)
}

var _ Reader = (*store.Client)(nil)

// selectSeriesFunc is the SelectHints.Func that the series API uses for
// lookups that need labels but no samples.
const selectSeriesFunc = "series"

// Queryable is a storage.Queryable over a Reader, scoped to one tenant.
// The PromQL engine reads through it.
type Queryable struct {
	reader Reader
	tenant string
}

var _ storage.Queryable = (*Queryable)(nil)

// NewQueryable returns a Queryable that reads tenant's data from r.
func NewQueryable(r Reader, tenant string) *Queryable {
	return &Queryable{reader: r, tenant: tenant}
}

// Querier returns a querier over [mint, maxt]. It holds no resources.
func (q *Queryable) Querier(mint, maxt int64) (storage.Querier, error) {
	return &querier{reader: q.reader, tenant: q.tenant, mint: mint, maxt: maxt}, nil
}

type querier struct {
	reader     Reader
	tenant     string
	mint, maxt int64
}

var _ storage.Querier = (*querier)(nil)

// Select reads the matching series and their samples in the hinted time
// range. It reads eagerly: the engine expands every series set it asks for.
func (q *querier) Select(ctx context.Context, sortSeries bool, hints *storage.SelectHints, matchers ...*labels.Matcher) storage.SeriesSet {
	mint, maxt := q.mint, q.maxt
	if hints != nil {
		mint, maxt = hints.Start, hints.End
	}
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
	fps := make([]uint64, len(refs))
	for i, r := range refs {
		fps[i] = r.Fingerprint
	}
	samples, err := q.reader.ReadSamples(ctx, q.tenant, fps, mint, maxt)
	if err != nil {
		return storage.ErrSeriesSet(readError(ctx, fmt.Errorf("read samples of %d series: %w", len(fps), err)))
	}
	return &seriesSet{refs: refs, samples: samples, idx: -1}
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
