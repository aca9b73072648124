package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/prometheus/prometheus/model/histogram"
)

// HistogramSample is one native histogram of a series at a millisecond
// Unix timestamp: exactly one of H (integer counts) and FH (float counts)
// is set. A stale marker is a histogram whose Sum is value.StaleNaN.
type HistogramSample struct {
	T  int64 // milliseconds since the Unix epoch
	H  *histogram.Histogram
	FH *histogram.FloatHistogram
}

// histogramEncodingV1 is the first byte of every encoded histogram: the
// version of the layout below. A new layout takes a new number, and the
// decoder keeps reading the old ones.
const histogramEncodingV1 byte = 1

// Kinds of an encoded histogram, its second byte.
const (
	histogramKindInt   byte = 0
	histogramKindFloat byte = 1
)

// histogramHintOffset is the offset of the counter reset hint's byte,
// which the writer sets to the hint it stores (histogram_hints.go).
const histogramHintOffset = 2

// errHistogramEncoding is what a malformed encoding wraps.
var errHistogramEncoding = errors.New("malformed histogram encoding")

// appendHistogram appends the encoding of s's histogram to buf, the
// value of the histograms table's histogram column. Layout, version 1:
//
//	version byte (1), kind byte (0 int, 1 float), counter reset hint byte,
//	schema (zigzag varint), zero threshold (float64 bits, little endian),
//	zero count and count (uvarints for int, float64 bits for float),
//	sum (float64 bits),
//	positive then negative spans: a uvarint count, then per span its
//	  offset (zigzag varint) and length (uvarint),
//	positive then negative buckets: a uvarint count, then per bucket a
//	  zigzag varint delta to the previous bucket (int, as Histogram holds
//	  them) or float64 bits (float, absolute counts),
//	custom bounds: a uvarint count, then float64 bits each.
//
// Floats keep their bits, so NaNs (and stale markers) round-trip exactly.
func appendHistogram(buf []byte, s HistogramSample) ([]byte, error) {
	switch {
	case s.H != nil && s.FH == nil:
		h := s.H
		buf = append(buf, histogramEncodingV1, histogramKindInt, byte(h.CounterResetHint))
		buf = appendHistogramHeader(buf, h.Schema, h.ZeroThreshold)
		buf = binary.AppendUvarint(buf, h.ZeroCount)
		buf = binary.AppendUvarint(buf, h.Count)
		buf = appendFloat(buf, h.Sum)
		buf = appendSpans(buf, h.PositiveSpans)
		buf = appendSpans(buf, h.NegativeSpans)
		buf = appendDeltas(buf, h.PositiveBuckets)
		buf = appendDeltas(buf, h.NegativeBuckets)
		return appendFloats(buf, h.CustomValues), nil
	case s.FH != nil && s.H == nil:
		h := s.FH
		buf = append(buf, histogramEncodingV1, histogramKindFloat, byte(h.CounterResetHint))
		buf = appendHistogramHeader(buf, h.Schema, h.ZeroThreshold)
		buf = appendFloat(buf, h.ZeroCount)
		buf = appendFloat(buf, h.Count)
		buf = appendFloat(buf, h.Sum)
		buf = appendSpans(buf, h.PositiveSpans)
		buf = appendSpans(buf, h.NegativeSpans)
		buf = appendFloats(buf, h.PositiveBuckets)
		buf = appendFloats(buf, h.NegativeBuckets)
		return appendFloats(buf, h.CustomValues), nil
	}
	return buf, fmt.Errorf("histogram sample at %d: want exactly one of an integer and a float histogram", s.T)
}

func appendHistogramHeader(buf []byte, schema int32, zeroThreshold float64) []byte {
	buf = binary.AppendVarint(buf, int64(schema))
	return appendFloat(buf, zeroThreshold)
}

func appendFloat(buf []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(buf, math.Float64bits(f))
}

func appendSpans(buf []byte, spans []histogram.Span) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(spans)))
	for _, s := range spans {
		buf = binary.AppendVarint(buf, int64(s.Offset))
		buf = binary.AppendUvarint(buf, uint64(s.Length))
	}
	return buf
}

func appendDeltas(buf []byte, deltas []int64) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(deltas)))
	for _, d := range deltas {
		buf = binary.AppendVarint(buf, d)
	}
	return buf
}

func appendFloats(buf []byte, fs []float64) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(fs)))
	for _, f := range fs {
		buf = appendFloat(buf, f)
	}
	return buf
}

