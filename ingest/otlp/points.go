package otlp

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/cairn-dev/cairn/store"
)

// numbers converts gauge and sum points: one series each.
func (c *converter) numbers(m pmetric.Metric, dps pmetric.NumberDataPointSlice, k kind) {
	name, ok := c.name(m, k, dps.Len())
	if !ok {
		return
	}
	for i := range dps.Len() {
		dp := dps.At(i)
		t, ok := c.point(m, dp.Attributes(), dp.Timestamp())
		if !ok {
			continue
		}
		v := dp.DoubleValue()
		if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
			v = float64(dp.IntValue())
		}
		c.emit(name, "", "", t, valueOf(v, dp.Flags()))
	}
}

// histograms converts explicit-bucket histogram points into classic
// Prometheus histograms: cumulative _bucket series with an le label
// (le="+Inf" holds the count), _sum when the point has a sum, and _count.
func (c *converter) histograms(m pmetric.Metric, dps pmetric.HistogramDataPointSlice) {
	name, ok := c.name(m, kindHistogram, dps.Len())
	if !ok {
		return
	}
	sum, count, bucket := name+"_sum", name+"_count", name+"_bucket"
	for i := range dps.Len() {
		dp := dps.At(i)
		t, ok := c.point(m, dp.Attributes(), dp.Timestamp())
		if !ok {
			continue
		}
		f := dp.Flags()
		if dp.HasSum() {
			c.emit(sum, "", "", t, valueOf(dp.Sum(), f))
		}
		c.emit(count, "", "", t, valueOf(float64(dp.Count()), f))
		bounds, counts := dp.ExplicitBounds(), dp.BucketCounts()
		var cumulative uint64
		for j := 0; j < bounds.Len() && j < counts.Len(); j++ {
			cumulative += counts.At(j)
			c.emit(bucket, "le", strconv.FormatFloat(bounds.At(j), 'f', -1, 64), t, valueOf(float64(cumulative), f))
		}
		c.emit(bucket, "le", "+Inf", t, valueOf(float64(dp.Count()), f))
	}
}

// summaries converts summary points: a series per quantile with a
// quantile label, then _sum and _count.
func (c *converter) summaries(m pmetric.Metric, dps pmetric.SummaryDataPointSlice) {
	name, ok := c.name(m, kindSummary, dps.Len())
	if !ok {
		return
	}
	sum, count := name+"_sum", name+"_count"
	for i := range dps.Len() {
		dp := dps.At(i)
		t, ok := c.point(m, dp.Attributes(), dp.Timestamp())
		if !ok {
			continue
		}
		f := dp.Flags()
		qs := dp.QuantileValues()
		for j := range qs.Len() {
			q := qs.At(j)
			c.emit(name, "quantile", strconv.FormatFloat(q.Quantile(), 'f', -1, 64), t, valueOf(q.Value(), f))
		}
		c.emit(sum, "", "", t, valueOf(dp.Sum(), f))
		c.emit(count, "", "", t, valueOf(float64(dp.Count()), f))
	}
}

// valueOf is v, or the stale marker for a point flagged as having no
// recorded value.
func valueOf(v float64, f pmetric.DataPointFlags) float64 {
	if f.NoRecordedValue() {
		return math.Float64frombits(value.StaleNaN)
	}
	return v
}

// emit adds a one-sample series: the current point's labels, the metric
// name, and the extra label when named (it replaces an attribute of the
// same name).
func (c *converter) emit(name, extraName, extraValue string, t int64, v float64) {
	c.b.Reset()
	for _, l := range c.base {
		if l.Name != extraName {
			c.b.Add(l.Name, l.Value)
		}
	}
	c.b.Add(labels.MetricName, name)
	if extraName != "" {
		c.b.Add(extraName, extraValue)
	}
	c.b.Sort()
	c.appendSeries(c.b.Labels(), t, v, c.res.Points-1)
}

