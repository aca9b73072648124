package query

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/util/teststorage"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/tenant"
)

// floatOnlyScripts are the scripts of the pinned module's
// promql/promqltest/testdata that load neither native histograms nor start
// timestamps, which the store does not keep yet.
var floatOnlyScripts = []string{
	"at_modifier", "collision", "duration_expression", "fill-modifier", "literals",
	"name_label_dropping", "selectors", "staleness", "trig_functions", "type_and_unit",
}

// TestPromQLSpecOverTSDB runs the float-only PromQL test scripts with every
// query read through Queryable, without servers: the scripts load samples
// into a Prometheus test TSDB, and tsdbReader serves them to Queryable as
// the store would. TestPromQLSpec runs every script against the store.
func TestPromQLSpecOverTSDB(t *testing.T) {
	dir := promqltestDir(t)
	engine := promqltest.NewTestEngine(t, false, 0, promqltest.DefaultMaxSamplesPerQuery)
	for _, name := range floatOnlyScripts {
		f := filepath.Join(dir, name+".test")
		t.Run(name, func(t *testing.T) {
			script, err := os.ReadFile(f)
			require.NoError(t, err)
			promqltest.RunTestWithStorage(t, string(script), engine, func(tb testing.TB) storage.Storage {
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
		refs = append(refs, store.SeriesRef{Fingerprint: store.Fingerprint(s.Labels()), Labels: s.Labels()})
		return nil
	}, ms...)
	return refs, err
}

func (r tsdbReader) ReadSamples(ctx context.Context, _ string, fps []uint64, mint, maxt int64) (map[uint64][]store.Sample, error) {
	want := make(map[uint64]bool, len(fps))
	for _, fp := range fps {
		want[fp] = true
	}
	out := make(map[uint64][]store.Sample, len(fps))
	all := labels.MustNewMatcher(labels.MatchRegexp, labels.MetricName, ".*")
	err := r.each(ctx, mint, maxt, func(s storage.Series) error {
		fp := store.Fingerprint(s.Labels())
		if !want[fp] {
			return nil
		}
		it := s.Iterator(nil)
		for typ := it.Next(); typ != chunkenc.ValNone; typ = it.Next() {
			if typ != chunkenc.ValFloat {
				continue
			}
			ts, v := it.At()
			if ts >= mint && ts <= maxt {
				out[fp] = append(out[fp], store.Sample{T: ts, V: v})
			}
		}
		return it.Err()
	}, all)
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
