package otlp

import (
	"math"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/cairn-dev/cairn/store"
)

// Schemas of Prometheus' exponential native histograms: scale in OTLP
// terms, a bucket's upper bound being 2^(2^-schema × index).
const (
	minSchema = -4
	maxSchema = 8
	// zeroThreshold is the zero bucket's width Prometheus' OTLP receiver
	// gives every native histogram, whatever the point's zero_threshold.
	zeroThreshold = 1e-128
)

// exponentialHistograms converts exponential histogram points to native
// histograms, as Prometheus' OTLP receiver does: one series named as a
// histogram (no _bucket, _sum or _count), the OTLP scale as the schema
// (a scale above 8 has its buckets merged down to schema 8; below -4 the
// point is dropped), OTLP's bucket index i, whose upper bound is
// base^(i+1), as Prometheus' index i+1, and the zero bucket 1e-128 wide
// (as Prometheus does; OTLP's zero_threshold is ignored there too). A point
// without a recorded value is a stale marker.
func (c *converter) exponentialHistograms(m pmetric.Metric, dps pmetric.ExponentialHistogramDataPointSlice) {
	name, ok := c.name(m, kindHistogram, dps.Len())
	if !ok {
		return
	}
	for i := range dps.Len() {
		dp := dps.At(i)
		t, ok := c.point(m, dp.Attributes(), dp.Timestamp())
		if !ok {
			continue
		}
		if dp.Scale() < minSchema {
			c.drop("invalid_scale", 1, "a data point of exponential histogram %q has scale %d, below the lowest Prometheus supports (%d)", truncate(m.Name()), dp.Scale(), minSchema)
			continue
		}
		c.b.Reset()
		for _, l := range c.base {
			c.b.Add(l.Name, l.Value)
		}
		c.b.Add(labels.MetricName, name)
		c.b.Sort()
		h := nativeHistogram(dp)
		c.res.Series = append(c.res.Series, store.Series{Tenant: c.tenant, Labels: c.b.Labels(), Histograms: []store.HistogramSample{{T: t, H: h}}})
		c.res.Origin = append(c.res.Origin, c.res.Points-1)
	}
}

// nativeHistogram is the native histogram of an exponential histogram
// point whose scale is at least minSchema.
func nativeHistogram(dp pmetric.ExponentialHistogramDataPoint) *histogram.Histogram {
	schema, down := dp.Scale(), int32(0)
	if schema > maxSchema {
		schema, down = maxSchema, dp.Scale()-maxSchema
	}
	h := &histogram.Histogram{
		Schema:        schema,
		ZeroThreshold: zeroThreshold,
		ZeroCount:     dp.ZeroCount(),
		Count:         dp.Count(),
		Sum:           dp.Sum(),
	}
	if !dp.HasSum() {
		h.Sum = 0
	}
	h.PositiveSpans, h.PositiveBuckets = bucketLayout(dp.Positive(), down)
	h.NegativeSpans, h.NegativeBuckets = bucketLayout(dp.Negative(), down)
	if dp.Flags().NoRecordedValue() {
		h.Sum = math.Float64frombits(value.StaleNaN)
	}
	return h
}

// bucketLayout turns OTLP buckets (an offset and dense counts) into
// Prometheus' spans and count deltas, leaving empty buckets out and
// merging 2^down neighbours into one when the scale is lowered by down.
func bucketLayout(b pmetric.ExponentialHistogramDataPointBuckets, down int32) ([]histogram.Span, []int64) {
	counts := b.BucketCounts()
	var (
		spans   []histogram.Span
		deltas  []int64
		prevIdx int32 // Prometheus index of the last bucket added
		prevCnt int64
		cur     int64 // count of the bucket being merged
		curIdx  int32
		have    bool
	)
	flush := func() {
		if cur == 0 {
			return
		}
		switch {
		case len(spans) == 0:
			spans = append(spans, histogram.Span{Offset: curIdx, Length: 1})
		case curIdx == prevIdx+1:
			spans[len(spans)-1].Length++
		default:
			spans = append(spans, histogram.Span{Offset: curIdx - prevIdx - 1, Length: 1})
		}
		deltas = append(deltas, cur-prevCnt)
		prevIdx, prevCnt = curIdx, cur
	}
	for i := range counts.Len() {
		idx := (b.Offset()+int32(i))>>down + 1
		if have && idx != curIdx {
			flush()
			cur = 0
		}
		curIdx, have = idx, true
		cur += int64(counts.At(i))
	}
	if have {
		flush()
	}
	return spans, deltas
}
