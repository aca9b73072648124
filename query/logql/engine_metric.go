package logql

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	promparser "github.com/prometheus/prometheus/promql/parser"

	"github.com/cairn-dev/cairn/store"
)

// metricQuery evaluates a metric query at every step and joins the
// vectors into a matrix, or returns the one vector of an instant query.
func (e *Engine) metricQuery(ctx context.Context, expr SampleExpr, p Params) (*Result, error) {
	st := steps{start: p.Start, end: p.End, step: int64(p.Step)}
	res := &Result{}
	ev, err := e.evaluator(ctx, expr, p.Tenant, st, &res.Stats)
	if err != nil {
		return nil, err
	}
	if st.step == 0 {
		vec, err := ev.next(0)
		if err != nil {
			return nil, err
		}
		if isScalar(expr) {
			res.Value = promql.Scalar{T: vec[0].T, V: vec[0].F}
			return res, nil
		}
		if err := e.checkSeries(len(vec)); err != nil {
			return nil, err
		}
		slices.SortFunc(vec, func(a, b promql.Sample) int { return labels.Compare(a.Metric, b.Metric) })
		res.Value = vec
		return res, nil
	}
	m, err := e.join(ev, st)
	res.Value = m
	return res, err
}

// join evaluates every step and gathers the samples into series.
func (e *Engine) join(ev stepEvaluator, st steps) (promparser.Value, error) {
	byHash := map[uint64]int{}
	var m promql.Matrix
	for i := range st.count() {
		vec, err := ev.next(i)
		if err != nil {
			return nil, err
		}
		for _, s := range vec {
			h := s.Metric.Hash()
			j, ok := byHash[h]
			if !ok {
				j = len(m)
				byHash[h] = j
				m = append(m, promql.Series{Metric: s.Metric})
				if err := e.checkSeries(len(m)); err != nil {
					return nil, err
				}
			}
			m[j].Floats = append(m[j].Floats, promql.FPoint{T: s.T, F: s.F})
		}
	}
	slices.SortFunc(m, func(a, b promql.Series) int { return labels.Compare(a.Metric, b.Metric) })
	return m, nil
}

func (e *Engine) checkSeries(n int) error {
	if max := e.limits.MaxSeries; max > 0 && n > max {
		return &LimitError{Msg: fmt.Sprintf("maximum of series (%d) reached for a single query (-loki.max-series)", max)}
	}
	return nil
}

// evaluator builds the step evaluator of expr, reading its samples.
func (e *Engine) evaluator(ctx context.Context, expr SampleExpr, tenant string, st steps, stats *Stats) (stepEvaluator, error) {
	switch expr := expr.(type) {
	case *VectorAggExpr:
		inner, err := e.evaluator(ctx, expr.Inner, tenant, st, stats)
		if err != nil {
			return nil, err
		}
		return &vectorEvaluator{expr: expr, inner: inner}, nil
	case *RangeAggExpr:
		set, err := e.samples(ctx, expr, tenant, st, stats)
		if err != nil {
			return nil, err
		}
		return newRangeEvaluator(expr, set, st), nil
	case *LiteralExpr:
		return &scalarEvaluator{value: expr.Value, steps: st}, nil
	case *VectorExpr:
		return &vectorLiteralEvaluator{value: expr.Value, steps: st}, nil
	case *BinaryExpr:
		lhs, err := e.evaluator(ctx, expr.LHS, tenant, st, stats)
		if err != nil {
			return nil, err
		}
		rhs, err := e.evaluator(ctx, expr.RHS, tenant, st, stats)
		if err != nil {
			return nil, err
		}
		return newBinaryEvaluator(expr, lhs, rhs), nil
	}
	return nil, fmt.Errorf("unsupported expression %T", expr)
}

