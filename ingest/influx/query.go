package influx

import (
	"errors"
	"fmt"
	"strings"
)

// CreateDatabases parses q, the q parameter of InfluxDB 1.x's /query, and
// returns how many statements it holds if every one is CREATE DATABASE
// <name>: what Telegraf's influxdb output and other 1.x clients send
// before writing. The name is an identifier, bare ([A-Za-z_][A-Za-z0-9_]*)
// or double-quoted with \" and \\ escapes. Statements are separated by
// semicolons. Anything else is an error naming the statement.
func CreateDatabases(q string) (int, error) {
	stmts, err := splitStatements(q)
	if err != nil {
		return 0, err
	}
	if len(stmts) == 0 {
		return 0, errors.New("error parsing query: found EOF, expected CREATE DATABASE")
	}
	for i, s := range stmts {
		if err := parseCreateDatabase(s); err != nil {
			return 0, fmt.Errorf("statement %d %q: %w", i+1, abbreviate(s), err)
		}
	}
	return len(stmts), nil
}

// splitStatements splits q at semicolons outside quotes, dropping empty
// statements.
func splitStatements(q string) ([]string, error) {
	var (
		out   []string
		start int
		quote byte // the open quote, or 0
	)
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0 && c == '\\':
			i++
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
		case c == '"' || c == '\'':
			quote = c
		case c == ';':
			out = appendStatement(out, q[start:i])
			start = i + 1
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("error parsing query: unterminated quoted string in %q", abbreviate(q))
	}
	return appendStatement(out, q[start:]), nil
}

func appendStatement(out []string, s string) []string {
	if s = strings.TrimSpace(s); s != "" {
		out = append(out, s)
	}
	return out
}

// parseCreateDatabase accepts `CREATE DATABASE <ident>`, keywords in any
// case, nothing after the name.
func parseCreateDatabase(s string) error {
	rest, ok := keyword(s, "CREATE")
	if ok {
		rest, ok = keyword(rest, "DATABASE")
	}
	if !ok {
		return errors.New("only CREATE DATABASE <name> is supported")
	}
	rest, err := identifier(rest)
	if err != nil {
		return err
	}
	if rest = strings.TrimSpace(rest); rest != "" {
		return fmt.Errorf("unexpected %q after the database name: retention and other clauses are not supported", abbreviate(rest))
	}
	return nil
}

// keyword consumes kw, in any case, and the blanks after it, from s.
func keyword(s, kw string) (string, bool) {
	s = strings.TrimLeft(s, " \t\r\n")
	if len(s) < len(kw) || !strings.EqualFold(s[:len(kw)], kw) {
		return s, false
	}
	rest := s[len(kw):]
	if rest != "" && !isBlank(rest[0]) {
		return s, false
	}
	return strings.TrimLeft(rest, " \t\r\n"), true
}

// identifier consumes a bare or double-quoted identifier from s.
func identifier(s string) (string, error) {
	if s == "" {
		return "", errors.New("found EOF, expected the database name")
	}
	if s[0] == '"' {
		for i := 1; i < len(s); i++ {
			switch s[i] {
			case '\\':
				i++
			case '"':
				if i == 1 {
					return "", errors.New("the database name is empty")
				}
				return s[i+1:], nil
			}
		}
		return "", errors.New("unterminated quoted database name")
	}
	n := 0
	for n < len(s) && (s[n] == '_' || s[n] >= 'a' && s[n] <= 'z' || s[n] >= 'A' && s[n] <= 'Z' || n > 0 && s[n] >= '0' && s[n] <= '9') {
		n++
	}
	if n == 0 {
		return "", fmt.Errorf("found %q, expected the database name (quote names that are not [A-Za-z_][A-Za-z0-9_]*)", abbreviate(s))
	}
	return s[n:], nil
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func abbreviate(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
