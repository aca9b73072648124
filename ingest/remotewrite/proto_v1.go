package remotewrite

import (
	"errors"
	"fmt"
	"math"
	"unsafe"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/cairn-dev/cairn/store"
)

// Field numbers of prometheus.WriteRequest and the messages in it.
const (
	fieldTimeseries = 1 // WriteRequest.timeseries
	fieldLabels     = 1 // TimeSeries.labels
	fieldSamples    = 2 // TimeSeries.samples
	fieldHistograms = 4 // TimeSeries.histograms
	fieldName       = 1 // Label.name
	fieldValue      = 2 // Label.value
	fieldSampleVal  = 1 // Sample.value
	fieldSampleTS   = 2 // Sample.timestamp
)

var (
	errTruncated = errors.New("truncated or malformed field")
	// errGroup: proto2 groups are long deprecated and no client sends
	// them; protobuf-go's parser, unlike gogo's, insists on well-formed
	// ones, and Cairn refuses them outright.
	errGroup = errors.New("deprecated group fields are not supported")
)

// decodeWriteRequest decodes a prometheus.WriteRequest straight into
// series, skipping fields Cairn does not store (exemplars, metadata).
// Native histograms, rare next to float samples, go through prompb's
// own decoder. A series known (when known is not nil) comes out as a
// reference, its labels left undecoded; raws holds each series' leading
// label fields (nil when labels came after other fields).
//
// It decodes in three passes: every series' samples, then the known
// series (all of them at once), then the labels of the others.
//
// It allocates little: label names and values are strings that point
// into raw rather than copies, and the samples of all series share one
// array. raw must therefore never be modified afterwards; DecodeV1 owns
// it, fresh from the snappy decoder, and nothing writes to it.
func decodeWriteRequest(raw []byte, tenant string, known Known) (out []store.Series, raws [][]byte, err error) {
	n, err := countSeries(raw)
	if err != nil {
		return nil, nil, err
	}
	var (
		samples = make([]store.Sample, 0, n)
		// late holds the messages of series whose labels are not all
		// leading, by index, made for the first such series; the
		// others' labels decode from raws.
		late [][]byte
	)
	out, raws = make([]store.Series, 0, n), make([][]byte, 0, n)
	for rest := raw; len(rest) > 0; {
		num, typ, v, next, err := nextField(rest)
		if err != nil {
			return nil, nil, err
		}
		rest = next
		if num != fieldTimeseries || typ != protowire.BytesType {
			continue
		}
		start := len(samples)
		var ts timeSeries
		samples, err = ts.decode(v, samples)
		if err != nil {
			return nil, nil, fmt.Errorf("timeseries[%d]: %w", len(out), err)
		}
		out = append(out, store.Series{Tenant: tenant, Samples: samples[start:len(samples):len(samples)], Histograms: ts.histograms})
		if ts.rawLabels == nil {
			if late == nil {
				late = make([][]byte, n)
			}
			late[len(out)-1] = v
		}
		raws = append(raws, ts.rawLabels)
	}
	isKnown := make([]bool, len(out))
	if known != nil {
		known(raws, out, isKnown)
	}
	var b labels.ScratchBuilder
	for i := range out {
		if isKnown[i] && raws[i] != nil {
			continue
		}
		out[i].Fingerprint = 0
		msg := raws[i]
		if msg == nil {
			msg = late[i]
		}
		b.Reset()
		if err := addLabels(msg, &b); err != nil {
			return nil, nil, fmt.Errorf("timeseries[%d]: %w", i, err)
		}
		b.Sort()
		out[i].Labels = b.Labels()
	}
	return out, raws, nil
}

// countSeries counts the TimeSeries of a WriteRequest, so that the
// slices of their series are allocated once, at their size.
func countSeries(raw []byte) (int, error) {
	n := 0
	for rest := raw; len(rest) > 0; {
		num, typ, _, next, err := nextField(rest)
		if err != nil {
			return 0, err
		}
		rest = next
		if num == fieldTimeseries && typ == protowire.BytesType {
			n++
		}
	}
	return n, nil
}

// timeSeries is one prometheus.TimeSeries, its labels not yet decoded.
type timeSeries struct {
	rawLabels  []byte // its leading label fields; nil when labels came later too
	histograms []store.HistogramSample
}

