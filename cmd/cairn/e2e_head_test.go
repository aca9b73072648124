package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/storetest"
)

// TestHeadEndToEnd runs the full pipeline (ingest, writer, query) and,
// beside it, a query process whose ClickHouse database is empty but which
// keeps a head (-query.head.window) of the same metrics topic. Whatever
// that process answers comes from its head: it must answer what the
// pipeline answers from ClickHouse, right after a write and again after a
// restart, when it replays the topic.
func TestHeadEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	listen := freeAddr(t)
	args := serveArgs(t, listen)
	full := startCairn(t, listen, args...)
	t.Cleanup(func() { full.stop(t) })

	empty := storetest.Config(t) // a database no writer fills
	headArgs := func(listen string) []string {
		return []string{"serve", "-roles", "query", "-listen", listen,
			"-kafka.brokers", flagValue(args, "-kafka.brokers"), "-kafka.topic-prefix", flagValue(args, "-kafka.topic-prefix"),
			"-clickhouse.addr", empty.Addr, "-clickhouse.database", empty.Database,
			"-query.head.window", "2h", "-query.head.dir", t.TempDir()}
	}
	hl := freeAddr(t)
	headOnly := startCairn(t, hl, headArgs(hl)...)

	now := time.Now().Add(-time.Minute).Truncate(time.Second).UnixMilli()
	var series []store.Series
	for i := range 20 {
		s := store.Series{Labels: labels.FromStrings("__name__", "head_e2e", "instance", fmt.Sprintf("i%02d", i))}
		for k := int64(0); k < 40; k++ {
			s.Samples = append(s.Samples, store.Sample{T: now - (39-k)*15_000, V: float64(i*1000) + float64(k)})
		}
		series = append(series, s)
	}
	// Two requests: the second one's series travel as references (the
	// receiver sent their labels with the first), which the head resolves.
	for _, half := range [][2]int{{0, 20}, {20, 40}} {
		part := make([]store.Series, len(series))
		for i, s := range series {
			part[i] = store.Series{Labels: s.Labels, Samples: s.Samples[half[0]:half[1]]}
		}
		code, err := remoteWrite(full.base, part...)
		require.NoError(t, err)
		require.Equal(t, http.StatusNoContent, code)
	}

	// Messages that reach the writer after it closed a batch go in the
	// next one: wait for all 800 samples in ClickHouse before taking the
	// pipeline's answer.
	require.Eventually(t, func() bool {
		r := promQuery(t, full.base, "sum(count_over_time(head_e2e[30m]))").Data.Result
		return len(r) == 1 && r[0].Value[1] == "800"
	}, 30*time.Second, 200*time.Millisecond, "the pipeline has every sample in ClickHouse")
	q := rangeQueryString("sum(rate(head_e2e[2m]))", now-5*60_000, now, 15)
	want := rangeQueryBody(t, full.base, q)
	require.Regexp(t, `"values":\[\[`, want)
	require.Eventually(t, func() bool { return rangeQueryBody(t, headOnly.base, q) == want }, 30*time.Second, 200*time.Millisecond,
		"the head-only process answers the same from its head")
	require.Equal(t, 800.0, selfMetric(t, headOnly.base, "cairn_head_samples_appended_total"))
	require.Zero(t, selfMetric(t, headOnly.base, "cairn_head_unresolved_samples_total"), "every reference resolved")
	require.Equal(t, 20.0, selfMetric(t, full.base, `cairn_ingest_series_sent_total{as="reference"}`), "the second request's series went as references")
	require.Contains(t, metricsBody(t, headOnly.base), `cairn_head_tail_lag_messages{topic=`)

	// Restarted, it replays the topic before it declares the head ready.
	headOnly.stop(t)
	hl = freeAddr(t)
	headOnly = startCairn(t, hl, headArgs(hl)...)
	t.Cleanup(func() { headOnly.stop(t) })
	require.Eventually(t, func() bool { return rangeQueryBody(t, headOnly.base, q) == want }, 30*time.Second, 200*time.Millisecond,
		"after a restart, from the replayed head")
	// A range reaching back before the head's window still answers: the
	// older part from (the empty) ClickHouse, merged.
	old := rangeQueryString("count(head_e2e)", now-3*3600_000, now, 60)
	var res promResponse
	require.NoError(t, json.Unmarshal([]byte(rangeQueryBody(t, headOnly.base, old)), &res))
	require.Len(t, res.Data.Result, 1)
	vals := res.Data.Result[0].Values
	require.NotEmpty(t, vals)
	require.Equal(t, "20", vals[len(vals)-1][1], "every series counted at the end")
}

// flagValue returns the value following name in args.
func flagValue(args []string, name string) string {
	for i := range len(args) - 1 {
		if args[i] == name {
			return args[i+1]
		}
	}
	return ""
}

// url3 is the query string of a range query.
func rangeQueryString(q string, start, end int64, step int) string {
	return fmt.Sprintf("query=%s&start=%s&end=%s&step=%d", url.QueryEscape(q),
		strconv.FormatFloat(float64(start)/1000, 'f', 3, 64), strconv.FormatFloat(float64(end)/1000, 'f', 3, 64), step)
}

// rangeQueryBody runs a range query without the results cache and returns
// the response body.
func rangeQueryBody(t *testing.T, base, query string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/api/v1/query_range?"+query, nil)
	require.NoError(t, err)
	req.Header.Set("Cache-Control", "no-store")
	resp, err := httpClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
	return string(b)
}

// metricsBody returns a Cairn process' /metrics.
func metricsBody(t *testing.T, base string) string {
	t.Helper()
	resp, err := httpClient.Get(base + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

// selfMetric reads one unlabelled metric from a Cairn process' /metrics.
func selfMetric(t *testing.T, base, name string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindStringSubmatch(metricsBody(t, base))
	require.NotNil(t, m, "metric %s", name)
	v, err := strconv.ParseFloat(m[1], 64)
	require.NoError(t, err)
	return v
}
