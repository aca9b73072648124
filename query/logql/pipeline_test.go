package logql

import (
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"
)

// run parses `{app="api"} <stages>` and runs its pipeline on one line of
// the stream {app="api", env="prod"}.
func run(t *testing.T, stages, line string, metadata ...string) (string, labels.Labels, bool) {
	t.Helper()
	e, err := Parse(`{app="api"} ` + stages)
	require.NoError(t, err)
	p := NewPipeline(e.(*LogExpr).Stages)
	ok := p.Process(1_700_000_000_123_456_789, line, labels.FromStrings("app", "api", "env", "prod"), labels.FromStrings(metadata...))
	return p.Line(), p.Labels(), ok
}

func TestPipeline(t *testing.T) {
	const stream = `app="api", env="prod"`
	for _, tc := range []struct {
		stages, line string
		metadata     []string
		wantLine     string // "" means the line unchanged
		wantLabels   string // without the braces and stream labels first
		drop         bool
	}{
		{stages: `|= "GET"`, line: "GET /x", wantLabels: stream},
		{stages: `|= "POST"`, line: "GET /x", drop: true},
		{stages: `!= "GET"`, line: "GET /x", drop: true},
		{stages: `|~ "G.T"`, line: "GET /x", wantLabels: stream},
		{stages: `!~ "G.T"`, line: "GET /x", drop: true},
		{stages: `| json`, line: `{"level":"error","msg":"boom","n":5,"ok":true,"nil":null,"arr":[1,{"a":2}],"req":{"method":"GET","h":{"x-id":"7"}},"app":"shadow","2xx":"y"}`,
			wantLabels: `_2xx="y", app="api", app_extracted="shadow", env="prod", level="error", msg="boom", n="5", ok="true", req_h_x_id="7", req_method="GET"`},
		{stages: `| json`, line: `not json`, wantLabels: `__error__="JSONParserErr", __error_details__="invalid character 'o' in literal null (expecting 'u')", ` + stream},
		{stages: `| json | __error__=""`, line: `not json`, drop: true},
		{stages: `| json | drop __error__, __error_details__`, line: `[1]`, wantLabels: stream},
		{stages: `| json m="req.method", first="items[0]", k="[\"a b\"]", missing="nope"`, line: `{"req":{"method":"GET"},"items":["x","y"],"a b":{"c":1}}`,
			wantLabels: stream + `, first="x", k="{\"c\":1}", m="GET"`},
		{stages: `| logfmt`, line: `level=info msg="hello \"world\"" took=1.5s bare env=dev`,
			wantLabels: `app="api", env="prod", env_extracted="dev", level="info", msg="hello \"world\"", took="1.5s"`},
		{stages: `| logfmt`, line: `a=1 b="unterminated`, wantLabels: `__error__="LogfmtParserErr", __error_details__="logfmt syntax error at pos 7 : unterminated quoted value", a="1", ` + stream},
		{stages: `| logfmt lvl="level"`, line: `level=warn msg=x`, wantLabels: stream + `, lvl="warn"`},
		{stages: `| regexp "(?P<method>[A-Z]+) (?P<path>\\S+)"`, line: "GET /users 200", wantLabels: stream + `, method="GET", path="/users"`},
		{stages: `| regexp "(?P<method>[a-z]+) (?P<path>\\S+)"`, line: "GET /users", wantLabels: stream},
		{stages: `| pattern "<method> <path> <status>"`, line: "GET /users 200 extra", wantLabels: stream + `, method="GET", path="/users", status="200 extra"`},
		{stages: `| pattern "<_> <path> <status>"`, line: "GET /users", wantLabels: stream + `, path="/users"`},
		{stages: `| pattern "GET <path>"`, line: "POST /users", wantLabels: stream},
		{stages: `| pattern "<ip> - - [<ts>] \"<method> <path> <_>\" <status>"`, line: `1.2.3.4 - - [10/Oct/2023:13:55:36] "GET /a HTTP/1.1" 200`,
			wantLabels: stream + `, ip="1.2.3.4", method="GET", path="/a", status="200", ts="10/Oct/2023:13:55:36"`},
		// label filters
		{stages: `| logfmt | level="error"`, line: "level=error", wantLabels: stream + `, level="error"`},
		{stages: `| logfmt | level!="error"`, line: "level=error", drop: true},
		{stages: `| logfmt | level=~"err.*"`, line: "level=error", wantLabels: stream + `, level="error"`},
		{stages: `| logfmt | level!~"err.*"`, line: "level=error", drop: true},
		{stages: `| logfmt | status >= 500`, line: "status=500", wantLabels: stream + `, status="500"`},
		{stages: `| logfmt | status > 500`, line: "status=500", drop: true},
		{stages: `| logfmt | status < 500`, line: "status=404", wantLabels: stream + `, status="404"`},
		{stages: `| logfmt | status <= 404 and status != 404`, line: "status=404", drop: true},
		{stages: `| logfmt | status == 404 or status = 500`, line: "status=500", wantLabels: stream + `, status="500"`},
		{stages: `| logfmt | status >= 500`, line: "other=1", drop: true},
		{stages: `| logfmt | status >= 500`, line: "status=abc",
			wantLabels: `__error__="LabelFilterErr", __error_details__="strconv.ParseFloat: parsing \"abc\": invalid syntax", ` + stream + `, status="abc"`},
		{stages: `| logfmt | took > 1s`, line: "took=1.5s", wantLabels: stream + `, took="1.5s"`},
		{stages: `| logfmt | took > 1s`, line: "took=900ms", drop: true},
		{stages: `| logfmt | size > 1KB`, line: "size=2KiB", wantLabels: stream + `, size="2KiB"`},
		{stages: `| logfmt | size > 1MB`, line: "size=2KiB", drop: true},
		{stages: `| logfmt | (a="1" or b="2") and c="3"`, line: "b=2 c=3", wantLabels: `app="api", b="2", c="3", env="prod"`},
		{stages: `| logfmt | (a="1" or b="2") and c="3"`, line: "b=2 c=4", drop: true},
		// structured metadata is a label
		{stages: `| trace_id="abc"`, line: "x", metadata: []string{"trace_id", "abc"}, wantLabels: stream + `, trace_id="abc"`},
		// formats
		{stages: `| logfmt | line_format "{{.level | upper}}: {{.msg}} ({{.missing}})"`, line: `level=warn msg="disk full"`, wantLine: "WARN: disk full ()",
			wantLabels: stream + `, level="warn", msg="disk full"`},
		{stages: `| line_format "{{__line__}} at {{__timestamp__ | unixEpochMillis}}"`, line: "x", wantLine: "x at 1700000000123", wantLabels: stream},
		{stages: `| logfmt | label_format lvl=level, who="{{.app}}-{{.env}}", env=app`, line: `level=info`,
			wantLabels: `env="api", lvl="info", who="api-prod"`}, // a rename drops its source
		{stages: `| line_format "{{.a"`, line: "x", drop: true}, // does not parse; replaced below
		{stages: `| keep app`, line: "x", metadata: []string{"k", "v"}, wantLabels: `app="api"`},
		{stages: `| drop env="dev"`, line: "x", wantLabels: stream},
		{stages: `| drop env="prod"`, line: "x", wantLabels: `app="api"`},
		{stages: `| decolorize`, line: "\x1b[31mred\x1b[0m", wantLine: "red", wantLabels: stream},
	} {
		t.Run(tc.stages+" "+tc.line, func(t *testing.T) {
			if tc.stages == `| line_format "{{.a"` {
				_, err := Parse(`{app="api"} ` + tc.stages)
				require.Error(t, err)
				return
			}
			line, ls, ok := run(t, tc.stages, tc.line, tc.metadata...)
			require.Equal(t, !tc.drop, ok)
			if tc.drop {
				return
			}
			want := tc.wantLine
			if want == "" {
				want = tc.line
			}
			require.Equal(t, want, line)
			require.Equal(t, "{"+tc.wantLabels+"}", ls.String())
		})
	}
}

func TestPipelineCategorized(t *testing.T) {
	e, err := Parse(`{app="api"} | logfmt | label_format app2=app`)
	require.NoError(t, err)
	p := NewPipeline(e.(*LogExpr).Stages)
	require.True(t, p.Process(1, "level=info", labels.FromStrings("app", "api"), labels.FromStrings("trace_id", "abc")))
	stream, md, parsed := p.Categorized()
	require.Equal(t, `{}`, stream.String(), "a renamed stream label becomes parsed")
	require.Equal(t, `{trace_id="abc"}`, md.String())
	require.Equal(t, `{app2="api", level="info"}`, parsed.String())
}
