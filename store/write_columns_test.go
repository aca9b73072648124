package store

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/stretchr/testify/require"
)

// TestAppendColumns checks that the driver's columns hold, row for row,
// the columns appendColumns was given, whether it loaded or appended
// them: below minLoadRows, at it, and past the load reader's 128 KiB
// buffer in every column (200,000 flags).
func TestAppendColumns(t *testing.T) {
	for _, rows := range []int{0, 10, minLoadRows, 200_000} {
		t.Run(strconv.Itoa(rows), func(t *testing.T) {
			tenant, fp, ts, val, flags := make([]string, rows), make([]uint64, rows), make([]int64, rows), make([]float64, rows), make([]uint8, rows)
			for i := range rows {
				// Runs of equal strings, empty ones, and ones whose
				// length takes two bytes.
				tenant[i] = []string{"t" + strconv.Itoa(i%3), "", strings.Repeat("ü", 100+i%7)}[i/2%3]
				fp[i] = uint64(i) * 0x9E3779B97F4A7C15
				ts[i] = int64(i)*15_000 - 7
				val[i] = []float64{-0.5, math.Inf(1), math.MaxFloat64, float64(i)}[i%4]
				flags[i] = uint8(i)
			}
			b := newColumnsBatch(t, "String", "UInt64", "Int64", "Float64", "UInt8")
			require.NoError(t, appendColumns(b, []any{tenant, fp, ts, val, flags}))
			for i, want := range []any{tenant, fp, ts, val, flags} {
				col := b.cols[i]
				require.Equal(t, rows, col.Rows(), "column %d", i)
				got := make([]any, rows)
				for r := range rows {
					got[r] = col.Row(r, false)
				}
				wantRows := make([]any, rows)
				for r := range rows {
					wantRows[r] = rowOf(want, r)
				}
				require.Equal(t, wantRows, got, "column %d", i)
			}
		})
	}
}

// TestAppendColumnsMismatch checks that a column whose Go type does not
// match the driver column's is left to the driver's Append, which
// refuses it, rather than loaded as bytes of another type.
func TestAppendColumnsMismatch(t *testing.T) {
	b := newColumnsBatch(t, "UInt64")
	err := appendColumns(b, []any{make([]int64, minLoadRows)})
	require.ErrorContains(t, err, "append column 0")
	require.Zero(t, b.cols[0].Rows())
}

func rowOf(col any, r int) any {
	switch v := col.(type) {
	case []string:
		return v[r]
	case []uint64:
		return v[r]
	case []int64:
		return v[r]
	case []float64:
		return v[r]
	case []uint8:
		return v[r]
	}
	panic("unexpected column type")
}

// columnsBatch is the part of a driver batch appendColumns uses, over
// driver columns of the given types.
type columnsBatch struct {
	driver.Batch // the rest: unused
	cols         []column.Interface
}

func newColumnsBatch(t testing.TB, types ...column.Type) *columnsBatch {
	b := &columnsBatch{}
	for i, typ := range types {
		col, err := typ.Column("c"+strconv.Itoa(i), &column.ServerContext{})
		require.NoError(t, err)
		b.cols = append(b.cols, col)
	}
	return b
}

func (b *columnsBatch) Columns() []column.Interface     { return b.cols }
func (b *columnsBatch) Column(i int) driver.BatchColumn { return columnAppender{b.cols[i]} }

type columnAppender struct{ col column.Interface }

func (a columnAppender) Append(v any) error {
	_, err := a.col.Append(v)
	return err
}

func (a columnAppender) AppendRow(v any) error { return a.col.AppendRow(v) }

// flushBatch is a columnsBatch that records the rows of each block it
// is flushed with, the driver resetting its columns after a flush.
type flushBatch struct {
	columnsBatch
	flushed []int
	fail    error
}

func (b *flushBatch) Flush() error {
	if b.fail != nil {
		return b.fail
	}
	b.flushed = append(b.flushed, b.cols[0].Rows())
	for _, c := range b.cols {
		c.Reset()
	}
	return nil
}

// TestSendBlocks checks the blocks an insert's columns go out in: full
// blocks flushed, the last left for Send, every row once and in order;
// one block when the columns cannot be sliced alike; the context checked
// between blocks; a failed flush reported with how far it got.
func TestSendBlocks(t *testing.T) {
	ints := func(n int) []int64 {
		v := make([]int64, n)
		for i := range v {
			v[i] = int64(i)
		}
		return v
	}
	for _, tc := range []struct {
		name        string
		cols        []any
		blockRows   int
		wantFlushed []int
		wantLast    int
	}{
		{"empty", []any{ints(0), []string{}}, 4, nil, 0},
		{"one short block", []any{ints(3), []string{"a", "b", "c"}}, 4, nil, 3},
		{"a multiple of the block", []any{ints(8), make([]string, 8)}, 4, []int{4}, 4},
		{"a block and a part", []any{ints(10), make([]string, 10)}, 4, []int{4, 4}, 2},
		{"no blocks", []any{ints(10), make([]string, 10)}, 0, nil, 10},
		// Not sliced: one block, as the columns came.
		{"columns of two lengths", []any{ints(10), make([]string, 9)}, 4, nil, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &flushBatch{columnsBatch: *newColumnsBatch(t, "Int64", "String")}
			rows, err := sendBlocks(context.Background(), b, tc.cols, tc.blockRows)
			require.NoError(t, err)
			require.Equal(t, len(tc.cols[0].([]int64)), rows)
			require.Equal(t, tc.wantFlushed, b.flushed)
			require.Equal(t, tc.wantLast, b.cols[0].Rows(), "the last block, for Send")
			// The last block holds the last rows, in order.
			for r := range tc.wantLast {
				require.Equal(t, int64(rows-tc.wantLast+r), b.cols[0].Row(r, false))
			}
		})
	}

	t.Run("context", func(t *testing.T) {
		b := &flushBatch{columnsBatch: *newColumnsBatch(t, "Int64")}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := sendBlocks(ctx, b, []any{ints(10)}, 4)
		require.ErrorIs(t, err, context.Canceled)
		require.Empty(t, b.flushed, "nothing flushed once the context ended")
	})
	t.Run("flush fails", func(t *testing.T) {
		b := &flushBatch{columnsBatch: *newColumnsBatch(t, "Int64"), fail: errors.New("broken pipe")}
		_, err := sendBlocks(context.Background(), b, []any{ints(10)}, 4)
		require.EqualError(t, err, "after sending 4 of 10 rows: broken pipe")
	})
}
