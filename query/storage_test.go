package query

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/tenant"
)

// collect reads a series set into labels and samples.
func collect(t *testing.T, set storage.SeriesSet) (map[string][]store.Sample, []string) {
	t.Helper()
	out := map[string][]store.Sample{}
	var order []string
	var it chunkenc.Iterator
	for set.Next() {
		s := set.At()
		key := s.Labels().String()
		order = append(order, key)
		it = s.Iterator(it)
		out[key] = []store.Sample{}
		for it.Next() == chunkenc.ValFloat {
			ts, v := it.At()
			out[key] = append(out[key], store.Sample{T: ts, V: v})
		}
		require.NoError(t, it.Err())
	}
	require.NoError(t, set.Err())
	return out, order
}

func TestSelect(t *testing.T) {
	r := fixture()
	q, err := NewQueryable(r, tenant.Default, Limits{}).Querier(t0, t0+600_000)
	require.NoError(t, err)
	defer q.Close()
	ctx := context.Background()
	up := labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, "up")

	// Hints bound the read.
	set := q.Select(ctx, true, &storage.SelectHints{Start: t0 + 15_000, End: t0 + 45_000}, up)
	got, order := collect(t, set)
	require.Equal(t, []string{`{__name__="up", instance="a", job="api"}`, `{__name__="up", instance="b", job="api"}`}, order)
	require.Equal(t, []store.Sample{{T: t0 + 15_000, V: 1}, {T: t0 + 30_000, V: 1}, {T: t0 + 45_000, V: 1}}, got[order[0]])
	require.Equal(t, [2]int64{t0 + 15_000, t0 + 45_000}, r.reads[0])

	// Without hints the querier's range applies.
	got, _ = collect(t, q.Select(ctx, false, nil, up))
	require.Len(t, got[order[1]], 41)
	require.Equal(t, [2]int64{t0, t0 + 600_000}, r.reads[1])

	// Limit hint.
	_, order = collect(t, q.Select(ctx, true, &storage.SelectHints{Start: t0, End: t0, Limit: 1}, up))
	require.Len(t, order, 1)

	// Nothing matches.
	_, order = collect(t, q.Select(ctx, false, nil, labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, "nope")))
	require.Empty(t, order)
}

func TestSelectStaleMarker(t *testing.T) {
	q, err := NewQueryable(fixture(), tenant.Default, Limits{}).Querier(t0, t0+600_000)
	require.NoError(t, err)
	got, order := collect(t, q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, "temp")))
	require.Len(t, order, 1)
	samples := got[order[0]]
	require.Len(t, samples, 5)
	require.True(t, value.IsStaleNaN(samples[4].V))
	require.False(t, math.IsNaN(samples[3].V))
}

func TestSelectErrors(t *testing.T) {
	up := labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, "up")

	r := fixture()
	r.err = errors.New("boom")
	q, err := NewQueryable(r, tenant.Default, Limits{}).Querier(t0, t0)
	require.NoError(t, err)
	set := q.Select(context.Background(), false, nil, up)
	require.False(t, set.Next())
	var storeErr promql.ErrStorage
	require.ErrorAs(t, set.Err(), &storeErr)
	require.ErrorContains(t, set.Err(), "select series: boom")
	_, _, err = q.LabelNames(context.Background(), nil)
	require.ErrorAs(t, err, &storeErr)

	// A reader that gives up when its context ends: the context's error
	// stays in the chain, whatever the reader returned.
	r = fixture()
	r.block = true
	q, err = NewQueryable(r, tenant.Default, Limits{}).Querier(t0, t0)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	set = q.Select(ctx, false, nil, up)
	require.False(t, set.Next())
	require.ErrorIs(t, set.Err(), context.Canceled)
	_, _, err = q.LabelValues(ctx, "job", nil)
	require.ErrorIs(t, err, context.Canceled)
}

func TestLabelHintsLimit(t *testing.T) {
	q, err := NewQueryable(fixture(), tenant.Default, Limits{}).Querier(t0, t0+600_000)
	require.NoError(t, err)
	ctx := context.Background()
	names, _, err := q.LabelNames(ctx, &storage.LabelHints{Limit: 2})
	require.NoError(t, err)
	require.Equal(t, []string{"__name__", "code"}, names)
	vals, _, err := q.LabelValues(ctx, "__name__", &storage.LabelHints{Limit: 0}, labels.MustNewMatcher(labels.MatchEqual, "job", "api"))
	require.NoError(t, err)
	require.Equal(t, []string{"http_requests_total", "up"}, vals)
}

func TestSampleIterator(t *testing.T) {
	samples := []store.Sample{{T: 10, V: 1}, {T: 20, V: 2}, {T: 30, V: 3}, {T: 40, V: 4}}
	it := newSampleIterator(samples)

	require.Equal(t, chunkenc.ValFloat, it.Seek(15))
	ts, v := it.At()
	require.Equal(t, int64(20), ts)
	require.Equal(t, 2.0, v)
	// Seeking backwards does not move.
	require.Equal(t, chunkenc.ValFloat, it.Seek(5))
	require.Equal(t, int64(20), it.AtT())
	require.Equal(t, chunkenc.ValFloat, it.Next())
	require.Equal(t, int64(30), it.AtT())
	require.Equal(t, chunkenc.ValFloat, it.Seek(40))
	require.Equal(t, int64(40), it.AtT())
	require.Equal(t, chunkenc.ValNone, it.Next())
	require.Equal(t, chunkenc.ValNone, it.Seek(0))
	require.Equal(t, chunkenc.ValNone, it.Next())
	require.NoError(t, it.Err())

	it.reset(samples)
	require.Equal(t, chunkenc.ValFloat, it.Seek(10))
	require.Equal(t, int64(10), it.AtT())
	require.Equal(t, chunkenc.ValNone, it.Seek(41))

	it.reset(nil)
	require.Equal(t, chunkenc.ValNone, it.Next())
	it.reset(nil)
	require.Equal(t, chunkenc.ValNone, it.Seek(0))

	// Series.Iterator reuses our iterator.
	s := &series{samples: samples}
	require.Same(t, it, s.Iterator(it))
	require.Equal(t, chunkenc.ValFloat, it.Next())
	require.Equal(t, int64(10), it.AtT())
}
