package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestStaleConn(t *testing.T) {
	live := context.Background()
	done, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		ctx  context.Context
		err  error
		want bool
	}{
		{live, nil, false},
		{live, fmt.Errorf("read: %w", net.ErrClosed), true},
		{live, fmt.Errorf("handshake: %w", io.EOF), true},
		{live, &net.OpError{Op: "write", Err: syscall.EPIPE}, true},
		{live, &net.OpError{Op: "read", Err: syscall.ECONNRESET}, true},
		{live, errors.New("code: 60, message: Table cairn.nope doesn't exist"), false},
		{done, fmt.Errorf("read: %w", net.ErrClosed), false}, // the caller gave up: no retry
	} {
		require.Equal(t, tc.want, staleConn(tc.ctx, tc.err), "%v", tc.err)
	}
}
