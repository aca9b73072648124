package query

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/util/teststorage"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/tenant"
)

// TestPromQLSpecOverTSDB runs the PromQL test scripts that load no start
// timestamps, which the store does not keep, with every query read
// through Queryable, without servers: the scripts load samples and native
// histograms into a Prometheus test TSDB, and tsdbReader serves them to
// Queryable as the store would. TestPromQLSpec runs every script against
// the store.
func TestPromQLSpecOverTSDB(t *testing.T) {
	names, texts := specScripts(t)
	engine := promqltest.NewTestEngine(t, false, 0, promqltest.DefaultMaxSamplesPerQuery)
	for _, name := range names {
		if strings.Contains(texts[name], "@st ") {
			continue
		}
		t.Run(name, func(t *testing.T) {
			promqltest.RunTestWithStorage(t, texts[name], engine, func(tb testing.TB) storage.Storage {
				return tsdbStorage{teststorage.New(tb)}
			})
		})
	}
}

// tsdbStorage is a test TSDB whose queriers are ours.
type tsdbStorage struct{ storage.Storage }

func (s tsdbStorage) Querier(mint, maxt int64) (storage.Querier, error) {
	return NewQueryable(tsdbReader{s.Storage}, tenant.Default, Limits{}).Querier(mint, maxt)
}

// tsdbReader is a Reader over a Prometheus storage, float samples only.
type tsdbReader struct{ db storage.Queryable }

func (r tsdbReader) each(ctx context.Context, mint, maxt int64, f func(storage.Series) error, ms ...*labels.Matcher) error {
	q, err := r.db.Querier(mint, maxt)
	if err != nil {
		return err
	}
	defer q.Close()
	set := q.Select(ctx, true, nil, ms...)
	for set.Next() {
		if err := f(set.At()); err != nil {
			return err
		}
	}
	return set.Err()
}

func (r tsdbReader) SelectSeries(ctx context.Context, _ string, mint, maxt int64, ms ...*labels.Matcher) ([]store.SeriesRef, error) {
	var refs []store.SeriesRef
	err := r.each(ctx, mint, maxt, func(s storage.Series) error {
		ref := store.SeriesRef{Fingerprint: store.Fingerprint(s.Labels()), Labels: s.Labels()}
		it := s.Iterator(nil)
		for typ := it.Next(); typ != chunkenc.ValNone && !ref.Histograms; typ = it.Next() {
			ref.Histograms = typ == chunkenc.ValHistogram || typ == chunkenc.ValFloatHistogram
		}
		refs = append(refs, ref)
		return it.Err()
	}, ms...)
	return refs, err
}

// read calls f with every sample of the series fps in [mint, maxt], the
// iterator at it.
func (r tsdbReader) read(ctx context.Context, fps []uint64, mint, maxt int64, f func(fp uint64, typ chunkenc.ValueType, it chunkenc.Iterator)) error {
	want := make(map[uint64]bool, len(fps))
	for _, fp := range fps {
		want[fp] = true
	}
	all := labels.MustNewMatcher(labels.MatchRegexp, labels.MetricName, ".*")
	return r.each(ctx, mint, maxt, func(s storage.Series) error {
		fp := store.Fingerprint(s.Labels())
		if !want[fp] {
			return nil
		}
		it := s.Iterator(nil)
		for typ := it.Next(); typ != chunkenc.ValNone; typ = it.Next() {
			if ts := it.AtT(); ts >= mint && ts <= maxt {
				f(fp, typ, it)
			}
		}
		return it.Err()
	}, all)
}

func (r tsdbReader) ReadSamples(ctx context.Context, _ string, fps []uint64, mint, maxt int64) (map[uint64][]store.Sample, error) {
	out := make(map[uint64][]store.Sample, len(fps))
	err := r.read(ctx, fps, mint, maxt, func(fp uint64, typ chunkenc.ValueType, it chunkenc.Iterator) {
		if typ == chunkenc.ValFloat {
			ts, v := it.At()
			out[fp] = append(out[fp], store.Sample{T: ts, V: v})
		}
	})
	return out, err
}

// ReadHistograms returns the histograms with the counter reset hints the
// TSDB's chunks give them.
func (r tsdbReader) ReadHistograms(ctx context.Context, _ string, fps []uint64, mint, maxt int64) (map[uint64][]store.HistogramSample, error) {
	out := make(map[uint64][]store.HistogramSample, len(fps))
	err := r.read(ctx, fps, mint, maxt, func(fp uint64, typ chunkenc.ValueType, it chunkenc.Iterator) {
		switch typ {
		case chunkenc.ValHistogram:
			ts, h := it.AtHistogram(nil)
			out[fp] = append(out[fp], store.HistogramSample{T: ts, H: h})
		case chunkenc.ValFloatHistogram:
			ts, h := it.AtFloatHistogram(nil)
			out[fp] = append(out[fp], store.HistogramSample{T: ts, FH: h})
		}
	})
	return out, err
}

func (r tsdbReader) LabelNames(ctx context.Context, _ string, mint, maxt int64, ms ...*labels.Matcher) ([]string, error) {
	q, err := r.db.Querier(mint, maxt)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	names, _, err := q.LabelNames(ctx, nil, ms...)
	return names, err
}

func (r tsdbReader) LabelValues(ctx context.Context, _ string, name string, mint, maxt int64, ms ...*labels.Matcher) ([]string, error) {
	q, err := r.db.Querier(mint, maxt)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	vals, _, err := q.LabelValues(ctx, name, nil, ms...)
	return vals, err
}
