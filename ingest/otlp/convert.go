package otlp

import (
	"fmt"
	"math"

	"github.com/prometheus/prometheus/model/labels"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/cairn-dev/cairn/store"
)

// Result is what Convert made of one request.
type Result struct {
	// Series holds one series per sample: a data point becomes one
	// (gauge, counter) or several (histogram, summary).
	Series []store.Series
	// Origin holds, for each of Series, the index of the data point it
	// came from, below Points; -1 for target_info.
	Origin []int
	// Points counts the data points of the request, dropped ones included.
	Points int
	// Dropped lists the data points that were not converted, by reason.
	Dropped []Drop
}

// Drop counts data points that were not converted for one reason.
type Drop struct {
	Reason string // a short snake_case label for self-metrics
	Points int
	Msg    string // describes the first such point, naming its metric
}

// The resource attributes that become job and instance.
const (
	attrServiceName      = "service.name"
	attrServiceNamespace = "service.namespace"
	attrServiceInstance  = "service.instance.id"
)

// converter holds the state of one Convert call.
type converter struct {
	tenant  string
	res     *Result
	b       labels.ScratchBuilder
	kv      []labels.Label // a data point's attributes, raw
	base    []labels.Label // a data point's labels, __name__ aside
	names   map[string]string
	samples []store.Sample // carved into one-sample slices

	job, instance string
	minT, maxT    int64 // the current resource's time span, in ms
	targets       map[targetKey]struct{}
}

type targetKey struct {
	hash uint64
	t    int64
}

// Convert maps OTLP metrics to Prometheus series for tenant, the way
// Prometheus' own OTLP receiver does by default; see the package
// documentation for the rules.
func Convert(md pmetric.Metrics, tenant string) *Result {
	c := &converter{
		tenant:  tenant,
		res:     &Result{},
		b:       labels.NewScratchBuilder(16),
		names:   map[string]string{},
		targets: map[targetKey]struct{}{},
	}
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		rm := rms.At(i)
		c.setResource(rm.Resource().Attributes())
		sms := rm.ScopeMetrics()
		for j := range sms.Len() {
			ms := sms.At(j).Metrics()
			for k := range ms.Len() {
				c.metric(ms.At(k))
			}
		}
		c.targetInfo(rm.Resource().Attributes())
	}
	return c.res
}

// setResource reads job and instance from a resource, as Prometheus does:
// job is service.namespace/service.name (or service.name alone), instance
// is service.instance.id.
func (c *converter) setResource(attrs pcommon.Map) {
	c.job, c.instance = "", ""
	if name, ok := attrs.Get(attrServiceName); ok {
		c.job = name.AsString()
		if ns, ok := attrs.Get(attrServiceNamespace); ok && ns.AsString() != "" {
			c.job = ns.AsString() + "/" + c.job
		}
	}
	if inst, ok := attrs.Get(attrServiceInstance); ok {
		c.instance = inst.AsString()
	}
	c.minT, c.maxT = math.MaxInt64, math.MinInt64
}

// metric converts the data points of one metric.
func (c *converter) metric(m pmetric.Metric) {
	c.span(m)
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		c.numbers(m, m.Gauge().DataPoints(), kindGauge)
	case pmetric.MetricTypeSum:
		sum := m.Sum()
		if c.cumulative(m, sum.AggregationTemporality(), sum.DataPoints().Len()) {
			k := kindUpDown
			if sum.IsMonotonic() {
				k = kindCounter
			}
			c.numbers(m, sum.DataPoints(), k)
		}
	case pmetric.MetricTypeHistogram:
		h := m.Histogram()
		if c.cumulative(m, h.AggregationTemporality(), h.DataPoints().Len()) {
			c.histograms(m, h.DataPoints())
		}
	case pmetric.MetricTypeSummary:
		c.summaries(m, m.Summary().DataPoints())
	case pmetric.MetricTypeExponentialHistogram:
		h := m.ExponentialHistogram()
		if c.cumulative(m, h.AggregationTemporality(), h.DataPoints().Len()) {
			c.exponentialHistograms(m, h.DataPoints())
		}
	}
}

