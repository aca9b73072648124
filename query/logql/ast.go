package logql

import (
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// Expr is a parsed query: a *LogExpr, which selects log lines, or a
// SampleExpr, which computes series from them.
type Expr interface {
	String() string
	isExpr()
}

// SampleExpr is a metric query: *RangeAggExpr or *VectorAggExpr.
type SampleExpr interface {
	Expr
	isSample()
}

// LogExpr selects the lines of the streams that match every matcher, and
// passes them through the stages in order.
type LogExpr struct {
	Matchers []*labels.Matcher
	Stages   []Stage
}

func (*LogExpr) isExpr() {}

func (e *LogExpr) String() string {
	var b strings.Builder
	b.WriteString(matchersString(e.Matchers))
	for _, s := range e.Stages {
		b.WriteByte(' ')
		b.WriteString(s.String())
	}
	return b.String()
}

func matchersString(ms []*labels.Matcher) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.String()
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// Stage is one step of a log pipeline.
type Stage interface {
	String() string
	isStage()
}

// LineOp is a line filter operator.
type LineOp int

// The line filter operators.
const (
	LineContains    LineOp = iota + 1 // |=
	LineNotContains                   // !=
	LineMatches                       // |~
	LineNotMatches                    // !~
)

var lineOpText = map[LineOp]string{LineContains: "|=", LineNotContains: "!=", LineMatches: "|~", LineNotMatches: "!~"}

func (op LineOp) String() string { return lineOpText[op] }

// LineFilter keeps the lines that contain (or match) Value, or that do
// not.
type LineFilter struct {
	Op    LineOp
	Value string
	re    *regexp.Regexp // for LineMatches and LineNotMatches
}

func (*LineFilter) isStage()         {}
func (f *LineFilter) String() string { return f.Op.String() + " " + strconv.Quote(f.Value) }

// ParserKind names a parser stage.
type ParserKind string

// The parsers.
const (
	ParserJSON    ParserKind = "json"
	ParserLogfmt  ParserKind = "logfmt"
	ParserRegexp  ParserKind = "regexp"
	ParserPattern ParserKind = "pattern"
)

// Parser extracts labels from the line: all of a JSON object's fields or
// a logfmt line's pairs, a regular expression's named groups, a
// pattern's captures. JSON and logfmt with Extractions extract only
// those, each under its label name.
type Parser struct {
	Kind        ParserKind
	Param       string // the expression of regexp and pattern
	Extractions []Extraction
	re          *regexp.Regexp
	pattern     *pattern
}

// Extraction is `name="path"` of `| json name="path"` (a JSON path such
// as a.b[0]) or `| logfmt name="key"`; a bare `name` extracts the field
// of that name.
type Extraction struct {
	Label, Path string
}

func (*Parser) isStage() {}

func (p *Parser) String() string {
	s := "| " + string(p.Kind)
	if p.Kind == ParserRegexp || p.Kind == ParserPattern {
		return s + " " + strconv.Quote(p.Param)
	}
	for i, e := range p.Extractions {
		if i > 0 {
			s += ","
		}
		s += " " + e.Label + "=" + strconv.Quote(e.Path)
	}
	return s
}

// LabelFilterStage keeps the lines whose labels pass Filter.
type LabelFilterStage struct {
	Filter LabelFilter
}

func (*LabelFilterStage) isStage()         {}
func (s *LabelFilterStage) String() string { return "| " + s.Filter.String() }

// LineFormat replaces the line with a Go text/template executed on the
// labels.
type LineFormat struct {
	Template string
	tmpl     *template.Template
}

func (*LineFormat) isStage()         {}
func (f *LineFormat) String() string { return "| line_format " + strconv.Quote(f.Template) }

// LabelFormat renames labels (dst=src) or sets them from templates
// (dst="{{…}}").
type LabelFormat struct {
	Formats []LabelFmt
}

// LabelFmt is one dst=src or dst="template" of a label_format stage.
type LabelFmt struct {
	Dst      string
	Src      string // the label renamed, when Template is false
	Template bool   // Src is a template
	tmpl     *template.Template
}

func (*LabelFormat) isStage() {}

func (f *LabelFormat) String() string {
	parts := make([]string, len(f.Formats))
	for i, lf := range f.Formats {
		if lf.Template {
			parts[i] = lf.Dst + "=" + strconv.Quote(lf.Src)
		} else {
			parts[i] = lf.Dst + "=" + lf.Src
		}
	}
	return "| label_format " + strings.Join(parts, ", ")
}

// DropKeep is `| drop …` (Keep false) or `| keep …`: each item names a
// label, or a matcher that a label must match to be dropped (kept).
type DropKeep struct {
	Keep  bool
	Items []DropItem
}

// DropItem is one name or matcher of a drop or keep stage.
type DropItem struct {
	Name    string
	Matcher *labels.Matcher // nil for a bare name
}

func (*DropKeep) isStage() {}

func (d *DropKeep) String() string {
	parts := make([]string, len(d.Items))
	for i, it := range d.Items {
		parts[i] = it.Name
		if it.Matcher != nil {
			parts[i] = it.Matcher.String()
		}
	}
	word := "drop"
	if d.Keep {
		word = "keep"
	}
	return "| " + word + " " + strings.Join(parts, ", ")
}

// Decolorize strips ANSI color sequences from the line.
type Decolorize struct{}

func (*Decolorize) isStage()       {}
func (*Decolorize) String() string { return "| decolorize" }

// Grouping is `by (…)` or `without (…)`.
type Grouping struct {
	Without bool
	Labels  []string
}

func (g *Grouping) String() string {
	if g == nil {
		return ""
	}
	word := "by"
	if g.Without {
		word = "without"
	}
	return " " + word + " (" + strings.Join(g.Labels, ", ") + ")"
}

// Unwrap takes a sample's value from a label: as a number, or with Conv
// "duration" / "duration_seconds" (seconds of a Go duration) or "bytes".
// PostFilters apply after the conversion.
type Unwrap struct {
	Label       string
	Conv        string
	PostFilters []LabelFilter
}

func (u *Unwrap) String() string {
	s := "| unwrap "
	if u.Conv != "" {
		s += u.Conv + "(" + u.Label + ")"
	} else {
		s += u.Label
	}
	for _, f := range u.PostFilters {
		s += " | " + f.String()
	}
	return s
}

// RangeAggExpr applies a function to the samples each series has within
// a range window ending at each evaluation time: (t-Range-Offset, t-Offset].
type RangeAggExpr struct {
	Op       string // count_over_time, rate, …
	Log      *LogExpr
	Range    time.Duration
	Offset   time.Duration
	Unwrap   *Unwrap
	Param    float64 // the quantile of quantile_over_time
	Grouping *Grouping
}

func (*RangeAggExpr) isExpr()   {}
func (*RangeAggExpr) isSample() {}

func (e *RangeAggExpr) String() string {
	var b strings.Builder
	b.WriteString(e.Op + "(")
	if e.Op == "quantile_over_time" {
		b.WriteString(strconv.FormatFloat(e.Param, 'g', -1, 64) + ", ")
	}
	b.WriteString(e.Log.String())
	if e.Unwrap != nil {
		b.WriteString(" " + e.Unwrap.String())
	}
	b.WriteString(" [" + model.Duration(e.Range).String() + "]")
	if e.Offset != 0 {
		b.WriteString(" offset " + model.Duration(e.Offset).String())
	}
	b.WriteString(")")
	b.WriteString(e.Grouping.String())
	return b.String()
}

// VectorAggExpr aggregates the series of Inner at each evaluation time.
type VectorAggExpr struct {
	Op       string // sum, avg, min, max, count, topk, bottomk, stddev, stdvar
	Param    int    // k of topk and bottomk
	Grouping *Grouping
	Inner    SampleExpr
}

func (*VectorAggExpr) isExpr()   {}
func (*VectorAggExpr) isSample() {}

func (e *VectorAggExpr) String() string {
	s := e.Op + e.Grouping.String() + " ("
	if e.Op == "topk" || e.Op == "bottomk" {
		s += strconv.Itoa(e.Param) + ", "
	}
	return s + e.Inner.String() + ")"
}
