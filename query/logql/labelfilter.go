package logql

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// LabelFilter is a condition on the labels of a line.
type LabelFilter interface {
	String() string
	// keep reports whether the line passes; it may record an error.
	keep(s *labelSet) bool
}

// StringFilter compares a label's value with a string: =, !=, =~, !~.
// A missing label has the value "".
type StringFilter struct {
	Matcher *labels.Matcher
}

func (f *StringFilter) String() string { return f.Matcher.String() }

func (f *StringFilter) keep(s *labelSet) bool {
	v, _ := s.get(f.Matcher.Name)
	return f.Matcher.Matches(v)
}

// ValueKind is how a CompareFilter reads a label's value.
type ValueKind int

// The kinds of values a CompareFilter compares.
const (
	KindNumber   ValueKind = iota // a float, 500 or 1.5
	KindDuration                  // a Go duration, 1s or 250ms
	KindBytes                     // a size, 20MB or 1KiB
)

// CompareFilter compares a label's value, read as Kind, with Value: ==,
// !=, >, >=, <, <=. A line without the label fails; a value that does not
// read as Kind passes with __error__=LabelFilterErr, as in Loki, and once
// a line has an error only string filters can drop it.
type CompareFilter struct {
	Name  string
	Op    string
	Kind  ValueKind
	Value float64 // seconds for durations, bytes for sizes
	Text  string  // the value as written
}

func (f *CompareFilter) String() string { return f.Name + " " + f.Op + " " + f.Text }

func (f *CompareFilter) keep(s *labelSet) bool {
	if s.hasErr() {
		return true
	}
	v, ok := s.get(f.Name)
	if !ok {
		return false
	}
	x, err := readValue(f.Kind, v)
	if err != nil {
		s.setErr(errLabelFilter, err.Error())
		return true
	}
	return compare(f.Op, x, f.Value)
}

// readValue reads a label value as a number of kind k.
func readValue(k ValueKind, v string) (float64, error) {
	switch k {
	case KindDuration:
		d, err := time.ParseDuration(v)
		return d.Seconds(), err
	case KindBytes:
		b, err := parseBytes(v)
		return float64(b), err
	}
	return strconv.ParseFloat(v, 64)
}

func compare(op string, a, b float64) bool {
	switch op {
	case "==", "=":
		return a == b
	case "!=":
		return a != b
	case ">":
		return a > b
	case ">=":
		return a >= b
	case "<":
		return a < b
	case "<=":
		return a <= b
	}
	return false
}

// BinaryFilter is Left and Right, or Left or Right.
type BinaryFilter struct {
	Or          bool
	Left, Right LabelFilter
}

func (f *BinaryFilter) String() string {
	if f.Or {
		return f.Left.String() + " or " + f.Right.String()
	}
	return wrapOr(f.Left) + " and " + wrapOr(f.Right)
}

func wrapOr(f LabelFilter) string {
	if b, ok := f.(*BinaryFilter); ok && b.Or {
		return "(" + b.String() + ")"
	}
	return f.String()
}

func (f *BinaryFilter) keep(s *labelSet) bool {
	if f.Or {
		return f.Left.keep(s) || f.Right.keep(s)
	}
	return f.Left.keep(s) && f.Right.keep(s)
}

