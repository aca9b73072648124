package logql

import (
	"github.com/prometheus/prometheus/model/labels"

	"github.com/cairn-dev/cairn/store"
)

// logPlan is a log expression split between ClickHouse and Go.
type logPlan struct {
	matchers []*labels.Matcher
	// pushed are the line filters ClickHouse applies: every one that no
	// line_format or decolorize precedes, since only those rewrite the
	// line, and filters commute with everything else.
	pushed []store.LineFilter
	// rest are the stages that run in Go, in order.
	rest []Stage
}

var storeLineOps = map[LineOp]store.LineFilterOp{
	LineContains: store.LineContains, LineNotContains: store.LineNotContains,
	LineMatches: store.LineMatches, LineNotMatches: store.LineNotMatches,
}

func planLog(e *LogExpr) logPlan {
	p := logPlan{matchers: e.Matchers}
	rewritten := false
	for _, s := range e.Stages {
		switch s := s.(type) {
		case *LineFilter:
			if !rewritten {
				p.pushed = append(p.pushed, store.LineFilter{Op: storeLineOps[s.Op], Value: s.Value})
				continue
			}
		case *LineFormat, *Decolorize:
			rewritten = true
		}
		p.rest = append(p.rest, s)
	}
	return p
}

// labelsOnly reports whether the Go stages only drop or keep labels, so
// that they can apply to the streams of CountLogs' answer.
func (p logPlan) labelsOnly() bool {
	for _, s := range p.rest {
		if _, ok := s.(*DropKeep); !ok {
			return false
		}
	}
	return true
}

// countable reports whether ClickHouse can compute e's samples alone:
// lines or bytes counted per stream.
func countable(e *RangeAggExpr, p logPlan) bool {
	return e.Unwrap == nil && withoutUnwrap[e.Op] && p.labelsOnly()
}
