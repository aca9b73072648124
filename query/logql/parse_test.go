package logql

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		// selectors
		{`{app="api"}`, `{app="api"}`},
		{`{app="api", env!="dev", pod=~"x-.*", ns!~"kube.*"}`, `{app="api", env!="dev", pod=~"x-.*", ns!~"kube.*"}`},
		{"{app=`a\\b`,}", `{app="a\\b"}`},
		{"  {app=\"api\"}  # a comment", `{app="api"}`},
		{`({app="api"})`, `{app="api"}`},
		// line filters
		{`{app="api"} |= "err" != "timeout" |~ "5.." !~ "(?i)debug"`, `{app="api"} |= "err" != "timeout" |~ "5.." !~ "(?i)debug"`},
		{"{app=\"api\"} |= `a\"b`", `{app="api"} |= "a\"b"`},
		// parsers
		{`{app="api"} | json`, `{app="api"} | json`},
		{`{app="api"} | json status="response.status", first="items[0]", k`, `{app="api"} | json status="response.status", first="items[0]", k="k"`},
		{`{app="api"} | logfmt`, `{app="api"} | logfmt`},
		{`{app="api"} | logfmt --strict`, `{app="api"} | logfmt`},
		{`{app="api"} | logfmt lvl="level"`, `{app="api"} | logfmt lvl="level"`},
		{`{app="api"} | regexp "(?P<method>\\w+) (?P<path>\\S+)"`, `{app="api"} | regexp "(?P<method>\\w+) (?P<path>\\S+)"`},
		{`{app="api"} | pattern "<ip> - <_> \"<method> <path>\""`, `{app="api"} | pattern "<ip> - <_> \"<method> <path>\""`},
		// label filters
		{`{app="api"} | json | level="error"`, `{app="api"} | json | level="error"`},
		{`{app="api"} | logfmt | status >= 500`, `{app="api"} | logfmt | status >= 500`},
		{`{app="api"} | logfmt | status == 200 | code = 3 | x != -1.5`, `{app="api"} | logfmt | status == 200 | code = 3 | x != -1.5`},
		{`{app="api"} | logfmt | duration > 1s | latency <= 250ms`, `{app="api"} | logfmt | duration > 1s | latency <= 250ms`},
		{`{app="api"} | logfmt | size > 20MB`, `{app="api"} | logfmt | size > 20MB`},
		{`{app="api"} | logfmt | a="1" and b=~"2.*" or c!="3"`, `{app="api"} | logfmt | a="1" and b=~"2.*" or c!="3"`},
		{`{app="api"} | logfmt | a="1", (b="2" or c="3")`, `{app="api"} | logfmt | a="1" and (b="2" or c="3")`},
		{`{app="api"} | logfmt | a="1" b="2"`, `{app="api"} | logfmt | a="1" and b="2"`},
		{`{app="api"} | json | __error__=""`, `{app="api"} | json | __error__=""`},
		// formats, drop, keep
		{`{app="api"} | json | line_format "{{.level}} {{.msg}}"`, `{app="api"} | json | line_format "{{.level}} {{.msg}}"`},
		{`{app="api"} | json | label_format lvl=level, msg="{{.msg | upper}}"`, `{app="api"} | json | label_format lvl=level, msg="{{.msg | upper}}"`},
		{`{app="api"} | drop __error__, __error_details__`, `{app="api"} | drop __error__, __error_details__`},
		{`{app="api"} | json | keep level, env="prod"`, `{app="api"} | json | keep level, env="prod"`},
		{`{app="api"} | decolorize`, `{app="api"} | decolorize`},
		// metric queries
		{`count_over_time({app="api"}[5m])`, `count_over_time({app="api"} [5m])`},
		{`rate({app="api"} |= "error" [1m])`, `rate({app="api"} |= "error" [1m])`},
		{`rate({app="api"}[1m] |= "error")`, `rate({app="api"} |= "error" [1m])`},
		{`bytes_over_time({app="api"}[1h]) `, `bytes_over_time({app="api"} [1h])`},
		{`bytes_rate({app="api"}[30s] offset 1m)`, `bytes_rate({app="api"} [30s] offset 1m)`},
		{`sum by (level) (count_over_time({app="api"} | json | drop __error__ [1m]))`, `sum by (level) (count_over_time({app="api"} | json | drop __error__ [1m]))`},
		{`sum(rate({app="api"}[1m])) by (env)`, `sum by (env) (rate({app="api"} [1m]))`},
		{`avg without (pod) (rate({app="api"}[1m]))`, `avg without (pod) (rate({app="api"} [1m]))`},
		{`topk(3, sum by (path) (rate({app="api"} | json [5m])))`, `topk (3, sum by (path) (rate({app="api"} | json [5m])))`},
		{`min(count_over_time({app="api"}[1m]))`, `min (count_over_time({app="api"} [1m]))`},
		{`sum_over_time({app="api"} | logfmt | unwrap bytes [5m])`, `sum_over_time({app="api"} | logfmt | unwrap bytes [5m])`},
		{`avg_over_time({app="api"} | logfmt | unwrap duration(took) | __error__="" [5m]) by (path)`, `avg_over_time({app="api"} | logfmt | unwrap duration(took) | __error__="" [5m]) by (path)`},
		{`quantile_over_time(0.99, {app="api"} | json | unwrap bytes(size) [1m])`, `quantile_over_time(0.99, {app="api"} | json | unwrap bytes(size) [1m])`},
		{`max_over_time({app="api"} | json | unwrap latency [1d])`, `max_over_time({app="api"} | json | unwrap latency [1d])`},
		// binary operations
		{`sum(rate({app="api"} |= "error" [5m])) / sum(rate({app="api"}[5m]))`, `sum (rate({app="api"} |= "error" [5m])) / sum (rate({app="api"} [5m]))`},
		{`count_over_time({app="api"}[1m]) > 10`, `count_over_time({app="api"} [1m]) > 10`},
		{`1 + 2 * 3 ^ 2 ^ 0.5 - -1`, `(1 + (2 * (3 ^ (2 ^ 0.5)))) - -1`},
		{`rate({a="b"}[1m]) >= bool on (a) rate({a="c"}[1m])`, `rate({a="b"} [1m]) >= bool on (a) rate({a="c"} [1m])`},
		{`rate({a="b"}[1m]) * ignoring (pod) rate({a="c"}[1m]) or vector(0)`, `(rate({a="b"} [1m]) * ignoring (pod) rate({a="c"} [1m])) or vector(0)`},
		{`sum by (a) (rate({a="b"}[1m]) * 100) unless rate({a="c"}[1m]) != 0`, `sum by (a) (rate({a="b"} [1m]) * 100) unless (rate({a="c"} [1m]) != 0)`},
		{`(1)`, `1`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			e, err := Parse(tc.in)
			require.NoError(t, err)
			require.Equal(t, tc.want, e.String())
			again, err := Parse(e.String())
			require.NoError(t, err, "String() parses again")
			require.Equal(t, tc.want, again.String())
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{``, `parse error at line 1, col 1: syntax error: unexpected $end, expecting { or a function`},
		{`{}`, `parse error at line 1, col 2: syntax error: unexpected }, expecting IDENTIFIER`},
		{`{app}`, `parse error at line 1, col 5: syntax error: unexpected }, expecting =, !=, =~ or !~`},
		{`{app="a"`, `parse error at line 1, col 9: syntax error: unexpected $end, expecting }`},
		{`{app=~".*"}`, `parse error : ` + errEmptyCompatible},
		{`{app=~"("}`, "parse error at line 1, col 7: invalid regular expression \"(\": error parsing regexp: missing closing ): `(`"},
		{`{app="a"} |= `, `parse error at line 1, col 14: syntax error: unexpected $end, expecting STRING`},
		{`{app="a"} |~ "("`, "parse error at line 1, col 14: invalid regular expression \"(\": error parsing regexp: missing closing ): `(`"},
		{`{app="a"} | foo`, `parse error at line 1, col 16: syntax error: unexpected $end, expecting a comparison operator`},
		{`{app="a"} | regexp "(\\w+)"`, `parse error at line 1, col 20: invalid regexp "(\\w+)": at least one named capture must be supplied`},
		{`{app="a"} | pattern "<a><b>"`, `parse error at line 1, col 21: invalid pattern "<a><b>": found consecutive capture '<b>': invalid expression`},
		{`{app="a"} | pattern "plain"`, `parse error at line 1, col 21: invalid pattern "plain": at least one capture is required`},
		{`{app="a"} | line_format "{{.a"`, `parse error at line 1, col 25: invalid line template: template: line:1: unclosed action`},
		{`{app="a"} | x > "s"`, `parse error at line 1, col 15: syntax error: operator > needs a number, a duration or a size, not a string`},
		{`{app="a"} | x > 5zz`, `parse error at line 1, col 17: syntax error: "5zz" is not a number, a duration or a size`},
		{`{app="a"} | unwrap x`, `parse error at line 1, col 13: syntax error: unwrap is only allowed in a range aggregation, such as sum_over_time`},
		{`{app="a"}
| json |`, `parse error at line 2, col 9: syntax error: unexpected $end, expecting IDENTIFIER`},
		{`count_over_time({app="a"})`, `parse error at line 1, col 26: syntax error: unexpected ), expecting [`},
		{`count_over_time({app="a"}[5x])`, `parse error at line 1, col 27: syntax error: invalid range "5x"`},
		{`sum_over_time({app="a"}[5m])`, `parse error : invalid aggregation sum_over_time without unwrap`},
		{`count_over_time({app="a"} | unwrap x [5m])`, `parse error : invalid aggregation count_over_time with unwrap`},
		{`count_over_time({app="a"}[5m]) by (x)`, `parse error : grouping not allowed for count_over_time aggregation`},
		{`quantile_over_time(2, {app="a"} | unwrap x [5m])`, `parse error at line 1, col 1: quantile_over_time: quantile 2 is not within [0, 1]`},
		{`sum({app="a"})`, `parse error : invalid aggregation sum of a log query, want a metric query such as count_over_time({app="a"} [1m])`},
		{`topk(0, rate({app="a"}[1m]))`, `parse error at line 1, col 6: syntax error: topk: k must be a positive integer, not 0`},
		{`sum by (a (rate({app="a"}[1m]))`, `parse error at line 1, col 11: syntax error: unexpected (, expecting )`},
		{`rate({app="a"}[1m]) extra`, `parse error at line 1, col 21: syntax error: unexpected IDENTIFIER`},
		{`{app="a\q"}`, `parse error at line 1, col 6: syntax error: invalid string "a\q": invalid syntax`},
		{`{app="a"} + 1`, `parse error at line 1, col 11: syntax error: binary operation + needs metric queries on both sides, not a log query`},
		{`1 > 2`, `parse error at line 1, col 3: syntax error: comparisons between scalars must use BOOL modifier`},
		{`1 and rate({a="b"}[1m])`, `parse error at line 1, col 3: syntax error: set operator and not allowed in binary scalar expression`},
		{`rate({a="b"}[1m]) + bool 1`, `parse error at line 1, col 19: syntax error: bool modifier can only be used on comparison operators`},
		{`rate({a="b"}[1m]) * on (a) group_left rate({a="b"}[1m])`, `parse error at line 1, col 28: syntax error: group_left is not supported; binary operations match one to one`},
		{`sum(1)`, `parse error : invalid aggregation sum of a number, want a metric query`},
		{`{app="a"} @`, `parse error at line 1, col 11: syntax error: unexpected character '@'`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			_, err := Parse(tc.in)
			require.Error(t, err)
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
			require.Equal(t, tc.want, err.Error())
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{app="api"} |= "x" | json | level="error" | line_format "{{.msg}}"`,
		`sum by (level) (count_over_time({app="api"} | logfmt | drop __error__ [1m]))`,
		`topk(2, avg_over_time({a="b"} | pattern "<x> <y>" | unwrap duration(y) | __error__="" [5m]) by (x))`,
		`{a=~"b.+", c!~"d"} | regexp "(?P<n>\\d+)" | n > 5 or n < -1 | label_format m=n, o="{{.n}}"`,
		"{a=`b`} !~ `c` | keep a",
		`sum(rate({a="b"}[1m])) / on (a) sum(rate({a="b"}[1m])) > bool 0.5 or vector(1) unless 2 ^ -3`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
			return
		}
		// What parses prints as a query that parses to the same thing.
		again, err := Parse(e.String())
		require.NoError(t, err, "reparse %q", e.String())
		require.Equal(t, e.String(), again.String())
	})
}
