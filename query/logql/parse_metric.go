package logql

import (
	"fmt"
	"strconv"
	"time"
)

// rangeOps are the range aggregations; withoutUnwrap those that count
// lines rather than unwrapped values.
var (
	rangeOps = map[string]bool{
		"count_over_time": true, "rate": true, "bytes_over_time": true, "bytes_rate": true,
		"sum_over_time": true, "avg_over_time": true, "min_over_time": true, "max_over_time": true,
		"stddev_over_time": true, "stdvar_over_time": true, "quantile_over_time": true,
		"first_over_time": true, "last_over_time": true,
	}
	withoutUnwrap = map[string]bool{"count_over_time": true, "rate": true, "bytes_over_time": true, "bytes_rate": true}
	vectorOps     = map[string]bool{
		"sum": true, "avg": true, "min": true, "max": true, "count": true,
		"stddev": true, "stdvar": true, "topk": true, "bottomk": true,
	}
)

// unwrapConversions are the functions unwrap may apply to a label.
var unwrapConversions = map[string]bool{"duration": true, "duration_seconds": true, "bytes": true}

// parseRangeAgg parses op([q,] {…} pipeline [range] [offset d]) [grouping],
// the range written after the selector or after the pipeline.
func (p *parser) parseRangeAgg() (Expr, error) {
	opTok := p.next()
	e := &RangeAggExpr{Op: opTok.text}
	if _, err := p.expect("("); err != nil {
		return nil, err
	}
	if e.Op == "quantile_over_time" {
		q, err := p.parseNumber()
		if err != nil {
			return nil, err
		}
		e.Param = q
		if _, err := p.expect(","); err != nil {
			return nil, err
		}
	}
	if err := p.parseLogRange(e); err != nil {
		return nil, err
	}
	if _, err := p.expect(")"); err != nil {
		return nil, err
	}
	if p.is("by") || p.is("without") {
		g, err := p.parseGrouping()
		if err != nil {
			return nil, err
		}
		e.Grouping = g
	}
	return e, validateRangeAgg(e, opTok)
}

// parseLogRange parses the log expression of a range aggregation and its
// range, which Loki accepts after the selector or after the pipeline,
// optionally in parentheses.
func (p *parser) parseLogRange(e *RangeAggExpr) error {
	if p.is("(") {
		p.next()
		if err := p.parseLogRange(e); err != nil {
			return err
		}
		_, err := p.expect(")")
		return err
	}
	ms, err := p.parseSelector()
	if err != nil {
		return err
	}
	e.Log = &LogExpr{Matchers: ms}
	early := p.is("[")
	if early {
		if err := p.parseRange(e); err != nil {
			return err
		}
	}
	if e.Log.Stages, e.Unwrap, err = p.parsePipeline(true); err != nil {
		return err
	}
	if !early {
		return p.parseRange(e)
	}
	return nil
}

// parseRange parses [duration] and an optional offset.
func (p *parser) parseRange(e *RangeAggExpr) error {
	if _, err := p.expect("["); err != nil {
		return err
	}
	t, err := p.expectKind(tokNumber, "DURATION")
	if err != nil {
		return err
	}
	if e.Range, err = parseDuration(t.text); err != nil || e.Range <= 0 || e.Range > maxRange {
		return errorAt(t, "syntax error: invalid range %q", t.text)
	}
	if _, err := p.expect("]"); err != nil {
		return err
	}
	if p.is("offset") {
		p.next()
		t, err := p.expectKind(tokNumber, "DURATION")
		if err != nil {
			return err
		}
		if e.Offset, err = parseDuration(t.text); err != nil || e.Offset > maxRange {
			return errorAt(t, "syntax error: invalid offset %q", t.text)
		}
	}
	return nil
}

