package remotewrite

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/prompb"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/cairn-dev/cairn/store"
)

func TestDecodeV1(t *testing.T) {
	req := prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{
		// Unsorted, as some clients send them.
		Labels:  []prompb.Label{{Name: "job", Value: "x"}, {Name: "__name__", Value: "demo_metric"}},
		Samples: []prompb.Sample{{Timestamp: 1000, Value: 42}, {Timestamp: 2000, Value: math.Float64frombits(value.StaleNaN)}},
	}}}
	raw, err := req.Marshal()
	require.NoError(t, err)

	got, err := DecodeV1(snappy.Encode(nil, raw), "t1", 1<<20)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, "t1", got[0].Tenant)
	require.Equal(t, `{__name__="demo_metric", job="x"}`, got[0].Labels.String())
	require.Equal(t, store.Sample{T: 1000, V: 42}, got[0].Samples[0])
	require.True(t, got[0].Samples[1].IsStale())
}

func TestDecodeV1Histograms(t *testing.T) {
	h := &histogram.Histogram{
		CounterResetHint: histogram.GaugeType, Schema: 2, ZeroThreshold: 1e-9, ZeroCount: 1, Count: 6, Sum: -1.5,
		PositiveSpans: []histogram.Span{{Offset: 1, Length: 2}}, PositiveBuckets: []int64{2, 1},
		NegativeSpans: []histogram.Span{{Offset: -1, Length: 1}}, NegativeBuckets: []int64{0},
	}
	fh := &histogram.FloatHistogram{Schema: histogram.CustomBucketsSchema, Count: 4, Sum: 2,
		PositiveSpans: []histogram.Span{{Length: 2}}, PositiveBuckets: []float64{1, 3}, CustomValues: []float64{0.5}}
	req := prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{
		Labels:     []prompb.Label{{Name: "__name__", Value: "rpc_seconds"}},
		Samples:    []prompb.Sample{{Timestamp: 500, Value: 1}},
		Histograms: []prompb.Histogram{prompb.FromIntHistogram(1000, h), prompb.FromFloatHistogram(2000, fh)},
	}}}
	raw, err := req.Marshal()
	require.NoError(t, err)
	got, err := DecodeV1(snappy.Encode(nil, raw), "t1", 1<<20)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, []store.Sample{{T: 500, V: 1}}, got[0].Samples)
	require.Len(t, got[0].Histograms, 2)
	require.Equal(t, int64(1000), got[0].Histograms[0].T)
	require.True(t, h.Equals(got[0].Histograms[0].H), "got %v", got[0].Histograms[0].H)
	require.Equal(t, int64(2000), got[0].Histograms[1].T)
	require.True(t, fh.Equals(got[0].Histograms[1].FH), "got %v", got[0].Histograms[1].FH)
}

func TestDecodeV1Errors(t *testing.T) {
	big := snappy.Encode(nil, make([]byte, 4096))
	for _, tc := range []struct {
		name string
		body []byte
		want string
	}{
		{"not snappy", []byte("hello world"), "snappy"},
		{"not protobuf", snappy.Encode(nil, []byte{0xff, 0xff, 0xff}), "protobuf"},
		{"too large", big, "decompressed body of 4096 bytes exceeds the limit of 1024"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeV1(tc.body, "t", 1024)
			require.ErrorIs(t, err, ErrDecode)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	in := []store.Series{{Tenant: "t", Labels: labels.FromStrings("__name__", "a", "b", "c"), Samples: []store.Sample{{T: 5, V: 1.5}}}}
	body, err := EncodeV1(in)
	require.NoError(t, err)
	out, err := DecodeV1(body, "t", 1<<20)
	require.NoError(t, err)
	require.Equal(t, in[0].Labels.String(), out[0].Labels.String())
	require.Equal(t, in[0].Samples, out[0].Samples)
}

func FuzzDecodeV1(f *testing.F) {
	body, err := EncodeV1([]store.Series{{Labels: labels.FromStrings("__name__", "a"), Samples: []store.Sample{{T: 1, V: 2}}}})
	require.NoError(f, err)
	f.Add(body)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		series, err := DecodeV1(b, "t", 1<<20)
		if err != nil {
			require.ErrorIs(t, err, ErrDecode)
			return
		}
		for _, s := range series {
			require.Equal(t, "t", s.Tenant)
		}
	})
}

