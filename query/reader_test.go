package query

import (
	"context"
	"slices"
	"sync"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/cairn-dev/cairn/store"
)

// memReader is an in-memory Reader: a test double for the store. It
// records the tenants it is asked about and the time ranges it reads.
type memReader struct {
	series map[string][]memSeries // by tenant
	err    error                  // returned by every call when set
	block  bool                   // every call waits for its context to end

	mu      sync.Mutex
	tenants []string
	reads   [][2]int64 // [mint, maxt] of each ReadSamples
}

type memSeries struct {
	labels  labels.Labels
	samples []store.Sample
}

var _ Reader = (*memReader)(nil)

func (m *memReader) call(ctx context.Context, tenant string) error {
	m.mu.Lock()
	m.tenants = append(m.tenants, tenant)
	m.mu.Unlock()
	if m.block {
		<-ctx.Done()
		return ctx.Err()
	}
	return m.err
}

func (m *memReader) seenTenants() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.tenants)
}

// matching returns the tenant's series that match and have a sample in
// [mint, maxt], sorted by labels.
func (m *memReader) matching(tenant string, mint, maxt int64, matchers []*labels.Matcher) []memSeries {
	var out []memSeries
	for _, s := range m.series[tenant] {
		if matchesAll(s.labels, matchers) && slices.ContainsFunc(s.samples, func(x store.Sample) bool { return x.T >= mint && x.T <= maxt }) {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b memSeries) int { return labels.Compare(a.labels, b.labels) })
	return out
}

func matchesAll(ls labels.Labels, matchers []*labels.Matcher) bool {
	for _, m := range matchers {
		if !m.Matches(ls.Get(m.Name)) {
			return false
		}
	}
	return true
}

func (m *memReader) SelectSeries(ctx context.Context, tenant string, mint, maxt int64, matchers ...*labels.Matcher) ([]store.SeriesRef, error) {
	if err := m.call(ctx, tenant); err != nil {
		return nil, err
	}
	var refs []store.SeriesRef
	for _, s := range m.matching(tenant, mint, maxt, matchers) {
		refs = append(refs, store.SeriesRef{Fingerprint: store.Fingerprint(s.labels), Labels: s.labels})
	}
	return refs, nil
}

func (m *memReader) ReadSamples(ctx context.Context, tenant string, fps []uint64, mint, maxt int64) (map[uint64][]store.Sample, error) {
	if err := m.call(ctx, tenant); err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.reads = append(m.reads, [2]int64{mint, maxt})
	m.mu.Unlock()
	out := make(map[uint64][]store.Sample, len(fps))
	for _, s := range m.series[tenant] {
		fp := store.Fingerprint(s.labels)
		if !slices.Contains(fps, fp) {
			continue
		}
		for _, x := range s.samples {
			if x.T >= mint && x.T <= maxt {
				out[fp] = append(out[fp], x)
			}
		}
	}
	return out, nil
}

// ReadHistograms returns none: the double holds float samples only.
func (m *memReader) ReadHistograms(ctx context.Context, tenant string, _ []uint64, _, _ int64) (map[uint64][]store.HistogramSample, error) {
	if err := m.call(ctx, tenant); err != nil {
		return nil, err
	}
	return map[uint64][]store.HistogramSample{}, nil
}

func (m *memReader) LabelNames(ctx context.Context, tenant string, mint, maxt int64, matchers ...*labels.Matcher) ([]string, error) {
	if err := m.call(ctx, tenant); err != nil {
		return nil, err
	}
	var names []string
	for _, s := range m.matching(tenant, mint, maxt, matchers) {
		s.labels.Range(func(l labels.Label) { names = append(names, l.Name) })
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

func (m *memReader) LabelValues(ctx context.Context, tenant, name string, mint, maxt int64, matchers ...*labels.Matcher) ([]string, error) {
	if err := m.call(ctx, tenant); err != nil {
		return nil, err
	}
	var vals []string
	for _, s := range m.matching(tenant, mint, maxt, matchers) {
		if v := s.labels.Get(name); v != "" {
			vals = append(vals, v)
		}
	}
	slices.Sort(vals)
	return slices.Compact(vals), nil
}
