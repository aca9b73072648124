package wire

import (
	"encoding/binary"
	"math"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/cairn-dev/cairn/store"
)

// AppendMetrics appends a metrics message holding series, all of which
// belong to tenant, to dst and returns the extended slice.
func AppendMetrics(dst []byte, tenant string, series []store.Series) []byte {
	dst = appendHeader(dst, KindMetrics, tenant)
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

// DecodeMetrics decodes a metrics message and appends its series to dst.
// Each series carries the message's tenant. Labels share b's memory: b
// must not change while the series live.
func DecodeMetrics(dst []store.Series, b []byte) ([]store.Series, error) {
	d, tenant, err := body(b, KindMetrics)
	if err != nil {
		return dst, err
	}
	n := d.count(2) // a series takes at least two bytes
	var lb labels.ScratchBuilder
	for i := 0; i < n && d.err == nil; i++ {
		ls := d.labels(&lb)
		ns := d.count(9)
		samples := make([]store.Sample, 0, ns)
		var t int64
		for j := 0; j < ns && d.err == nil; j++ {
			t += d.varint()
			samples = append(samples, store.Sample{T: t, V: math.Float64frombits(d.uint64())})
		}
		dst = append(dst, store.Series{Tenant: tenant, Labels: ls, Samples: samples})
	}
	return dst, d.end()
}
