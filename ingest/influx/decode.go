package influx

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/cairn-dev/cairn/store"
)

// ErrDecode is wrapped by every error about the body itself.
var ErrDecode = errors.New("cannot decode line protocol")

// Precision is the unit of line protocol timestamps, in nanoseconds.
type Precision int64

// ParsePrecision reads the precision query parameter of InfluxDB's write
// endpoints: ns (the default), us, ms, s, and the 1.x spellings n, u, m
// and h.
func ParsePrecision(s string) (Precision, error) {
	switch s {
	case "", "n", "ns":
		return 1, nil
	case "u", "us", "µ", "µs":
		return Precision(time.Microsecond), nil
	case "ms":
		return Precision(time.Millisecond), nil
	case "s":
		return Precision(time.Second), nil
	case "m":
		return Precision(time.Minute), nil
	case "h":
		return Precision(time.Hour), nil
	}
	return 0, fmt.Errorf("precision %q is not supported: use ns, us, ms or s", truncate(s))
}

// Result is what Decode made of a body.
type Result struct {
	// Series holds one series of one sample per numeric or boolean field.
	Series []store.Series
	// Line holds, for each of Series, the line it came from (from 1).
	Line []int
	// Lines counts the entries of the body; Bad those that could not be
	// parsed and were skipped whole.
	Lines, Bad int
	// Strings counts string fields, which have no place in a time series
	// and are skipped.
	Strings int
}

// decoder holds the state of one Decode call.
type decoder struct {
	res     *Result
	body    []byte
	off     int // where line starts in body
	line    int // the line of the current entry, from 1
	tenant  string
	prec    Precision
	now     int64 // ns, truncated to prec
	b       labels.ScratchBuilder
	tags    []labels.Label
	fields  []field
	samples []store.Sample
}

type field struct {
	name string
	v    float64
}

// Decode parses a line protocol body into series for tenant: one per
// field, named <measurement>_<field>, labelled with the tags, as
// Prometheus-style stores (and Telegraf's own Prometheus output) do.
// Float, integer and unsigned fields keep their value, booleans become 0
// or 1; string fields are counted and skipped. Timestamps are read in
// prec; a line without one gets now. A line that cannot be parsed is
// skipped whole and counted; the error, wrapping ErrDecode, names the
// first with its line and column. The other lines are still returned.
func Decode(body []byte, tenant string, prec Precision, now time.Time) (*Result, error) {
	d := &decoder{
		res:    &Result{},
		body:   body,
		line:   1,
		tenant: tenant,
		prec:   prec,
		now:    now.Truncate(time.Duration(prec)).UnixNano(),
		b:      labels.NewScratchBuilder(16),
	}
	dec := lineprotocol.NewDecoderWithBytes(body)
	var first error
	for dec.Next() {
		d.res.Lines++
		if err := d.entry(dec); err != nil {
			d.res.Bad++
			if first == nil {
				first = describe(err, d.line)
			}
		}
	}
	return d.res, first
}

// locate sets d.line to the line where the entry whose measurement is m
// starts. The decoder returns a measurement without escapes as a slice of
// the body itself, whose offset its capacity tells; the pointer check
// makes sure of it. A measurement with escapes is a copy: the line is
// then left at the previous entry's, which only error messages use.
func (d *decoder) locate(m []byte) {
	off := cap(d.body) - cap(m)
	if len(m) == 0 || off < d.off || off+len(m) > len(d.body) || &d.body[off] != &m[0] {
		return
	}
	d.line += bytes.Count(d.body[d.off:off], []byte{'\n'})
	d.off = off
}

// describe words an error about the entry that started on line, with
// its position.
func describe(err error, line int) error {
	var de *lineprotocol.DecodeError
	if errors.As(err, &de) {
		return fmt.Errorf("%w: line %d, column %d: %v", ErrDecode, de.Line, de.Column, de.Err)
	}
	return fmt.Errorf("%w: line %d: %v", ErrDecode, line, err)
}

// entry decodes one entry and adds its series, or none when any part of
// it is wrong.
func (d *decoder) entry(dec *lineprotocol.Decoder) error {
	m, err := dec.Measurement()
	if err != nil {
		return err
	}
	d.locate(m)
	measurement := string(m)
	if err := d.readTags(dec); err != nil {
		return err
	}
	strs, err := d.readFields(dec)
	if err != nil {
		return err
	}
	t, err := d.readTime(dec)
	if err != nil {
		return err
	}
	d.res.Strings += strs
	for _, f := range d.fields {
		d.emit(metricName(measurement+"_"+f.name), t, f.v, d.line)
	}
	return nil
}

