package logql

import (
	"fmt"
	"regexp"

	"github.com/prometheus/prometheus/model/labels"
)

// MaxQueryLength bounds the queries Parse accepts, in bytes.
const MaxQueryLength = 64 << 10

// errEmptyCompatible is Loki's complaint about a selector that would
// select every stream.
const errEmptyCompatible = `queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~".*" does not meet this requirement, but app=~".+" will`

// Parse parses a LogQL query. Errors are *ParseError.
func Parse(query string) (Expr, error) {
	if len(query) > MaxQueryLength {
		return nil, &ParseError{Msg: fmt.Sprintf("query is %d bytes long, the limit is %d", len(query), MaxQueryLength)}
	}
	toks, err := lex(query)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	e, err := p.parseExpr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, p.unexpected(t, "")
	}
	return e, nil
}

// ParseSelector parses a stream selector alone, such as a match[]
// parameter: {app="api", env=~"prod|dev"}.
func ParseSelector(s string) ([]*labels.Matcher, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	ms, err := p.parseSelector()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, p.unexpected(t, "")
	}
	return ms, nil
}

type parser struct {
	toks []token
	pos  int
}

func (p *parser) peek() token { return p.toks[p.pos] }

func (p *parser) peekAt(n int) token {
	if p.pos+n >= len(p.toks) {
		return p.toks[len(p.toks)-1]
	}
	return p.toks[p.pos+n]
}

func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tokEOF {
		p.pos++
	}
	return t
}

// is reports whether the next token is punctuation or an identifier
// with text s.
func (p *parser) is(s string) bool {
	t := p.peek()
	return (t.kind == tokPunct || t.kind == tokIdent) && t.text == s
}

func (p *parser) expect(s string) (token, error) {
	t := p.next()
	if (t.kind != tokPunct && t.kind != tokIdent) || t.text != s {
		return t, p.unexpected(t, s)
	}
	return t, nil
}

func (p *parser) expectKind(k tokenKind, what string) (token, error) {
	t := p.next()
	if t.kind != k {
		return t, p.unexpected(t, what)
	}
	return t, nil
}

// unexpected is Loki's syntax error for t, naming what was expected.
func (p *parser) unexpected(t token, expecting string) error {
	msg := "syntax error: unexpected " + tokenName(t)
	if expecting != "" {
		msg += ", expecting " + expecting
	}
	return &ParseError{Line: t.line, Col: t.col, Msg: msg}
}

func tokenName(t token) string {
	switch t.kind {
	case tokEOF:
		return "$end"
	case tokIdent:
		return "IDENTIFIER"
	case tokString:
		return "STRING"
	case tokNumber:
		return "NUMBER"
	}
	return t.text
}

func errorAt(t token, format string, args ...any) error {
	return &ParseError{Line: t.line, Col: t.col, Msg: fmt.Sprintf(format, args...)}
}

// parsePrimary parses a log query or a metric query without binary
// operators at its top.
func (p *parser) parsePrimary() (Expr, error) {
	t := p.peek()
	switch {
	case t.kind == tokPunct && t.text == "{":
		return p.parseLogExpr()
	case t.kind == tokPunct && t.text == "(":
		p.next()
		e, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(")"); err != nil {
			return nil, err
		}
		return e, nil
	case t.kind == tokIdent && rangeOps[t.text]:
		return p.parseRangeAgg()
	case t.kind == tokIdent && vectorOps[t.text]:
		return p.parseVectorAgg()
	case t.kind == tokIdent && t.text == "vector" && p.peekAt(1).text == "(":
		return p.parseVectorLiteral()
	case t.kind == tokNumber || t.kind == tokPunct && t.text == "-" && p.peekAt(1).kind == tokNumber:
		v, err := p.parseNumber()
		if err != nil {
			return nil, err
		}
		return &LiteralExpr{Value: v}, nil
	}
	return nil, p.unexpected(t, "{ or a function")
}

