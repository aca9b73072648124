package logql

import (
	"fmt"
	"regexp"

	"github.com/prometheus/prometheus/model/labels"
)

// parseStage parses what follows a "|".
func (p *parser) parseStage() (Stage, error) {
	t := p.peek()
	if t.kind == tokIdent && !compareOps[p.peekAt(1).text] {
		switch t.text {
		case "json", "logfmt":
			p.next()
			return p.parseFieldParser(ParserKind(t.text))
		case "regexp", "pattern":
			p.next()
			return p.parsePatternParser(ParserKind(t.text))
		case "line_format":
			p.next()
			return p.parseLineFormat()
		case "label_format":
			p.next()
			return p.parseLabelFormat()
		case "drop", "keep":
			p.next()
			return p.parseDropKeep(t.text == "keep")
		case "decolorize":
			p.next()
			return &Decolorize{}, nil
		case "unwrap":
			return nil, errorAt(t, "syntax error: unwrap is only allowed in a range aggregation, such as sum_over_time")
		}
	}
	f, err := p.parseLabelFilter()
	if err != nil {
		return nil, err
	}
	return &LabelFilterStage{Filter: f}, nil
}

// parseFieldParser parses json or logfmt, with optional extractions:
// | json a="b.c", d; flags like --strict are accepted and ignored.
func (p *parser) parseFieldParser(kind ParserKind) (Stage, error) {
	for kind == ParserLogfmt && p.is("-") && p.peekAt(1).text == "-" {
		p.next()
		p.next()
		if _, err := p.expectKind(tokIdent, "flag"); err != nil {
			return nil, err
		}
	}
	parser := &Parser{Kind: kind}
	if p.peek().kind != tokIdent {
		return parser, nil
	}
	for {
		name, err := p.expectKind(tokIdent, "IDENTIFIER")
		if err != nil {
			return nil, err
		}
		e := Extraction{Label: name.text, Path: name.text}
		if p.is("=") {
			p.next()
			path, err := p.expectKind(tokString, "STRING")
			if err != nil {
				return nil, err
			}
			e.Path = path.text
		}
		if kind == ParserJSON {
			if _, err := parseJSONPath(e.Path); err != nil {
				return nil, errorAt(name, "invalid JSON path %q: %v", e.Path, err)
			}
		}
		parser.Extractions = append(parser.Extractions, e)
		if !p.is(",") {
			return parser, nil
		}
		p.next()
	}
}

// parsePatternParser parses regexp "…" or pattern "…".
func (p *parser) parsePatternParser(kind ParserKind) (Stage, error) {
	t, err := p.expectKind(tokString, "STRING")
	if err != nil {
		return nil, err
	}
	parser := &Parser{Kind: kind, Param: t.text}
	if kind == ParserRegexp {
		parser.re, err = compileExtractingRegexp(t.text)
	} else {
		parser.pattern, err = compilePattern(t.text)
	}
	if err != nil {
		return nil, errorAt(t, "invalid %s %q: %v", kind, t.text, err)
	}
	return parser, nil
}

// compileExtractingRegexp compiles the expression of a regexp parser,
// which needs named groups with valid, distinct label names.
func compileExtractingRegexp(s string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(s)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, n := range re.SubexpNames() {
		if n == "" {
			continue
		}
		if !validLabelName(n) {
			return nil, fmt.Errorf("invalid extracted label name '%s'", n)
		}
		if seen[n] {
			return nil, fmt.Errorf("duplicate extracted label name '%s'", n)
		}
		seen[n] = true
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("at least one named capture must be supplied")
	}
	return re, nil
}

func validLabelName(s string) bool {
	if s == "" || !isIdentStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isAlnum(s[i]) {
			return false
		}
	}
	return true
}

// parseLineFormat parses line_format "template".
func (p *parser) parseLineFormat() (Stage, error) {
	t, err := p.expectKind(tokString, "STRING")
	if err != nil {
		return nil, err
	}
	tmpl, err := newTemplate("line", t.text)
	if err != nil {
		return nil, errorAt(t, "invalid line template: %v", err)
	}
	return &LineFormat{Template: t.text, tmpl: tmpl}, nil
}

// parseLabelFormat parses label_format dst=src, dst="template", ….
func (p *parser) parseLabelFormat() (Stage, error) {
	f := &LabelFormat{}
	seen := map[string]bool{}
	for {
		dst, err := p.expectKind(tokIdent, "IDENTIFIER")
		if err != nil {
			return nil, err
		}
		if seen[dst.text] {
			return nil, errorAt(dst, "multiple label name '%s' not allowed in a single format operation", dst.text)
		}
		seen[dst.text] = true
		if _, err := p.expect("="); err != nil {
			return nil, err
		}
		src := p.next()
		lf := LabelFmt{Dst: dst.text, Src: src.text}
		switch src.kind {
		case tokIdent:
		case tokString:
			lf.Template = true
			if lf.tmpl, err = newTemplate(dst.text, src.text); err != nil {
				return nil, errorAt(src, "invalid label template: %v", err)
			}
		default:
			return nil, p.unexpected(src, "IDENTIFIER or STRING")
		}
		f.Formats = append(f.Formats, lf)
		if !p.is(",") {
			return f, nil
		}
		p.next()
	}
}

// parseDropKeep parses the names and matchers of drop or keep.
func (p *parser) parseDropKeep(keep bool) (Stage, error) {
	d := &DropKeep{Keep: keep}
	for {
		name, err := p.expectKind(tokIdent, "IDENTIFIER")
		if err != nil {
			return nil, err
		}
		item := DropItem{Name: name.text}
		if t := p.peek(); t.kind == tokPunct && isMatchOp(t.text) {
			p.next()
			val, err := p.expectKind(tokString, "STRING")
			if err != nil {
				return nil, err
			}
			if item.Matcher, err = labels.NewMatcher(matchTypes[t.text], name.text, val.text); err != nil {
				return nil, errorAt(val, "invalid regular expression %q: %v", val.text, err)
			}
		}
		d.Items = append(d.Items, item)
		if !p.is(",") {
			return d, nil
		}
		p.next()
	}
}
