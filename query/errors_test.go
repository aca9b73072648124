package query

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store/tenant"
)

func TestErrors(t *testing.T) {
	blocking := fixture()
	blocking.block = true
	failing := fixture()
	failing.err = errors.New("clickhouse: connection refused")

	tests := []struct {
		name     string
		reader   *memReader
		path     string
		params   url.Values
		code     int
		typ      string
		contains string
	}{
		{"missing query", nil, "/api/v1/query", url.Values{}, 400, "bad_data", `invalid parameter "query"`},
		{"parse error", nil, "/api/v1/query", url.Values{"query": {"sum(up"}}, 400, "bad_data", `invalid parameter "query": 1:7: parse error`},
		{"bad time", nil, "/api/v1/query", url.Values{"query": {"up"}, "time": {"yesterday"}}, 400, "bad_data", `invalid parameter "time": cannot parse "yesterday"`},
		{"bad timeout", nil, "/api/v1/query", url.Values{"query": {"up"}, "timeout": {"soon"}}, 400, "bad_data", `invalid parameter "timeout"`},
		{"bad limit", nil, "/api/v1/query", url.Values{"query": {"up"}, "limit": {"-1"}}, 400, "bad_data", `invalid parameter "limit"`},
		{"bad lookback", nil, "/api/v1/query", url.Values{"query": {"up"}, "lookback_delta": {"x"}}, 400, "bad_data", `invalid parameter "lookback_delta"`},
		{"range missing query", nil, "/api/v1/query_range", url.Values{"start": {"0"}, "end": {"60"}, "step": {"15"}}, 400, "bad_data", `invalid parameter "query"`},
		{"range bad start", nil, "/api/v1/query_range", url.Values{"query": {"up"}, "start": {"x"}, "end": {"60"}, "step": {"15"}}, 400, "bad_data", `invalid parameter "start"`},
		{"range missing end", nil, "/api/v1/query_range", url.Values{"query": {"up"}, "start": {"0"}, "step": {"15"}}, 400, "bad_data", `invalid parameter "end"`},
		{"range end before start", nil, "/api/v1/query_range", url.Values{"query": {"up"}, "start": {"60"}, "end": {"0"}, "step": {"15"}}, 400, "bad_data", `invalid parameter "end": end timestamp must not be before start time`},
		{"range bad step", nil, "/api/v1/query_range", url.Values{"query": {"up"}, "start": {"0"}, "end": {"60"}, "step": {"often"}}, 400, "bad_data", `invalid parameter "step"`},
		{"range zero step", nil, "/api/v1/query_range", url.Values{"query": {"up"}, "start": {"0"}, "end": {"60"}, "step": {"0"}}, 400, "bad_data", `invalid parameter "step": zero or negative`},
		{"range too many points", nil, "/api/v1/query_range", url.Values{"query": {"up"}, "start": {"0"}, "end": {"11001"}, "step": {"1"}}, 400, "bad_data", "exceeded maximum resolution of 11,000 points"},
		{"execution", nil, "/api/v1/query", url.Values{"query": {`label_replace(up, "instance", "", "", "")`}, "time": {sec(time.Minute)}}, 422, "execution", "same labelset"},
		{"timeout", blocking, "/api/v1/query", url.Values{"query": {"up"}, "timeout": {"50ms"}}, 503, "timeout", ""},
		{"range timeout", blocking, "/api/v1/query_range", url.Values{"query": {"up"}, "start": {"0"}, "end": {"60"}, "step": {"15"}, "timeout": {"0.05"}}, 503, "timeout", ""},
		{"storage failure", failing, "/api/v1/query", url.Values{"query": {"up"}}, 500, "internal", "connection refused"},
		{"series storage failure", failing, "/api/v1/series", url.Values{"match[]": {"up"}}, 500, "internal", "connection refused"},
		{"labels storage failure", failing, "/api/v1/labels", nil, 500, "internal", "connection refused"},
		{"series without match", nil, "/api/v1/series", url.Values{}, 400, "bad_data", `invalid parameter "match[]": no match[] parameter provided`},
		{"series bad match", nil, "/api/v1/series", url.Values{"match[]": {"up{"}}, 400, "bad_data", `invalid parameter "match[]"`},
		{"series empty matcher", nil, "/api/v1/series", url.Values{"match[]": {`{job=~".*"}`}}, 400, "bad_data", "at least one non-empty matcher"},
		{"labels bad start", nil, "/api/v1/labels", url.Values{"start": {"x"}}, 400, "bad_data", `invalid parameter "start"`},
		{"label values bad end", nil, "/api/v1/label/job/values", url.Values{"end": {"x"}}, 400, "bad_data", `invalid parameter "end"`},
		{"label values bad name", nil, "/api/v1/label/U__/values", nil, 400, "bad_data", "invalid label name"},
		{"format bad query", nil, "/api/v1/format_query", url.Values{"query": {"sum("}}, 400, "bad_data", `invalid parameter "query"`},
		{"exemplars bad query", nil, "/api/v1/query_exemplars", url.Values{"query": {"sum("}}, 400, "bad_data", `invalid parameter "query"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.reader
			if r == nil {
				r = fixture()
			}
			ta := newTestAPI(t, r)
			code, body := ta.get(t, tt.path, tt.params)
			require.Equal(t, tt.code, code, string(body))
			env := decode(t, body)
			require.Equal(t, "error", env.Status)
			require.Equal(t, tt.typ, env.ErrorType)
			require.Contains(t, env.Error, tt.contains)
			require.Nil(t, env.Data)
		})
	}
}

func TestEngineTimeout(t *testing.T) {
	r := fixture()
	r.block = true
	ta := newTestAPI(t, r, func(c *Config) { c.Timeout = 50 * time.Millisecond })
	code, body := ta.get(t, "/api/v1/query", url.Values{"query": {"up"}})
	require.Equal(t, http.StatusServiceUnavailable, code, string(body))
	require.Equal(t, "timeout", decode(t, body).ErrorType)
}

func TestEngineMaxSamples(t *testing.T) {
	ta := newTestAPI(t, fixture(), func(c *Config) { c.MaxSamples = 10 })
	code, body := ta.get(t, "/api/v1/query_range", url.Values{"query": {"up"}, "start": {sec(0)}, "end": {sec(time.Minute)}, "step": {"1"}})
	require.Equal(t, http.StatusUnprocessableEntity, code, string(body))
	env := decode(t, body)
	require.Equal(t, "execution", env.ErrorType)
	require.Contains(t, env.Error, "too many samples")
}

func TestClassify(t *testing.T) {
	tests := []struct {
		err  error
		want errorType
	}{
		{promql.ErrQueryTimeout("x"), errTimeout},
		{promql.ErrQueryCanceled("x"), errCanceled},
		{fmt.Errorf("wrapped: %w", context.DeadlineExceeded), errTimeout},
		{fmt.Errorf("%w: %w", context.DeadlineExceeded, context.Canceled), errTimeout},
		{context.Canceled, errCanceled},
		{promql.ErrStorage{Err: errors.New("down")}, errInternal},
		{promql.ErrTooManySamples("x"), errExec},
		{errors.New("anything else"), errExec},
		{badParam("x", errors.New("bad")), errBadData},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, classify(tt.err).typ, "%v", tt.err)
	}
}

func TestConcurrencyLimit(t *testing.T) {
	r := fixture()
	r.block = true
	ta := newTestAPI(t, r, func(c *Config) { c.MaxConcurrent = 1 })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := ta.api.InstantQuery(ctx, tenant.Default, "up", time.UnixMilli(t0))
		done <- err
	}()
	require.Eventually(t, func() bool { return len(r.seenTenants()) > 0 }, 5*time.Second, time.Millisecond)
	// The only slot is taken: a second query waits until its timeout.
	code, body := ta.get(t, "/api/v1/query", url.Values{"query": {"1"}, "timeout": {"20ms"}})
	require.Equal(t, http.StatusServiceUnavailable, code, string(body))
	require.Contains(t, decode(t, body).Error, "query slots")
	cancel()
	require.Error(t, <-done)
}
