package remotewrite

import (
	"fmt"

	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/prometheus/model/labels"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"

	"github.com/cairn-dev/cairn/store"
)

// V2 is a decoded remote write 2.0 request: the float samples and native
// histograms Cairn stores, and counts of what it carried that Cairn does
// not store.
type V2 struct {
	Series []store.Series

	// Exemplars counts exemplars, which Cairn does not store.
	Exemplars int

	// Invalid counts the samples and histograms of series whose label
	// references do not resolve in the symbols table; InvalidErr
	// describes the first such series.
	Invalid    int
	InvalidErr error
}

// DecodeV2 decompresses a remote write 2.0 body (a snappy block-compressed
// io.prometheus.write.v2.Request) and resolves every series' labels
// through the request's symbols table. Series whose references are broken
// are counted in Invalid rather than failing the request, so the rest can
// be stored, as the 2.0 specification's partial writes allow. Metadata is
// ignored.
func DecodeV2(body []byte, tenant string, maxDecoded int) (*V2, error) {
	raw, err := Decompress(body, maxDecoded)
	if err != nil {
		return nil, err
	}
	var req writev2.Request
	if err := req.Unmarshal(raw); err != nil {
		return nil, fmt.Errorf("%w: protobuf: %v", ErrDecode, err)
	}
	out := &V2{Series: make([]store.Series, 0, len(req.Timeseries))}
	b := labels.NewScratchBuilder(16)
	for i := range req.Timeseries {
		ts := &req.Timeseries[i]
		out.Exemplars += len(ts.Exemplars)
		ls, err := ts.ToLabels(&b, req.Symbols)
		if err != nil {
			out.Invalid += len(ts.Samples) + len(ts.Histograms)
			if out.InvalidErr == nil {
				out.InvalidErr = fmt.Errorf("series %d of the request: %w", i, err)
			}
			continue
		}
		if len(ts.Samples) == 0 && len(ts.Histograms) == 0 {
			continue
		}
		var samples []store.Sample
		if len(ts.Samples) > 0 {
			samples = make([]store.Sample, len(ts.Samples))
			for j, s := range ts.Samples {
				samples[j] = store.Sample{T: s.Timestamp, V: s.Value}
			}
		}
		var hs []store.HistogramSample
		if len(ts.Histograms) > 0 {
			hs = make([]store.HistogramSample, len(ts.Histograms))
			for j, h := range ts.Histograms {
				hs[j].T = h.Timestamp
				if h.IsFloatHistogram() {
					hs[j].FH = h.ToFloatHistogram()
				} else {
					hs[j].H = h.ToIntHistogram()
				}
			}
		}
		out.Series = append(out.Series, store.Series{Tenant: tenant, Labels: ls, Samples: samples, Histograms: hs})
	}
	return out, nil
}

// EncodeV2 builds a remote write 2.0 body from series: the inverse of
// DecodeV2, for tests and benchmarks.
func EncodeV2(series []store.Series) ([]byte, error) {
	symbols := writev2.NewSymbolTable()
	req := writev2.Request{Timeseries: make([]writev2.TimeSeries, len(series))}
	for i, s := range series {
		ts := &req.Timeseries[i]
		ts.LabelsRefs = symbols.SymbolizeLabels(s.Labels, nil)
		for _, smp := range s.Samples {
			ts.Samples = append(ts.Samples, writev2.Sample{Timestamp: smp.T, Value: smp.V})
		}
		for _, h := range s.Histograms {
			if h.H != nil {
				ts.Histograms = append(ts.Histograms, writev2.FromIntHistogram(0, h.T, h.H))
			} else if h.FH != nil {
				ts.Histograms = append(ts.Histograms, writev2.FromFloatHistogram(0, h.T, h.FH))
			}
		}
	}
	req.Symbols = symbols.Symbols()
	return encodeV2Request(&req)
}

func encodeV2Request(req *writev2.Request) ([]byte, error) {
	raw, err := req.Marshal()
	if err != nil {
		return nil, fmt.Errorf("marshal remote write 2.0 request: %w", err)
	}
	return snappy.Encode(nil, raw), nil
}
