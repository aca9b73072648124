package query

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"

	"github.com/cairn-dev/cairn/store"
)

// specStorage is the storage.Storage that Prometheus' PromQL test scripts
// load into and query: its appenders write through store.Client's
// WriteSeries, its queriers are Queryable over the same client. promqltest
// opens a new storage at the start of a script and at every `clear`; they
// all share one database and differ by tenant, which is much cheaper than
// a database each and isolates them as completely.
type specStorage struct {
	client *store.Client
	tenant string
}

var _ storage.Storage = (*specStorage)(nil)

// specStorages returns promqltest's storage constructor over client: each
// call is a fresh storage under a tenant of its own.
func specStorages(client *store.Client) func(testing.TB) storage.Storage {
	var n atomic.Int64
	return func(testing.TB) storage.Storage {
		return &specStorage{client: client, tenant: fmt.Sprintf("spec%d", n.Add(1))}
	}
}

func (s *specStorage) Querier(mint, maxt int64) (storage.Querier, error) {
	return NewQueryable(s.client, s.tenant, Limits{}).Querier(mint, maxt)
}

func (*specStorage) ChunkQuerier(int64, int64) (storage.ChunkQuerier, error) {
	return nil, errors.New("spec storage serves no chunk queries")
}

// Appender returns nil: promqltest appends through AppenderV2 only.
func (*specStorage) Appender(context.Context) storage.Appender { return nil }

// AppenderV2 ignores promqltest's context, which it cancels at every
// clear: clickhouse-go v2.50 may then close a pooled connection that a
// batch insert on that context has already released (see Commit).
func (s *specStorage) AppenderV2(context.Context) storage.AppenderV2 {
	return &specAppender{s: s, series: make(map[uint64]*store.Series)}
}

func (*specStorage) StartTime() (int64, error) { return 0, nil }

// Close keeps the data: the database is dropped when the script's test ends.
func (*specStorage) Close() error { return nil }

// specAppender collects a load command's samples and native histograms
// and writes them in one WriteSeries call on Commit.
type specAppender struct {
	s      *specStorage
	series map[uint64]*store.Series // by labels hash
	order  []uint64
}

var _ storage.AppenderV2 = (*specAppender)(nil)

// Append buffers a float sample or a native histogram. Start timestamps,
// exemplars and metadata are not stored. The histograms are copies:
// promqltest may reuse what it passes.
func (a *specAppender) Append(_ storage.SeriesRef, ls labels.Labels, _, t int64, v float64, h *histogram.Histogram, fh *histogram.FloatHistogram, _ storage.AppendV2Options) (storage.SeriesRef, error) {
	hash := ls.Hash()
	s, ok := a.series[hash]
	if !ok {
		s = &store.Series{Tenant: a.s.tenant, Labels: ls}
		a.series[hash] = s
		a.order = append(a.order, hash)
	}
	switch {
	case h != nil:
		s.Histograms = append(s.Histograms, store.HistogramSample{T: t, H: h.Copy()})
	case fh != nil:
		s.Histograms = append(s.Histograms, store.HistogramSample{T: t, FH: fh.Copy()})
	default:
		s.Samples = append(s.Samples, store.Sample{T: t, V: v})
	}
	return storage.SeriesRef(hash), nil
}

func (a *specAppender) Commit() error {
	batch := make([]store.Series, 0, len(a.order))
	for _, h := range a.order {
		batch = append(batch, *a.series[h])
	}
	a.series, a.order = nil, nil
	if len(batch) == 0 {
		return nil
	}
	err := a.s.client.WriteSeries(context.Background(), batch, "")
	if err != nil && strings.Contains(err.Error(), "use of closed network connection") {
		// clickhouse-go v2.50's batch context watchdog can close a
		// connection after Send released it to the pool, when the batch's
		// context ends right after Send returns (clickhouse-go PR #2032);
		// storetest.OpenTest's migration does exactly that. The failed
		// call dropped the dead connection; writing again is idempotent.
		err = a.s.client.WriteSeries(context.Background(), batch, "")
	}
	if err != nil {
		return fmt.Errorf("write %d series: %w", len(batch), err)
	}
	return nil
}

func (a *specAppender) Rollback() error {
	a.series, a.order = nil, nil
	return nil
}

// startlessTSDB is a Prometheus test TSDB that keeps only what the store
// keeps: samples and native histograms without start timestamps. The
// scripts run against it as well, as a reference: a case failing on both
// fails for want of start timestamps, one failing only on the store is
// Cairn's bug (or a difference the failures file explains).
type startlessTSDB struct{ storage.Storage }

func (s startlessTSDB) AppenderV2(ctx context.Context) storage.AppenderV2 {
	return startlessAppender{s.Storage.AppenderV2(ctx)}
}

type startlessAppender struct{ storage.AppenderV2 }

func (a startlessAppender) Append(ref storage.SeriesRef, ls labels.Labels, _, t int64, v float64, h *histogram.Histogram, fh *histogram.FloatHistogram, opts storage.AppendV2Options) (storage.SeriesRef, error) {
	return a.AppenderV2.Append(ref, ls, 0, t, v, h, fh, opts)
}
