package query

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

// lokiCase is one request of the LogQL golden tests; its response is in
// testdata/loki/<name>.golden (go test -run TestLokiGolden -update).
type lokiCase struct {
	name   string
	path   string
	params url.Values
	method string
	header []string
	check  func(t *testing.T, ta *lokiTestAPI)
}

// rq builds a query_range case over the corpus' first hour.
func rq(name, query string, kv ...string) lokiCase {
	p := url.Values{"query": {query}, "start": {lokiAt(0)}, "end": {lokiAt(time.Hour)}, "limit": {"5"}}
	for i := 0; i+1 < len(kv); i += 2 {
		p.Set(kv[i], kv[i+1])
	}
	return lokiCase{name: name, path: "/loki/api/v1/query_range", params: p}
}

// iq builds an instant query case at the end of the corpus' first hour.
func iq(name, query string, kv ...string) lokiCase {
	c := rq(name, query, kv...)
	c.path = "/loki/api/v1/query"
	c.params.Del("start")
	c.params.Del("end")
	c.params.Set("time", lokiAt(time.Hour))
	return c
}

func meta(name, path string, kv ...string) lokiCase {
	p := url.Values{"start": {lokiAt(0)}, "end": {lokiAt(time.Hour)}}
	for i := 0; i+1 < len(kv); i += 2 {
		p.Add(kv[i], kv[i+1])
	}
	return lokiCase{name: name, path: path, params: p}
}

func (c lokiCase) with(f func(*lokiCase)) lokiCase { f(&c); return c }

// pushed checks that ClickHouse read with these line filters and counted
// nothing, or counted (read false) and read nothing.
func pushed(read bool, filters ...store.LineFilter) func(*testing.T, *lokiTestAPI) {
	return func(t *testing.T, ta *lokiTestAPI) {
		if !read {
			require.Empty(t, ta.reader.reads, "counted in ClickHouse, no lines read")
			require.NotEmpty(t, ta.reader.counts)
			require.Equal(t, filters, ta.reader.counts[0].LineFilters)
			return
		}
		require.Empty(t, ta.reader.counts)
		require.NotEmpty(t, ta.reader.reads)
		require.Equal(t, filters, ta.reader.reads[0].LineFilters)
	}
}

