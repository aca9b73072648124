package logql

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// parseJSONFields sets a label for every string, number and boolean field
// of the JSON object line, nested objects flattened with "_" (a.b is
// a_b); arrays and nulls are skipped, as in Loki. A line that is not a
// JSON object sets __error__=JSONParserErr, keeping what was read.
func parseJSONFields(line string, s *labelSet) {
	d := json.NewDecoder(strings.NewReader(line))
	d.UseNumber()
	t, err := d.Token()
	if err == nil && t != json.Delim('{') {
		err = errors.New("expecting a JSON object")
	}
	if err == nil {
		err = jsonObject(d, "", s)
	}
	if err != nil {
		s.setErr(errJSON, err.Error())
	}
}

// jsonObject reads the fields of an object whose "{" was read.
func jsonObject(d *json.Decoder, prefix string, s *labelSet) error {
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return err
		}
		key := sanitizeLabelName(t.(string))
		if prefix != "" {
			key = prefix + "_" + key
		}
		if err := jsonValue(d, key, s); err != nil {
			return err
		}
	}
	_, err := d.Token() // "}"
	return err
}

func jsonValue(d *json.Decoder, key string, s *labelSet) error {
	t, err := d.Token()
	if err != nil {
		return err
	}
	switch v := t.(type) {
	case json.Delim:
		if v == '{' {
			return jsonObject(d, key, s)
		}
		return skipJSON(d) // an array
	}
	if key == "" { // no valid label name
		return nil
	}
	switch v := t.(type) {
	case string:
		s.set(s.parsedName(key), v, catParsed)
	case json.Number:
		s.set(s.parsedName(key), string(v), catParsed)
	case bool:
		s.set(s.parsedName(key), strconv.FormatBool(v), catParsed)
	}
	return nil
}

// skipJSON reads to the end of the array or object whose opening
// delimiter was read.
func skipJSON(d *json.Decoder) error {
	for depth := 1; depth > 0; {
		t, err := d.Token()
		if err != nil {
			return err
		}
		if delim, ok := t.(json.Delim); ok {
			if delim == '[' || delim == '{' {
				depth++
			} else {
				depth--
			}
		}
	}
	return nil
}

// jsonPathElem is a key or an index of a JSON path.
type jsonPathElem struct {
	key   string
	index int // when key is ""
}

// parseJSONPath reads a path such as a.b[0]["c d"].
func parseJSONPath(s string) ([]jsonPathElem, error) {
	var out []jsonPathElem
	for i := 0; i < len(s); {
		switch {
		case s[i] == '.' && i > 0:
			i++
		case s[i] == '[':
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				return nil, errors.New("unclosed [")
			}
			inner := s[i+1 : i+end]
			if k, err := strconv.Unquote(inner); err == nil {
				out = append(out, jsonPathElem{key: k})
			} else if n, err := strconv.Atoi(inner); err == nil && n >= 0 {
				out = append(out, jsonPathElem{index: n})
			} else {
				return nil, fmt.Errorf("invalid index %q", inner)
			}
			i += end + 1
			continue
		}
		j := i
		for j < len(s) && s[j] != '.' && s[j] != '[' {
			j++
		}
		if j == i {
			return nil, fmt.Errorf("empty field at offset %d", i)
		}
		out = append(out, jsonPathElem{key: s[i:j]})
		i = j
	}
	if len(out) == 0 {
		return nil, errors.New("empty path")
	}
	return out, nil
}

// extractJSON sets each extraction's label to the value at its path: a
// string unquoted, anything else as written; "" when it is absent.
func extractJSON(line string, exts []Extraction, paths [][]jsonPathElem, s *labelSet) {
	trimmed := strings.TrimSpace(line)
	if trimmed == "" || !strings.ContainsRune(`{["`, rune(trimmed[0])) {
		s.setErr(errJSON, "expecting a JSON value")
		return
	}
	for i, e := range exts {
		v, err := jsonAt(json.RawMessage(trimmed), paths[i])
		if err != nil && !errors.Is(err, errNoField) {
			s.setErr(errJSON, err.Error())
			return
		}
		s.set(s.parsedName(e.Label), v, catParsed)
	}
}

var errNoField = errors.New("no such field")

func jsonAt(raw json.RawMessage, path []jsonPathElem) (string, error) {
	for _, el := range path {
		if el.key != "" {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(raw, &m); err != nil {
				return "", errNoField
			}
			if raw = m[el.key]; raw == nil {
				return "", errNoField
			}
			continue
		}
		var a []json.RawMessage
		if err := json.Unmarshal(raw, &a); err != nil || el.index >= len(a) {
			return "", errNoField
		}
		raw = a[el.index]
	}
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return "", nil
	case raw[0] == '"':
		var v string
		err := json.Unmarshal(raw, &v)
		return v, err
	}
	return string(raw), nil
}