// decode splits ts into its leading label fields and the rest, appending
// its samples to samples and keeping its native histograms.
func (t *timeSeries) decode(ts []byte, samples []store.Sample) ([]store.Sample, error) {
	leading, other := len(ts), false
	for rest := ts; len(rest) > 0; {
		num, typ, v, next, err := nextField(rest)
		if err != nil {
			return samples, err
		}
		isLabel := num == fieldLabels && typ == protowire.BytesType
		switch {
		case isLabel && other:
			leading = -1 // labels after other fields: no raw labels
		case !isLabel && !other:
			other = true
			if leading >= 0 {
				leading = len(ts) - len(rest)
			}
		}
		rest = next
		if typ != protowire.BytesType {
			continue
		}
		switch num {
		case fieldSamples:
			s, err := decodeSample(v)
			if err != nil {
				return samples, err
			}
			samples = append(samples, s)
		case fieldHistograms:
			var h prompb.Histogram
			if err := h.Unmarshal(v); err != nil {
				return samples, fmt.Errorf("histograms[%d]: %w", len(t.histograms), err)
			}
			s := store.HistogramSample{T: h.Timestamp}
			if h.IsFloatHistogram() {
				s.FH = h.ToFloatHistogram()
			} else {
				s.H = h.ToIntHistogram()
			}
			t.histograms = append(t.histograms, s)
		}
	}
	if leading >= 0 {
		t.rawLabels = ts[:leading]
	}
	return samples, nil
}

// addLabels adds the labels among the fields of ts to b.
func addLabels(ts []byte, b *labels.ScratchBuilder) error {
	for len(ts) > 0 {
		num, typ, v, next, err := nextField(ts)
		if err != nil {
			return err
		}
		ts = next
		if num != fieldLabels || typ != protowire.BytesType {
			continue
		}
		name, value, err := decodeLabel(v)
		if err != nil {
			return err
		}
		b.Add(name, value)
	}
	return nil
}

func decodeLabel(v []byte) (name, value string, err error) {
	for len(v) > 0 {
		num, typ, f, next, err := nextField(v)
		if err != nil {
			return name, value, err
		}
		v = next
		if typ != protowire.BytesType {
			continue
		}
		switch num {
		case fieldName:
			name = yoloString(f)
		case fieldValue:
			value = yoloString(f)
		}
	}
	return name, value, nil
}

func decodeSample(v []byte) (store.Sample, error) {
	var s store.Sample
	for len(v) > 0 {
		num, typ, n := protowire.ConsumeTag(v)
		if n < 0 {
			return s, errTruncated
		}
		if typ == protowire.StartGroupType || typ == protowire.EndGroupType {
			return s, errGroup
		}
		v = v[n:]
		switch {
		case num == fieldSampleVal && typ == protowire.Fixed64Type:
			bits, n := protowire.ConsumeFixed64(v)
			if n < 0 {
				return s, errTruncated
			}
			s.V, v = math.Float64frombits(bits), v[n:]
		case num == fieldSampleTS && typ == protowire.VarintType:
			ts, n := protowire.ConsumeVarint(v)
			if n < 0 {
				return s, errTruncated
			}
			s.T, v = int64(ts), v[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, v)
			if n < 0 {
				return s, errTruncated
			}
			v = v[n:]
		}
	}
	return s, nil
}

// nextField splits the first field off the message in b: its number and
// wire type, for a length-delimited field its content (v), and the bytes
// after it. Tags and lengths below 128, nearly all of them in remote
// write, take a fast path; the rest go through protowire.
func nextField(b []byte) (num protowire.Number, typ protowire.Type, v, rest []byte, err error) {
	if len(b) > 0 && b[0] < 0x80 {
		num, typ, b = protowire.Number(b[0]>>3), protowire.Type(b[0]&7), b[1:]
		if num < protowire.MinValidNumber {
			return 0, 0, nil, nil, errTruncated
		}
	} else {
		var n int
		num, typ, n = protowire.ConsumeTag(b)
		if n < 0 {
			return 0, 0, nil, nil, errTruncated
		}
		b = b[n:]
	}
	switch typ {
	case protowire.BytesType:
		if len(b) > 0 && b[0] < 0x80 {
			l := int(b[0])
			if l > len(b)-1 {
				return 0, 0, nil, nil, errTruncated
			}
			return num, typ, b[1 : 1+l], b[1+l:], nil
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return 0, 0, nil, nil, errTruncated
		}
		return num, typ, v, b[n:], nil
	case protowire.StartGroupType, protowire.EndGroupType:
		return 0, 0, nil, nil, errGroup
	}
	n := protowire.ConsumeFieldValue(num, typ, b)
	if n < 0 {
		return 0, 0, nil, nil, errTruncated
	}
	return num, typ, nil, b[n:], nil
}

// yoloString returns a string that shares b's memory: no copy, so b must
// never change while the string lives.
func yoloString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
