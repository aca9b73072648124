package devserver_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store/devserver"
)

func TestStartMissingBinary(t *testing.T) {
	_, err := devserver.Start(context.Background(), devserver.Config{
		Dir:    t.TempDir(),
		Binary: filepath.Join(t.TempDir(), "clickhouse-server"),
	}, nil)
	require.ErrorIs(t, err, devserver.ErrNotInstalled)
	require.ErrorContains(t, err, "apt-get install clickhouse-server")
	require.ErrorContains(t, err, "make run")
}

func TestStartServerExits(t *testing.T) {
	// A stand-in for clickhouse-server that fails the way a bad config does.
	bin := filepath.Join(t.TempDir(), "clickhouse-server")
	script := "#!/bin/sh\necho 'DB::Exception: There is no profile default' >&2\nexit 70\n"
	require.NoError(t, os.WriteFile(bin, []byte(script), 0o755))

	_, err := devserver.Start(context.Background(), devserver.Config{Dir: t.TempDir(), Binary: bin}, nil)
	require.ErrorContains(t, err, "start clickhouse-server: server exited during startup")
	require.ErrorContains(t, err, "There is no profile default", "error carries the log tail")
}

func TestStartNoDir(t *testing.T) {
	_, err := devserver.Start(context.Background(), devserver.Config{}, nil)
	require.ErrorContains(t, err, "no state directory")
}

func TestStartStop(t *testing.T) {
	if testing.Short() {
		t.Skip("starts clickhouse-server; skipped with -short")
	}
	dir := t.TempDir()
	s := start(t, dir)

	conn, err := net.DialTimeout("tcp", s.Addr(), 5*time.Second)
	require.NoError(t, err, "native port")
	require.NoError(t, conn.Close())
	require.Equal(t, "Ok.\n", get(t, s.HTTPAddr(), "/ping"))

	// Data written before a restart is there after it.
	query(t, s.HTTPAddr(), "CREATE TABLE default.kept (n UInt64) ENGINE = MergeTree ORDER BY n")
	query(t, s.HTTPAddr(), "INSERT INTO default.kept VALUES (1), (2), (3)")
	require.NoError(t, s.Stop())
	require.NoError(t, s.Stop(), "second Stop")
	_, err = net.DialTimeout("tcp", s.Addr(), time.Second)
	require.Error(t, err, "native port still open after Stop")

	s = start(t, dir)
	require.Equal(t, "3\n", query(t, s.HTTPAddr(), "SELECT count() FROM default.kept"))
	require.NoError(t, s.Stop())
}

// start starts a server in dir, skipping the test when the binary is
// missing, and stops it when the test ends.
func start(t *testing.T, dir string) *devserver.Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	logger := slog.New(slog.NewTextHandler(testWriter{t}, nil))
	s, err := devserver.Start(ctx, devserver.Config{Dir: dir}, logger)
	if errors.Is(err, devserver.ErrNotInstalled) {
		t.Skipf("clickhouse-server is not installed, so this test cannot run: %v", err)
	}
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Stop() })
	return s
}

// client keeps no idle connections, which would delay the server's shutdown.
var client = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

func get(t *testing.T, addr, path string) string {
	t.Helper()
	resp, err := client.Get("http://" + addr + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	return string(body)
}

// query runs SQL over the HTTP interface, which needs no driver.
func query(t *testing.T, addr, sql string) string {
	t.Helper()
	resp, err := client.Post("http://"+addr+"/?query="+url.QueryEscape(sql), "text/plain", strings.NewReader(""))
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", sql, body)
	return string(body)
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
