package query

import (
	"strconv"

	"github.com/prometheus/prometheus/model/histogram"
)

// appendHPoint appends [<t>,{<histogram>}], as Prometheus'
// marshalHPointJSON.
func appendHPoint(buf []byte, t int64, h *histogram.FloatHistogram) []byte {
	buf = append(buf, '[')
	buf = appendTimestamp(buf, t)
	buf = append(buf, ',')
	buf = appendHistogramJSON(buf, h)
	return append(buf, ']')
}

// appendHistogramJSON appends a native histogram as Prometheus'
// jsonutil.MarshalHistogram writes it:
// {"count":"<n>","sum":"<s>","buckets":[[<boundaries>,"<lower>","<upper>","<count>"],…]},
// buckets of count 0 left out, and "buckets" too when none is left.
// boundaries is 0 for (lower, upper], 1 for [lower, upper), 2 for
// (lower, upper) and 3 for [lower, upper].
func appendHistogramJSON(buf []byte, h *histogram.FloatHistogram) []byte {
	buf = append(buf, `{"count":"`...)
	buf = appendFloat(buf, h.Count)
	buf = append(buf, `","sum":"`...)
	buf = appendFloat(buf, h.Sum)
	buf = append(buf, '"')
	found := false
	it := h.AllBucketIterator()
	for it.Next() {
		b := it.At()
		if b.Count == 0 {
			continue
		}
		if found {
			buf = append(buf, ',')
		} else {
			buf = append(buf, `,"buckets":[`...)
			found = true
		}
		boundaries := 2
		switch {
		case b.LowerInclusive && b.UpperInclusive:
			boundaries = 3
		case b.LowerInclusive:
			boundaries = 1
		case b.UpperInclusive:
			boundaries = 0
		}
		buf = append(buf, '[')
		buf = strconv.AppendInt(buf, int64(boundaries), 10)
		for _, f := range [3]float64{b.Lower, b.Upper, b.Count} {
			buf = append(buf, ',', '"')
			buf = appendFloat(buf, f)
			buf = append(buf, '"')
		}
		buf = append(buf, ']')
	}
	if found {
		buf = append(buf, ']')
	}
	return append(buf, '}')
}
