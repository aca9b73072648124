package remotewrite

import (
	"errors"
	"fmt"

	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"

	"github.com/cairn-dev/cairn/store"
)

// ErrDecode is wrapped by every error about the body itself, which the
// receiver answers with 400.
var ErrDecode = errors.New("cannot decode remote write request")

// DecodeV1 decompresses a remote write 1.0 body and returns its series,
// each carrying tenant. maxDecoded bounds the uncompressed size, so a small
// body cannot claim gigabytes.
func DecodeV1(body []byte, tenant string, maxDecoded int) ([]store.Series, error) {
	raw, err := Decompress(body, maxDecoded)
	if err != nil {
		return nil, err
	}
	series, _, err := DecodeV1Known(raw, tenant, nil)
	return series, err
}

// Known tells DecodeV1Known which series' labels it need not decode. It
// is asked once per request, about all of its series together: raws[i]
// is series[i]'s labels as sent (its leading label fields, encoded), nil
// when they were not all leading, and series[i] has the decoded samples
// and histograms but no labels yet. For each series it knows, Known
// sets series[i].Fingerprint and known[i]; a series with nil raws must
// stay unknown, and the fingerprint of one not known is ignored. Since
// the labels decode from those bytes alone, a receiver that validated
// them once may answer for them ever after.
// Asking about a whole request at once lets an implementation overlap
// its lookups' cache misses.
type Known func(raws [][]byte, series []store.Series, known []bool)

// DecodeV1Known decodes a remote write 1.0 body that Decompress
// decompressed, asking known, when not nil, about each series: one it
// knows comes out as a reference (store.Series.IsRef), its fingerprint
// and samples without labels. It also returns each series' labels as
// sent, for Known and DecodeLabels, or nil where they were not all
// leading fields (such a series is never a reference). Labels, raw or
// not, share raw's memory: raw must not change while they live.
func DecodeV1Known(raw []byte, tenant string, known Known) ([]store.Series, [][]byte, error) {
	series, raws, err := decodeWriteRequest(raw, tenant, known)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: protobuf: %v", ErrDecode, err)
	}
	return series, raws, nil
}

// DecodeLabels decodes labels as DecodeV1Known returned them raw.
func DecodeLabels(raw []byte) (labels.Labels, error) {
	var b labels.ScratchBuilder
	if err := addLabels(raw, &b); err != nil {
		return labels.EmptyLabels(), fmt.Errorf("%w: protobuf: %v", ErrDecode, err)
	}
	b.Sort()
	return b.Labels(), nil
}

// Decompress undoes the snappy block compression of a remote write body,
// refusing bodies that claim more than maxDecoded bytes.
func Decompress(body []byte, maxDecoded int) ([]byte, error) {
	return DecompressTo(nil, body, maxDecoded)
}

// DecompressTo is Decompress into dst when it has room, so that a
// receiver can reuse one buffer for many requests.
func DecompressTo(dst, body []byte, maxDecoded int) ([]byte, error) {
	n, err := snappy.DecodedLen(body)
	if err != nil {
		return nil, fmt.Errorf("%w: snappy: %v", ErrDecode, err)
	}
	if n > maxDecoded {
		return nil, fmt.Errorf("%w: decompressed body of %d bytes exceeds the limit of %d", ErrDecode, n, maxDecoded)
	}
	raw, err := snappy.Decode(dst[:cap(dst)], body)
	if err != nil {
		return nil, fmt.Errorf("%w: snappy: %v", ErrDecode, err)
	}
	return raw, nil
}

// EncodeV1 builds a remote write 1.0 body: the inverse of DecodeV1, for
// tests, benchmarks and the host agent.
func EncodeV1(series []store.Series) ([]byte, error) {
	req := prompb.WriteRequest{Timeseries: make([]prompb.TimeSeries, len(series))}
	for i, s := range series {
		ts := &req.Timeseries[i]
		s.Labels.Range(func(l labels.Label) {
			ts.Labels = append(ts.Labels, prompb.Label{Name: l.Name, Value: l.Value})
		})
		for _, smp := range s.Samples {
			ts.Samples = append(ts.Samples, prompb.Sample{Timestamp: smp.T, Value: smp.V})
		}
		for _, h := range s.Histograms {
			if h.H != nil {
				ts.Histograms = append(ts.Histograms, prompb.FromIntHistogram(h.T, h.H))
			} else if h.FH != nil {
				ts.Histograms = append(ts.Histograms, prompb.FromFloatHistogram(h.T, h.FH))
			}
		}
	}
	raw, err := req.Marshal()
	if err != nil {
		return nil, fmt.Errorf("marshal remote write request: %w", err)
	}
	return snappy.Encode(nil, raw), nil
}