func BenchmarkDecodeV1(b *testing.B) {
	series := make([]store.Series, 2000)
	for i := range series {
		series[i] = store.Series{
			Labels:  labels.FromStrings("__name__", "node_network_receive_bytes_total", "device", "eth0", "instance", "host-17:9100", "job", "node"),
			Samples: []store.Sample{{T: 1700000000000, V: float64(i)}},
		}
	}
	body, err := EncodeV1(series)
	require.NoError(b, err)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := DecodeV1(body, "t", 64<<20); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzDecodeMatchesPrompb checks the hand-written decoder against the
// generated one: whatever both decode, they decode to the same series
// (labels sorted, samples in order). gogo's generated code is laxer about
// malformed input than protobuf-go's wire parser (overflowing varints,
// mismatched groups); such input is refused here, which is the point.
func FuzzDecodeMatchesPrompb(f *testing.F) {
	req := prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		{Labels: []prompb.Label{{Name: "job", Value: "x"}, {Name: "__name__", Value: "m"}}, Samples: []prompb.Sample{{Value: 1.5, Timestamp: 10}, {Value: -2, Timestamp: -5}}},
		{Labels: []prompb.Label{{Name: "__name__", Value: "empty"}}},
		{Labels: []prompb.Label{{Name: "__name__", Value: "zero"}}, Samples: []prompb.Sample{{}}},
		{Labels: []prompb.Label{{Name: "__name__", Value: "h"}}, Histograms: []prompb.Histogram{
			prompb.FromIntHistogram(7, &histogram.Histogram{Count: 2, Sum: 3, PositiveSpans: []histogram.Span{{Length: 1}}, PositiveBuckets: []int64{2}}),
			prompb.FromFloatHistogram(8, &histogram.FloatHistogram{Count: 2.5, Sum: 3, ZeroCount: 2.5}),
		}},
	}}
	raw, err := req.Marshal()
	require.NoError(f, err)
	f.Add(raw)
	f.Add([]byte{0x0a, 0x00})
	f.Fuzz(func(t *testing.T, raw []byte) {
		var want prompb.WriteRequest
		if want.Unmarshal(raw) != nil {
			return
		}
		got, _, err := decodeWriteRequest(append([]byte(nil), raw...), "t", nil)
		if errors.Is(err, errGroup) || errors.Is(err, errTruncated) {
			return
		}
		require.NoError(t, err)
		require.Len(t, got, len(want.Timeseries))
		for i, ts := range want.Timeseries {
			b := labels.NewScratchBuilder(len(ts.Labels))
			for _, l := range ts.Labels {
				b.Add(l.Name, l.Value)
			}
			b.Sort()
			require.Equal(t, b.Labels().String(), got[i].Labels.String(), "series %d", i)
			require.Len(t, got[i].Samples, len(ts.Samples))
			for j, s := range ts.Samples {
				require.Equal(t, s.Timestamp, got[i].Samples[j].T)
				require.Equal(t, math.Float64bits(s.Value), math.Float64bits(got[i].Samples[j].V))
			}
			require.Len(t, got[i].Histograms, len(ts.Histograms))
			for j, h := range ts.Histograms {
				g := got[i].Histograms[j]
				require.Equal(t, h.Timestamp, g.T)
				if h.IsFloatHistogram() {
					require.Equal(t, h.ToFloatHistogram().String(), g.FH.String())
				} else {
					require.Equal(t, h.ToIntHistogram().String(), g.H.String())
				}
			}
		}

		// A Known that knows every series: each whose labels all lead
		// comes out a reference, its raw labels decoding to the labels
		// above, and samples the same.
		refs, raws, err := decodeWriteRequest(append([]byte(nil), raw...), "t", func(raws [][]byte, series []store.Series, known []bool) {
			for i, r := range raws {
				series[i].Fingerprint, known[i] = uint64(len(r))+1, true
			}
		})
		require.NoError(t, err)
		require.Len(t, refs, len(got))
		require.Len(t, raws, len(got))
		for i := range refs {
			require.Equal(t, got[i].Samples, refs[i].Samples)
			if raws[i] == nil {
				require.False(t, refs[i].IsRef(), "series %d: labels after other fields are decoded", i)
				require.Equal(t, got[i].Labels.String(), refs[i].Labels.String())
				continue
			}
			require.True(t, refs[i].IsRef(), "series %d", i)
			require.Equal(t, uint64(len(raws[i]))+1, refs[i].Fingerprint)
			ls, err := DecodeLabels(raws[i])
			require.NoError(t, err)
			require.Equal(t, got[i].Labels.String(), ls.String(), "series %d: raw labels decode alike", i)
		}
	})
}

