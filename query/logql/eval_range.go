package logql

import (
	"math"
	"slices"
	"sort"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
)

// point is one sample of a series: ns and value.
type point struct {
	t int64
	v float64
}

// series is the samples of one label set, by time.
type series struct {
	labels labels.Labels
	points []point
	cursor int // the first point of the current window
}

// seriesSet collects samples into series by label set.
type seriesSet struct {
	byHash map[uint64][]*series
	all    []*series
}

func newSeriesSet() *seriesSet { return &seriesSet{byHash: map[uint64][]*series{}} }

// add appends a sample to the series of ls, which must come in time order
// within each series.
func (s *seriesSet) add(ls labels.Labels, t int64, v float64) {
	s.get(ls).points = append(s.get(ls).points, point{t, v})
}

func (s *seriesSet) get(ls labels.Labels) *series {
	h := ls.Hash()
	for _, sr := range s.byHash[h] {
		if labels.Equal(sr.labels, ls) {
			return sr
		}
	}
	sr := &series{labels: ls}
	s.byHash[h] = append(s.byHash[h], sr)
	s.all = append(s.all, sr)
	return sr
}

// steps are the evaluation times of a query, in ns.
type steps struct {
	start, end, step int64 // step 0 for an instant query
}

func (s steps) count() int {
	if s.step == 0 {
		return 1
	}
	return int((s.end-s.start)/s.step) + 1
}

func (s steps) at(i int) int64 { return s.start + int64(i)*s.step }

// last is the last evaluation time.
func (s steps) last() int64 { return s.at(s.count() - 1) }

// stepEvaluator yields the vector of each evaluation time in turn.
type stepEvaluator interface {
	// next returns the vector at evaluation time i.
	next(i int) (promql.Vector, error)
}

// rangeEvaluator applies a range aggregation to series whose points are
// all read; each step moves every series' window forward.
type rangeEvaluator struct {
	expr   *RangeAggExpr
	set    *seriesSet
	steps  steps
	fn     func(vs []float64, rangeSec float64) float64
	values []float64
}

func newRangeEvaluator(e *RangeAggExpr, set *seriesSet, st steps) *rangeEvaluator {
	fn := rangeFuncs[e.Op]
	if e.Op == "quantile_over_time" {
		fn = func(vs []float64, _ float64) float64 { return quantile(e.Param, vs) }
	}
	return &rangeEvaluator{expr: e, set: set, steps: st, fn: fn}
}

func (r *rangeEvaluator) next(i int) (promql.Vector, error) {
	t := r.steps.at(i)
	hi := t - int64(r.expr.Offset)
	lo := hi - int64(r.expr.Range)
	var vec promql.Vector
	for _, s := range r.set.all {
		for s.cursor < len(s.points) && s.points[s.cursor].t <= lo {
			s.cursor++
		}
		r.values = r.values[:0]
		for j := s.cursor; j < len(s.points) && s.points[j].t <= hi; j++ {
			r.values = append(r.values, s.points[j].v)
		}
		if len(r.values) == 0 {
			continue
		}
		if s.labels.Get(ErrorLabel) != "" {
			return nil, &PipelineError{Series: s.labels}
		}
		v := r.fn(r.values, r.expr.Range.Seconds())
		vec = append(vec, promql.Sample{Metric: s.labels, T: t / 1e6, F: v})
	}
	return vec, nil
}

// rangeFuncs compute a range aggregation from the values in a window.
// count_over_time and rate count lines by summing their samples (1 each,
// or the counts ClickHouse returns per bucket); bytes_* sum line lengths.
var rangeFuncs = map[string]func(vs []float64, rangeSec float64) float64{
	"count_over_time":  func(vs []float64, _ float64) float64 { return sum(vs) },
	"rate":             func(vs []float64, r float64) float64 { return sum(vs) / r },
	"bytes_over_time":  func(vs []float64, _ float64) float64 { return sum(vs) },
	"bytes_rate":       func(vs []float64, r float64) float64 { return sum(vs) / r },
	"sum_over_time":    func(vs []float64, _ float64) float64 { return sum(vs) },
	"avg_over_time":    func(vs []float64, _ float64) float64 { return sum(vs) / float64(len(vs)) },
	"min_over_time":    func(vs []float64, _ float64) float64 { return slices.Min(vs) },
	"max_over_time":    func(vs []float64, _ float64) float64 { return slices.Max(vs) },
	"stdvar_over_time": func(vs []float64, _ float64) float64 { return variance(vs) },
	"stddev_over_time": func(vs []float64, _ float64) float64 { return math.Sqrt(variance(vs)) },
	"first_over_time":  func(vs []float64, _ float64) float64 { return vs[0] },
	"last_over_time":   func(vs []float64, _ float64) float64 { return vs[len(vs)-1] },
}

func sum(vs []float64) float64 {
	var s float64
	for _, v := range vs {
		s += v
	}
	return s
}

// variance is the population variance, as Prometheus computes it.
func variance(vs []float64) float64 {
	var mean, m2 float64
	for i, v := range vs {
		d := v - mean
		mean += d / float64(i+1)
		m2 += d * (v - mean)
	}
	return m2 / float64(len(vs))
}

// quantile is Prometheus' φ-quantile of vs, interpolating linearly; vs is
// sorted in place.
func quantile(q float64, vs []float64) float64 {
	switch {
	case len(vs) == 0 || math.IsNaN(q):
		return math.NaN()
	case q < 0:
		return math.Inf(-1)
	case q > 1:
		return math.Inf(1)
	}
	sort.Float64s(vs)
	rank := q * float64(len(vs)-1)
	lower := math.Max(0, math.Floor(rank))
	upper := math.Min(float64(len(vs)-1), lower+1)
	w := rank - lower
	return vs[int(lower)]*(1-w) + vs[int(upper)]*w
}
