package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/ingest/queue/queuetest"
	"github.com/cairn-dev/cairn/ingest/remotewrite"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/storetest"
)

// The end-to-end tests run the real binary, as users do, and talk to it
// over HTTP only.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func cairnBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cairn-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "cairn")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, buildErr)
	return binPath
}

// proc is a running cairn process.
type proc struct {
	cmd  *exec.Cmd
	base string // http://host:port
	mu   sync.Mutex
	out  bytes.Buffer
	done chan error
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

func (p *proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// startCairn runs the binary with args and waits until /readyz answers.
func startCairn(t *testing.T, listen string, args ...string) *proc {
	t.Helper()
	p := &proc{base: "http://" + listen, done: make(chan error, 1)}
	p.cmd = exec.Command(cairnBinary(t), args...)
	p.cmd.Stdout, p.cmd.Stderr = p, p
	require.NoError(t, p.cmd.Start())
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if t.Failed() {
			// A failed test may have caught Cairn stuck: SIGQUIT makes the
			// Go runtime print every goroutine before exiting.
			_ = p.cmd.Process.Signal(syscall.SIGQUIT)
			select {
			case err := <-p.done:
				p.done <- err
			case <-time.After(5 * time.Second):
			}
		}
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("cairn output:\n%s", p.output())
		}
	})
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("cairn exited before becoming ready: %v\n%s", err, p.output())
		default:
		}
		if resp, err := httpClient.Get(p.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("cairn not ready after 90s:\n%s", p.output())
	return nil
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-p.done:
		require.NoError(t, err, "cairn exits cleanly on SIGTERM:\n%s", p.output())
		p.done <- err
	case <-time.After(60 * time.Second):
		t.Fatalf("cairn did not exit within 60s of SIGTERM:\n%s", p.output())
	}
}

// httpClient bounds every request, so a wedged server fails the test
// instead of hanging it.
var httpClient = &http.Client{Timeout: 15 * time.Second}

func remoteWrite(base string, series ...store.Series) (int, error) {
	body, err := remotewrite.EncodeV1(series)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequest(http.MethodPost, base+"/api/v1/write", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("Content-Type", "application/x-protobuf")
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

type promResponse struct {
	Status string `json:"status"`
	Error  string `json:"error"`
	Data   struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
			Values [][2]any          `json:"values"`
		} `json:"result"`
	} `json:"data"`
}

func promQuery(t *testing.T, base, q string) promResponse {
	t.Helper()
	resp, err := httpClient.Get(base + "/api/v1/query?query=" + url.QueryEscape(q))
	require.NoError(t, err)
	defer resp.Body.Close()
	var pr promResponse
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&pr))
	require.Equal(t, "success", pr.Status, pr.Error)
	return pr
}

// serveArgs points `cairn serve` at the real test servers, with a database
// and topics of this test's own.
func serveArgs(t *testing.T, listen string) []string {
	chCfg := storetest.Config(t)
	prefix := queuetest.UniquePrefix(t)
	return []string{"serve",
		"-listen", listen,
		"-kafka.brokers", queuetest.Real(t),
		"-kafka.topic-prefix", prefix,
		"-writer.group", prefix + "writers",
		"-writer.flush-interval", "200ms",
		"-clickhouse.addr", chCfg.Addr,
		"-clickhouse.database", chCfg.Database,
	}
}

// TestServeEndToEnd is the walking skeleton on the real broker and
// server: remote write in, PromQL out, through Kafka and ClickHouse.
func TestServeEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	listen := freeAddr(t)
	p := startCairn(t, listen, serveArgs(t, listen)...)

	now := time.Now().UnixMilli()
	code, err := remoteWrite(p.base, store.Series{Labels: labels.FromStrings("__name__", "demo_metric", "job", "x"), Samples: []store.Sample{{T: now, V: 42}}})
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, code)

	var pr promResponse
	require.Eventually(t, func() bool {
		pr = promQuery(t, p.base, "demo_metric")
		return len(pr.Data.Result) == 1
	}, 15*time.Second, 100*time.Millisecond, "sample queryable")
	require.Equal(t, "vector", pr.Data.ResultType)
	require.Equal(t, map[string]string{"__name__": "demo_metric", "job": "x"}, pr.Data.Result[0].Metric)
	require.Equal(t, "42", pr.Data.Result[0].Value[1])

	resp, err := httpClient.Get(p.base + "/metrics")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Contains(t, string(body), `cairn_ingest_samples_total{protocol="prometheus",result="accepted"} 1`)
	require.Contains(t, string(body), "cairn_writer_rows_total 1")
	p.stop(t)
}

// TestSIGTERMMidStreamExactlyOnce streams remote writes, stops Cairn with
// SIGTERM in the middle, starts it again, and checks that every
// acknowledged sample is stored exactly once. The sender retries what was
// not acknowledged, as Prometheus does.
func TestSIGTERMMidStreamExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	listen := freeAddr(t)
	args := serveArgs(t, listen)
	p := startCairn(t, listen, args...)
	s := startStream(t, "e2e_sigterm", p.base)

	s.waitAcked(t, 100)
	p.stop(t)
	p = startCairn(t, listen, args...)
	s.waitAcked(t, s.count()+100)
	s.verifyExactlyOnce(t, p.base)
	p.stop(t)
}

// TestDevQuickstart is what `make run` promises: cairn dev with nothing
// but clickhouse-server installed takes a remote write and answers it
// within 5 seconds.
func TestDevQuickstart(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	if _, err := exec.LookPath("clickhouse-server"); err != nil {
		if _, err := os.Stat("/usr/sbin/clickhouse-server"); err != nil {
			storetest.Addr(t) // skips with the make test hint when unset
			t.Fatal("clickhouse-server is not installed; make test installs it")
		}
	}
	listen := freeAddr(t)
	data := t.TempDir()
	p := startCairn(t, listen, "dev", "-listen", listen, "-data", data)
	require.Regexp(t, regexp.MustCompile(`Prometheus remote write:\s+http://`+regexp.QuoteMeta(listen)+`/api/v1/write`), p.output())

	start := time.Now()
	code, err := remoteWrite(p.base, store.Series{Labels: labels.FromStrings("__name__", "demo_metric", "job", "x"), Samples: []store.Sample{{T: time.Now().UnixMilli(), V: 42}}})
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, code)
	require.Eventually(t, func() bool {
		pr := promQuery(t, p.base, "demo_metric")
		return len(pr.Data.Result) == 1 && pr.Data.Result[0].Value[1] == "42"
	}, 5*time.Second, 50*time.Millisecond)
	t.Logf("acknowledged → queryable in %s", time.Since(start))
	p.stop(t)

	// What was acknowledged survives a restart of dev mode.
	p = startCairn(t, listen, "dev", "-listen", listen, "-data", data)
	pr := promQuery(t, p.base, "demo_metric[1h]")
	require.Len(t, pr.Data.Result, 1)
	require.Len(t, pr.Data.Result[0].Values, 1)
	p.stop(t)
}