// TestDecodeV1Known checks which series DecodeV1Known asks about and
// what it makes of the answer.
func TestDecodeV1Known(t *testing.T) {
	up := labels.FromStrings("__name__", "up", "job", "a")
	down := labels.FromStrings("__name__", "up", "job", "b")
	body, err := EncodeV1([]store.Series{
		{Labels: up, Samples: []store.Sample{{T: 1, V: 1}}},
		{Labels: down, Samples: []store.Sample{{T: 2, V: 0}, {T: 3, V: 1}}},
	})
	require.NoError(t, err)
	var asked []string
	raw, err := Decompress(body, 1<<20)
	require.NoError(t, err)
	series, raws, err := DecodeV1Known(raw, "t", func(raws [][]byte, series []store.Series, known []bool) {
		for i, raw := range raws {
			ls, err := DecodeLabels(raw)
			require.NoError(t, err)
			require.True(t, series[i].Labels.IsEmpty(), "labels not decoded yet")
			asked = append(asked, fmt.Sprintf("%s %d", ls, len(series[i].Samples)))
			// A fingerprint without known[i] is ignored.
			series[i].Fingerprint, known[i] = 42, labels.Equal(ls, up)
		}
	})
	require.NoError(t, err)
	require.Equal(t, []string{`{__name__="up", job="a"} 1`, `{__name__="up", job="b"} 2`}, asked)
	require.Len(t, raws, 2)
	require.True(t, series[0].IsRef())
	require.Equal(t, uint64(42), series[0].Fingerprint)
	require.Equal(t, []store.Sample{{T: 1, V: 1}}, series[0].Samples)
	require.False(t, series[1].IsRef())
	require.Equal(t, down.String(), series[1].Labels.String())
	require.Zero(t, series[1].Fingerprint)

	// Labels after the samples are decoded, never looked up.
	ts := protowire.AppendTag(nil, fieldSamples, protowire.BytesType)
	ts = protowire.AppendBytes(ts, protowire.AppendVarint(protowire.AppendTag(nil, fieldSampleTS, protowire.VarintType), 5))
	for _, kv := range [][2]string{{"__name__", "late"}} {
		l := protowire.AppendBytes(protowire.AppendTag(nil, fieldName, protowire.BytesType), []byte(kv[0]))
		l = protowire.AppendBytes(protowire.AppendTag(l, fieldValue, protowire.BytesType), []byte(kv[1]))
		ts = protowire.AppendBytes(protowire.AppendTag(ts, fieldLabels, protowire.BytesType), l)
	}
	// After a series whose labels lead, which the Known knows.
	req := append(slices.Clone(raw), protowire.AppendBytes(protowire.AppendTag(nil, fieldTimeseries, protowire.BytesType), ts)...)
	series, raws, err = DecodeV1Known(req, "t", func(raws [][]byte, series []store.Series, known []bool) {
		require.Len(t, raws, 3)
		require.Nil(t, raws[2], "labels that were not all leading are not raw")
		for i := range known {
			series[i].Fingerprint, known[i] = 7, true // must not make the last a reference
		}
	})
	require.NoError(t, err)
	require.Nil(t, raws[2])
	require.True(t, series[0].IsRef())
	require.Equal(t, `{__name__="late"}`, series[2].Labels.String())
	require.Zero(t, series[2].Fingerprint)
	require.Equal(t, []store.Sample{{T: 5}}, series[2].Samples)
}