// parseLogfmt sets a label for each key=value pair of the line (a bare
// key has the value ""), or for the extractions' keys only. A malformed
// line sets __error__=LogfmtParserErr, keeping the pairs before.
func parseLogfmt(line string, exts []Extraction, s *labelSet) {
	err := scanLogfmt(line, func(key, val string) {
		name := sanitizeLabelName(key)
		if name == "" {
			return
		}
		if exts != nil {
			for _, e := range exts {
				if e.Path == key {
					s.set(s.parsedName(e.Label), val, catParsed)
				}
			}
			return
		}
		s.set(s.parsedName(name), val, catParsed)
	})
	if err != nil {
		s.setErr(errLogfmt, err.Error())
	}
}

// scanLogfmt calls emit for each pair of a logfmt line: keys are runs of
// non-space characters up to "=", values are bare or double-quoted with
// Go's escapes.
func scanLogfmt(line string, emit func(key, val string)) error {
	i := 0
	for {
		for i < len(line) && line[i] <= ' ' {
			i++
		}
		if i >= len(line) {
			return nil
		}
		start := i
		for i < len(line) && line[i] > ' ' && line[i] != '=' {
			if line[i] == '"' {
				return fmt.Errorf("logfmt syntax error at pos %d : unexpected '\"'", i+1)
			}
			i++
		}
		if i == start {
			return fmt.Errorf("logfmt syntax error at pos %d : unexpected '='", i+1)
		}
		key := line[start:i]
		if i >= len(line) || line[i] != '=' {
			emit(key, "")
			continue
		}
		i++ // "="
		val, n, err := logfmtValue(line[i:])
		if err != nil {
			return fmt.Errorf("logfmt syntax error at pos %d : %w", i+1, err)
		}
		i += n
		emit(key, val)
	}
}

// logfmtValue reads the value s starts with and returns its length.
func logfmtValue(s string) (string, int, error) {
	if s == "" || s[0] <= ' ' {
		return "", 0, nil
	}
	if s[0] != '"' {
		n := 0
		for n < len(s) && s[n] > ' ' {
			if s[n] == '"' {
				return "", 0, errors.New("unexpected '\"'")
			}
			n++
		}
		return s[:n], n, nil
	}
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			v, err := strconv.Unquote(s[:i+1])
			if err != nil {
				return "", 0, errors.New("invalid quoted value")
			}
			return v, i + 1, nil
		}
	}
	return "", 0, errors.New("unterminated quoted value")
}

// pattern is a compiled pattern parser expression: literals and
// captures, <name> or <_>.
type pattern struct {
	nodes []patternNode
}

type patternNode struct {
	literal string // a literal when capture is false
	name    string // "_" for an unnamed capture
	capture bool
}

// compilePattern reads a pattern expression such as
// "<ip> - <_> [<ts>] \"<method> <path> <_>\"".
func compilePattern(s string) (*pattern, error) {
	p := &pattern{}
	seen := map[string]bool{}
	lit := ""
	for i := 0; i < len(s); {
		if s[i] == '<' {
			if end := strings.IndexByte(s[i:], '>'); end > 1 && (s[i+1:i+end] == "_" || validLabelName(s[i+1:i+end])) {
				name := s[i+1 : i+end]
				if lit != "" {
					p.nodes, lit = append(p.nodes, patternNode{literal: lit}), ""
				}
				if n := len(p.nodes); n > 0 && p.nodes[n-1].capture {
					return nil, fmt.Errorf("found consecutive capture '<%s>': invalid expression", name)
				}
				if name != "_" && seen[name] {
					return nil, fmt.Errorf("duplicate capture name (%s): invalid expression", name)
				}
				seen[name] = name != "_"
				p.nodes = append(p.nodes, patternNode{name: name, capture: true})
				i += end + 1
				continue
			}
		}
		lit += s[i : i+1]
		i++
	}
	if lit != "" {
		p.nodes = append(p.nodes, patternNode{literal: lit})
	}
	named := 0
	for _, v := range seen {
		if v {
			named++
		}
	}
	if named == 0 {
		return nil, errors.New("at least one capture is required")
	}
	return p, nil
}

// match calls set for each named capture of line, as Loki matches: a
// leading literal must start the line; each capture runs to the next
// literal, or to the end of the line when that literal is missing, which
// ends the match.
func (p *pattern) match(line string, set func(name, value string)) {
	nodes := p.nodes
	if len(line) == 0 {
		return
	}
	if !nodes[0].capture {
		if !strings.HasPrefix(line, nodes[0].literal) {
			return
		}
		line, nodes = line[len(nodes[0].literal):], nodes[1:]
	}
	for len(nodes) > 0 {
		c := nodes[0]
		if len(nodes) == 1 {
			if c.name != "_" {
				set(c.name, line)
			}
			return
		}
		lit := nodes[1].literal
		nodes = nodes[2:]
		i := strings.Index(line, lit)
		if i < 0 {
			if c.name != "_" {
				set(c.name, line)
			}
			return
		}
		if c.name != "_" {
			set(c.name, line[:i])
		}
		line = line[i+len(lit):]
	}
}