func lokiCases() []lokiCase {
	step := func(s string) []string { return []string{"step", s} }
	contains := func(v string) store.LineFilter { return store.LineFilter{Op: store.LineContains, Value: v} }
	cases := []lokiCase{
		// stream selectors, direction, limit
		rq("selector_eq", `{app="web"}`, "limit", "3"),
		rq("selector_regex_neq", `{app=~"api|db", pod!="api-1"}`, "limit", "4", "direction", "forward"),
		rq("selector_nregex_metadata", `{env="prod", app!~"api|db|cron"}`, "limit", "3"),
		rq("direction_forward", `{app="api", pod="api-1"}`, "limit", "3", "direction", "FORWARD"),
		rq("direction_backward_two_days", `{app="api", pod="api-1"}`, "limit", "3", "end", lokiAt(26*time.Hour)),
		rq("default_limit_100", `{app="cron"}`, "limit", ""),
		rq("rfc3339_and_seconds", `{app="cron"}`, "start", "2024-03-01T00:00:00Z", "end", "1709254800"),
		// line filters, each pushed to ClickHouse
		rq("filter_contains", `{app="api"} |= "POST"`, "limit", "3").with(func(c *lokiCase) { c.check = pushed(true, contains("POST")) }),
		rq("filter_not_contains", `{app="db"} != "info"`, "limit", "3"),
		rq("filter_regex", `{app="web"} |~ "\" 404 [0-9]+$"`, "limit", "3"),
		rq("filter_not_regex", `{app="api", pod="api-2"} !~ "^\\{"`, "limit", "3"),
		rq("filter_chain_backquotes", "{app=\"api\"} |= `users` != `POST` |~ `\"status\":5`", "limit", "5"),
		// parsers
		rq("json", `{app="api", pod="api-2"} | json`, "limit", "3", "start", lokiAt(3*time.Minute)),
		rq("json_extract", `{app="api", pod="api-1"} | json user_name="user.name", st="status", missing="nope"`, "limit", "2"),
		rq("logfmt", `{app="db"} | logfmt`, "limit", "3"),
		rq("logfmt_pushdown_before_parser", `{app="db"} |= "orders" | logfmt | rows > 40`, "limit", "3").
			with(func(c *lokiCase) { c.check = pushed(true, contains("orders")) }),
		rq("regexp", `{app="web"} | regexp "^(?P<ip>\\S+) .* \"(?P<method>\\w+) (?P<path>\\S+)"`, "limit", "3"),
		rq("pattern", `{app="web"} | pattern "<ip> - - [<_>] \"<method> <path> <_>\" <status> <size>"`, "limit", "3"),
		// label filters
		rq("label_eq", `{app="api"} | json | level="error"`, "limit", "3"),
		rq("label_neq_nre", `{app="api", pod="api-1"} | json | level!="info" and level!~"debug|warn"`, "limit", "3"),
		rq("label_re", `{app="api", pod="api-1"} | json | msg=~"GET /users.*"`, "limit", "3"),
		rq("label_number_gte", `{app="api", pod="api-1"} | json | status >= 500`, "limit", "3"),
		rq("label_number_lt_eq_neq", `{app="api", pod="api-1"} | json | latency_ms < 100 | status == 200 | user_id != 0`, "limit", "3"),
		rq("label_duration", `{app="api", pod="api-1"} | json | duration > 390ms`, "limit", "3"),
		rq("label_duration_logfmt", `{app="db"} | logfmt | took >= 880ms`, "limit", "3"),
		rq("label_bytes", `{app="api", pod="api-1"} | json | size > 8KB`, "limit", "3"),
		rq("label_and_or_parens", `{app="api", pod="api-1"} | json | (status = 500 or status = 503), level="error" or level="debug" status=404`, "limit", "5"),
		rq("label_error", `{app="api", pod="api-2"} | json | __error__!=""`, "limit", "2"),
		rq("label_no_error", `{app="api", pod="api-2"} | json | __error__="" | status >= 500`, "limit", "2"),
		rq("label_metadata", `{app="worker"} | trace_id="t010"`),
		// formats, drop, keep
		rq("line_format", `{app="api", pod="api-1"} | json | line_format "{{.level | upper}} {{.msg}} by {{.user_name}}{{.missing}}"`, "limit", "3"),
		rq("line_format_then_filter", `{app="db"} | logfmt | line_format "{{.table}} {{.rows}}" |= "orders"`, "limit", "3"),
		rq("label_format", `{app="db"} | logfmt | label_format tbl=table, summary="{{.level}}/{{.rows}}"`, "limit", "2"),
		rq("drop", `{app="db"} | logfmt | drop took, rows, level="warn"`, "limit", "3"),
		rq("keep", `{app="db"} | logfmt | keep app, level`, "limit", "2"),
		rq("categorize_labels", `{app="worker"} | logfmt`, "limit", "2").with(func(c *lokiCase) {
			c.header = []string{"X-Loki-Response-Encoding-Flags", "categorize-labels"}
		}),
		rq("post_form", `{app="cron"} |= "disk"`).with(func(c *lokiCase) { c.method = http.MethodPost }),
		rq("tenant_other", `{app="api"}`).with(func(c *lokiCase) { c.header = []string{"X-Scope-OrgID", "other"} }),
		// metric queries counted in ClickHouse
		rq("count_over_time", `count_over_time({app="db"}[10m])`, step("10m")...).with(func(c *lokiCase) { c.check = pushed(false) }),
		rq("rate_filter", `rate({app="api"} |= "POST" [10m])`, step("600")...).with(func(c *lokiCase) { c.check = pushed(false, contains("POST")) }),
		rq("bytes_over_time", `bytes_over_time({app="web"}[30m])`, step("30m")...),
		rq("bytes_rate", `bytes_rate({app="web"}[30m])`, step("900000ms")...),
		rq("range_longer_than_step", `count_over_time({app="cron"}[25m])`, step("10m")...),
		rq("step_alignment", `count_over_time({app="db"}[10m])`, "start", lokiAt(7*time.Minute), "end", lokiAt(53*time.Minute), "step", "10m"),
		rq("sum_by", `sum by (pod) (count_over_time({app="api"}[10m]))`, step("10m")...),
		rq("sum_without", `sum without (pod) (rate({app="api"}[10m]))`, step("20m")...),
		rq("volume_drop_error", `sum by (level) (count_over_time({env=~".+"} | drop __error__ [10m]))`, step("10m")...).
			with(func(c *lokiCase) { c.check = pushed(false) }),
		iq("instant_count_offset", `count_over_time({app="db"}[10m] offset 10m)`),
		iq("instant_avg", `avg(count_over_time({env="prod"}[1h]))`),
		iq("instant_min", `min(count_over_time({env="prod"}[1h]))`),
		iq("instant_max_by", `max by (app) (count_over_time({env="prod"}[1h]))`),
		iq("instant_count", `count(count_over_time({env="prod"}[1h]))`),
		iq("instant_topk", `topk(2, sum by (msg) (count_over_time({app="api", pod="api-1"} | json [1h])))`),
		iq("instant_bottomk", `bottomk(1, count_over_time({app=~"web|cron"}[1h]))`),
		// metric queries over parsers, in Go
		iq("json_pipeline_error", `sum by (level) (count_over_time({app="api"} | json [1h]))`),
		iq("json_no_error", `sum by (level) (count_over_time({app="api"} | json | __error__="" [1h]))`).
			with(func(c *lokiCase) { c.check = pushed(true) }),
		rq("logfmt_rate_by", `sum by (table) (rate({app="db"} | logfmt | level!="info" [20m]))`, step("20m")...),
		iq("unwrap_sum", `sum_over_time({app="api", pod="api-1"} | json | unwrap latency_ms [1h]) by (level)`),
		iq("unwrap_avg", `avg_over_time({app="api", pod="api-1"} | json | unwrap latency_ms [1h]) by (level)`),
		iq("unwrap_min", `min_over_time({app="api", pod="api-1"} | json | unwrap latency_ms [1h]) by (status)`),
		iq("unwrap_max_duration", `max_over_time({app="db"} | logfmt | unwrap duration(took) [1h]) by (table)`),
		iq("unwrap_quantile_bytes", `quantile_over_time(0.9, {app="api", pod="api-1"} | json | unwrap bytes(size) [1h]) by (app)`),
		iq("unwrap_error", `sum_over_time({app="db"} | logfmt | unwrap rows | rows > 40 [1h])`),
		iq("unwrap_without", `avg_over_time({app="db"} | logfmt | unwrap rows [1h]) without (took, level, rows)`),
		// binary operations
		rq("binary_error_ratio", `sum(rate({app="api"} |= "\"level\":\"error\"" [20m])) / sum(rate({app="api"}[20m]))`, step("20m")...),
		rq("binary_compare_filter", `sum by (app) (count_over_time({env="prod"}[30m])) > 30`, step("30m")...),
		rq("binary_bool_on", `sum by (app) (count_over_time({env="prod"}[30m])) > bool on (app) sum by (app) (count_over_time({app=~"db|api"}[30m]))`, step("30m")...),
		iq("binary_or_vector", `sum(count_over_time({app="nope"}[1h])) or vector(0)`),
		iq("binary_and_unless", `count_over_time({env="prod"}[1h]) unless count_over_time({app="api"}[1h]) and count_over_time({app=~"db|cron"}[1h])`),
		iq("binary_scalar", `2 * 3 + 1`),
		// errors, as Loki answers them
		rq("error_parse", `{app="api"} | json | foo`),
		rq("error_empty_matcher", `{app=~".*"}`),
		iq("error_instant_log_query", `{app="api"}`),
		rq("error_limit", `{app="api"}`, "limit", "5001"),
		rq("error_step_zero", `rate({app="api"}[1m])`, step("0")...),
		rq("error_too_many_steps", `rate({app="api"}[1m])`, step("0.1")...),
		rq("error_end_before_start", `{app="api"}`, "end", lokiAt(-time.Hour)),
		rq("error_direction", `{app="api"}`, "direction", "sideways"),
		rq("error_bad_time", `{app="api"}`, "start", "yesterday"),
		rq("error_tenant", `{app="api"}`).with(func(c *lokiCase) { c.header = []string{"X-Scope-OrgID", "a/b"} }),
		// labels, series, stats
		meta("labels", "/loki/api/v1/labels"),
		meta("labels_query", "/loki/api/v1/labels", "query", `{app="worker"}`),
		meta("labels_since", "/loki/api/v1/labels", "start", "", "since", "1h").with(func(c *lokiCase) { c.params.Del("start") }),
		meta("label_values", "/loki/api/v1/label/app/values"),
		meta("label_values_query", "/loki/api/v1/label/pod/values", "query", `{app="api"}`),
		meta("label_values_missing", "/loki/api/v1/label/nope/values"),
		meta("series", "/loki/api/v1/series", "match[]", `{app="api"}`, "match[]", `{app=~"db|web"}`),
		meta("series_error", "/loki/api/v1/series"),
		meta("index_stats", "/loki/api/v1/index/stats", "query", `{app="api"}`),
		meta("index_stats_day2", "/loki/api/v1/index/stats", "query", `{app="api"}`).with(func(c *lokiCase) {
			c.params.Set("start", lokiAt(24*time.Hour))
			c.params.Set("end", lokiAt(48*time.Hour))
		}),
		{name: "format_query", path: "/loki/api/v1/format_query", params: url.Values{"query": {`sum(rate({app="api"}|="x"[1m]))by(pod)`}}},
	}
	return cases
}

