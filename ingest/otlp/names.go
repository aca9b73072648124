package otlp

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// kind is what a metric becomes in Prometheus, as far as its name is
// concerned.
type kind int

const (
	kindGauge   kind = iota
	kindCounter      // a monotonic cumulative sum
	kindUpDown       // a non-monotonic cumulative sum: a gauge, without "_ratio"
	kindHistogram
	kindSummary
)

// unitNames spells OTLP (UCUM) units the way Prometheus metric names do.
// The set is the one Prometheus' OTLP translator uses; a unit not listed
// is kept as it is, cleaned to the name charset.
var unitNames = map[string]string{
	"d": "days", "h": "hours", "min": "minutes", "s": "seconds",
	"ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds",
	"By": "bytes", "KiBy": "kibibytes", "MiBy": "mebibytes", "GiBy": "gibibytes",
	"TiBy": "tibibytes", "KBy": "kilobytes", "MBy": "megabytes", "GBy": "gigabytes",
	"TBy": "terabytes", "m": "meters", "V": "volts", "A": "amperes", "J": "joules",
	"W": "watts", "g": "grams", "Cel": "celsius", "Hz": "hertz", "1": "", "%": "percent",
}

// perUnitNames spells the denominator of a rate unit ("By/s").
var perUnitNames = map[string]string{
	"s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week", "mo": "month", "y": "year",
}

// metricName builds the Prometheus name of an OTLP metric the way
// Prometheus' OTLP receiver does by default (underscore escaping with
// suffixes): runs of characters outside [a-zA-Z0-9:] become one
// underscore, the unit is appended ("_seconds", "_bytes_per_second")
// unless the name has it already, monotonic counters end in "_total" and
// gauges of unit "1" in "_ratio"; a leading digit gets an underscore. It
// fails only when nothing of the name is left.
func metricName(name, unit string, k kind) (string, error) {
	tokens := strings.FieldsFunc(name, func(r rune) bool { return !isNameChar(r) })
	main, per := unitSuffixes(unit)
	if slices.Contains(tokens, main) {
		main = ""
	}
	if slices.Contains(tokens, per) {
		per = ""
	}
	if per != "" {
		main = strings.TrimSuffix(main, "_")
	}
	for _, suffix := range []string{main, per} {
		if suffix != "" {
			tokens = append(tokens, suffix)
		}
	}
	switch {
	case k == kindCounter:
		tokens = append(slices.DeleteFunc(tokens, func(s string) bool { return s == "total" }), "total")
	case k == kindGauge && unit == "1":
		tokens = append(slices.DeleteFunc(tokens, func(s string) bool { return s == "ratio" }), "ratio")
	}
	out := strings.Join(tokens, "_")
	if out == "" || strings.Trim(out, "_") == "" {
		return "", fmt.Errorf("metric name %q has no character of [a-zA-Z0-9:]", truncate(name))
	}
	if out[0] >= '0' && out[0] <= '9' {
		out = "_" + out
	}
	return out, nil
}

// unitSuffixes splits an OTLP unit into the name suffixes for its main
// part and its "per" part: "By/s" → "bytes", "per_second". Annotations in
// braces ("{request}") add nothing.
func unitSuffixes(unit string) (main, per string) {
	mainUnit, perUnit, _ := strings.Cut(unit, "/")
	if u := strings.TrimSpace(mainUnit); u != "" && !strings.ContainsAny(u, "{}") {
		main = cleanUnit(lookup(unitNames, u))
	}
	if u := strings.TrimSpace(perUnit); u != "" && !strings.ContainsAny(u, "{}") {
		if p := cleanUnit(lookup(perUnitNames, u)); p != "" {
			per = "per_" + strings.TrimSuffix(p, "_")
		}
	}
	return main, per
}

func lookup(m map[string]string, k string) string {
	if v, ok := m[k]; ok {
		return v
	}
	return k
}

// cleanUnit maps a unit to the name charset: invalid characters become
// underscores, runs of them one, and a leading one is dropped.
func cleanUnit(u string) string {
	var b strings.Builder
	prevUnderscore := false
	for _, r := range u {
		if !isNameChar(r) {
			r = '_'
		}
		if r == '_' && prevUnderscore {
			continue
		}
		prevUnderscore = r == '_'
		b.WriteRune(r)
	}
	return strings.TrimPrefix(b.String(), "_")
}

func isNameChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == ':'
}

// labelName sanitizes an attribute key into a Prometheus label name as
// Prometheus' OTLP receiver does: runs of characters outside
// [a-zA-Z0-9] become one underscore ("http.request.method" →
// "http_request_method"), a leading digit gets a "key_" prefix, and the
// reserved form "__x__" keeps its double underscores. It fails for keys
// that are empty or nothing but underscores once sanitized.
func labelName(key string) (string, error) {
	if key == "" {
		return "", fmt.Errorf("attribute key is empty")
	}
	inner, reserved := key, false
	if len(key) >= 4 && strings.HasPrefix(key, "__") && strings.HasSuffix(key, "__") {
		inner, reserved = key[2:len(key)-2], true
	}
	b := make([]byte, 0, len(inner)+6)
	prevUnderscore := false
	for i := 0; i < len(inner); {
		r, size := utf8.DecodeRuneInString(inner[i:])
		i += size
		if r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			b = append(b, byte(r))
			prevUnderscore = false
		} else if !prevUnderscore {
			b = append(b, '_')
			prevUnderscore = true
		}
	}
	name := string(b)
	if reserved {
		name = "__" + name + "__"
	}
	if name[0] >= '0' && name[0] <= '9' {
		name = "key_" + name
	}
	if strings.Trim(name, "_") == "" {
		return "", fmt.Errorf("attribute key %q is nothing but underscores once sanitized", truncate(key))
	}
	return name, nil
}

func truncate(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
