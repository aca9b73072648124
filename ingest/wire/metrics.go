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
func AppendMetrics(dst []byte, tenant string, series []store.Series) []byte {
	dst = appendHeader(dst, v2, KindMetrics, tenant)
	dst = binary.AppendUvarint(dst, uint64(len(series)))
	for i := range series {
		s := &series[i]
		dst = binary.LittleEndian.AppendUint64(dst, s.ResolvedFingerprint())
		dst = appendPackedLabels(dst, s.Labels)
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

// MetricsSize estimates the bytes AppendMetrics takes for series, for
// sizing a buffer: exact but for the varints, which it takes at their
// largest usual size.
func MetricsSize(tenant string, series []store.Series) int {
	n := 3 + 2 + len(tenant) + 5
	for i := range series {
		s := &series[i]
		n += 8 + 3 + int(s.Labels.ByteSize()) + 3 + 14*len(s.Samples)
	}
	return n
}

// sampleChunk is how many samples DecodeMetrics allocates at once: series
// share chunks instead of allocating one slice each.
const sampleChunk = 1024

// DecodeMetrics decodes a metrics message of either version and appends
// its series to dst. Each series carries the message's tenant, and its
// fingerprint when the message has it (version 2). Labels share b's
// memory: b must not change while the series live.
func DecodeMetrics(dst []store.Series, b []byte) ([]store.Series, error) {
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
		ns := d.count(9)
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
		dst = append(dst, store.Series{Tenant: tenant, Labels: ls, Samples: samples, Fingerprint: fp})
	}
	return dst, d.end()
}
