package store

import (
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
// CPU. A column of fixed-size numbers is loaded instead through the
// driver column's Decode, from the column's memory read as the native
// protocol's encoding of it, which is the same bytes on a little-endian
// machine: one allocation of the exact size and one copy (two of each for
// a UInt8 column, which the driver reads and then appends). Other columns,
// small ones, and every column on a big-endian machine are appended.
//
// Strings are appended: the driver's Decode reads a String column a byte
// at a time (38 ns a row), where Append copies them (12 ns a row) into a
// column that, after the first block of an insert (insert), keeps its
// arrays.
func appendColumns(batch insertBatch, cols []any) error {
	var (
		dst = batch.Columns()
		src loadSource
		r   *proto.Reader
	)
	for i, col := range cols {
		raw, rows := fixedBytes(col)
		if rows < minLoadRows || i >= len(dst) || dst[i].Type() != fixedType(col) {
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

// insertBatch is the part of a driver batch that appendColumns uses.
type insertBatch interface {
	Columns() []column.Interface
	Column(int) driver.BatchColumn
}

// fixedType is the ClickHouse type whose native encoding fixedBytes
// returns for col.
func fixedType(col any) column.Type {
	switch col.(type) {
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
