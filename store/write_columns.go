package store

import (
	"encoding/binary"
	"fmt"
	"io"
	"unsafe"

	"github.com/ClickHouse/ch-go/proto"
	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// minLoadRows is the size from which appendColumns loads a column in one
// copy: below it, the reader a load needs (a 128 KiB buffer) costs more
// than appending row by row.
const minLoadRows = 4096

// appendColumns appends whole columns to batch, cols[i] to its i-th.
//
// The driver's Append copies a column element by element into a column
// it grows as it goes, about five times the column's size allocated by
// the end, and allocates a null map the size of the column besides: for a
// batch of 250,000 samples, 66 MB allocated and a fifth of the writer's
// CPU. A column is loaded instead through the driver column's Decode,
// from its native protocol encoding, which the driver reads into columns
// allocated once at their size. For a column of fixed-size numbers the
// encoding is the column's memory itself on a little-endian machine: one
// allocation of the exact size and one copy (two of each for a UInt8
// column, which the driver reads and then appends). A column of strings
// is encoded first (stringBytes): with the load, which reads it a byte
// at a time, that costs as much CPU as the Append, but allocates a
// quarter of what the Append's regrowing does (7.9 against 31 MB for a
// batch's tenants, BenchmarkAppendStrings). Other columns, small ones,
// and numbers on a big-endian machine are appended.
func appendColumns(batch driver.Batch, cols []any) error {
	var (
		dst = batch.Columns()
		src loadSource
		r   *proto.Reader
	)
	for i, col := range cols {
		raw, rows := columnBytes(col)
		if rows < minLoadRows || i >= len(dst) || dst[i].Type() != loadType(col) {
			if err := batch.Column(i).Append(col); err != nil {
				return fmt.Errorf("append column %d: %w", i, err)
			}
			continue
		}
		if r == nil {
			r = proto.NewReader(&src)
		}
		src.b = raw
		if err := dst[i].Decode(r, rows); err != nil {
			return fmt.Errorf("load column %d: %w", i, err)
		}
	}
	return nil
}

// columnBytes returns the native encoding of col and its rows, or 0 rows
// when it has no load path: fixedBytes for numbers, stringBytes for
// strings, which are encoded only past minLoadRows.
func columnBytes(col any) (raw []byte, rows int) {
	if v, ok := col.([]string); ok {
		if len(v) < minLoadRows {
			return nil, 0
		}
		return stringBytes(v), len(v)
	}
	return fixedBytes(col)
}

// stringBytes returns the native encoding of a String column: each
// string's length as a uvarint, then its bytes. It allocates once, at the
// encoding's size, and a string equal to the one before (the tenant of
// every row of a batch, mostly) is a copy of its encoding.
func stringBytes(v []string) []byte {
	size := 0
	for _, s := range v {
		size += uvarintLen(uint64(len(s))) + len(s)
	}
	b := make([]byte, 0, size)
	var prev []byte
	for i, s := range v {
		if i > 0 && s == v[i-1] {
			b = append(b, prev...)
			continue
		}
		start := len(b)
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
		prev = b[start:] // b never grows: its capacity is exact
	}
	return b
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// loadType is the ClickHouse type whose native encoding columnBytes
// returns for col.
func loadType(col any) column.Type {
	switch col.(type) {
	case []string:
		return "String"
	case []uint64:
		return "UInt64"
	case []int64:
		return "Int64"
	case []float64:
		return "Float64"
	case []uint8:
		return "UInt8"
	}
	return ""
}

// fixedBytes returns the memory of col, a column of fixed-size numbers,
// and its length, when that memory is col's native encoding: the
// numbers, little-endian, one after the other. Otherwise it returns 0
// rows.
func fixedBytes(col any) (raw []byte, rows int) {
	if !littleEndian {
		return nil, 0
	}
	switch v := col.(type) {
	case []uint64:
		return asBytes(v), len(v)
	case []int64:
		return asBytes(v), len(v)
	case []float64:
		return asBytes(v), len(v)
	case []uint8:
		return v, len(v)
	}
	return nil, 0
}

func asBytes[T uint64 | int64 | float64](v []T) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), len(v)*int(unsafe.Sizeof(T(0))))
}

// littleEndian reports whether this machine stores numbers
// little-endian, as the native protocol encodes them.
var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// loadSource is the bytes of the column being loaded. One reader, whose
// buffer is empty between columns, reads every column of an insert.
type loadSource struct{ b []byte }

func (s *loadSource) Read(p []byte) (int, error) {
	if len(s.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.b)
	s.b = s.b[n:]
	return n, nil
}
