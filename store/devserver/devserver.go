package devserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrNotInstalled is returned by Start when the clickhouse-server binary
// cannot be found.
var ErrNotInstalled = errors.New(`clickhouse-server is not installed; install it with "apt-get install clickhouse-server clickhouse-client" or run "make run"`)

const (
	defaultBinary = "clickhouse-server"
	readyTimeout  = 60 * time.Second
	stopTimeout   = 30 * time.Second
	// startAttempts bounds retries when another process takes one of the
	// free ports between picking it and the server binding it.
	startAttempts = 3
	logTailLines  = 20
)

// Config says where the server keeps its state and which binary runs it.
type Config struct {
	// Dir is the state directory; the server uses Dir/clickhouse.
	Dir string
	// Binary is the clickhouse-server executable: a path, or a name looked
	// up in PATH and then /usr/sbin. Default "clickhouse-server".
	Binary string
}

// Server is a running clickhouse-server process.
type Server struct {
	cmd      *exec.Cmd
	logger   *slog.Logger
	dir      string
	addr     string
	httpAddr string
	done     chan struct{} // closed once the process has exited
	waitErr  error         // the process's exit status, set before done closes
	// logStart has the log files' sizes at spawn: an error shows only
	// what this run wrote.
	logStart map[string]int64

	stopMu  sync.Mutex
	stopped bool
}

// Start starts clickhouse-server on free 127.0.0.1 ports and returns when it
// answers, or an error including the last lines of its log. ctx bounds the
// startup only; the server runs until Stop. The caller names the component
// in logger (logger.With("component", …)); a nil logger discards.
func Start(ctx context.Context, cfg Config, logger *slog.Logger) (*Server, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Dir == "" {
		return nil, errors.New("start clickhouse-server: no state directory set")
	}
	binary, err := lookBinary(cfg.Binary)
	if err != nil {
		return nil, fmt.Errorf("start clickhouse-server: %w", err)
	}
	dir, err := filepath.Abs(filepath.Join(cfg.Dir, "clickhouse"))
	if err != nil {
		return nil, fmt.Errorf("start clickhouse-server: %w", err)
	}
	stopLeftover(dir, logger)
	for attempt := 1; ; attempt++ {
		s, err := start(ctx, binary, dir, logger)
		if err == nil {
			return s, nil
		}
		if !errors.Is(err, errPortTaken) || attempt == startAttempts {
			return nil, fmt.Errorf("start clickhouse-server: %w", err)
		}
		logger.Warn("port taken before the server bound it; retrying", "attempt", attempt)
	}
}

var errPortTaken = errors.New("address already in use")

func start(ctx context.Context, binary, dir string, logger *slog.Logger) (*Server, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	s := &Server{
		logger:   logger,
		dir:      dir,
		addr:     net.JoinHostPort(host, strconv.Itoa(ports[0])),
		httpAddr: net.JoinHostPort(host, strconv.Itoa(ports[1])),
		done:     make(chan struct{}),
	}
	if err := writeConfig(dir, ports[0], ports[1]); err != nil {
		return nil, err
	}
	if err := s.spawn(binary); err != nil {
		return nil, err
	}
	if err := s.waitReady(ctx); err != nil {
		_ = s.Stop()
		tail := s.logTail()
		if strings.Contains(tail, "Address already in use") {
			return nil, fmt.Errorf("%w: %s", errPortTaken, tail)
		}
		return nil, fmt.Errorf("%w; last lines of its log:\n%s", err, tail)
	}
	logger.Info("clickhouse-server started", "addr", s.addr, "http_addr", s.httpAddr,
		"pid", s.cmd.Process.Pid, "dir", dir)
	return s, nil
}

// spawn starts the process in its own process group with its output in
// log/stdout.log. One goroutine starts and reaps it on a locked OS thread:
// the parent-death signal (Linux) fires when the thread that started the
// child exits, so that thread must live as long as the server.
func (s *Server) spawn(binary string) error {
	s.logStart = make(map[string]int64)
	for _, name := range logNames {
		if fi, err := os.Stat(filepath.Join(s.dir, "log", name)); err == nil {
			s.logStart[name] = fi.Size()
		}
	}
	out, err := os.OpenFile(filepath.Join(s.dir, "log", "stdout.log"),
		os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer out.Close() // the child keeps its own copy
	cmd := exec.Command(binary, "--config-file="+filepath.Join(s.dir, "config.xml"))
	cmd.Dir = s.dir
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = procAttr()
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		s.waitErr = cmd.Wait()
		close(s.done)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("run %s: %w", binary, err)
	}
	s.cmd = cmd
	if err := os.WriteFile(pidFile(s.dir), []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644); err != nil {
		s.logger.Warn("cannot write pid file", "err", err)
	}
	return nil
}

