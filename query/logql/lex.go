package logql

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokenKind classifies a token.
type tokenKind int

const (
	tokEOF    tokenKind = iota
	tokIdent            // label names, keywords, function names
	tokString           // "…" or `…`, unquoted in text
	tokNumber           // digits with an optional unit suffix: 5, 1.5, 5m, 1h30m, 20MB
	tokPunct            // operators and brackets, in text
)

func (k tokenKind) String() string {
	switch k {
	case tokEOF:
		return "end of input"
	case tokIdent:
		return "identifier"
	case tokString:
		return "string"
	case tokNumber:
		return "number"
	}
	return "punctuation"
}

// token is one lexeme with its position: line and column are 1-based, the
// column counted in characters.
type token struct {
	kind      tokenKind
	text      string
	line, col int
}

func (t token) String() string {
	switch t.kind {
	case tokEOF:
		return "end of input"
	case tokString:
		return "string " + strconv.Quote(t.text)
	}
	return strconv.Quote(t.text)
}

// ParseError is a query that does not parse, with Loki's wording:
// "parse error at line 1, col 5: …", or "parse error : …" when the
// problem has no single position.
type ParseError struct {
	Line, Col int
	Msg       string
}

func (e *ParseError) Error() string {
	if e.Line == 0 && e.Col == 0 {
		return "parse error : " + e.Msg
	}
	return fmt.Sprintf("parse error at line %d, col %d: %s", e.Line, e.Col, e.Msg)
}

// punctuation, longest first so that "!=" wins over "!".
var punctuation = []string{"!=", "!~", "|=", "|~", "=~", "==", ">=", "<=", "{", "}", "(", ")", "[", "]", ",", "=", "|", ">", "<", "-", "+", "*", "/", "%", "^"}

// lex splits a query into tokens, ending with tokEOF.
func lex(s string) ([]token, error) {
	l := &lexer{src: s, line: 1, col: 1}
	var out []token
	for {
		t, err := l.next()
		if err != nil {
			return nil, err
		}
		out = append(out, t)
		if t.kind == tokEOF {
			return out, nil
		}
	}
}

type lexer struct {
	src       string
	pos       int
	line, col int
}

// advance moves past n bytes, keeping line and column.
func (l *lexer) advance(n int) {
	for _, r := range l.src[l.pos : l.pos+n] {
		if r == '\n' {
			l.line, l.col = l.line+1, 1
		} else {
			l.col++
		}
	}
	l.pos += n
}

func (l *lexer) errorf(format string, args ...any) error {
	return &ParseError{Line: l.line, Col: l.col, Msg: fmt.Sprintf(format, args...)}
}

func (l *lexer) next() (token, error) {
	l.skipSpaceAndComments()
	t := token{line: l.line, col: l.col}
	if l.pos >= len(l.src) {
		return t, nil
	}
	rest := l.src[l.pos:]
	c := rest[0]
	switch {
	case c == '"' || c == '`':
		s, n, err := unquotePrefix(rest)
		if err != nil {
			return t, l.errorf("%v", err)
		}
		l.advance(n)
		t.kind, t.text = tokString, s
		return t, nil
	case isDigit(c) || (c == '.' && len(rest) > 1 && isDigit(rest[1])):
		n := 1
		for n < len(rest) {
			c := rest[n]
			exponentSign := (c == '+' || c == '-') && (rest[n-1] == 'e' || rest[n-1] == 'E') &&
				n+1 < len(rest) && isDigit(rest[n+1]) && isDecimal(rest[:n-1])
			if !isAlnum(c) && c != '.' && !exponentSign {
				break
			}
			n++
		}
		l.advance(n)
		t.kind, t.text = tokNumber, rest[:n]
		return t, nil
	case isIdentStart(c):
		n := 1
		for n < len(rest) && (isAlnum(rest[n]) || rest[n] == '_') {
			n++
		}
		l.advance(n)
		t.kind, t.text = tokIdent, rest[:n]
		return t, nil
	}
	for _, p := range punctuation {
		if strings.HasPrefix(rest, p) {
			l.advance(len(p))
			t.kind, t.text = tokPunct, p
			return t, nil
		}
	}
	r, _ := utf8.DecodeRuneInString(rest)
	return t, l.errorf("syntax error: unexpected character %q", r)
}

func (l *lexer) skipSpaceAndComments() {
	for l.pos < len(l.src) {
		r, size := utf8.DecodeRuneInString(l.src[l.pos:])
		switch {
		case unicode.IsSpace(r):
			l.advance(size)
		case r == '#': // a comment runs to the end of the line
			n := strings.IndexByte(l.src[l.pos:], '\n')
			if n < 0 {
				n = len(l.src) - l.pos
			}
			l.advance(n)
		default:
			return
		}
	}
}

// unquotePrefix reads the quoted string s starts with and returns its
// value and its length in s. Double quotes take Go's escapes; backquotes
// are raw.
func unquotePrefix(s string) (string, int, error) {
	if s[0] == '`' {
		end := strings.IndexByte(s[1:], '`')
		if end < 0 {
			return "", 0, fmt.Errorf("syntax error: unterminated raw string")
		}
		return s[1 : end+1], end + 2, nil
	}
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '\n':
			return "", 0, fmt.Errorf("syntax error: newline in string")
		case '"':
			v, err := strconv.Unquote(s[:i+1])
			if err != nil {
				return "", 0, fmt.Errorf("syntax error: invalid string %s: %w", s[:i+1], err)
			}
			return v, i + 1, nil
		}
	}
	return "", 0, fmt.Errorf("syntax error: unterminated string")
}

// isDecimal reports whether s is digits with at most one ".", the
// mantissa of a number with an exponent such as 1.5e-3.
func isDecimal(s string) bool {
	return s != "" && strings.Count(s, ".") <= 1 && strings.Trim(s, "0123456789.") == ""
}

func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
func isAlnum(c byte) bool      { return isIdentStart(c) || isDigit(c) }
