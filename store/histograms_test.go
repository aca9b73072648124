package store_test

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/storetest"
)

func intHistogram(n uint64) *histogram.Histogram {
	return &histogram.Histogram{
		CounterResetHint: histogram.NotCounterReset, Schema: 1, ZeroThreshold: 0.001, ZeroCount: 1,
		Count: n + 1, Sum: float64(n) * 1.5,
		PositiveSpans:   []histogram.Span{{Offset: -1, Length: 2}},
		PositiveBuckets: []int64{int64(n), -int64(n)},
	}
}

func customHistogram(n float64) *histogram.FloatHistogram {
	return &histogram.FloatHistogram{
		CounterResetHint: histogram.GaugeType, Schema: histogram.CustomBucketsSchema, Count: n, Sum: -n,
		PositiveSpans: []histogram.Span{{Offset: 0, Length: 2}}, PositiveBuckets: []float64{n / 2, n / 2},
		CustomValues: []float64{0.5, 10},
	}
}

// TestHistogramsRoundTrip writes series with native histograms, floats
// or both over two days, twice, and reads them back: SelectSeries flags
// the series with histograms in the range, ReadHistograms returns each
// histogram once, exactly as written, stale markers included.
func TestHistogramsRoundTrip(t *testing.T) {
	ctx := context.Background()
	c := storetest.OpenTest(t)
	hist := labels.FromStrings("__name__", "latency", "job", "api")
	mixed := labels.FromStrings("__name__", "latency", "job", "db")
	floats := labels.FromStrings("__name__", "latency", "job", "web")
	staleH := &histogram.Histogram{Sum: math.Float64frombits(value.StaleNaN)}
	batch := []store.Series{
		{Tenant: "t", Labels: hist, Histograms: []store.HistogramSample{
			{T: day2 + 1000, H: intHistogram(3)}, {T: day1 + 1000, H: intHistogram(1)},
			{T: day1 + 2000, H: intHistogram(2)}, {T: day2 + 2000, H: staleH},
		}},
		{Tenant: "t", Labels: mixed, Samples: samples(day1+500, day2+500), Histograms: []store.HistogramSample{
			{T: day1 + 1000, FH: customHistogram(4)},
		}},
		{Tenant: "t", Labels: floats, Samples: samples(day1+500, day2+500)},
	}
	write(t, c, "tok", batch...)
	write(t, c, "", batch...) // a redelivery that no token deduplicates

	for _, tc := range []struct {
		name       string
		mint, maxt int64
		want       map[string]bool // series selected: has histograms
	}{
		{"both days", day1, day3 - 1, map[string]bool{hist.String(): true, mixed.String(): true, floats.String(): false}},
		{"second day", day2, day3 - 1, map[string]bool{hist.String(): true, mixed.String(): false, floats.String(): false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			refs, err := c.SelectSeries(ctx, "t", tc.mint, tc.maxt, eq("__name__", "latency"))
			require.NoError(t, err)
			got := map[string]bool{}
			for _, r := range refs {
				got[r.Labels.String()] = r.Histograms
			}
			require.Equal(t, tc.want, got)
		})
	}

	fps := []uint64{store.Fingerprint(hist), store.Fingerprint(mixed), store.Fingerprint(floats)}
	got, err := c.ReadHistograms(ctx, "t", fps, day1, day3-1)
	require.NoError(t, err)
	require.Len(t, got, 2)
	h := got[fps[0]]
	require.Len(t, h, 4)
	require.Equal(t, []int64{day1 + 1000, day1 + 2000, day2 + 1000, day2 + 2000}, []int64{h[0].T, h[1].T, h[2].T, h[3].T})
	for i, n := range []uint64{1, 2, 3} {
		require.Equal(t, intHistogram(n), h[i].H)
		require.Nil(t, h[i].FH)
	}
	require.True(t, value.IsStaleNaN(h[3].H.Sum), "stale marker")
	require.Equal(t, []store.HistogramSample{{T: day1 + 1000, FH: customHistogram(4)}}, got[fps[1]])

	got, err = c.ReadHistograms(ctx, "t", fps, day1+1500, day2+1500)
	require.NoError(t, err)
	require.Len(t, got[fps[0]], 2, "time range is inclusive and bounds the read")
	require.Empty(t, got[fps[1]])

	floatsGot, err := c.ReadSamples(ctx, "t", fps, day1, day3-1)
	require.NoError(t, err)
	require.Len(t, floatsGot[fps[1]], 2, "floats of a mixed series stay apart")
	require.NotContains(t, floatsGot, fps[0])

	other, err := c.ReadHistograms(ctx, "other", fps, day1, day3-1)
	require.NoError(t, err)
	require.Empty(t, other, "tenants are apart")
}

// testClusterHistograms writes histograms of 16 series, twice, in cluster
// mode: each series' histograms and histogram_series rows live on its
// shard, both shards have some, and reads see each histogram once.
func testClusterHistograms(t *testing.T, c *store.Client, db string, shards []driver.Conn) {
	ctx := t.Context()
	var (
		ss  []store.Series
		fps []uint64
	)
	for i := range 16 {
		ls := labels.FromStrings("__name__", "latency", "instance", fmt.Sprintf("host-%d", i))
		ss = append(ss, store.Series{Tenant: "t", Labels: ls, Histograms: []store.HistogramSample{
			{T: day1, H: intHistogram(1)}, {T: day2, H: intHistogram(2)},
		}})
		fps = append(fps, store.Fingerprint(ls))
	}
	write(t, c, "histograms-1", ss...)
	write(t, c, "histograms-1", ss...) // redelivered

	placed := fingerprintsByShard(t, shards, "SELECT DISTINCT fingerprint FROM "+db+".histograms_local")
	requirePartition(t, placed, fps)
	require.Equal(t, placed, fingerprintsByShard(t, shards, "SELECT DISTINCT fingerprint FROM "+db+".histogram_series_local"),
		"a series' histogram_series rows live on its shard")
	refs, err := c.SelectSeries(ctx, "t", day1, day2, eq("__name__", "latency"))
	require.NoError(t, err)
	require.Len(t, refs, 16)
	for _, r := range refs {
		require.True(t, r.Histograms, "resolved through histogram_series on each shard: %s", r.Labels)
	}
	got, err := c.ReadHistograms(ctx, "t", fps, day1, day2)
	require.NoError(t, err)
	require.Len(t, got, 16)
	for _, fp := range fps {
		require.Equal(t, []store.HistogramSample{{T: day1, H: intHistogram(1)}, {T: day2, H: intHistogram(2)}}, got[fp], "each histogram once")
	}
}
