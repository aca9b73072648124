package logql

import (
	"math"
	"slices"
	"sort"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
)

// vectorEvaluator aggregates the vector of its inner evaluator at each
// step.
type vectorEvaluator struct {
	expr  *VectorAggExpr
	inner stepEvaluator
}

func (v *vectorEvaluator) next(i int) (promql.Vector, error) {
	in, err := v.inner.next(i)
	if err != nil || len(in) == 0 {
		return nil, err
	}
	groups := groupVector(in, v.expr.Grouping)
	var out promql.Vector
	for _, g := range groups {
		switch v.expr.Op {
		case "topk", "bottomk":
			out = append(out, topk(g.samples, v.expr.Param, v.expr.Op == "bottomk")...)
		default:
			out = append(out, promql.Sample{Metric: g.labels, T: in[0].T, F: aggregate(v.expr.Op, g.samples)})
		}
	}
	return out, nil
}

type group struct {
	labels  labels.Labels
	samples []promql.Sample
}

// groupVector groups samples by the labels g keeps, in order of first
// appearance.
func groupVector(vec promql.Vector, g *Grouping) []*group {
	var (
		out    []*group
		byHash = map[uint64][]*group{}
		b      = labels.NewBuilder(labels.EmptyLabels())
	)
	for _, s := range vec {
		ls := groupLabels(b, s.Metric, g)
		h := ls.Hash()
		var found *group
		for _, c := range byHash[h] {
			if labels.Equal(c.labels, ls) {
				found = c
				break
			}
		}
		if found == nil {
			found = &group{labels: ls}
			byHash[h] = append(byHash[h], found)
			out = append(out, found)
		}
		found.samples = append(found.samples, s)
	}
	return out
}

// groupLabels is ls reduced to what g keeps: its by labels, or all but
// its without labels; nothing without a grouping.
func groupLabels(b *labels.Builder, ls labels.Labels, g *Grouping) labels.Labels {
	if g == nil {
		return labels.EmptyLabels()
	}
	b.Reset(ls)
	if g.Without {
		b.Del(g.Labels...)
	} else {
		b.Keep(g.Labels...)
	}
	return b.Labels()
}

func aggregate(op string, ss []promql.Sample) float64 {
	vs := make([]float64, len(ss))
	for i, s := range ss {
		vs[i] = s.F
	}
	switch op {
	case "sum":
		return sum(vs)
	case "avg":
		return sum(vs) / float64(len(vs))
	case "min":
		return slices.Min(vs)
	case "max":
		return slices.Max(vs)
	case "count":
		return float64(len(vs))
	case "stdvar":
		return variance(vs)
	case "stddev":
		return math.Sqrt(variance(vs))
	}
	return math.NaN()
}

// topk returns the k largest samples (smallest with bottom), ties broken
// by labels so that results are stable.
func topk(ss []promql.Sample, k int, bottom bool) []promql.Sample {
	ss = slices.Clone(ss)
	sort.SliceStable(ss, func(i, j int) bool {
		a, b := ss[i].F, ss[j].F
		if a != b {
			if bottom {
				return a < b
			}
			return a > b
		}
		return labels.Compare(ss[i].Metric, ss[j].Metric) < 0
	})
	return ss[:min(k, len(ss))]
}
