package logql

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode"
)

// templateFuncs are the functions line_format and label_format templates
// may call: a subset of Loki's, with Loki's (mostly Sprig's) argument
// order. __line__ and __timestamp__ are bound to the line being
// processed when a pipeline is built (bindTemplate).
func templateFuncs() template.FuncMap {
	return template.FuncMap{
		"__line__":      func() string { return "" },
		"__timestamp__": func() time.Time { return time.Time{} },

		// Go's strings, with Go's argument order.
		"ToLower": strings.ToLower, "ToUpper": strings.ToUpper,
		"Replace": strings.Replace, "Trim": strings.Trim,
		"TrimLeft": strings.TrimLeft, "TrimRight": strings.TrimRight,
		"TrimPrefix": strings.TrimPrefix, "TrimSuffix": strings.TrimSuffix,
		"TrimSpace": strings.TrimSpace,

		// Sprig's, the value last so that they chain in pipelines.
		"lower": strings.ToLower, "upper": strings.ToUpper, "title": title,
		"trim":       strings.TrimSpace,
		"trimAll":    func(cut, s string) string { return strings.Trim(s, cut) },
		"trimPrefix": func(p, s string) string { return strings.TrimPrefix(s, p) },
		"trimSuffix": func(p, s string) string { return strings.TrimSuffix(s, p) },
		"replace":    func(old, repl, s string) string { return strings.ReplaceAll(s, old, repl) },
		"contains":   func(sub, s string) bool { return strings.Contains(s, sub) },
		"hasPrefix":  func(p, s string) bool { return strings.HasPrefix(s, p) },
		"hasSuffix":  func(p, s string) bool { return strings.HasSuffix(s, p) },
		"repeat":     func(n int, s string) string { return strings.Repeat(s, max(n, 0)) },
		"trunc":      trunc,
		"substr":     substr,
		"default":    dflt,
		"regexReplaceAll": func(re, s, repl string) (string, error) {
			r, err := regexp.Compile(re)
			if err != nil {
				return "", err
			}
			return r.ReplaceAllString(s, repl), nil
		},
		"regexReplaceAllLiteral": func(re, s, repl string) (string, error) {
			r, err := regexp.Compile(re)
			if err != nil {
				return "", err
			}
			return r.ReplaceAllLiteralString(s, repl), nil
		},
		"unixEpoch":       func(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) },
		"unixEpochMillis": func(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) },
		"unixEpochNanos":  func(t time.Time) string { return strconv.FormatInt(t.UnixNano(), 10) },
		"date":            func(layout string, t time.Time) string { return t.UTC().Format(layout) },
		"toDate": func(layout, s string) time.Time {
			t, _ := time.Parse(layout, s)
			return t
		},
		"add":   func(a, b float64) float64 { return a + b },
		"sub":   func(a, b float64) float64 { return a - b },
		"mul":   func(a, b float64) float64 { return a * b },
		"div":   func(a, b float64) float64 { return a / b },
		"floor": math.Floor, "ceil": math.Ceil, "round": math.Round,
	}
}

func title(s string) string {
	prev := ' '
	return strings.Map(func(r rune) rune {
		defer func() { prev = r }()
		if unicode.IsSpace(prev) {
			return unicode.ToTitle(r)
		}
		return r
	}, s)
}

func trunc(n int, s string) string {
	switch {
	case n >= 0 && len(s) > n:
		return s[:n]
	case n < 0 && len(s) > -n:
		return s[len(s)+n:]
	}
	return s
}

func substr(start, end int, s string) string {
	if start < 0 {
		start = 0
	}
	if end < 0 || end > len(s) {
		end = len(s)
	}
	if start > end {
		return ""
	}
	return s[start:end]
}

// dflt is Sprig's default: def when v is empty.
func dflt(def string, v ...string) string {
	if len(v) == 0 || v[0] == "" {
		return def
	}
	return v[0]
}

// newTemplate parses a template; a missing label is "".
func newTemplate(name, text string) (*template.Template, error) {
	return template.New(name).Option("missingkey=zero").Funcs(templateFuncs()).Parse(text)
}

// lineContext is the line a pipeline is processing, for __line__ and
// __timestamp__.
type lineContext struct {
	line string
	ts   int64
}

// bindTemplate returns a copy of t whose __line__ and __timestamp__ read
// c, so that a parsed query can run in several pipelines at once.
func bindTemplate(t *template.Template, c *lineContext) *template.Template {
	clone := template.Must(t.Clone())
	return clone.Funcs(template.FuncMap{
		"__line__":      func() string { return c.line },
		"__timestamp__": func() time.Time { return time.Unix(0, c.ts).UTC() },
	})
}
