package wire

import (
	"encoding/binary"
	"strings"
	"unsafe"

	"github.com/prometheus/prometheus/model/labels"
)

// Packed labels are how a v2 metrics message holds a label set: its byte
// length (varint), then each name and value in name order, each as its
// length and its bytes. A length below 255 takes one byte; a longer one
// is 255 followed by three bytes, little-endian (at most 16 MiB).
//
// That happens to be how Prometheus' default labels implementation
// (stringlabels) lays out a labels.Labels in memory. When this binary's
// implementation is that one (packedIsNative), encoding copies the label
// set's memory as it is and decoding makes a labels.Labels that points
// into the message, after checking it: no per-label copy, no allocation.
// Otherwise both go label by label.

// maxPackedLen is the longest name or value packed labels can hold.
const maxPackedLen = 1<<24 - 1

// packedIsNative reports whether a labels.Labels is a packed label set in
// memory, checked once by encoding labels both ways.
var packedIsNative = func() bool {
	if labels.ImplementationName != "stringlabels" || unsafe.Sizeof(labels.Labels{}) != unsafe.Sizeof("") {
		return false
	}
	ls := labels.FromStrings("__name__", "up", "long", strings.Repeat("x", 300), "z", "")
	return labelsData(ls) == string(appendPackedSlow(nil, ls))
}()

// labelsData is the memory of ls; meaningful only when packedIsNative.
func labelsData(ls labels.Labels) string {
	return *(*string)(unsafe.Pointer(&ls))
}

// appendPackedLabels appends ls as packed labels, with its byte length
// in front.
func appendPackedLabels(dst []byte, ls labels.Labels) []byte {
	if packedIsNative {
		data := labelsData(ls)
		dst = binary.AppendUvarint(dst, uint64(len(data)))
		return append(dst, data...)
	}
	body := appendPackedSlow(nil, ls)
	dst = binary.AppendUvarint(dst, uint64(len(body)))
	return append(dst, body...)
}

// appendPackedSlow appends the packed form of ls, label by label, without
// its length. Names or values longer than maxPackedLen are cut there; no
// receiver accepts labels anywhere near that long.
func appendPackedSlow(dst []byte, ls labels.Labels) []byte {
	ls.Range(func(l labels.Label) {
		dst = appendPackedString(dst, l.Name)
		dst = appendPackedString(dst, l.Value)
	})
	return dst
}

func appendPackedString(dst []byte, s string) []byte {
	s = s[:min(len(s), maxPackedLen)]
	if n := len(s); n < 255 {
		dst = append(dst, byte(n))
	} else {
		dst = append(dst, 255, byte(n), byte(n>>8), byte(n>>16))
	}
	return append(dst, s...)
}

// packedLabels reads a packed label set. The labels share the message's
// memory, as views do. A set whose lengths run past its end, with an
// empty name, or whose names are not strictly ascending, is corrupt.
func (d *decoder) packedLabels(b *labels.ScratchBuilder) labels.Labels {
	data := d.view()
	if d.err != nil {
		return labels.EmptyLabels()
	}
	b.Reset()
	prev, first := "", true
	for i := 0; i < len(data); {
		var name, value string
		var ok bool
		if name, i, ok = packedString(data, i); !ok {
			d.fail("label name runs past its label set")
			return labels.EmptyLabels()
		}
		if value, i, ok = packedString(data, i); !ok {
			d.fail("label value runs past its label set")
			return labels.EmptyLabels()
		}
		if name == "" {
			d.fail("empty label name")
			return labels.EmptyLabels()
		}
		if name <= prev && !first {
			d.fail("label %q follows %q: names not strictly ascending", name, prev)
			return labels.EmptyLabels()
		}
		prev, first = name, false
		if !packedIsNative {
			b.Add(name, value)
		}
	}
	if packedIsNative {
		return *(*labels.Labels)(unsafe.Pointer(&data))
	}
	return b.Labels()
}

// packedString reads the string at data[i:], returning it and the index
// after it; ok is false when it does not fit.
func packedString(data string, i int) (s string, next int, ok bool) {
	if i >= len(data) {
		return "", 0, false
	}
	n := int(data[i])
	i++
	if n == 255 {
		if i+3 > len(data) {
			return "", 0, false
		}
		n = int(data[i]) | int(data[i+1])<<8 | int(data[i+2])<<16
		i += 3
	}
	if n > len(data)-i {
		return "", 0, false
	}
	return data[i : i+n], i + n, true
}