// waitReady polls the HTTP ping endpoint, then checks the native port.
func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	// No keep-alive: an idle connection would delay the server's shutdown.
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if pingOK(ctx, client, s.httpAddr) {
			conn, err := (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, "tcp", s.addr)
			if err == nil {
				return conn.Close()
			}
		}
		select {
		case <-s.done:
			return fmt.Errorf("server exited during startup: %v", s.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("server not ready: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

func pingOK(ctx context.Context, client *http.Client, addr string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/ping", nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64))
	return err == nil && resp.StatusCode == http.StatusOK && strings.TrimSpace(string(body)) == "Ok."
}

// Addr is the host:port of the native protocol.
func (s *Server) Addr() string { return s.addr }

// HTTPAddr is the host:port of the HTTP interface.
func (s *Server) HTTPAddr() string { return s.httpAddr }

// Stop sends SIGTERM to the server's process group, waits up to 30s, then
// sends SIGKILL. It returns an error if the server had already exited on
// its own with a failure. Calling Stop again returns nil.
func (s *Server) Stop() error {
	s.stopMu.Lock()
	defer s.stopMu.Unlock()
	if s.stopped {
		return nil
	}
	s.stopped = true
	defer os.Remove(pidFile(s.dir))
	select {
	case <-s.done:
		if s.waitErr != nil {
			return fmt.Errorf("stop clickhouse-server: it had already exited: %w", s.waitErr)
		}
		return nil
	default:
	}
	pid := s.cmd.Process.Pid
	s.logger.Info("clickhouse-server stopping", "pid", pid)
	_ = signalGroup(pid, syscall.SIGTERM)
	select {
	case <-s.done:
		s.logger.Info("clickhouse-server stopped", "pid", pid)
		return nil
	case <-time.After(stopTimeout):
	}
	s.logger.Warn("clickhouse-server ignored SIGTERM; killing it", "pid", pid, "timeout", stopTimeout)
	_ = signalGroup(pid, syscall.SIGKILL)
	<-s.done
	return nil
}

// logNames are the log files, in dir/log, whose tail explains a failed start.
var logNames = []string{"clickhouse-server.err.log", "stdout.log"}

// logTail returns the last lines this run wrote to the server's error log
// and stdout.
func (s *Server) logTail() string {
	var b strings.Builder
	for _, name := range logNames {
		b.WriteString(tailFile(filepath.Join(s.dir, "log", name), s.logStart[name], logTailLines))
	}
	return strings.TrimSpace(b.String())
}

// tailFile returns the last n lines of path after byte offset from.
func tailFile(path string, from int64, n int) string {
	data, err := os.ReadFile(path)
	if err != nil || int64(len(data)) <= from {
		return ""
	}
	data = data[from:]
	lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n"))) + "\n"
}

// lookBinary finds clickhouse-server: a path as given, else PATH, else the
// sbin directories a non-root PATH lacks.
func lookBinary(name string) (string, error) {
	if name == "" {
		name = defaultBinary
	}
	if strings.ContainsRune(name, filepath.Separator) {
		if _, err := os.Stat(name); err != nil {
			return "", fmt.Errorf("%w (%s: %v)", ErrNotInstalled, name, err)
		}
		return name, nil
	}
	if path, err := exec.LookPath(name); err == nil {
		return path, nil
	}
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin"} {
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); err == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("%w (%s not in PATH or /usr/sbin)", ErrNotInstalled, name)
}

// freePorts asks the kernel for n distinct free loopback ports. They are
// released before the server binds them, hence the retry in Start.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return nil, fmt.Errorf("pick a free port: %w", err)
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func pidFile(dir string) string { return filepath.Join(dir, "clickhouse.pid") }

// stopLeftover stops a server that a previous run left behind in dir (cairn
// killed with SIGKILL): it holds the data directory's lock.
func stopLeftover(dir string, logger *slog.Logger) {
	data, err := os.ReadFile(pidFile(dir))
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || !runsConfig(pid, filepath.Join(dir, "config.xml")) {
		return
	}
	logger.Warn("stopping clickhouse-server left over from a previous run", "pid", pid)
	_ = signalGroup(pid, syscall.SIGTERM)
	for deadline := time.Now().Add(stopTimeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if syscall.Kill(pid, 0) != nil {
			return
		}
	}
	_ = signalGroup(pid, syscall.SIGKILL)
}
