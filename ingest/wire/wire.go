package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unsafe"

	"github.com/prometheus/prometheus/model/labels"
)

const (
	magic = 'C'
	// v1 is the first layout of every kind; logs and builds messages
	// still use it.
	v1 = 1
	// v2 is the metrics layout that carries each series' fingerprint and
	// packs its labels (see appendPackedLabels). Writers read both.
	v2 = 2
	// v3 is v2 with each series' native histograms after its samples. A
	// metrics message without histograms is still written as v2, so
	// writers of the previous release read it.
	v3 = 3
	// v4 is v3 in which a series may be a reference: its fingerprint
	// and a zero label length, for a series whose labels went out
	// before (see AppendMetrics). Messages without references are still
	// written as v2 or v3.
	v4 = 4
	// latest is the newest version this binary reads.
	latest = v4
)

// Kind says what a message carries.
type Kind byte

// Message kinds.
const (
	KindMetrics Kind = 1
	KindLogs    Kind = 2
	KindBuilds  Kind = 3
)

func (k Kind) String() string {
	switch k {
	case KindMetrics:
		return "metrics"
	case KindLogs:
		return "logs"
	case KindBuilds:
		return "builds"
	}
	return fmt.Sprintf("kind(%d)", byte(k))
}

// ErrCorrupt is wrapped by every decode error, so a writer can tell a bad
// message (dead-letter it) from a failing store (retry it).
var ErrCorrupt = errors.New("corrupt message")

// Header returns the kind of a message and checks its magic and version.
func Header(b []byte) (Kind, error) {
	if len(b) < 3 {
		return 0, fmt.Errorf("%w: %d bytes is too short for a header", ErrCorrupt, len(b))
	}
	if b[0] != magic {
		return 0, fmt.Errorf("%w: bad magic byte 0x%02x", ErrCorrupt, b[0])
	}
	if b[1] < v1 || b[1] > latest {
		return 0, fmt.Errorf("%w: unsupported version %d (this binary reads %d to %d)", ErrCorrupt, b[1], v1, latest)
	}
	return Kind(b[2]), nil
}

// appendHeader starts a message of kind and version for tenant.
func appendHeader(dst []byte, version byte, kind Kind, tenant string) []byte {
	dst = append(dst, magic, version, byte(kind))
	return appendString(dst, tenant)
}

// body checks the header of b against want and returns a decoder of the
// rest, with the tenant already read.
func body(b []byte, want Kind) (decoder, string, error) {
	kind, err := Header(b)
	if err != nil {
		return decoder{}, "", err
	}
	if kind != want {
		return decoder{}, "", fmt.Errorf("%w: message is %s, want %s", ErrCorrupt, kind, want)
	}
	if b[1] != v1 && kind != KindMetrics {
		return decoder{}, "", fmt.Errorf("%w: %s messages have no version %d", ErrCorrupt, kind, b[1])
	}
	d := decoder{b: b[3:], version: b[1]}
	tenant := d.string()
	return d, tenant, d.err
}

func appendLabels(dst []byte, ls labels.Labels) []byte {
	dst = binary.AppendUvarint(dst, uint64(ls.Len()))
	ls.Range(func(l labels.Label) {
		dst = appendString(dst, l.Name)
		dst = appendString(dst, l.Value)
	})
	return dst
}

// labels reads a label set, sorted, into b. An empty name, or one that
// appears twice, makes the message corrupt, as in packed labels.
func (d *decoder) labels(b *labels.ScratchBuilder) labels.Labels {
	b.Reset()
	n := d.count(2)
	for j := 0; j < n && d.err == nil; j++ {
		name := d.view()
		b.Add(name, d.view())
	}
	b.Sort()
	ls := b.Labels()
	prev, first := "", true
	ls.Range(func(l labels.Label) {
		switch {
		case l.Name == "":
			d.fail("empty label name")
		case !first && l.Name == prev:
			d.fail("label %q appears twice", l.Name)
		}
		prev, first = l.Name, false
	})
	return ls
}

// end checks that nothing follows the last field.
func (d *decoder) end() error {
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
	return d.err
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// decoder reads from b, remembering the first error; every read after an
// error returns a zero value.
type decoder struct {
	b       []byte
	err     error
	version byte // of the message
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

// string reads a string into memory of its own.
func (d *decoder) string() string {
	return strings.Clone(d.view())
}

// view reads a string that shares the message's memory: no copy, so the
// message must not change while the string lives. Decoded labels and
// lines are views; the tenant, which the store's caches keep, is not.
func (d *decoder) view() string {
	n := d.count(1)
	if d.err != nil || n == 0 {
		return ""
	}
	s := unsafe.String(&d.b[0], n)
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
