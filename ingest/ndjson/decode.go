package ndjson

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/cairn-dev/cairn/store"
)

// ErrDecode is wrapped by every error about the body itself.
var ErrDecode = errors.New("cannot decode NDJSON logs")

// Options say which fields mean what. Empty fields take the defaults.
type Options struct {
	MessageFields []string // the first present is the line
	TimeFields    []string // the first present is the time
	StreamFields  []string // present ones become stream labels
}

// Defaults are the options used for fields a request leaves empty.
var defaults = Options{
	MessageFields: []string{"message", "msg", "log", "line"},
	TimeFields:    []string{"timestamp", "time", "ts", "@timestamp"},
	StreamFields:  []string{"service", "job", "host", "level"},
}

func (o Options) withDefaults() Options {
	if len(o.MessageFields) == 0 {
		o.MessageFields = defaults.MessageFields
	}
	if len(o.TimeFields) == 0 {
		o.TimeFields = defaults.TimeFields
	}
	if len(o.StreamFields) == 0 {
		o.StreamFields = defaults.StreamFields
	}
	return o
}

// Decode decodes body, one JSON object per line; blank lines are skipped.
// now is the time of entries that carry none. An error names the line.
func Decode(body []byte, tenant string, opts Options, now time.Time) ([]store.LogEntry, error) {
	opts = opts.withDefaults()
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 64<<10), len(body)+1)
	var out []store.LogEntry
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		e, err := decodeObject(line, opts, now)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrDecode, n, err)
		}
		e.Tenant = tenant
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecode, err)
	}
	return out, nil
}

func decodeObject(line []byte, opts Options, now time.Time) (store.LogEntry, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(line, &obj); err != nil {
		return store.LogEntry{}, fmt.Errorf("want a JSON object: %v", err)
	}
	e := store.LogEntry{T: now.UnixNano()}
	if k, v, ok := first(obj, opts.MessageFields); ok {
		e.Line = scalar(v)
		delete(obj, k)
	}
	if k, v, ok := first(obj, opts.TimeFields); ok {
		t, err := parseTime(v)
		if err != nil {
			return store.LogEntry{}, fmt.Errorf("field %q: %v", k, err)
		}
		e.T = t
		delete(obj, k)
	}
	stream := labels.NewScratchBuilder(len(opts.StreamFields))
	for _, f := range opts.StreamFields {
		if v, ok := obj[f]; ok {
			stream.Add(f, scalar(v))
			delete(obj, f)
		}
	}
	stream.Sort()
	e.Stream = stream.Labels()
	md := labels.NewScratchBuilder(len(obj))
	for k, v := range obj {
		md.Add(k, scalar(v))
	}
	md.Sort()
	e.Metadata = md.Labels()
	return e, nil
}

func first(obj map[string]json.RawMessage, names []string) (string, json.RawMessage, bool) {
	for _, n := range names {
		if v, ok := obj[n]; ok {
			return n, v, true
		}
	}
	return "", nil, false
}

// scalar renders a JSON value as a label value: strings unquoted, anything
// else as its JSON text.
func scalar(v json.RawMessage) string {
	var s string
	if len(v) > 0 && v[0] == '"' && json.Unmarshal(v, &s) == nil {
		return s
	}
	return string(v)
}

// parseTime accepts RFC 3339 strings and Unix times as numbers or numeric
// strings. An integer's size tells its unit: seconds, milliseconds,
// microseconds or nanoseconds; a number with a fraction is seconds.
func parseTime(v json.RawMessage) (int64, error) {
	s := scalar(v)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UnixNano(), nil
	}
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
		switch { // integers scale exactly
		case n >= 1e17:
			return n, nil // ns
		case n >= 1e14:
			return n * 1e3, nil // µs
		case n >= 1e11:
			return n * 1e6, nil // ms
		default:
			return n * 1e9, nil // s
		}
	}
	if t, ok := decimalSeconds(s); ok {
		return t, nil
	}
	return 0, fmt.Errorf("%s is neither RFC 3339 nor a Unix time", truncate(s))
}

// decimalSeconds parses "<seconds>.<fraction>" exactly, to nanoseconds.
func decimalSeconds(s string) (int64, bool) {
	whole, frac, ok := strings.Cut(s, ".")
	if !ok || frac == "" || len(frac) > 9 {
		return 0, false
	}
	sec, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || sec < 0 || sec >= 1e11 {
		return 0, false
	}
	ns, err := strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
	if err != nil || ns < 0 {
		return 0, false
	}
	return sec*1e9 + ns, true
}

func truncate(s string) string {
	if len(s) > 64 {
		return strconv.Quote(s[:64]) + "…"
	}
	return strconv.Quote(s)
}