// parseUnwrap parses unwrap label or unwrap conv(label); the "|" is read.
func (p *parser) parseUnwrap() (*Unwrap, error) {
	p.next() // unwrap
	name, err := p.expectKind(tokIdent, "IDENTIFIER")
	if err != nil {
		return nil, err
	}
	u := &Unwrap{Label: name.text}
	if p.is("(") {
		if !unwrapConversions[name.text] {
			return nil, errorAt(name, "syntax error: unknown unwrap conversion %s, want duration, duration_seconds or bytes", name.text)
		}
		p.next()
		label, err := p.expectKind(tokIdent, "IDENTIFIER")
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(")"); err != nil {
			return nil, err
		}
		u.Conv, u.Label = name.text, label.text
	}
	return u, nil
}

func validateRangeAgg(e *RangeAggExpr, opTok token) error {
	switch {
	case e.Unwrap == nil && !withoutUnwrap[e.Op]:
		return &ParseError{Msg: fmt.Sprintf("invalid aggregation %s without unwrap", e.Op)}
	case e.Unwrap != nil && withoutUnwrap[e.Op] && e.Op != "rate":
		return &ParseError{Msg: fmt.Sprintf("invalid aggregation %s with unwrap", e.Op)}
	case e.Grouping != nil && e.Unwrap == nil:
		return &ParseError{Msg: fmt.Sprintf("grouping not allowed for %s aggregation", e.Op)}
	case e.Op == "quantile_over_time" && (e.Param < 0 || e.Param > 1):
		return errorAt(opTok, "quantile_over_time: quantile %v is not within [0, 1]", e.Param)
	}
	return nil
}

// parseVectorAgg parses op [grouping] ([k,] expr) [grouping].
func (p *parser) parseVectorAgg() (Expr, error) {
	opTok := p.next()
	e := &VectorAggExpr{Op: opTok.text}
	if p.is("by") || p.is("without") {
		g, err := p.parseGrouping()
		if err != nil {
			return nil, err
		}
		e.Grouping = g
	}
	if _, err := p.expect("("); err != nil {
		return nil, err
	}
	if e.Op == "topk" || e.Op == "bottomk" {
		t := p.peek()
		k, err := p.parseNumber()
		if err != nil {
			return nil, err
		}
		if k != float64(int(k)) || k < 1 {
			return nil, errorAt(t, "syntax error: %s: k must be a positive integer, not %v", e.Op, k)
		}
		e.Param = int(k)
		if _, err := p.expect(","); err != nil {
			return nil, err
		}
	}
	inner, err := p.parseExpr()
	if err != nil {
		return nil, err
	}
	sample, ok := inner.(SampleExpr)
	if ok && isScalar(sample) {
		return nil, &ParseError{Msg: fmt.Sprintf("invalid aggregation %s of a number, want a metric query", e.Op)}
	}
	if !ok {
		return nil, &ParseError{Msg: fmt.Sprintf("invalid aggregation %s of a log query, want a metric query such as count_over_time(%s [1m])", e.Op, inner)}
	}
	e.Inner = sample
	if _, err := p.expect(")"); err != nil {
		return nil, err
	}
	if e.Grouping == nil && (p.is("by") || p.is("without")) {
		if e.Grouping, err = p.parseGrouping(); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// parseGrouping parses by (a, b) or without (a).
func (p *parser) parseGrouping() (*Grouping, error) {
	g := &Grouping{Without: p.next().text == "without", Labels: []string{}}
	if _, err := p.expect("("); err != nil {
		return nil, err
	}
	for !p.is(")") {
		t, err := p.expectKind(tokIdent, "IDENTIFIER")
		if err != nil {
			return nil, err
		}
		g.Labels = append(g.Labels, t.text)
		if !p.is(",") {
			break
		}
		p.next()
	}
	if _, err := p.expect(")"); err != nil {
		return nil, err
	}
	return g, nil
}

// parseNumber parses a number, with an optional minus sign.
func (p *parser) parseNumber() (float64, error) {
	sign := 1.0
	if p.is("-") {
		p.next()
		sign = -1
	}
	t, err := p.expectKind(tokNumber, "NUMBER")
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(t.text, 64)
	if err != nil {
		return 0, errorAt(t, "syntax error: %q is not a number", t.text)
	}
	return sign * f, nil
}

// maxRange bounds ranges, so that window arithmetic in nanoseconds
// cannot overflow.
const maxRange = 100 * 365 * 24 * time.Hour
