package remotewrite

import (
	"math"
	"strconv"
	"testing"

	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

func v2Body(t testing.TB, req *writev2.Request) []byte {
	b, err := encodeV2Request(req)
	require.NoError(t, err)
	return b
}

func TestDecodeV2(t *testing.T) {
	stale := math.Float64frombits(value.StaleNaN)
	for _, tc := range []struct {
		name string
		req  writev2.Request
		want []string // series with their samples, as "labels t=v …"
		hist int
		ex   int
		bad  int
		err  string
	}{
		{
			name: "symbols resolve, labels are sorted",
			req: writev2.Request{
				Symbols: []string{"", "job", "x", "__name__", "demo_metric", "help me"},
				Timeseries: []writev2.TimeSeries{{
					LabelsRefs: []uint32{1, 2, 3, 4},
					Samples:    []writev2.Sample{{Timestamp: 1000, Value: 42}, {Timestamp: 2000, Value: stale}},
					Metadata:   writev2.Metadata{Type: writev2.Metadata_METRIC_TYPE_GAUGE, HelpRef: 5},
				}},
			},
			want: []string{`{__name__="demo_metric", job="x"} 1000=42 2000=stale`},
		},
		{
			name: "histograms kept, exemplars counted",
			req: writev2.Request{
				Symbols: []string{"", "__name__", "lat", "trace_id", "abc"},
				Timeseries: []writev2.TimeSeries{
					{LabelsRefs: []uint32{1, 2}, Histograms: []writev2.Histogram{
						{Timestamp: 1, Count: &writev2.Histogram_CountInt{CountInt: 0}},
						{Timestamp: 2, Count: &writev2.Histogram_CountFloat{CountFloat: 0}},
					}},
					{
						LabelsRefs: []uint32{1, 2}, Samples: []writev2.Sample{{Timestamp: 3, Value: 1}},
						Exemplars: []writev2.Exemplar{{LabelsRefs: []uint32{3, 4}, Value: 1, Timestamp: 3}},
					},
				},
			},
			want: []string{`{__name__="lat"} 1=h(int) 2=h(float)`, `{__name__="lat"} 3=1`},
			hist: 2,
			ex:   1,
		},
		{
			name: "broken references reject the series only",
			req: writev2.Request{
				Symbols: []string{"", "__name__", "ok"},
				Timeseries: []writev2.TimeSeries{
					{LabelsRefs: []uint32{1, 9}, Samples: []writev2.Sample{{Timestamp: 1, Value: 1}, {Timestamp: 2, Value: 2}}},
					{LabelsRefs: []uint32{1}, Samples: []writev2.Sample{{Timestamp: 1, Value: 1}}},
					{LabelsRefs: []uint32{1, 2}, Samples: []writev2.Sample{{Timestamp: 1, Value: 7}}},
				},
			},
			want: []string{`{__name__="ok"} 1=7`},
			bad:  3,
			err:  "series 0 of the request: labelRefs 1 (name) = 9 (value) outside of symbols table (size 3)",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeV2(v2Body(t, &tc.req), "t1", 1<<20)
			require.NoError(t, err)
			var rendered []string
			for _, s := range got.Series {
				require.Equal(t, "t1", s.Tenant)
				rendered = append(rendered, render(s))
			}
			require.Equal(t, tc.want, rendered)
			hist := 0
			for _, s := range got.Series {
				hist += len(s.Histograms)
			}
			require.Equal(t, tc.hist, hist)
			require.Equal(t, tc.ex, got.Exemplars)
			require.Equal(t, tc.bad, got.Invalid)
			if tc.err != "" {
				require.EqualError(t, got.InvalidErr, tc.err)
			}
		})
	}
}

func render(s store.Series) string {
	out := s.Labels.String()
	for _, smp := range s.Samples {
		v := "stale"
		if !smp.IsStale() {
			v = strconv.FormatFloat(smp.V, 'g', -1, 64)
		}
		out += " " + strconv.FormatInt(smp.T, 10) + "=" + v
	}
	for _, h := range s.Histograms {
		kind := "int"
		if h.FH != nil {
			kind = "float"
		}
		out += " " + strconv.FormatInt(h.T, 10) + "=h(" + kind + ")"
	}
	return out
}

func TestDecodeV2Errors(t *testing.T) {
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
			_, err := DecodeV2(tc.body, "t", 1024)
			require.ErrorIs(t, err, ErrDecode)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestEncodeDecodeV2RoundTrip(t *testing.T) {
	in := []store.Series{
		{Tenant: "t", Labels: labels.FromStrings("__name__", "a", "b", "c"), Samples: []store.Sample{{T: 5, V: 1.5}}},
		{Tenant: "t", Labels: labels.FromStrings("__name__", "a", "b", "d"), Samples: []store.Sample{{T: 6, V: 2}}},
	}
	body, err := EncodeV2(in)
	require.NoError(t, err)
	out, err := DecodeV2(body, "t", 1<<20)
	require.NoError(t, err)
	require.Len(t, out.Series, 2)
	for i := range in {
		require.Equal(t, in[i].Labels.String(), out.Series[i].Labels.String())
		require.Equal(t, in[i].Samples, out.Series[i].Samples)
	}
}

func FuzzDecodeV2(f *testing.F) {
	body, err := EncodeV2([]store.Series{{Labels: labels.FromStrings("__name__", "a", "job", "b"), Samples: []store.Sample{{T: 1, V: 2}}}})
	require.NoError(f, err)
	f.Add(body)
	f.Add(v2Body(f, &writev2.Request{Symbols: []string{"", "__name__"}, Timeseries: []writev2.TimeSeries{{LabelsRefs: []uint32{1, 7}}}}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := DecodeV2(b, "t", 1<<20)
		if err != nil {
			require.ErrorIs(t, err, ErrDecode)
			return
		}
		for _, s := range req.Series {
			require.Equal(t, "t", s.Tenant)
			require.NotEmpty(t, s.Samples)
		}
	})
}

func BenchmarkDecodeV2(b *testing.B) {
	series := make([]store.Series, 2000)
	for i := range series {
		series[i] = store.Series{
			Labels:  labels.FromStrings("__name__", "node_network_receive_bytes_total", "device", "eth0", "instance", "host-17:9100", "job", "node"),
			Samples: []store.Sample{{T: 1700000000000, V: float64(i)}},
		}
	}
	body, err := EncodeV2(series)
	require.NoError(b, err)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := DecodeV2(body, "t", 64<<20); err != nil {
			b.Fatal(err)
		}
	}
}
