package store

import (
	"fmt"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/stretchr/testify/require"
)

func TestWriteBatchFill(t *testing.T) {
	const d = 19675 * msPerDay
	up := labels.FromStrings("__name__", "up", "job", "api", "zone", "")
	other := labels.FromStrings("instance", "x")
	cache := newSeriesCache(100)
	cache.add([]seriesKey{{tenant: "t", fp: Fingerprint(other), day: 19675}})

	var b writeBatch
	b.fill([]Series{
		{Tenant: "t", Labels: up, Samples: []Sample{{T: d + 1, V: 1}, {T: d + msPerDay, V: math.Float64frombits(value.StaleNaN)}, {T: -1}, {T: MaxTime + 1}}},
		{Tenant: "t", Labels: up, Samples: []Sample{{T: d + 2, V: 2}}}, // same series again
		{Tenant: "t", Labels: other, Samples: []Sample{{T: d + 3, V: 3}}},
	}, cache)

	require.Equal(t, 2, b.dropped)
	require.Equal(t, []int64{d + 1, d + msPerDay, d + 2, d + 3}, b.samples.ts)
	require.Equal(t, []float64{1, 0, 2, 3}, b.samples.val)
	require.Equal(t, []uint8{0, staleFlag, 0, 0}, b.samples.flags)

	// Series rows for up on both days; other is cached.
	fp := Fingerprint(up)
	require.Equal(t, []seriesKey{{"t", fp, 19675}, {"t", fp, 19676}}, b.keys)
	require.Equal(t, []string{"up", "up"}, b.series.name)
	require.Equal(t, []time.Time{time.Date(2023, 11, 14, 0, 0, 0, 0, time.UTC), time.Date(2023, 11, 15, 0, 0, 0, 0, time.UTC)}, b.series.date)
	require.Equal(t, [][]string{{"job", "zone"}, {"job", "zone"}}, b.series.labelNames)
	require.Equal(t, [][]string{{"api", ""}, {"api", ""}}, b.series.labelValues)
	// The index skips the empty label.
	require.Equal(t, []string{"__name__", "job", "__name__", "job"}, b.index.name)
	require.Equal(t, []string{"up", "api", "up", "api"}, b.index.value)

	b.reset()
	require.Empty(t, b.samples.ts)
	require.Empty(t, b.keys)
	require.Zero(t, b.dropped)
}

// TestWriteBatchFillFingerprint checks that a fingerprint ingest carried
// is used as it is, and that one is computed when none came.
func TestWriteBatchFillFingerprint(t *testing.T) {
	const d = 19675 * msPerDay
	ls := labels.FromStrings("__name__", "up")
	for _, tc := range []struct {
		name string
		in   uint64
		want uint64
	}{
		{"carried", 42, 42},
		{"computed", 0, Fingerprint(ls)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b writeBatch
			b.fill([]Series{{Tenant: "t", Labels: ls, Fingerprint: tc.in, Samples: []Sample{{T: d, V: 1}}}}, newSeriesCache(10))
			require.Equal(t, []uint64{tc.want}, b.samples.fp)
			require.Equal(t, []uint64{tc.want}, b.series.fp)
			require.Equal(t, []uint64{tc.want}, b.index.fp)
		})
	}
}

// BenchmarkWriteBatchFill turns 10,000 one-sample series whose series
// rows are cached into columns: the writer's steady state.
func BenchmarkWriteBatchFill(b *testing.B) {
	const d = 19675 * msPerDay
	series := make([]Series, 10000)
	cache := newSeriesCache(len(series) * 2)
	for i := range series {
		ls := labels.FromStrings("__name__", "node_cpu_seconds_total", "cpu", strconv.Itoa(i%8), "instance", fmt.Sprintf("host-%03d:9100", i/64), "job", "node", "mode", "idle")
		series[i] = Series{Tenant: "t", Labels: ls, Samples: []Sample{{T: d + int64(i), V: float64(i)}}}
		cache.add([]seriesKey{{tenant: "t", fp: Fingerprint(ls), day: 19675}})
	}
	for _, carried := range []bool{false, true} {
		for i := range series {
			series[i].Fingerprint = 0
			if carried {
				series[i].Fingerprint = Fingerprint(series[i].Labels)
			}
		}
		b.Run(fmt.Sprintf("fingerprint_carried=%t", carried), func(b *testing.B) {
			b.ReportAllocs()
			var wb writeBatch
			for b.Loop() {
				wb.fill(series, cache)
				wb.reset()
			}
		})
	}
}

func TestSplitByDays(t *testing.T) {
	ls := labels.FromStrings("__name__", "x")
	at := func(days ...int64) []Sample {
		var ss []Sample
		for _, d := range days {
			ss = append(ss, Sample{T: d*msPerDay + 5})
		}
		return ss
	}
	days := func(chunk []Series) []int64 {
		var out []int64
		for _, s := range chunk {
			for _, p := range s.Samples {
				out = append(out, dayOf(p.T))
			}
		}
		return out
	}

	one := []Series{{Tenant: "t", Labels: ls, Samples: at(10, 11, 12)}}
	require.Equal(t, [][]Series{one}, splitByDays(one, 3), "within the limit: unchanged")

	chunks := splitByDays([]Series{
		{Tenant: "t", Labels: ls, Samples: at(17, 10, 13, 11), Fingerprint: 42},
		{Tenant: "u", Labels: ls, Samples: at(12)},
	}, 3)
	require.Len(t, chunks, 3)
	require.Equal(t, []int64{10, 11, 12}, days(chunks[0]))
	require.Equal(t, []int64{13}, days(chunks[1]))
	require.Equal(t, []int64{17}, days(chunks[2]))
	require.Equal(t, "u", chunks[0][1].Tenant, "series order kept")
	require.Equal(t, uint64(42), chunks[1][0].Fingerprint, "a carried fingerprint is kept")
}
