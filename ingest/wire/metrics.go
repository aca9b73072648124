package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/cairn-dev/cairn/store"
)

const (
	magic   = 'C'
	version = 1
)

// Kind says what a message carries.
type Kind byte

// Message kinds.
const (
	KindMetrics Kind = 1
)

func (k Kind) String() string {
	switch k {
	case KindMetrics:
		return "metrics"
	}
	return fmt.Sprintf("kind(%d)", byte(k))
}

// ErrCorrupt is wrapped by every decode error, so a writer can tell a bad
// message (dead-letter it) from a failing store (retry it).
var ErrCorrupt = errors.New("corrupt message")

// AppendMetrics appends a metrics message holding series, all of which
// belong to tenant, to dst and returns the extended slice.
func AppendMetrics(dst []byte, tenant string, series []store.Series) []byte {
	dst = append(dst, magic, version, byte(KindMetrics))
	dst = appendString(dst, tenant)
	dst = binary.AppendUvarint(dst, uint64(len(series)))
	for _, s := range series {
		dst = binary.AppendUvarint(dst, uint64(s.Labels.Len()))
		s.Labels.Range(func(l labels.Label) {
			dst = appendString(dst, l.Name)
			dst = appendString(dst, l.Value)
		})
		dst = binary.AppendUvarint(dst, uint64(len(s.Samples)))
		var prev int64
		for _, smp := range s.Samples {
			dst = binary.AppendVarint(dst, smp.T-prev)
			prev = smp.T
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(smp.V))
		}
	}
	return dst
}

// Header returns the kind of a message and checks its magic and version.
func Header(b []byte) (Kind, error) {
	if len(b) < 3 {
		return 0, fmt.Errorf("%w: %d bytes is too short for a header", ErrCorrupt, len(b))
	}
	if b[0] != magic {
		return 0, fmt.Errorf("%w: bad magic byte 0x%02x", ErrCorrupt, b[0])
	}
	if b[1] != version {
		return 0, fmt.Errorf("%w: unsupported version %d (this binary reads %d)", ErrCorrupt, b[1], version)
	}
	return Kind(b[2]), nil
}

// DecodeMetrics decodes a metrics message and appends its series to dst.
// Each series carries the message's tenant.
func DecodeMetrics(dst []store.Series, b []byte) ([]store.Series, error) {
	kind, err := Header(b)
	if err != nil {
		return dst, err
	}
	if kind != KindMetrics {
		return dst, fmt.Errorf("%w: message is %s, want metrics", ErrCorrupt, kind)
	}
	d := decoder{b: b[3:]}
	tenant := d.string()
	n := d.count(2) // a series takes at least two bytes
	var lb labels.ScratchBuilder
	for i := 0; i < n && d.err == nil; i++ {
		lb.Reset()
		nl := d.count(2)
		for j := 0; j < nl && d.err == nil; j++ {
			name := d.string()
			lb.Add(name, d.string())
		}
		ns := d.count(9)
		samples := make([]store.Sample, 0, ns)
		var t int64
		for j := 0; j < ns && d.err == nil; j++ {
			t += d.varint()
			samples = append(samples, store.Sample{T: t, V: math.Float64frombits(d.uint64())})
		}
		lb.Sort()
		dst = append(dst, store.Series{Tenant: tenant, Labels: lb.Labels(), Samples: samples})
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
	return dst, d.err
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// decoder reads from b, remembering the first error; every read after an
// error returns a zero value.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads an element count and checks that the bytes left can hold
// that many elements of at least minSize bytes each.
func (d *decoder) count(minSize int) int {
	v := d.uvarint()
	if d.err != nil {
		return 0
	}
	if v > uint64(len(d.b)/minSize) {
		d.fail("count %d exceeds the %d bytes left", v, len(d.b))
		return 0
	}
	return int(v)
}

func (d *decoder) string() string {
	n := d.count(1)
	if d.err != nil {
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) uint64() uint64 {
	if len(d.b) < 8 {
		d.fail("truncated value")
		return 0
	}
	v := binary.LittleEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}
