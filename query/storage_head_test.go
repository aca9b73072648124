package query

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/head"
	"github.com/cairn-dev/cairn/store/tenant"
)

// TestQueryableWithHead checks the split between the store and the head:
// the store is read only before the head's From, the head from it on,
// and series are merged by labels, each sample once.
func TestQueryableWithHead(t *testing.T) {
	base := time.Now().Add(-30 * time.Minute).UnixMilli()
	at := func(s int64) int64 { return base + s*1000 }
	samples := func(from, to int64) []store.Sample {
		var out []store.Sample
		for s := from; s <= to; s += 10 {
			out = append(out, store.Sample{T: at(s), V: float64(s)})
		}
		return out
	}
	a := labels.FromStrings("__name__", "m", "s", "a") // in both: the store has all, the head from 60 s
	b := labels.FromStrings("__name__", "m", "s", "b") // ended before the head's From: store only
	c := labels.FromStrings("__name__", "m", "s", "c") // began after it: head only (not yet written)
	r := &memReader{series: map[string][]memSeries{tenant.Default: {
		{labels: a, samples: samples(0, 100)},
		{labels: b, samples: samples(0, 40)},
	}}}
	h, err := head.New(head.Config{Window: time.Hour, Dir: t.TempDir()}, slog.New(slog.NewTextHandler(io.Discard, nil)), metrics.NewSet())
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, h.Close()) })
	require.NoError(t, h.Append(context.Background(), []store.Series{
		// A value before the head's From that the store has otherwise:
		// the head's part of a query must never read it.
		{Tenant: tenant.Default, Labels: a, Samples: []store.Sample{{T: at(30), V: 999}}},
		{Tenant: tenant.Default, Labels: a, Samples: samples(60, 100)},
		{Tenant: tenant.Default, Labels: c, Samples: samples(80, 100)},
	}))
	h.Ready(at(60))

	q := NewQueryable(r, tenant.Default, Limits{})
	q.recent = h
	read := func(mint, maxt int64) map[string][]store.Sample {
		t.Helper()
		out, err := readAll(q, mint, maxt)
		require.NoError(t, err)
		return out
	}

	require.Equal(t, map[string][]store.Sample{"a": samples(0, 100), "b": samples(0, 40), "c": samples(80, 100)}, read(at(0), at(100)))
	require.Equal(t, [][2]int64{{at(0), at(60) - 1}}, r.reads, "the store is read only before the head's From")

	r.reads = nil
	require.Equal(t, map[string][]store.Sample{"a": samples(70, 100), "c": samples(80, 100)}, read(at(70), at(100)))
	require.Empty(t, r.reads, "a range within the head does not read the store")

	// -query.max-fetched-series counts merged series once: a is in both
	// parts.
	limited := func() *Queryable {
		q := NewQueryable(r, tenant.Default, Limits{MaxFetchedSeries: 2})
		q.recent = h
		return q
	}
	_, err = readAll(limited(), at(70), at(100))
	require.NoError(t, err, "a and c")
	_, err = readAll(limited(), at(0), at(100))
	var le *LimitError
	require.ErrorAs(t, err, &le, "a, b and c")
	require.Equal(t, "the query selects at least 3 series, more than the limit -query.max-fetched-series=2 allows", le.Error())
}

// readAll reads every series named m in [mint, maxt] through q, by the
// value of label s.
func readAll(q *Queryable, mint, maxt int64) (map[string][]store.Sample, error) {
	qr, err := q.Querier(mint, maxt)
	if err != nil {
		return nil, err
	}
	defer qr.Close()
	ss := qr.Select(context.Background(), true, &storage.SelectHints{Start: mint, End: maxt},
		labels.MustNewMatcher(labels.MatchEqual, "__name__", "m"))
	out := map[string][]store.Sample{}
	var it chunkenc.Iterator
	for ss.Next() {
		it = ss.At().Iterator(it)
		for it.Next() == chunkenc.ValFloat {
			ts, v := it.At()
			out[ss.At().Labels().Get("s")] = append(out[ss.At().Labels().Get("s")], store.Sample{T: ts, V: v})
		}
	}
	return out, ss.Err()
}
