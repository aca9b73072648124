package logql

import (
	"regexp"
	"strings"
	"text/template"

	"github.com/prometheus/prometheus/model/labels"
)

// Pipeline runs log pipeline stages in Go, one line at a time. It is
// not safe for concurrent use; build one per goroutine.
type Pipeline struct {
	stages []func(p *Pipeline) bool
	ctx    lineContext
	set    labelSet
	buf    strings.Builder
}

// NewPipeline compiles stages, which come from a parsed query.
func NewPipeline(stages []Stage) *Pipeline {
	p := &Pipeline{}
	for _, s := range stages {
		p.stages = append(p.stages, p.compile(s))
	}
	return p
}

// Process runs the stages on one line of a stream and reports whether
// the line passed them all; then Line and the label methods describe the
// result.
func (p *Pipeline) Process(ts int64, line string, stream, metadata labels.Labels) bool {
	p.ctx = lineContext{line: line, ts: ts}
	p.set.reset(stream, metadata)
	for _, st := range p.stages {
		if !st(p) {
			return false
		}
	}
	return true
}

// Line is the processed line.
func (p *Pipeline) Line() string { return p.ctx.line }

// Labels are all labels of the processed line: the stream's, structured
// metadata and those the stages set.
func (p *Pipeline) Labels() labels.Labels { return p.set.labels() }

// Categorized returns the processed line's labels by origin, for Loki's
// categorize-labels encoding.
func (p *Pipeline) Categorized() (stream, metadata, parsed labels.Labels) {
	return p.set.labels(catStream), p.set.labels(catMetadata), p.set.labels(catParsed)
}

// Get returns the value of one label of the processed line.
func (p *Pipeline) Get(name string) (string, bool) { return p.set.get(name) }

// compile turns one stage into a function of the pipeline's state.
func (p *Pipeline) compile(s Stage) func(*Pipeline) bool {
	switch s := s.(type) {
	case *LineFilter:
		return lineFilterFunc(s)
	case *Parser:
		return parserFunc(s)
	case *LabelFilterStage:
		return func(p *Pipeline) bool { return s.Filter.keep(&p.set) }
	case *LineFormat:
		tmpl := bindTemplate(s.tmpl, &p.ctx)
		return func(p *Pipeline) bool {
			if v, ok := p.execute(tmpl); ok {
				p.ctx.line = v
			}
			return true
		}
	case *LabelFormat:
		return p.labelFormatFunc(s)
	case *DropKeep:
		return dropKeepFunc(s)
	case *Decolorize:
		return func(p *Pipeline) bool {
			p.ctx.line = ansiColor.ReplaceAllString(p.ctx.line, "")
			return true
		}
	}
	return func(*Pipeline) bool { return true }
}

var ansiColor = regexp.MustCompile(`\x1b\[[0-9;]*m`)

func lineFilterFunc(f *LineFilter) func(*Pipeline) bool {
	switch f.Op {
	case LineContains:
		return func(p *Pipeline) bool { return strings.Contains(p.ctx.line, f.Value) }
	case LineNotContains:
		return func(p *Pipeline) bool { return !strings.Contains(p.ctx.line, f.Value) }
	case LineMatches:
		return func(p *Pipeline) bool { return f.re.MatchString(p.ctx.line) }
	}
	return func(p *Pipeline) bool { return !f.re.MatchString(p.ctx.line) }
}

func parserFunc(s *Parser) func(*Pipeline) bool {
	switch s.Kind {
	case ParserJSON:
		if len(s.Extractions) == 0 {
			return func(p *Pipeline) bool { parseJSONFields(p.ctx.line, &p.set); return true }
		}
		paths := make([][]jsonPathElem, len(s.Extractions))
		for i, e := range s.Extractions {
			paths[i], _ = parseJSONPath(e.Path) // checked by the parser
		}
		return func(p *Pipeline) bool { extractJSON(p.ctx.line, s.Extractions, paths, &p.set); return true }
	case ParserLogfmt:
		return func(p *Pipeline) bool { parseLogfmt(p.ctx.line, s.Extractions, &p.set); return true }
	case ParserRegexp:
		names := s.re.SubexpNames()
		return func(p *Pipeline) bool {
			m := s.re.FindStringSubmatch(p.ctx.line)
			for i, v := range m {
				if names[i] != "" {
					p.set.set(p.set.parsedName(names[i]), v, catParsed)
				}
			}
			return true
		}
	}
	return func(p *Pipeline) bool {
		s.pattern.match(p.ctx.line, func(name, v string) { p.set.set(p.set.parsedName(name), v, catParsed) })
		return true
	}
}

// execute runs a template on the labels; a failure sets
// __error__=TemplateFormatErr.
func (p *Pipeline) execute(t *template.Template) (string, bool) {
	p.buf.Reset()
	if err := t.Execute(&p.buf, p.set.templateData()); err != nil {
		p.set.setErr(errTemplateFormat, err.Error())
		return "", false
	}
	return p.buf.String(), true
}

// labelFormatFunc evaluates every format on the labels as they were
// before the stage, then applies them: renames drop their source label.
func (p *Pipeline) labelFormatFunc(s *LabelFormat) func(*Pipeline) bool {
	tmpls := make([]*template.Template, len(s.Formats))
	for i, f := range s.Formats {
		if f.Template {
			tmpls[i] = bindTemplate(f.tmpl, &p.ctx)
		}
	}
	values := make([]string, len(s.Formats))
	set := make([]bool, len(s.Formats))
	return func(p *Pipeline) bool {
		for i, f := range s.Formats {
			if f.Template {
				values[i], set[i] = p.execute(tmpls[i])
			} else {
				values[i], set[i] = p.set.get(f.Src)
			}
		}
		for i, f := range s.Formats {
			if !set[i] {
				continue
			}
			if !f.Template && f.Src != f.Dst {
				p.set.del(f.Src)
			}
			p.set.set(f.Dst, values[i], catParsed)
		}
		return true
	}
}

func dropKeepFunc(d *DropKeep) func(*Pipeline) bool {
	matches := func(l catLabel) bool {
		for _, it := range d.Items {
			if it.Name == l.name && (it.Matcher == nil || it.Matcher.Matches(l.value)) {
				return true
			}
		}
		return false
	}
	return func(p *Pipeline) bool {
		kept := p.set.ls[:0]
		for _, l := range p.set.ls {
			if matches(l) == d.Keep {
				kept = append(kept, l)
			}
		}
		p.set.ls = kept
		return true
	}
}