// decodeHistogram is the inverse of appendHistogram: it sets s.H or s.FH
// from data, leaving s.T alone. Empty span, bucket and custom value lists
// decode as nil.
func decodeHistogram(data []byte, s *HistogramSample) error {
	d := histogramDecoder{data: data}
	version, kind, hint := d.byte(), d.byte(), d.byte()
	if d.err == nil && version != histogramEncodingV1 {
		return fmt.Errorf("%w: unknown version %d", errHistogramEncoding, version)
	}
	if hint > byte(histogram.GaugeType) {
		d.fail("counter reset hint %d", hint)
	}
	schema, zeroThreshold := d.varint32(), d.float()
	switch kind {
	case histogramKindInt:
		h := &histogram.Histogram{CounterResetHint: histogram.CounterResetHint(hint), Schema: schema, ZeroThreshold: zeroThreshold}
		h.ZeroCount, h.Count, h.Sum = d.uvarint(), d.uvarint(), d.float()
		h.PositiveSpans, h.NegativeSpans = d.spans(), d.spans()
		h.PositiveBuckets, h.NegativeBuckets = d.deltas(), d.deltas()
		h.CustomValues = d.floats()
		s.H, s.FH = h, nil
	case histogramKindFloat:
		h := &histogram.FloatHistogram{CounterResetHint: histogram.CounterResetHint(hint), Schema: schema, ZeroThreshold: zeroThreshold}
		h.ZeroCount, h.Count, h.Sum = d.float(), d.float(), d.float()
		h.PositiveSpans, h.NegativeSpans = d.spans(), d.spans()
		h.PositiveBuckets, h.NegativeBuckets = d.floats(), d.floats()
		h.CustomValues = d.floats()
		s.H, s.FH = nil, h
	default:
		d.fail("kind %d", kind)
	}
	if d.err == nil && len(d.data) > 0 {
		d.fail("%d trailing bytes", len(d.data))
	}
	return d.err
}

// histogramDecoder reads an encoding front to back; after the first
// error every read returns zero and err keeps that error.
type histogramDecoder struct {
	data []byte
	err  error
}

func (d *histogramDecoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format, append([]any{errHistogramEncoding}, args...)...)
	}
	d.data = nil
}

func (d *histogramDecoder) byte() byte {
	if len(d.data) < 1 {
		d.fail("truncated")
		return 0
	}
	b := d.data[0]
	d.data = d.data[1:]
	return b
}

func (d *histogramDecoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.data)
	if n <= 0 {
		d.fail("bad uvarint")
		return 0
	}
	d.data = d.data[n:]
	return v
}

func (d *histogramDecoder) varint() int64 {
	v, n := binary.Varint(d.data)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.data = d.data[n:]
	return v
}

func (d *histogramDecoder) varint32() int32 {
	v := d.varint()
	if v < math.MinInt32 || v > math.MaxInt32 {
		d.fail("int32 out of range: %d", v)
		return 0
	}
	return int32(v)
}

func (d *histogramDecoder) float() float64 {
	if len(d.data) < 8 {
		d.fail("truncated")
		return 0
	}
	f := math.Float64frombits(binary.LittleEndian.Uint64(d.data))
	d.data = d.data[8:]
	return f
}

// count reads a list length and checks that the rest of the data can
// hold that many items of at least minSize bytes each, so a corrupt
// length cannot make the decoder allocate much.
func (d *histogramDecoder) count(minSize int) int {
	n := d.uvarint()
	if n > uint64(len(d.data)/minSize) {
		d.fail("list of %d items in %d bytes", n, len(d.data))
		return 0
	}
	return int(n)
}

func (d *histogramDecoder) spans() []histogram.Span {
	n := d.count(2)
	if n == 0 {
		return nil
	}
	out := make([]histogram.Span, n)
	for i := range out {
		out[i].Offset = d.varint32()
		l := d.uvarint()
		if l > math.MaxUint32 {
			d.fail("span length %d", l)
		}
		out[i].Length = uint32(l)
	}
	return out
}

func (d *histogramDecoder) deltas() []int64 {
	n := d.count(1)
	if n == 0 {
		return nil
	}
	out := make([]int64, n)
	for i := range out {
		out[i] = d.varint()
	}
	return out
}

func (d *histogramDecoder) floats() []float64 {
	n := d.count(8)
	if n == 0 {
		return nil
	}
	out := make([]float64, n)
	for i := range out {
		out[i] = d.float()
	}
	return out
}
