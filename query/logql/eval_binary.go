package logql

import (
	"fmt"
	"math"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
)

// scalarEvaluator yields a literal at every step.
type scalarEvaluator struct {
	value float64
	steps steps
}

func (s *scalarEvaluator) next(i int) (promql.Vector, error) {
	return promql.Vector{{Metric: labels.EmptyLabels(), T: s.steps.at(i) / 1e6, F: s.value}}, nil
}

// vectorLiteralEvaluator yields vector(x): one sample without labels.
type vectorLiteralEvaluator struct {
	value float64
	steps steps
}

func (v *vectorLiteralEvaluator) next(i int) (promql.Vector, error) {
	return promql.Vector{{Metric: labels.EmptyLabels(), T: v.steps.at(i) / 1e6, F: v.value}}, nil
}

// isScalar reports whether e evaluates to a scalar: a number, or an
// operation between numbers.
func isScalar(e SampleExpr) bool {
	switch e := e.(type) {
	case *LiteralExpr:
		return true
	case *BinaryExpr:
		return isScalar(e.LHS) && isScalar(e.RHS)
	}
	return false
}

// binaryEvaluator applies a binary operation at every step.
type binaryEvaluator struct {
	expr        *BinaryExpr
	lhs, rhs    stepEvaluator
	lScalar     bool
	rScalar     bool
	builder     *labels.Builder
	signatureOf func(labels.Labels) string
}

func newBinaryEvaluator(e *BinaryExpr, lhs, rhs stepEvaluator) *binaryEvaluator {
	ls, rs := isScalar(e.LHS), isScalar(e.RHS)
	b := &binaryEvaluator{expr: e, lhs: lhs, rhs: rhs, lScalar: ls, rScalar: rs, builder: labels.NewBuilder(labels.EmptyLabels())}
	b.signatureOf = func(ls labels.Labels) string { return b.matched(ls).String() }
	return b
}

// matched is ls reduced to the labels vectors match on.
func (b *binaryEvaluator) matched(ls labels.Labels) labels.Labels {
	m := b.expr.Matching
	if m == nil {
		return ls
	}
	b.builder.Reset(ls)
	if m.On {
		b.builder.Keep(m.Labels...)
	} else {
		b.builder.Del(m.Labels...)
	}
	return b.builder.Labels()
}

func (b *binaryEvaluator) next(i int) (promql.Vector, error) {
	l, err := b.lhs.next(i)
	if err != nil {
		return nil, err
	}
	r, err := b.rhs.next(i)
	if err != nil {
		return nil, err
	}
	switch {
	case b.lScalar && b.rScalar:
		v, _ := binaryValue(b.expr.Op, l[0].F, r[0].F, true)
		return promql.Vector{{Metric: labels.EmptyLabels(), T: l[0].T, F: v}}, nil
	case b.lScalar || b.rScalar:
		return b.scalarVector(l, r), nil
	case isSetOp(b.expr.Op):
		return b.setOp(l, r), nil
	}
	return b.vectorVector(l, r)
}

// scalarVector applies the operation between a scalar and each sample.
func (b *binaryEvaluator) scalarVector(l, r promql.Vector) promql.Vector {
	var out promql.Vector
	vec, scalar := l, r[0].F
	if b.lScalar {
		vec, scalar = r, l[0].F
	}
	for _, s := range vec {
		x, y := s.F, scalar
		if b.lScalar {
			x, y = scalar, s.F
		}
		if v, keep := binaryValue(b.expr.Op, x, y, b.expr.ReturnBool); keep {
			if isComparison(b.expr.Op) && !b.expr.ReturnBool {
				v = s.F // a filter keeps the vector's value
			}
			out = append(out, promql.Sample{Metric: s.Metric, T: s.T, F: v})
		}
	}
	return out
}

// vectorVector matches samples one to one.
func (b *binaryEvaluator) vectorVector(l, r promql.Vector) (promql.Vector, error) {
	right := make(map[string]promql.Sample, len(r))
	for _, s := range r {
		sig := b.signatureOf(s.Metric)
		if _, dup := right[sig]; dup {
			return nil, fmt.Errorf("found duplicate series for the match group %s on the right hand-side of the operation: many-to-many matching not allowed", sig)
		}
		right[sig] = s
	}
	var out promql.Vector
	seen := map[string]bool{}
	for _, ls := range l {
		sig := b.signatureOf(ls.Metric)
		rs, ok := right[sig]
		if !ok {
			continue
		}
		if seen[sig] {
			return nil, fmt.Errorf("found duplicate series for the match group %s on the left hand-side of the operation: many-to-many matching not allowed", sig)
		}
		seen[sig] = true
		v, keep := binaryValue(b.expr.Op, ls.F, rs.F, b.expr.ReturnBool)
		if !keep {
			continue
		}
		if isComparison(b.expr.Op) && !b.expr.ReturnBool {
			v = ls.F
		}
		metric := ls.Metric
		if b.expr.Matching != nil {
			metric = b.matched(ls.Metric)
		}
		out = append(out, promql.Sample{Metric: metric, T: ls.T, F: v})
	}
	return out, nil
}

// setOp is and, or or unless.
func (b *binaryEvaluator) setOp(l, r promql.Vector) promql.Vector {
	right := map[string]bool{}
	for _, s := range r {
		right[b.signatureOf(s.Metric)] = true
	}
	var out promql.Vector
	left := map[string]bool{}
	for _, s := range l {
		sig := b.signatureOf(s.Metric)
		left[sig] = true
		if b.expr.Op == "or" || right[sig] == (b.expr.Op == "and") {
			out = append(out, s)
		}
	}
	if b.expr.Op == "or" {
		for _, s := range r {
			if !left[b.signatureOf(s.Metric)] {
				out = append(out, s)
			}
		}
	}
	return out
}

// binaryValue computes x op y; for comparisons keep reports whether the
// comparison holds, and with returnBool the value is 1 or 0 and keep is
// true.
func binaryValue(op string, x, y float64, returnBool bool) (float64, bool) {
	var holds bool
	switch op {
	case "+":
		return x + y, true
	case "-":
		return x - y, true
	case "*":
		return x * y, true
	case "/":
		return x / y, true
	case "%":
		return math.Mod(x, y), true
	case "^":
		return math.Pow(x, y), true
	case "==":
		holds = x == y
	case "!=":
		holds = x != y
	case ">":
		holds = x > y
	case ">=":
		holds = x >= y
	case "<":
		holds = x < y
	case "<=":
		holds = x <= y
	}
	if returnBool {
		if holds {
			return 1, true
		}
		return 0, true
	}
	return x, holds
}
