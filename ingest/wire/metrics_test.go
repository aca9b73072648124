package wire

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/histogram"
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
	requireSameSeries(t, in, got)
	for i := range in {
		require.Equal(t, store.Fingerprint(in[i].Labels), got[i].Fingerprint, "the fingerprint travels")
	}
}

func TestMetricsReferences(t *testing.T) {
	full := store.Series{Tenant: "team-a", Labels: labels.FromStrings("__name__", "up", "job", "node"), Samples: []store.Sample{{T: 1700000000000, V: 1}}}
	in := []store.Series{
		full,
		{Tenant: "team-a", Fingerprint: 0xdeadbeef, Samples: []store.Sample{{T: 1700000000000, V: 2}, {T: 1700000015000, V: 3}}},
		{Tenant: "team-a", Fingerprint: 42, Histograms: []store.HistogramSample{{T: 1700000000000, FH: &histogram.FloatHistogram{Count: 1, Sum: 2}}}},
	}
	b := AppendMetrics(nil, "team-a", in)
	require.Equal(t, byte(v4), b[1], "references make a version 4 message")

	got, err := DecodeMetrics(nil, b)
	require.NoError(t, err)
	requireSameSeries(t, in, got)
	require.False(t, got[0].IsRef())
	require.Equal(t, store.Fingerprint(full.Labels), got[0].Fingerprint)
	for i, want := range []uint64{0xdeadbeef, 42} {
		require.True(t, got[i+1].IsRef(), "series %d", i+1)
		require.Equal(t, want, got[i+1].Fingerprint)
	}
	require.Len(t, got[2].Histograms, 1)
	require.Equal(t, 2.0, got[2].Histograms[0].FH.Sum)

	// Without references the message keeps the version older writers read.
	require.Equal(t, byte(v2), AppendMetrics(nil, "team-a", in[:1])[1])
}

// requireSameSeries checks that got holds the series of want: tenant,
// labels and every sample's time and value bits.
func requireSameSeries(t *testing.T, want, got []store.Series) {
	t.Helper()
	require.Len(t, got, len(want))
	for i, in := range want {
		require.Equal(t, in.Tenant, got[i].Tenant)
		require.True(t, labels.Equal(in.Labels, got[i].Labels), "labels of series %d: %s, want %s", i, got[i].Labels, in.Labels)
		require.Equal(t, in.Labels.String(), got[i].Labels.String())
		require.Len(t, got[i].Samples, len(in.Samples))
		for j, s := range in.Samples {
			require.Equal(t, s.T, got[i].Samples[j].T)
			require.Equal(t, math.Float64bits(s.V), math.Float64bits(got[i].Samples[j].V), "value bits of sample %d", j)
		}
	}
}

// appendMetricsV1 is AppendMetrics as version 1 wrote it: Kafka may still
// hold such messages when a new writer starts.
func appendMetricsV1(dst []byte, tenant string, series []store.Series) []byte {
	dst = appendHeader(dst, v1, KindMetrics, tenant)
	dst = binary.AppendUvarint(dst, uint64(len(series)))
	for _, s := range series {
		dst = appendLabels(dst, s.Labels)
		dst = binary.AppendUvarint(dst, uint64(len(s.Samples)))
		var prev int64
		for _, smp := range s.Samples {
			dst = binary.AppendVarint(dst, smp.T-prev)
			prev = smp.T
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(smp.V))
		}
	}
	return dst
}

func TestDecodeMetricsV1(t *testing.T) {
	in := []store.Series{
		{Tenant: "t", Labels: labels.FromStrings("__name__", "up", "job", "node"), Samples: []store.Sample{{T: 1, V: 1}, {T: 3, V: 2}}},
		{Tenant: "t", Labels: labels.FromStrings("__name__", "m", "long", strings.Repeat("v", 300)), Samples: []store.Sample{{T: 2, V: 0}}},
	}
	got, err := DecodeMetrics(nil, appendMetricsV1(nil, "t", in))
	require.NoError(t, err)
	requireSameSeries(t, in, got)
	for _, s := range got {
		require.Zero(t, s.Fingerprint, "version 1 carries no fingerprint: the store computes it")
	}
}

// TestMetricsFingerprint checks that a fingerprint the receiver computed
// is the one that travels, and that one is computed when it did not.
func TestMetricsFingerprint(t *testing.T) {
	ls := labels.FromStrings("__name__", "up")
	for _, tc := range []struct {
		name string
		in   uint64
		want uint64
	}{
		{"given", 42, 42},
		{"computed", 0, store.Fingerprint(ls)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := AppendMetrics(nil, "t", []store.Series{{Labels: ls, Fingerprint: tc.in, Samples: []store.Sample{{T: 1, V: 1}}}})
			got, err := DecodeMetrics(nil, b)
			require.NoError(t, err)
			require.Equal(t, tc.want, got[0].Fingerprint)
		})
	}
}

