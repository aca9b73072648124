package wire

import (
	"math"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

func TestMetricsRoundTrip(t *testing.T) {
	in := []store.Series{
		{
			Tenant: "team-a",
			Labels: labels.FromStrings("__name__", "up", "job", "node", "instance", "a:9100"),
			Samples: []store.Sample{
				{T: 1700000000000, V: 1},
				{T: 1700000015000, V: 0},
				{T: 1699999999000, V: -2.5}, // out of order stays as sent
				{T: 1700000030000, V: math.Float64frombits(value.StaleNaN)},
			},
		},
		{Tenant: "team-a", Labels: labels.FromStrings("__name__", "empty")},
		{Tenant: "team-a", Labels: labels.FromStrings("__name__", "inf", "x", ""), Samples: []store.Sample{{T: -5, V: math.Inf(1)}}},
	}
	b := AppendMetrics(nil, "team-a", in)
	kind, err := Header(b)
	require.NoError(t, err)
	require.Equal(t, KindMetrics, kind)

	got, err := DecodeMetrics(nil, b)
	require.NoError(t, err)
	require.Len(t, got, len(in))
	for i := range in {
		require.Equal(t, in[i].Tenant, got[i].Tenant)
		require.Equal(t, in[i].Labels.String(), got[i].Labels.String())
		require.Len(t, got[i].Samples, len(in[i].Samples))
		for j, s := range in[i].Samples {
			require.Equal(t, s.T, got[i].Samples[j].T)
			require.Equal(t, math.Float64bits(s.V), math.Float64bits(got[i].Samples[j].V), "value bits of sample %d", j)
		}
	}
}

func TestDecodeMetricsErrors(t *testing.T) {
	good := AppendMetrics(nil, "t", []store.Series{{Labels: labels.FromStrings("__name__", "m"), Samples: []store.Sample{{T: 1, V: 1}}}})
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "too short"},
		{"magic", []byte{'X', 1, 1}, "bad magic"},
		{"version", []byte{'C', 9, 1}, "unsupported version 9"},
		{"kind", []byte{'C', 1, 7, 0}, "kind(7)"},
		{"truncated", good[:len(good)-3], "count 1 exceeds the 6 bytes left"},
		{"trailing", append(append([]byte{}, good...), 0), "1 trailing bytes"},
		{"huge count", []byte{'C', 1, 1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}, "exceeds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeMetrics(nil, tc.in)
			require.ErrorIs(t, err, ErrCorrupt)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func FuzzDecodeMetrics(f *testing.F) {
	f.Add(AppendMetrics(nil, "t", []store.Series{{Labels: labels.FromStrings("__name__", "m", "a", "b"), Samples: []store.Sample{{T: 1, V: 1}, {T: 2, V: 3}}}}))
	f.Add([]byte{'C', 1, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		series, err := DecodeMetrics(nil, b)
		if err != nil {
			require.ErrorIs(t, err, ErrCorrupt)
			return
		}
		// What decodes must encode back to the same bytes, unless the
		// message held unsorted labels (decoding sorts them).
		if len(series) == 0 {
			return
		}
		re := AppendMetrics(nil, series[0].Tenant, series)
		again, err := DecodeMetrics(nil, re)
		require.NoError(t, err)
		require.Equal(t, len(series), len(again))
	})
}

func BenchmarkAppendDecodeMetrics(b *testing.B) {
	series := make([]store.Series, 1000)
	for i := range series {
		series[i] = store.Series{
			Labels:  labels.FromStrings("__name__", "node_cpu_seconds_total", "cpu", "3", "instance", "host-17:9100", "job", "node", "mode", "idle"),
			Samples: []store.Sample{{T: 1700000000000 + int64(i), V: float64(i)}},
		}
	}
	b.ReportAllocs()
	var buf []byte
	var out []store.Series
	for b.Loop() {
		buf = AppendMetrics(buf[:0], "t", series)
		var err error
		out, err = DecodeMetrics(out[:0], buf)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(buf))/float64(len(series)), "bytes/series")
}
