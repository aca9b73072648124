package wire

import (
	"encoding/binary"
	"math"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/cairn-dev/cairn/store"
)

// AppendMetrics appends a metrics message (version 2) holding series, all
// of which belong to tenant, to dst and returns the extended slice. A
// series' fingerprint travels with it: s.Fingerprint when set, else one
// computed here, so the writer need not hash the labels again.
//
// Series with native histograms make it a version 3 message, which holds
// each histogram in the store's encoding (store.AppendHistogram). A
// histogram sample must hold exactly one of H and FH, as admission
// ensures; one that does not is left out.
//
// A series with no labels and a fingerprint is a reference
// (store.Series.IsRef): it travels as its fingerprint and a zero label
// length, and makes the message version 4. Only writers of this release
// and later read version 4; messages without references keep the older
// versions.
func AppendMetrics(dst []byte, tenant string, series []store.Series) []byte {
	version := byte(v2)
	for i := range series {
		switch {
		case series[i].IsRef():
			version = v4
		case len(series[i].Histograms) > 0:
			version = max(version, v3)
		}
	}
	dst = appendHeader(dst, version, KindMetrics, tenant)
	dst = binary.AppendUvarint(dst, uint64(len(series)))
	for i := range series {
		s := &series[i]
		dst = binary.LittleEndian.AppendUint64(dst, s.ResolvedFingerprint())
		if s.IsRef() {
			dst = append(dst, 0)
		} else {
			dst = appendPackedLabels(dst, s.Labels)
		}
		dst = binary.AppendUvarint(dst, uint64(len(s.Samples)))
		var prev int64
		for _, smp := range s.Samples {
			dst = binary.AppendVarint(dst, smp.T-prev)
			prev = smp.T
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(smp.V))
		}
		if version >= v3 {
			dst = appendHistograms(dst, s.Histograms)
		}
	}
	return dst
}

// appendHistograms appends a count, then per histogram its timestamp as
// a varint delta to the previous one and its encoding, length first.
func appendHistograms(dst []byte, hs []store.HistogramSample) []byte {
	n := 0
	for _, h := range hs {
		if (h.H == nil) != (h.FH == nil) {
			n++
		}
	}
	dst = binary.AppendUvarint(dst, uint64(n))
	var prev int64
	for _, h := range hs {
		if (h.H == nil) == (h.FH == nil) {
			continue
		}
		dst = binary.AppendVarint(dst, h.T-prev)
		prev = h.T
		// The length takes one byte up to 127 bytes, two up to 16 KiB:
		// reserve one, and move the encoding when it needs more.
		at := len(dst)
		dst = append(dst, 0)
		dst, _ = store.AppendHistogram(dst, h) // fails only without exactly one of H and FH
		size := len(dst) - at - 1
		if size < 0x80 {
			dst[at] = byte(size)
			continue
		}
		enc := append([]byte(nil), dst[at+1:]...)
		dst = append(binary.AppendUvarint(dst[:at], uint64(size)), enc...)
	}
	return dst
}

// histograms decodes what appendHistograms appended.
func (d *decoder) histograms() []store.HistogramSample {
	n := d.count(2)
	if n == 0 {
		return nil
	}
	out := make([]store.HistogramSample, 0, n)
	var t int64
	for i := 0; i < n && d.err == nil; i++ {
		t += d.varint()
		enc := d.view()
		if d.err != nil {
			break
		}
		h := store.HistogramSample{T: t}
		if err := store.DecodeHistogram([]byte(enc), &h); err != nil {
			d.fail("histogram %d: %v", i, err)
			break
		}
		// Receivers store only valid histograms; one that decodes but is
		// not (spans that do not match its buckets) would trip the query
		// engine, so the message is refused whole.
		if err := h.Validate(); err != nil {
			d.fail("histogram %d: %v", i, err)
			break
		}
		out = append(out, h)
	}
	return out
}

// MetricsSize estimates the bytes AppendMetrics takes for series, for
// sizing a buffer: exact but for the varints, which it takes at their
// largest usual size.
func MetricsSize(tenant string, series []store.Series) int {
	n := 3 + 2 + len(tenant) + 5
	for i := range series {
		s := &series[i]
		n += 8 + 3 + int(s.Labels.ByteSize()) + 3 + 14*len(s.Samples)
		for _, h := range s.Histograms {
			n += 16 + histogramSize(h)
		}
	}
	return n
}

