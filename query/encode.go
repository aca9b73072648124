package query

import (
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
)

// appendQueryData appends the data of a query response,
// {"resultType":…,"result":…}, byte for byte as Prometheus writes it.
// Vectors and matrices are written by hand: they are the large responses.
func appendQueryData(buf []byte, v parser.Value) ([]byte, error) {
	buf = append(buf, `{"resultType":"`...)
	buf = append(buf, v.Type()...)
	buf = append(buf, `","result":`...)
	switch v := v.(type) {
	case promql.Vector:
		buf = appendVector(buf, v)
	case promql.Matrix:
		buf = appendMatrix(buf, v)
	case promql.Scalar:
		// Prometheus writes scalars and strings with encoding/json.
		b, err := v.MarshalJSON()
		if err != nil {
			return nil, err
		}
		buf = append(buf, b...)
	case promql.String:
		b, err := v.MarshalJSON()
		if err != nil {
			return nil, err
		}
		buf = append(buf, b...)
	default:
		return nil, fmt.Errorf("encode query result of type %T", v)
	}
	return append(buf, '}'), nil
}

// appendVector appends [{"metric":{…},"value":[<t>,"<v>"]},…], a
// histogram sample as "histogram":[<t>,{…}].
func appendVector(buf []byte, vec promql.Vector) []byte {
	buf = append(buf, '[')
	for i, s := range vec {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"metric":`...)
		buf = appendLabels(buf, s.Metric)
		if s.H != nil {
			buf = append(buf, `,"histogram":`...)
			buf = appendHPoint(buf, s.T, s.H)
		} else {
			buf = append(buf, `,"value":`...)
			buf = appendPoint(buf, s.T, s.F)
		}
		buf = append(buf, '}')
	}
	return append(buf, ']')
}

// appendMatrix appends [{"metric":{…},"values":[[<t>,"<v>"],…]},…],
// histogram points under "histograms":[[<t>,{…}],…]. A series without
// float points has no "values", one without histograms no "histograms",
// as in Prometheus.
func appendMatrix(buf []byte, m promql.Matrix) []byte {
	buf = append(buf, '[')
	for i, s := range m {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"metric":`...)
		buf = appendLabels(buf, s.Metric)
		if len(s.Floats) > 0 {
			buf = append(buf, `,"values":[`...)
			for j, p := range s.Floats {
				if j > 0 {
					buf = append(buf, ',')
				}
				buf = appendPoint(buf, p.T, p.F)
			}
			buf = append(buf, ']')
		}
		if len(s.Histograms) > 0 {
			buf = append(buf, `,"histograms":[`...)
			for j, p := range s.Histograms {
				if j > 0 {
					buf = append(buf, ',')
				}
				buf = appendHPoint(buf, p.T, p.H)
			}
			buf = append(buf, ']')
		}
		buf = append(buf, '}')
	}
	return append(buf, ']')
}

// appendPoint appends [<t>,"<v>"].
func appendPoint(buf []byte, t int64, v float64) []byte {
	buf = append(buf, '[')
	buf = appendTimestamp(buf, t)
	buf = append(buf, ',', '"')
	buf = appendFloat(buf, v)
	return append(buf, '"', ']')
}

// appendTimestamp appends milliseconds as seconds with up to three decimals
// and no trailing-zero trimming (1435781451.780), as Prometheus' jsonutil.
func appendTimestamp(buf []byte, t int64) []byte {
	if t < 0 {
		buf = append(buf, '-')
		t = -t
	}
	buf = strconv.AppendInt(buf, t/1000, 10)
	frac := t % 1000
	if frac == 0 {
		return buf
	}
	buf = append(buf, '.')
	if frac < 100 {
		buf = append(buf, '0')
	}
	if frac < 10 {
		buf = append(buf, '0')
	}
	return strconv.AppendInt(buf, frac, 10)
}

// appendFloat formats v as Prometheus' jsonutil.MarshalFloat: shortest
// representation, exponent form only below 1e-6 or from 1e21, and "NaN",
// "+Inf", "-Inf".
func appendFloat(buf []byte, v float64) []byte {
	format := byte('f')
	if abs := math.Abs(v); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	return strconv.AppendFloat(buf, v, format, -1, 64)
}

// appendLabels appends labels as a JSON object in label order.
func appendLabels(buf []byte, ls labels.Labels) []byte {
	buf = append(buf, '{')
	first := true
	ls.Range(func(l labels.Label) {
		if !first {
			buf = append(buf, ',')
		}
		first = false
		buf = appendString(buf, l.Name)
		buf = append(buf, ':')
		buf = appendString(buf, l.Value)
	})
	return append(buf, '}')
}

const hex = "0123456789abcdef"

// appendString appends s as a JSON string, escaped as encoding/json does
// with HTML escaping: invalid UTF-8 becomes U+FFFD.
func appendString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch b {
			case '\\', '"':
				buf = append(buf, '\\', b)
			case '\b':
				buf = append(buf, '\\', 'b')
			case '\f':
				buf = append(buf, '\\', 'f')
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			buf = append(buf, s[start:i]...)
			buf = append(buf, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}
