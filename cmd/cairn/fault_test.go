package main

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/ingest/queue/queuetest"
	"github.com/cairn-dev/cairn/store/storetest"
)

// The fault tests stop and start real servers under a running Cairn. Each
// runs private servers through the project's own deploy/local scripts, on
// ports of its own, so the shared test servers stay up for every other
// test. They need what `make test` installs and run only there.

// localServer is a server that deploy/local runs for one test.
type localServer struct {
	script string
	dir    string // its CAIRN_LOCAL_DIR
	env    []string
}

func startLocalServer(t *testing.T, script string, env map[string]string) *localServer {
	t.Helper()
	queuetest.Real(t) // skips outside `make test`, where the jars and packages are installed
	s := &localServer{script: filepath.Join("..", "..", "deploy", "local", script), dir: t.TempDir(), env: os.Environ()}
	s.env = append(s.env, "CAIRN_LOCAL_DIR="+s.dir)
	for k, v := range env {
		s.env = append(s.env, k+"="+v)
	}
	s.run(t, "start")
	t.Cleanup(func() { s.run(t, "stop") })
	return s
}

// stop stops the server now rather than when the test ends; stopping it
// again is harmless.
func (s *localServer) stop(t *testing.T) { s.run(t, "stop") }

func (s *localServer) run(t *testing.T, action string) {
	t.Helper()
	cmd := exec.Command(s.script, action)
	cmd.Env = s.env
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s %s:\n%s", s.script, action, out)
}

// pid returns the process ID of the server, from the pid file that
// deploy/local keeps as <state dir>/<name>/<name>.pid.
func (s *localServer) pid(t *testing.T, name string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.dir, name, name+".pid"))
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, err)
	return pid
}

func freePort(t *testing.T) string {
	_, port, err := net.SplitHostPort(freeAddr(t))
	require.NoError(t, err)
	return port
}

// TestClickHouseOutage stops ClickHouse for 30 s under a steady stream of
// samples and log lines: Cairn keeps acknowledging (Kafka holds the data),
// the writer retries, and once ClickHouse is back every acknowledged
// sample and line is there once.
func TestClickHouseOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test")
	}
	port := freePort(t)
	ch := startLocalServer(t, "clickhouse.sh", map[string]string{"CAIRN_CLICKHOUSE_PORT": port, "CAIRN_CLICKHOUSE_HTTP_PORT": freePort(t)})
	listen := freeAddr(t)
	args := append(serveArgs(t, listen), "-clickhouse.addr", "127.0.0.1:"+port, "-writer.max-backoff", "2s")
	p := startCairn(t, listen, args...)
	s := startStream(t, "fault_clickhouse_outage", p.base)
	l := startLogStream(t, "fault_clickhouse_outage", p.base)

	s.waitAcked(t, 100)
	l.waitAcked(t, 100)
	ch.run(t, "stop")
	during, linesDuring := s.count(), l.count()
	time.Sleep(30 * time.Second)
	require.Greater(t, s.count(), during+100, "ingest keeps acknowledging samples while ClickHouse is down")
	require.Greater(t, l.count(), linesDuring+100, "ingest keeps acknowledging log lines while ClickHouse is down")
	ch.run(t, "start")
	s.waitAcked(t, s.count()+100)
	l.waitAcked(t, l.count()+100)
	s.verifyExactlyOnce(t, p.base)
	l.verifyExactlyOnce(t, p.base)
	p.stop(t)
}

// TestWriterKilled runs the writer apart from the receivers, kills it with
// SIGKILL while it holds an uncommitted batch, and starts it again: the
// new writer re-reads from the last commit, and the store's deduplication
// keeps every acknowledged sample and log line exactly once.
func TestWriterKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test")
	}
	front := freeAddr(t)
	args := serveArgs(t, front)
	// Long batches make a kill mid-batch all but certain.
	args = append(args, "-writer.flush-interval", "1s", "-kafka.session-timeout", "6s")
	p := startCairn(t, front, append(args, "-roles", "ingest,query")...)
	back := freeAddr(t)
	writerArgs := append(append([]string{}, args...), "-roles", "writer", "-listen", back)
	w := startCairn(t, back, writerArgs...)
	s := startStream(t, "fault_writer_killed", p.base)
	l := startLogStream(t, "fault_writer_killed", p.base)

	s.waitAcked(t, 200)
	l.waitAcked(t, 200)
	require.NoError(t, w.cmd.Process.Signal(syscall.SIGKILL))
	<-w.done
	w.done <- nil
	s.waitAcked(t, s.count()+100)
	l.waitAcked(t, l.count()+100)
	w = startCairn(t, back, writerArgs...)
	s.waitAcked(t, s.count()+100)
	l.waitAcked(t, l.count()+100)
	s.verifyExactlyOnce(t, p.base)
	l.verifyExactlyOnce(t, p.base)
	w.stop(t)
	p.stop(t)
}

// TestKafkaOutage stops Kafka under a steady stream: Cairn answers 503
// with Retry-After instead of acknowledging, and recovers fully when Kafka
// returns; the sender's retries leave nothing lost or doubled.
func TestKafkaOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test")
	}
	port := freePort(t)
	kafka := startLocalServer(t, "kafka.sh", map[string]string{"CAIRN_KAFKA_PORT": port, "CAIRN_KAFKA_CONTROLLER_PORT": freePort(t)})
	listen := freeAddr(t)
	chCfg := storetest.Config(t)
	p := startCairn(t, listen, "serve", "-listen", listen,
		"-kafka.brokers", "127.0.0.1:"+port, "-kafka.write-timeout", "3s",
		"-writer.flush-interval", "200ms", "-writer.max-backoff", "2s",
		"-clickhouse.addr", chCfg.Addr, "-clickhouse.database", chCfg.Database)
	s := startStream(t, "fault_kafka_outage", p.base)

	s.waitAcked(t, 100)
	kafka.run(t, "stop")
	require.Eventually(t, func() bool { return s.failures(http.StatusServiceUnavailable) > 0 }, 30*time.Second, 50*time.Millisecond,
		"Cairn answers 503 while Kafka is down")
	stalled := s.count()
	time.Sleep(5 * time.Second)
	require.LessOrEqual(t, s.count(), stalled+1, "nothing is acknowledged while Kafka is down")
	kafka.run(t, "start")
	s.waitAcked(t, s.count()+100)
	s.verifyExactlyOnce(t, p.base)
	t.Logf("503 answers while Kafka was down: %s", strconv.Itoa(s.failures(http.StatusServiceUnavailable)))
	p.stop(t)
}