// sampleChunk is how many samples DecodeMetrics allocates at once: series
// share chunks instead of allocating one slice each.
const sampleChunk = 1024

// DecodeMetrics decodes a metrics message of any version and appends its
// series to dst. Each series carries the message's tenant, and its
// fingerprint when the message has it (version 2 on). A reference
// (version 4) comes out as a series with its fingerprint and no labels
// (store.Series.IsRef). Labels share b's memory: b must not change while
// the series live.
func DecodeMetrics(dst []store.Series, b []byte) ([]store.Series, error) {
	return decodeMetrics(dst, nil, b)
}

// DecodeMetricsTo decodes a metrics message of any version into m, as
// DecodeMetrics does, except that the samples of a reference with no
// histograms go to m.Refs, in columns, instead of a series each: how a
// writer keeps a batch. A message that does not decode leaves m as it
// was.
func DecodeMetricsTo(m *store.Metrics, b []byte) error {
	n, nrefs := len(m.Series), m.Refs.Len()
	var err error
	if m.Series, err = decodeMetrics(m.Series, &m.Refs, b); err != nil {
		clear(m.Series[n:])
		m.Series = m.Series[:n]
		m.Refs.Truncate(nrefs)
	}
	return err
}

// decodeMetrics is DecodeMetrics, with the samples of plain references
// into refs when it is not nil.
func decodeMetrics(dst []store.Series, refs *store.SampleRefs, b []byte) ([]store.Series, error) {
	d, tenant, err := body(b, KindMetrics)
	if err != nil {
		return dst, err
	}
	n := d.count(2) // a series takes at least two bytes
	var lb labels.ScratchBuilder
	var chunk []store.Sample
	for i := 0; i < n && d.err == nil; i++ {
		var fp uint64
		var ls labels.Labels
		if d.version == v1 {
			ls = d.labels(&lb)
		} else {
			fp = d.uint64()
			ls = d.packedLabels(&lb)
		}
		switch {
		case !ls.IsEmpty() || d.err != nil:
		case d.version < v4:
			d.fail("series %d has no labels", i)
		case fp == 0:
			d.fail("series %d is a reference without a fingerprint", i)
		}
		ns := d.count(9)
		if refs != nil && ls.IsEmpty() && d.err == nil {
			// A reference (version 4): its samples go to refs, unless
			// histograms follow them, which only a series carries.
			at := refs.Len()
			var t int64
			for j := 0; j < ns && d.err == nil; j++ {
				t += d.varint()
				refs.Add(tenant, fp, t, math.Float64frombits(d.uint64()))
			}
			hs := d.histograms()
			if len(hs) == 0 {
				continue
			}
			samples := make([]store.Sample, refs.Len()-at)
			for j := range samples {
				samples[j] = store.Sample{T: refs.T[at+j], V: refs.V[at+j]}
			}
			refs.Truncate(at)
			dst = append(dst, store.Series{Tenant: tenant, Samples: samples, Histograms: hs, Fingerprint: fp})
			continue
		}
		if ns > cap(chunk)-len(chunk) {
			chunk = make([]store.Sample, 0, max(ns, sampleChunk))
		}
		start := len(chunk)
		var t int64
		for j := 0; j < ns && d.err == nil; j++ {
			t += d.varint()
			chunk = append(chunk, store.Sample{T: t, V: math.Float64frombits(d.uint64())})
		}
		samples := chunk[start:len(chunk):len(chunk)]
		var hs []store.HistogramSample
		if d.version >= v3 {
			hs = d.histograms()
		}
		dst = append(dst, store.Series{Tenant: tenant, Labels: ls, Samples: samples, Histograms: hs, Fingerprint: fp})
	}
	return dst, d.end()
}

// histogramSize estimates the bytes of h's encoding.
func histogramSize(h store.HistogramSample) int {
	if h.H != nil {
		return 48 + 4*(len(h.H.PositiveSpans)+len(h.H.NegativeSpans)) + 3*(len(h.H.PositiveBuckets)+len(h.H.NegativeBuckets)) + 8*len(h.H.CustomValues)
	}
	if h.FH != nil {
		return 48 + 4*(len(h.FH.PositiveSpans)+len(h.FH.NegativeSpans)) + 8*(len(h.FH.PositiveBuckets)+len(h.FH.NegativeBuckets)+len(h.FH.CustomValues))
	}
	return 8
}