// samples reads the samples a range aggregation needs: the lines in
// (first step - offset - range, last step - offset].
func (e *Engine) samples(ctx context.Context, expr *RangeAggExpr, tenant string, st steps, stats *Stats) (*seriesSet, error) {
	plan := planLog(expr.Log)
	q := store.LogQuery{
		Tenant: tenant, Matchers: plan.matchers, LineFilters: plan.pushed,
		Start: st.start - int64(expr.Offset) - int64(expr.Range) + 1, End: st.last() - int64(expr.Offset),
		Direction: store.Forward,
	}
	if countable(expr, plan) {
		return e.countSamples(ctx, expr, plan, q, st, stats)
	}
	set := newSeriesSet()
	x := newExtractor(expr, plan.rest)
	err := e.scan(ctx, q, stats, func(en store.LogEntry) bool {
		if ls, v, ok := x.extract(en); ok {
			set.add(ls, en.T, v)
			stats.LinesKept++
		}
		return true
	})
	return set, err
}

// countSamples has ClickHouse count lines or bytes per stream in buckets
// that tile every window: buckets as long as the greatest common divisor
// of range and step, the last ending where the last window ends. Each
// bucket becomes one sample at its end, which the range functions sum.
func (e *Engine) countSamples(ctx context.Context, expr *RangeAggExpr, plan logPlan, q store.LogQuery, st steps, stats *Stats) (*seriesSet, error) {
	bucket := int64(expr.Range)
	if st.step > 0 {
		bucket = gcd(bucket, st.step)
	}
	counts, err := e.reader.CountLogs(ctx, q, bucket)
	if err != nil {
		return nil, err
	}
	bytes := expr.Op == "bytes_over_time" || expr.Op == "bytes_rate"
	relabel := NewPipeline(plan.rest) // drop and keep only
	set := newSeriesSet()
	for _, c := range counts {
		relabel.Process(0, "", c.Stream.Labels, labels.EmptyLabels())
		s := set.get(relabel.Labels())
		for _, pt := range c.Points {
			v := float64(pt.Count)
			if bytes {
				v = float64(pt.Bytes)
			}
			s.points = append(s.points, point{t: pt.T, v: v})
			stats.LinesScanned += int64(pt.Count)
			stats.BytesScanned += int64(pt.Bytes)
		}
	}
	for _, s := range set.all { // streams merged by drop are out of order
		slices.SortStableFunc(s.points, func(a, b point) int { return cmp.Compare(a.t, b.t) })
	}
	return set, nil
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// extractor turns a line into a sample of a range aggregation.
type extractor struct {
	expr     *RangeAggExpr
	pipeline *Pipeline
	builder  *labels.Builder
}

func newExtractor(expr *RangeAggExpr, stages []Stage) *extractor {
	return &extractor{expr: expr, pipeline: NewPipeline(stages), builder: labels.NewBuilder(labels.EmptyLabels())}
}

// extract runs the pipeline on en and returns the sample's series and
// value: 1 per line, the line's length for bytes_*, or the unwrapped
// label's value; the unwrapped label leaves the series' labels unless a
// by grouping names it.
func (x *extractor) extract(en store.LogEntry) (labels.Labels, float64, bool) {
	p := x.pipeline
	if !p.Process(en.T, en.Line, en.Stream, en.Metadata) {
		return labels.EmptyLabels(), 0, false
	}
	v := 1.0
	switch u := x.expr.Unwrap; {
	case u != nil:
		raw, _ := p.set.get(u.Label)
		var err error
		if v, err = unwrapValue(u.Conv, raw); err != nil {
			p.set.setErr(errSampleExtraction, err.Error())
			v = 0
		}
		for _, f := range u.PostFilters {
			if !f.keep(&p.set) {
				return labels.EmptyLabels(), 0, false
			}
		}
		if g := x.expr.Grouping; g == nil || g.Without { // as in Loki: by (…) may keep it
			p.set.del(u.Label)
		}
	case x.expr.Op == "bytes_over_time" || x.expr.Op == "bytes_rate":
		v = float64(len(p.Line()))
	}
	ls := p.Labels()
	if g := x.expr.Grouping; g != nil && ls.Get(ErrorLabel) == "" {
		ls = groupLabels(x.builder, ls, g)
	}
	return ls, v, true
}

// unwrapValue converts an unwrapped label's value.
func unwrapValue(conv, s string) (float64, error) {
	switch conv {
	case "duration", "duration_seconds":
		d, err := time.ParseDuration(s)
		return d.Seconds(), err
	case "bytes":
		b, err := parseBytes(s)
		return float64(b), err
	}
	return strconv.ParseFloat(s, 64)
}
