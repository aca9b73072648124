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
// own decoder.
//
// It allocates little: label names and values are strings that point
// into raw rather than copies, and the samples of all series share one
// array. raw must therefore never be modified afterwards; DecodeV1 owns
// it, fresh from the snappy decoder, and nothing writes to it.
func decodeWriteRequest(raw []byte, tenant string) ([]store.Series, error) {
	var (
		out     []store.Series
		samples = make([]store.Sample, 0, len(raw)/64)
		b       labels.ScratchBuilder
	)
	err := eachField(raw, func(num protowire.Number, typ protowire.Type, v []byte) error {
		if num != fieldTimeseries || typ != protowire.BytesType {
			return nil
		}
		start := len(samples)
		var (
			err error
			hs  []store.HistogramSample
		)
		samples, hs, err = decodeTimeSeries(v, &b, samples)
		if err != nil {
			return fmt.Errorf("timeseries[%d]: %w", len(out), err)
		}
		b.Sort()
		out = append(out, store.Series{Tenant: tenant, Labels: b.Labels(), Samples: samples[start:len(samples):len(samples)], Histograms: hs})
		return nil
	})
	return out, err
}

// decodeTimeSeries adds the labels of one TimeSeries to b (after a reset),
// appends its samples to samples and returns its native histograms.
func decodeTimeSeries(ts []byte, b *labels.ScratchBuilder, samples []store.Sample) ([]store.Sample, []store.HistogramSample, error) {
	var hs []store.HistogramSample
	b.Reset()
	err := eachField(ts, func(num protowire.Number, typ protowire.Type, v []byte) error {
		switch {
		case num == fieldLabels && typ == protowire.BytesType:
			name, value, err := decodeLabel(v)
			if err != nil {
				return err
			}
			b.Add(name, value)
		case num == fieldSamples && typ == protowire.BytesType:
			s, err := decodeSample(v)
			if err != nil {
				return err
			}
			samples = append(samples, s)
		case num == fieldHistograms && typ == protowire.BytesType:
			var h prompb.Histogram
			if err := h.Unmarshal(v); err != nil {
				return fmt.Errorf("histograms[%d]: %w", len(hs), err)
			}
			s := store.HistogramSample{T: h.Timestamp}
			if h.IsFloatHistogram() {
				s.FH = h.ToFloatHistogram()
			} else {
				s.H = h.ToIntHistogram()
			}
			hs = append(hs, s)
		}
		return nil
	})
	return samples, hs, err
}

func decodeLabel(v []byte) (name, value string, err error) {
	err = eachField(v, func(num protowire.Number, typ protowire.Type, f []byte) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case fieldName:
			name = yoloString(f)
		case fieldValue:
			value = yoloString(f)
		}
		return nil
	})
	return name, value, err
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

// eachField calls f with every field of the message in b; for
// length-delimited fields v is the content, for others it is nil.
func eachField(b []byte, f func(num protowire.Number, typ protowire.Type, v []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return errTruncated
		}
		if typ == protowire.StartGroupType || typ == protowire.EndGroupType {
			return errGroup
		}
		b = b[n:]
		var v []byte
		if typ == protowire.BytesType {
			v, n = protowire.ConsumeBytes(b)
		} else {
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return errTruncated
		}
		b = b[n:]
		if err := f(num, typ, v); err != nil {
			return err
		}
	}
	return nil
}

// yoloString returns a string that shares b's memory: no copy, so b must
// never change while the string lives.
func yoloString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