// cumulative reports whether points of temporality t can be stored; it
// drops them when not. Like Prometheus by default, Cairn stores
// cumulative series only: a delta cannot be turned into a counter without
// state across requests.
func (c *converter) cumulative(m pmetric.Metric, t pmetric.AggregationTemporality, n int) bool {
	switch t {
	case pmetric.AggregationTemporalityCumulative:
		return true
	case pmetric.AggregationTemporalityDelta:
		c.res.Points += n
		c.drop("delta_temporality", n, "metric %q has delta temporality, which Cairn does not store: %d data points rejected; configure the exporter for cumulative temporality",
			truncate(m.Name()), n)
	default:
		c.res.Points += n
		c.drop("invalid_temporality", n, "metric %q has aggregation temporality %s: %d data points rejected; send cumulative temporality",
			truncate(m.Name()), t, n)
	}
	return false
}

// drop records n data points not converted for reason.
func (c *converter) drop(reason string, n int, format string, args ...any) {
	if n == 0 {
		return
	}
	for i := range c.res.Dropped {
		if c.res.Dropped[i].Reason == reason {
			c.res.Dropped[i].Points += n
			return
		}
	}
	c.res.Dropped = append(c.res.Dropped, Drop{Reason: reason, Points: n, Msg: fmt.Sprintf(format, args...)})
}

// name returns the Prometheus name of m as kind k, or drops its n points.
func (c *converter) name(m pmetric.Metric, k kind, n int) (string, bool) {
	name, err := metricName(m.Name(), m.Unit(), k)
	if err != nil {
		c.res.Points += n
		c.drop("invalid_metric_name", n, "%v: %d data points rejected", err, n)
		return "", false
	}
	return name, true
}

// point starts a data point: it counts it, checks its timestamp and
// builds its labels into c.base. It returns the point's time in
// milliseconds, or false, having dropped the point, when the point cannot
// be stored.
func (c *converter) point(m pmetric.Metric, attrs pcommon.Map, ts pcommon.Timestamp) (int64, bool) {
	c.res.Points++
	if ts == 0 {
		c.drop("missing_timestamp", 1, "a data point of metric %q has no time_unix_nano", truncate(m.Name()))
		return 0, false
	}
	if err := c.labels(attrs, nil); err != nil {
		c.drop("invalid_label_name", 1, "a data point of metric %q: %v", truncate(m.Name()), err)
		return 0, false
	}
	if c.job != "" {
		c.setBase("job", c.job)
	}
	if c.instance != "" {
		c.setBase("instance", c.instance)
	}
	return int64(ts) / 1e6, true
}

// span widens the current resource's time span to m's points, dropped
// ones included, as Prometheus does for target_info. Points without a
// timestamp do not count.
func (c *converter) span(m pmetric.Metric) {
	widen := func(ts pcommon.Timestamp) {
		if ts != 0 {
			t := int64(ts) / 1e6
			c.minT, c.maxT = min(c.minT, t), max(c.maxT, t)
		}
	}
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		for i := range m.Gauge().DataPoints().Len() {
			widen(m.Gauge().DataPoints().At(i).Timestamp())
		}
	case pmetric.MetricTypeSum:
		for i := range m.Sum().DataPoints().Len() {
			widen(m.Sum().DataPoints().At(i).Timestamp())
		}
	case pmetric.MetricTypeHistogram:
		for i := range m.Histogram().DataPoints().Len() {
			widen(m.Histogram().DataPoints().At(i).Timestamp())
		}
	case pmetric.MetricTypeSummary:
		for i := range m.Summary().DataPoints().Len() {
			widen(m.Summary().DataPoints().At(i).Timestamp())
		}
	case pmetric.MetricTypeExponentialHistogram:
		for i := range m.ExponentialHistogram().DataPoints().Len() {
			widen(m.ExponentialHistogram().DataPoints().At(i).Timestamp())
		}
	}
}
