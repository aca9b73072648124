package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

// stream sends one sample per remote write request, as fast as Cairn
// acknowledges them: sample seq has value seq at base+seq seconds. Like
// Prometheus, it retries a sample until it is acknowledged and only then
// moves on, so the acknowledged samples are exactly 0…count()-1.
//
// Sample time runs ahead of the clock (a second per request), so base is
// a day back: tens of thousands of samples stay in the past, where
// -ingest.max-future-skew accepts them and a query at "now" sees them.
type stream struct {
	metric string
	logs   bool  // Loki push of one line per request, instead of samples
	base   int64 // ms
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	target string
	acked  int
	codes  map[int]int // answers other than 204, by status; 0 = no answer
}

func startStream(t *testing.T, metric, target string) *stream {
	return newStream(t, metric, target, false)
}

// startLogStream is startStream for log lines: line seq is "line <seq>"
// at base+seq seconds, in stream {job="stream", name=<name>}, pushed with
// Loki's JSON push API.
func startLogStream(t *testing.T, name, target string) *stream {
	return newStream(t, name, target, true)
}

func newStream(t *testing.T, metric, target string, logs bool) *stream {
	ctx, cancel := context.WithCancel(context.Background())
	s := &stream{
		metric: metric,
		logs:   logs,
		base:   time.Now().Add(-24 * time.Hour).Truncate(time.Second).UnixMilli(),
		cancel: cancel,
		done:   make(chan struct{}),
		target: target,
		codes:  map[int]int{},
	}
	t.Cleanup(s.stop) // also when an assertion ends the test early
	go s.run(ctx)
	return s
}

func (s *stream) run(ctx context.Context) {
	defer close(s.done)
	for seq := 0; ctx.Err() == nil; {
		s.mu.Lock()
		target := s.target
		s.mu.Unlock()
		code, err := s.send(target, seq)
		s.mu.Lock()
		if err == nil && code == http.StatusNoContent {
			s.acked++
			seq++
		} else {
			s.codes[code]++
		}
		s.mu.Unlock()
		if err != nil || code != http.StatusNoContent {
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func (s *stream) send(target string, seq int) (int, error) {
	t := s.base + int64(seq)*1000
	if s.logs {
		body := fmt.Sprintf(`{"streams":[{"stream":{"job":"stream","name":%q},"values":[["%d","line %d"]]}]}`, s.metric, t*1e6, seq)
		resp, err := httpClient.Post(target+"/loki/api/v1/push", "application/json", strings.NewReader(body))
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil
	}
	return remoteWrite(target, store.Series{
		Labels:  labels.FromStrings("__name__", s.metric, "job", "stream"),
		Samples: []store.Sample{{T: t, V: float64(seq)}},
	})
}

// retarget sends the following requests to another Cairn.
func (s *stream) retarget(base string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.target = base
}

func (s *stream) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acked
}

// failures returns how many requests got status code (0: no answer).
func (s *stream) failures(code int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.codes[code]
}

func (s *stream) statuses() map[int]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.codes)
}

func (s *stream) waitAcked(t *testing.T, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return s.count() >= n }, 60*time.Second, 10*time.Millisecond,
		"%s: waiting for %d acknowledged samples, have %d; other answers by status (0: none): %v", s.metric, n, s.count(), s.statuses())
}

func (s *stream) stop() {
	s.cancel()
	<-s.done
}

// verifyExactlyOnce stops the stream and checks through the query API of
// base that every acknowledged sample is stored, once, with its value.
func (s *stream) verifyExactlyOnce(t *testing.T, base string) {
	t.Helper()
	s.stop()
	total := s.count()
	if s.logs {
		s.verifyLinesExactlyOnce(t, base, total)
		return
	}
	q := fmt.Sprintf("%s[%ds]", s.metric, int(time.Since(time.UnixMilli(s.base)).Seconds())+60)
	var pr promResponse
	require.Eventually(t, func() bool {
		pr = promQuery(t, base, q)
		return len(pr.Data.Result) == 1 && len(pr.Data.Result[0].Values) >= total
	}, 60*time.Second, 250*time.Millisecond, "all %d acknowledged samples of %s queryable", total, s.metric)
	values := pr.Data.Result[0].Values
	require.Len(t, values, total, "every acknowledged sample exactly once")
	for i, v := range values {
		require.Equal(t, strconv.Itoa(i), v[1], "sample %d", i)
	}
	t.Logf("%s: %d samples acknowledged, each stored exactly once", s.metric, total)
}

// verifyLinesExactlyOnce counts the stream's lines with LogQL: the store
// counts each (stream, time, line) once, and every line is unique, so the
// count equals total exactly when each acknowledged line is there once.
func (s *stream) verifyLinesExactlyOnce(t *testing.T, base string, total int) {
	t.Helper()
	q := fmt.Sprintf(`sum(count_over_time({job="stream",name=%q}[%ds]))`, s.metric, int(time.Since(time.UnixMilli(s.base)).Seconds())+60)
	var got string
	require.Eventually(t, func() bool {
		got = lokiInstant(t, base, q)
		return got == strconv.Itoa(total)
	}, 60*time.Second, 250*time.Millisecond, "%s: want %d log lines, LogQL counts %s", s.metric, total, got)
	t.Logf("%s: %d log lines acknowledged, each stored exactly once", s.metric, total)
}

// lokiInstant runs an instant LogQL metric query now and returns the value
// of its single result, or "" when it has none.
func lokiInstant(t *testing.T, base, q string) string {
	t.Helper()
	resp, err := httpClient.Get(base + "/loki/api/v1/query?query=" + url.QueryEscape(q))
	require.NoError(t, err)
	defer resp.Body.Close()
	var lr struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	b, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", b)
	require.NoError(t, json.Unmarshal(b, &lr), "%s", b)
	if len(lr.Data.Result) != 1 {
		return ""
	}
	v, _ := lr.Data.Result[0].Value[1].(string)
	return v
}