// parseLabelFilter parses label filters joined by and, ",", juxtaposition
// and or, with parentheses; and binds tighter than or.
func (p *parser) parseLabelFilter() (LabelFilter, error) {
	left, err := p.parseAndFilter()
	if err != nil {
		return nil, err
	}
	for p.is("or") {
		p.next()
		right, err := p.parseAndFilter()
		if err != nil {
			return nil, err
		}
		left = &BinaryFilter{Or: true, Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) parseAndFilter() (LabelFilter, error) {
	left, err := p.parsePrimaryFilter()
	if err != nil {
		return nil, err
	}
	for {
		switch t := p.peek(); {
		case p.is("and") || p.is(","):
			p.next()
		case t.kind == tokIdent && t.text != "or" || p.is("("):
			// juxtaposition: `| a="b" c="d"` means and
		default:
			return left, nil
		}
		right, err := p.parsePrimaryFilter()
		if err != nil {
			return nil, err
		}
		left = &BinaryFilter{Left: left, Right: right}
	}
}

func (p *parser) parsePrimaryFilter() (LabelFilter, error) {
	if p.is("(") {
		p.next()
		f, err := p.parseLabelFilter()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(")"); err != nil {
			return nil, err
		}
		return f, nil
	}
	name, err := p.expectKind(tokIdent, "IDENTIFIER")
	if err != nil {
		return nil, err
	}
	op := p.next()
	if op.kind != tokPunct || !compareOps[op.text] {
		return nil, p.unexpected(op, "a comparison operator")
	}
	val := p.next()
	if val.kind == tokString {
		return stringFilter(name, op, val)
	}
	return p.compareFilter(name, op, val)
}

func stringFilter(name, op, val token) (LabelFilter, error) {
	text := op.text
	if text == "==" {
		text = "="
	}
	mt, ok := matchTypes[text]
	if !ok {
		return nil, errorAt(op, "syntax error: operator %s needs a number, a duration or a size, not a string", op.text)
	}
	m, err := labels.NewMatcher(mt, name.text, val.text)
	if err != nil {
		return nil, errorAt(val, "invalid regular expression %q: %v", val.text, err)
	}
	return &StringFilter{Matcher: m}, nil
}

// compareFilter parses the number, duration or size of a comparison.
func (p *parser) compareFilter(name, op, val token) (LabelFilter, error) {
	if op.text == "=~" || op.text == "!~" {
		return nil, p.unexpected(val, "STRING")
	}
	sign, text := 1.0, val.text
	if val.kind == tokPunct && val.text == "-" {
		val = p.next()
		sign, text = -1, "-"+val.text
	}
	if val.kind != tokNumber {
		return nil, p.unexpected(val, "STRING, NUMBER, DURATION or BYTES")
	}
	f := &CompareFilter{Name: name.text, Op: op.text, Text: text}
	if x, err := strconv.ParseFloat(val.text, 64); err == nil {
		f.Kind, f.Value = KindNumber, sign*x
	} else if d, err := parseDuration(val.text); err == nil {
		f.Kind, f.Value = KindDuration, sign*d.Seconds()
	} else if b, err := parseBytes(val.text); err == nil {
		f.Kind, f.Value = KindBytes, sign*float64(b)
	} else {
		return nil, errorAt(val, "syntax error: %q is not a number, a duration or a size", val.text)
	}
	return f, nil
}

// parseDuration reads a Go duration (1.5s, 1h30m) or a Prometheus one
// (1d, 1w).
func parseDuration(s string) (time.Duration, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return d, nil
	}
	d, err := model.ParseDuration(s)
	return time.Duration(d), err
}

// byteUnits are the size units go-humanize accepts, which Loki uses:
// decimal (kB, MB) and binary (KiB, MiB), case-insensitive.
var byteUnits = map[string]float64{
	"": 1, "b": 1,
	"k": 1e3, "kb": 1e3, "ki": 1 << 10, "kib": 1 << 10,
	"m": 1e6, "mb": 1e6, "mi": 1 << 20, "mib": 1 << 20,
	"g": 1e9, "gb": 1e9, "gi": 1 << 30, "gib": 1 << 30,
	"t": 1e12, "tb": 1e12, "ti": 1 << 40, "tib": 1 << 40,
	"p": 1e15, "pb": 1e15, "pi": 1 << 50, "pib": 1 << 50,
	"e": 1e18, "eb": 1e18, "ei": 1 << 60, "eib": 1 << 60,
}

// parseBytes reads a size such as 42, 20MB, 1.5 KiB.
func parseBytes(s string) (uint64, error) {
	i := 0
	for i < len(s) && (isDigit(s[i]) || s[i] == '.' || s[i] == ',') {
		i++
	}
	num := strings.ReplaceAll(s[:i], ",", "")
	mult, ok := byteUnits[strings.ToLower(strings.TrimSpace(s[i:]))]
	if !ok || num == "" {
		return 0, fmt.Errorf("unhandled size name: %s", strings.TrimSpace(s[i:]))
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, err
	}
	if f*mult >= math.MaxUint64 {
		return 0, fmt.Errorf("too large: %v", s)
	}
	return uint64(f * mult), nil
}