func (c *converter) appendSeries(ls labels.Labels, t int64, v float64, origin int) {
	if len(c.samples) == 0 {
		c.samples = make([]store.Sample, 256)
	}
	smp := c.samples[:1:1]
	c.samples = c.samples[1:]
	smp[0] = store.Sample{T: t, V: v}
	c.res.Series = append(c.res.Series, store.Series{Tenant: c.tenant, Labels: ls, Samples: smp})
	c.res.Origin = append(c.res.Origin, origin)
}

// labels sets c.base to the labels of attrs, leaving out the keys in
// skip. Keys are sanitized; attributes whose keys collide once sanitized
// are merged, their values joined with ";" in the order of the raw keys,
// as Prometheus does. Empty values are left out, as Prometheus has no
// empty labels. A key that cannot be sanitized is left out too, and the
// first such is returned as the error.
func (c *converter) labels(attrs pcommon.Map, skip []string) error {
	c.kv = c.kv[:0]
	attrs.Range(func(k string, v pcommon.Value) bool {
		if !slices.Contains(skip, k) {
			c.kv = append(c.kv, labels.Label{Name: k, Value: v.AsString()})
		}
		return true
	})
	slices.SortFunc(c.kv, func(a, b labels.Label) int { return strings.Compare(a.Name, b.Name) })
	c.base = c.base[:0]
	var first error
	for _, kv := range c.kv {
		name, err := c.labelName(kv.Name)
		switch {
		case err != nil:
			if first == nil {
				first = err
			}
		case name == labels.MetricName || kv.Value == "":
		case c.find(name) >= 0:
			i := c.find(name)
			c.base[i].Value += ";" + kv.Value
		default:
			c.base = append(c.base, labels.Label{Name: name, Value: kv.Value})
		}
	}
	return first
}

// labelName is labelName, remembered for the request.
func (c *converter) labelName(key string) (string, error) {
	if name, ok := c.names[key]; ok {
		return name, nil
	}
	name, err := labelName(key)
	if err == nil {
		c.names[key] = name
	}
	return name, err
}

func (c *converter) find(name string) int {
	for i := range c.base {
		if c.base[i].Name == name {
			return i
		}
	}
	return -1
}

// setBase sets a label of the current point, replacing one of that name.
func (c *converter) setBase(name, value string) {
	if i := c.find(name); i >= 0 {
		c.base[i].Value = value
		return
	}
	c.base = append(c.base, labels.Label{Name: name, Value: value})
}

// targetInterval spaces the target_info samples of a resource: half of
// PromQL's default lookback, as Prometheus does. maxTargetSamples bounds
// their number for a request spanning a long time; the interval widens.
const (
	targetInterval   = 150_000 // ms
	maxTargetSamples = 100
)

// targetInfo adds the target_info series of a resource that has points
// and job or instance: value 1, its other attributes as labels, a sample
// every targetInterval from its first point and one at its last. Resources with nothing but service attributes get none.
// Samples repeated by several resources in one request are added once.
func (c *converter) targetInfo(attrs pcommon.Map) {
	identifying := []string{attrServiceName, attrServiceNamespace, attrServiceInstance}
	others := attrs.Len()
	for _, k := range identifying {
		if _, ok := attrs.Get(k); ok {
			others--
		}
	}
	if c.minT > c.maxT || c.job == "" && c.instance == "" || others == 0 {
		return
	}
	_ = c.labels(attrs, identifying) // a key that cannot be a label is left out
	if c.job != "" {
		c.setBase("job", c.job)
	}
	if c.instance != "" {
		c.setBase("instance", c.instance)
	}
	c.b.Reset()
	for _, l := range c.base {
		c.b.Add(l.Name, l.Value)
	}
	c.b.Add(labels.MetricName, "target_info")
	c.b.Sort()
	ls := c.b.Labels()
	hash := ls.Hash()
	step := max(int64(targetInterval), (c.maxT-c.minT)/maxTargetSamples+1)
	for t := c.minT; ; t += step {
		t = min(t, c.maxT)
		if _, seen := c.targets[targetKey{hash, t}]; !seen {
			c.targets[targetKey{hash, t}] = struct{}{}
			c.appendSeries(ls, t, 1, -1)
		}
		if t == c.maxT {
			return
		}
	}
}