// readTags reads a line's tags into d.tags, keyed by their label names;
// a key given twice (or two keys that sanitize alike) keeps the last
// value. Empty values are left out.
func (d *decoder) readTags(dec *lineprotocol.Decoder) error {
	d.tags = d.tags[:0]
	for {
		k, v, err := dec.NextTag()
		if err != nil {
			return err
		}
		if k == nil {
			return nil
		}
		name := labelName(k)
		if name == labels.MetricName {
			return fmt.Errorf("tag key %q is reserved", k)
		}
		i := slices.IndexFunc(d.tags, func(l labels.Label) bool { return l.Name == name })
		switch {
		case i >= 0 && len(v) == 0:
			d.tags = slices.Delete(d.tags, i, i+1)
		case i >= 0:
			d.tags[i].Value = string(v)
		case len(v) > 0:
			d.tags = append(d.tags, labels.Label{Name: name, Value: string(v)})
		}
	}
}

// readFields reads a line's numeric and boolean fields into d.fields (a
// key given twice keeps the last value) and counts its string fields.
func (d *decoder) readFields(dec *lineprotocol.Decoder) (strs int, err error) {
	d.fields = d.fields[:0]
	for {
		k, v, err := dec.NextField()
		if err != nil {
			return 0, err
		}
		if k == nil {
			return strs, nil
		}
		var f float64
		switch v.Kind() {
		case lineprotocol.Float:
			f = v.FloatV()
		case lineprotocol.Int:
			f = float64(v.IntV())
		case lineprotocol.Uint:
			f = float64(v.UintV())
		case lineprotocol.Bool:
			if v.BoolV() {
				f = 1
			}
		default:
			strs++
			continue
		}
		if i := slices.IndexFunc(d.fields, func(x field) bool { return string(k) == x.name }); i >= 0 {
			d.fields[i].v = f
			continue
		}
		d.fields = append(d.fields, field{name: string(k), v: f})
	}
}

// readTime returns a line's timestamp in milliseconds.
func (d *decoder) readTime(dec *lineprotocol.Decoder) (int64, error) {
	tb, err := dec.TimeBytes()
	if err != nil {
		return 0, err
	}
	if tb == nil {
		return d.now / 1e6, nil
	}
	ts, err := strconv.ParseInt(string(tb), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("timestamp %q is not an integer", tb)
	}
	p := int64(d.prec)
	if ts > math.MaxInt64/p || ts < math.MinInt64/p {
		return 0, fmt.Errorf("timestamp %d is out of range for precision %s", ts, time.Duration(p))
	}
	return ts * p / 1e6, nil
}

func (d *decoder) emit(name string, t int64, v float64, line int) {
	d.b.Reset()
	for _, l := range d.tags {
		d.b.Add(l.Name, l.Value)
	}
	d.b.Add(labels.MetricName, name)
	d.b.Sort()
	if len(d.samples) == 0 {
		d.samples = make([]store.Sample, 256)
	}
	smp := d.samples[:1:1]
	d.samples = d.samples[1:]
	smp[0] = store.Sample{T: t, V: v}
	d.res.Series = append(d.res.Series, store.Series{Tenant: d.tenant, Labels: d.b.Labels(), Samples: smp})
	d.res.Line = append(d.res.Line, line)
}

// metricName maps <measurement>_<field> to the metric name charset:
// every character outside [a-zA-Z0-9_:] becomes "_", and a leading digit
// gets one before it.
func metricName(s string) string {
	return sanitize(s, func(r rune) bool { return isLabelChar(r) || r == ':' })
}

// labelName maps a tag key to the label name charset the same way, with
// [a-zA-Z0-9_].
func labelName(k []byte) string {
	return sanitize(string(k), isLabelChar)
}

func sanitize(s string, valid func(rune) bool) string {
	clean := true
	for _, r := range s {
		if !valid(r) {
			clean = false
			break
		}
	}
	if !clean {
		s = strings.Map(func(r rune) rune {
			if valid(r) {
				return r
			}
			return '_'
		}, s)
	}
	if s != "" && s[0] >= '0' && s[0] <= '9' {
		s = "_" + s
	}
	return s
}

func isLabelChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_'
}

func truncate(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
