package store

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// retryConn retries, once, a call that failed because the pool handed out
// a connection that was already closed. clickhouse-go v2.50 can close a
// pooled connection when the context of its last query is cancelled just
// after the query returned, and every request-scoped context is; the next
// user of that connection then fails before sending anything. Only calls
// that are safe to repeat go through here: queries, idempotent DDL and
// preparing a batch (a batch's Send is not retried).
type retryConn struct {
	driver.Conn
}

func (c retryConn) Query(ctx context.Context, query string, args ...any) (driver.Rows, error) {
	rows, err := c.Conn.Query(ctx, query, args...)
	if staleConn(ctx, err) {
		rows, err = c.Conn.Query(ctx, query, args...)
	}
	return rows, err
}

func (c retryConn) Exec(ctx context.Context, query string, args ...any) error {
	err := c.Conn.Exec(ctx, query, args...)
	if staleConn(ctx, err) {
		err = c.Conn.Exec(ctx, query, args...)
	}
	return err
}

func (c retryConn) PrepareBatch(ctx context.Context, query string, opts ...driver.PrepareBatchOption) (driver.Batch, error) {
	b, err := c.Conn.PrepareBatch(ctx, query, opts...)
	if staleConn(ctx, err) {
		b, err = c.Conn.PrepareBatch(ctx, query, opts...)
	}
	return b, err
}

// staleConn reports whether err says the connection was closed under the
// call, rather than that the server or the query failed.
func staleConn(ctx context.Context, err error) bool {
	if err == nil || ctx.Err() != nil {
		return false
	}
	return errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)
}