// parseLogExpr parses a selector and its pipeline.
func (p *parser) parseLogExpr() (*LogExpr, error) {
	ms, err := p.parseSelector()
	if err != nil {
		return nil, err
	}
	stages, unwrap, err := p.parsePipeline(false)
	if err != nil {
		return nil, err
	}
	_ = unwrap // always nil outside a range aggregation
	return &LogExpr{Matchers: ms, Stages: stages}, nil
}

// parseSelector parses {name op "value", …}, which must select something.
func (p *parser) parseSelector() ([]*labels.Matcher, error) {
	open, err := p.expect("{")
	if err != nil {
		return nil, err
	}
	var ms []*labels.Matcher
	for {
		m, err := p.parseMatcher()
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
		if p.is(",") {
			p.next()
			if p.is("}") { // a trailing comma
				break
			}
			continue
		}
		break
	}
	if _, err := p.expect("}"); err != nil {
		return nil, err
	}
	for _, m := range ms {
		if !m.Matches("") {
			return ms, nil
		}
	}
	_ = open
	return nil, &ParseError{Msg: errEmptyCompatible}
}

var matchTypes = map[string]labels.MatchType{"=": labels.MatchEqual, "!=": labels.MatchNotEqual, "=~": labels.MatchRegexp, "!~": labels.MatchNotRegexp}

// parseMatcher parses name op "value".
func (p *parser) parseMatcher() (*labels.Matcher, error) {
	name, err := p.expectKind(tokIdent, "IDENTIFIER")
	if err != nil {
		return nil, err
	}
	opTok := p.next()
	mt, ok := matchTypes[opTok.text]
	if opTok.kind != tokPunct || !ok {
		return nil, p.unexpected(opTok, "=, !=, =~ or !~")
	}
	val, err := p.expectKind(tokString, "STRING")
	if err != nil {
		return nil, err
	}
	m, err := labels.NewMatcher(mt, name.text, val.text)
	if err != nil {
		return nil, errorAt(val, "invalid regular expression %q: %v", val.text, err)
	}
	return m, nil
}

func isMatchOp(s string) bool {
	_, ok := matchTypes[s]
	return ok
}

// compareOps are the operators of label filters.
var compareOps = map[string]bool{"=": true, "!=": true, "=~": true, "!~": true, "==": true, ">": true, ">=": true, "<": true, "<=": true}

var lineOps = map[string]LineOp{"|=": LineContains, "!=": LineNotContains, "|~": LineMatches, "!~": LineNotMatches}

// parsePipeline parses stages until none follows. With inRange, it also
// accepts `| unwrap …` and the label filters after it.
func (p *parser) parsePipeline(inRange bool) ([]Stage, *Unwrap, error) {
	var (
		stages []Stage
		unwrap *Unwrap
	)
	for {
		t := p.peek()
		if op, ok := lineOps[t.text]; ok && t.kind == tokPunct {
			if unwrap != nil {
				return nil, nil, p.unexpected(t, "label filter after unwrap")
			}
			p.next()
			f, err := p.parseLineFilter(op)
			if err != nil {
				return nil, nil, err
			}
			stages = append(stages, f)
			continue
		}
		if t.kind != tokPunct || t.text != "|" {
			return stages, unwrap, nil
		}
		p.next()
		if unwrap != nil { // only label filters follow an unwrap
			f, err := p.parseLabelFilter()
			if err != nil {
				return nil, nil, err
			}
			unwrap.PostFilters = append(unwrap.PostFilters, f)
			continue
		}
		if inRange && p.is("unwrap") {
			u, err := p.parseUnwrap()
			if err != nil {
				return nil, nil, err
			}
			unwrap = u
			continue
		}
		s, err := p.parseStage()
		if err != nil {
			return nil, nil, err
		}
		stages = append(stages, s)
	}
}

// parseLineFilter parses the string of a line filter.
func (p *parser) parseLineFilter(op LineOp) (*LineFilter, error) {
	t, err := p.expectKind(tokString, "STRING")
	if err != nil {
		return nil, err
	}
	f := &LineFilter{Op: op, Value: t.text}
	if op == LineMatches || op == LineNotMatches {
		if f.re, err = regexp.Compile(t.text); err != nil {
			return nil, errorAt(t, "invalid regular expression %q: %v", t.text, err)
		}
	}
	return f, nil
}