// TestPackedLabels checks the packed form against its definition, both
// ways, whatever labels implementation this binary has, and that long
// names and values (three-byte lengths) survive.
func TestPackedLabels(t *testing.T) {
	for _, ls := range []labels.Labels{
		labels.EmptyLabels(),
		labels.FromStrings("__name__", "up"),
		labels.FromStrings("__name__", "m", "a", "", "b", strings.Repeat("x", 254)),
		labels.FromStrings("__name__", "m", strings.Repeat("n", 255), strings.Repeat("v", 70000)),
	} {
		t.Run(ls.String()[:min(len(ls.String()), 30)], func(t *testing.T) {
			var want []byte
			ls.Range(func(l labels.Label) {
				want = appendPackedString(want, l.Name)
				want = appendPackedString(want, l.Value)
			})
			b := appendPackedLabels(nil, ls)
			d := decoder{b: b}
			require.Equal(t, string(want), d.view(), "the packed bytes follow their definition")

			d = decoder{b: b}
			var sb labels.ScratchBuilder
			got := d.packedLabels(&sb)
			require.NoError(t, d.end())
			require.True(t, labels.Equal(ls, got), "got %s", got)
		})
	}
	require.Equal(t, labels.ImplementationName == "stringlabels", packedIsNative,
		"the stringlabels implementation is the packed form; if it changed, decoding falls back to copying")
}

func TestDecodePackedLabelsErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte // packed labels without the length
		want string
	}{
		{"name past end", []byte{5, 'a'}, "label name runs past"},
		{"value missing", []byte{1, 'a'}, "label value runs past"},
		{"long length cut", []byte{1, 'a', 255, 1}, "label value runs past"},
		{"unsorted", []byte{1, 'b', 0, 1, 'a', 0}, `label "a" follows "b"`},
		{"duplicate", []byte{1, 'a', 0, 1, 'a', 0}, `label "a" follows "a"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := decoder{b: append(binary.AppendUvarint(nil, uint64(len(tc.in))), tc.in...)}
			var sb labels.ScratchBuilder
			d.packedLabels(&sb)
			require.ErrorIs(t, d.err, ErrCorrupt)
			require.ErrorContains(t, d.err, tc.want)
		})
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
		{"no labels before v4", []byte{'C', 2, 1, 1, 't', 1, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0}, "series 0 has no labels"},
		{"reference without fingerprint", []byte{'C', 4, 1, 1, 't', 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, "reference without a fingerprint"},
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
	f.Add(appendMetricsV1(nil, "t", []store.Series{{Labels: labels.FromStrings("__name__", "m", "a", "b"), Samples: []store.Sample{{T: 1, V: 1}}}}))
	f.Add(AppendMetrics(nil, "t", []store.Series{{Labels: labels.FromStrings("__name__", "m", "long", strings.Repeat("v", 300))}}))
	f.Add(AppendMetrics(nil, "t", []store.Series{{Fingerprint: 7, Samples: []store.Sample{{T: 1, V: 1}}}, {Labels: labels.FromStrings("__name__", "m")}}))
	f.Add(AppendMetrics(nil, "t", []store.Series{{Fingerprint: 7, Samples: []store.Sample{{T: 1, V: 1}, {T: 5, V: 2}}}, {Fingerprint: 8, Histograms: []store.HistogramSample{{T: 3, FH: &histogram.FloatHistogram{Count: 1, Sum: 2}}}}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		series, err := DecodeMetrics(nil, b)
		checkDecodeMetricsTo(t, b, series, err)
		if err != nil {
			require.ErrorIs(t, err, ErrCorrupt)
			return
		}
		// Decoded labels, views into b, are whole label sets.
		for _, s := range series {
			s.Labels.Range(func(l labels.Label) { require.Equal(t, l.Value, s.Labels.Get(l.Name)) })
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
		for i := range series {
			require.Equal(t, series[i].IsRef(), again[i].IsRef(), "series %d", i)
			require.Equal(t, series[i].Labels.String(), again[i].Labels.String(), "series %d", i)
			if series[i].Fingerprint != 0 { // version 1 carries none
				require.Equal(t, series[i].Fingerprint, again[i].Fingerprint, "series %d", i)
			}
			require.Len(t, again[i].Samples, len(series[i].Samples), "series %d", i)
		}
	})
}

// checkDecodeMetricsTo checks DecodeMetricsTo against DecodeMetrics' result
// for b: the same error, and the same series, but for the plain
// references' samples, which are in columns, after what the batch held.
func checkDecodeMetricsTo(t *testing.T, b []byte, series []store.Series, decodeErr error) {
	t.Helper()
	var m store.Metrics
	m.Series = append(m.Series, store.Series{Tenant: "held"})
	m.Refs.Add("held", 1, 2, 3)
	err := DecodeMetricsTo(&m, b)
	require.Equal(t, decodeErr, err)
	if err != nil {
		require.Len(t, m.Series, 1, "a message that does not decode leaves the batch as it was")
		require.Equal(t, 1, m.Refs.Len())
		require.Equal(t, []store.TenantSpan{{Tenant: "held", End: 1}}, m.Refs.Spans)
		return
	}
	var wantSeries, wantRefs []store.Series
	for _, s := range series {
		if s.IsRef() && len(s.Histograms) == 0 {
			for _, p := range s.Samples {
				wantRefs = append(wantRefs, store.Series{Tenant: s.Tenant, Fingerprint: s.Fingerprint, Samples: []store.Sample{p}})
			}
			continue
		}
		wantSeries = append(wantSeries, s)
	}
	got := m.Series[1:]
	require.Len(t, got, len(wantSeries))
	for i := range got {
		require.Equal(t, wantSeries[i].Labels.String(), got[i].Labels.String(), "series %d", i)
		require.Equal(t, wantSeries[i].Fingerprint, got[i].Fingerprint, "series %d", i)
		require.Equal(t, len(wantSeries[i].Samples), len(got[i].Samples), "series %d", i)
		for j := range got[i].Samples { // NaN-safe
			require.Equal(t, wantSeries[i].Samples[j].T, got[i].Samples[j].T)
			require.Equal(t, math.Float64bits(wantSeries[i].Samples[j].V), math.Float64bits(got[i].Samples[j].V))
		}
		require.Len(t, got[i].Histograms, len(wantSeries[i].Histograms), "series %d", i)
	}
	gotRefs := m.Refs.Series()[1:]
	require.Len(t, gotRefs, len(wantRefs))
	for i, w := range wantRefs {
		g := gotRefs[i]
		require.Equal(t, w.Tenant, g.Tenant, "reference %d", i)
		require.Equal(t, w.Fingerprint, g.Fingerprint, "reference %d", i)
		require.Equal(t, w.Samples[0].T, g.Samples[0].T, "reference %d", i)
		require.Equal(t, math.Float64bits(w.Samples[0].V), math.Float64bits(g.Samples[0].V), "reference %d", i)
	}
}

// nodeSeries is a request's worth of node_exporter-like series, one
// sample each, as remote write brings them.
func nodeSeries(n int) []store.Series {
	series := make([]store.Series, n)
	for i := range series {
		series[i] = store.Series{
			Labels:  labels.FromStrings("__name__", "node_cpu_seconds_total", "cpu", strconv.Itoa(i%8), "instance", fmt.Sprintf("host-%03d:9100", i/64), "job", "node", "mode", "idle"),
			Samples: []store.Sample{{T: 1700000000000 + int64(i), V: float64(i)}},
		}
	}
	return series
}

// BenchmarkAppendMetrics is the receiver's side: one message of 1,000
// series, whose fingerprints the receiver has computed for sharding.
func BenchmarkAppendMetrics(b *testing.B) {
	series := nodeSeries(1000)
	for i := range series {
		series[i].Fingerprint = store.Fingerprint(series[i].Labels)
	}
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		buf = AppendMetrics(buf[:0], "t", series)
	}
	b.ReportMetric(float64(len(buf))/float64(len(series)), "bytes/series")
}

// BenchmarkDecodeMetrics is the writer's side, for both versions.
func BenchmarkDecodeMetrics(b *testing.B) {
	series := nodeSeries(1000)
	for _, v := range []struct {
		name string
		msg  []byte
	}{
		{"v1", appendMetricsV1(nil, "t", series)},
		{"v2", AppendMetrics(nil, "t", series)},
	} {
		b.Run(v.name, func(b *testing.B) {
			b.ReportAllocs()
			var out []store.Series
			for b.Loop() {
				var err error
				if out, err = DecodeMetrics(out[:0], v.msg); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(v.msg))/float64(len(series)), "bytes/series")
		})
	}
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
