package query

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

// failingReader fails every call, for tests that must not reach the store.
type failingReader struct{}

var errStoreDown = errors.New("clickhouse: connection refused")

func (failingReader) ReadLogs(context.Context, store.LogQuery) ([]store.LogEntry, error) {
	return nil, errStoreDown
}

func (failingReader) CountLogs(context.Context, store.LogQuery, int64) ([]store.StreamCounts, error) {
	return nil, errStoreDown
}

func (failingReader) SelectStreams(context.Context, string, int64, int64, ...*labels.Matcher) ([]store.StreamRef, error) {
	return nil, errStoreDown
}

func (failingReader) LogLabelNames(context.Context, string, int64, int64, ...*labels.Matcher) ([]string, error) {
	return nil, errStoreDown
}

func (failingReader) LogLabelValues(context.Context, string, string, int64, int64, ...*labels.Matcher) ([]string, error) {
	return nil, errStoreDown
}

func TestLokiStatuses(t *testing.T) {
	ta := newLokiTestAPIOver(t, failingReader{})
	for _, tc := range []struct {
		path, query string
		code        int
		body        string
	}{
		{"/loki/api/v1/query_range", `{app="a"} |~ "("`, 400, "parse error at line 1, col 14: invalid regular expression \"(\": error parsing regexp: missing closing ): `(`\n"},
		{"/loki/api/v1/query_range", `{app="a"}`, 500, "clickhouse: connection refused\n"},
		{"/loki/api/v1/query", `rate({app="a"}[1m])`, 500, "clickhouse: connection refused\n"},
		{"/loki/api/v1/labels", ``, 500, "clickhouse: connection refused\n"},
		{"/loki/api/v1/index/stats", `{app="a"}`, 500, "clickhouse: connection refused\n"},
		{"/loki/api/v1/index/stats", `rate({app="a"}[1m])`, 400, "only label matchers are supported\n"},
	} {
		code, _, body := ta.do(t, http.MethodGet, tc.path, url.Values{"query": {tc.query}})
		require.Equal(t, tc.code, code, tc.query)
		require.Equal(t, tc.body, string(body))
	}
	require.Equal(t, 499, lokiStatus(context.Canceled))
	require.Equal(t, http.StatusGatewayTimeout, lokiStatus(context.DeadlineExceeded))
	require.Equal(t, http.StatusBadRequest, lokiStatus(store.ErrInvalidQuery))
}

func TestParseLokiTime(t *testing.T) {
	for in, want := range map[string]time.Time{
		"1709251200":                   time.Unix(1709251200, 0),
		"1709251200.5":                 time.Unix(1709251200, 5e8),
		"1709251200000000001":          time.Unix(0, 1709251200000000001),
		"2024-03-01T00:00:00Z":         time.Unix(1709251200, 0),
		"2024-03-01T01:00:00.25+01:00": time.Unix(1709251200, 25e7),
		"0":                            time.Unix(0, 0),
	} {
		got, err := parseLokiTime(in)
		require.NoError(t, err, in)
		require.True(t, want.Equal(got), "%s: %s", in, got)
	}
	_, err := parseLokiTime("now")
	require.Error(t, err)
}

func TestLokiConfig(t *testing.T) {
	var cfg LokiConfig
	cfg.RegisterFlags(testFlagSet())
	require.NoError(t, cfg.Validate())
	require.Equal(t, 5000, cfg.MaxEntriesLimit)
	require.Equal(t, 500, cfg.MaxSeries)
	cfg.MaxScanLines = -1
	require.EqualError(t, cfg.Validate(), "-loki.max-scan-lines is negative, use 0 for no limit")
	_, err := NewLokiAPI(cfg, failingReader{}, nil, nil)
	require.Error(t, err)
}

// TestLokiScanLimit runs a parser pipeline over more lines than
// -loki.max-scan-lines allows.
func TestLokiScanLimit(t *testing.T) {
	ta := newLokiTestAPI(t, func(c *LokiConfig) { c.MaxScanLines = 50 })
	p := url.Values{"query": {`sum(count_over_time({app="api"} | json | __error__="" [1h]))`}, "time": {lokiAt(time.Hour)}}
	code, _, body := ta.do(t, http.MethodGet, "/loki/api/v1/query", p)
	require.Equal(t, http.StatusBadRequest, code)
	require.Equal(t, "the query would read more than 50 log lines into memory (-loki.max-scan-lines); "+
		"narrow the time range, the stream selector, or add line filters before the parser\n", string(body))
	// Counting in ClickHouse reads no lines, whatever their number.
	p.Set("query", `sum(count_over_time({app="api"}[1h]))`)
	code, _, body = ta.do(t, http.MethodGet, "/loki/api/v1/query", p)
	require.Equal(t, http.StatusOK, code, "%s", body)
}