func TestLokiGolden(t *testing.T) {
	ta := newLokiTestAPI(t)
	for _, c := range lokiCases() {
		t.Run(c.name, func(t *testing.T) {
			ta.reader.reset()
			method := c.method
			if method == "" {
				method = http.MethodGet
			}
			code, ctype, body := ta.do(t, method, c.path, c.params, c.header...)
			got := lokiGolden(t, method, c, code, ctype, body)
			file := filepath.Join("testdata", "loki", c.name+".golden")
			if *update {
				require.NoError(t, os.WriteFile(file, got, 0o644))
			}
			want, err := os.ReadFile(file)
			require.NoError(t, err)
			require.Equal(t, string(want), string(got))
			if c.check != nil {
				c.check(t, ta)
			}
		})
	}
}

var volatileStats = regexp.MustCompile(`"(execTime|bytesProcessedPerSecond|linesProcessedPerSecond)":[0-9.e-]+`)

// lokiGolden renders a response for its golden file: the request, the
// status and content type, and the body, JSON indented, with timings
// zeroed.
func lokiGolden(t *testing.T, method string, c lokiCase, code int, ctype string, body []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("# " + method + " " + c.path + "?" + c.params.Encode() + "\n")
	for i := 0; i+1 < len(c.header); i += 2 {
		b.WriteString("# " + c.header[i] + ": " + c.header[i+1] + "\n")
	}
	b.WriteString(fmt.Sprintf("# %d %s\n", code, ctype))
	body = volatileStats.ReplaceAll(body, []byte(`"$1":0`))
	if json.Valid(body) {
		require.NoError(t, json.Indent(&b, body, "", "  "))
		b.WriteByte('\n')
	} else {
		b.Write(body)
	}
	return b.Bytes()
}
