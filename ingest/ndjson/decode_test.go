package ndjson

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

func render(es []store.LogEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Stream.String()+" "+time.Unix(0, e.T).UTC().Format(time.RFC3339Nano)+" "+e.Line+" "+e.Metadata.String())
	}
	return out
}

func TestDecode(t *testing.T) {
	now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	body := []byte(`{"timestamp":"2026-11-21T10:00:00.5Z","level":"info","service":"api","message":"served","status":200,"user":{"id":7}}

{"ts":1795000000,"msg":"seconds"}
{"time":1795000000123,"log":"millis","host":"h1"}
{"time":"1795000000123456","line":"micros"}
{"@timestamp":1795000000123456789,"message":"nanos"}
{"ts":1795000000.25,"message":"fraction"}
{"message":"no time"}
`)
	got, err := Decode(body, "t", Options{}, now)
	require.NoError(t, err)
	require.Equal(t, []string{
		`{level="info", service="api"} 2026-11-21T10:00:00.5Z served {status="200", user="{\"id\":7}"}`,
		`{} 2026-11-18T11:06:40Z seconds {}`,
		`{host="h1"} 2026-11-18T11:06:40.123Z millis {}`,
		`{} 2026-11-18T11:06:40.123456Z micros {}`,
		`{} 2026-11-18T11:06:40.123456789Z nanos {}`,
		`{} 2026-11-18T11:06:40.25Z fraction {}`,
		`{} 2026-11-22T00:00:00Z no time {}`,
	}, render(got))
	require.Equal(t, "t", got[0].Tenant)
}

func TestDecodeOptions(t *testing.T) {
	body := []byte(`{"when":"2026-11-21T10:00:00Z","text":"hello","app":"web","message":"kept as metadata"}`)
	got, err := Decode(body, "t", Options{MessageFields: []string{"text"}, TimeFields: []string{"when"}, StreamFields: []string{"app"}}, time.Now())
	require.NoError(t, err)
	require.Equal(t, []string{`{app="web"} 2026-11-21T10:00:00Z hello {message="kept as metadata"}`}, render(got))
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{"{\"message\":\"ok\"}\nnot json", "line 2: want a JSON object"},
		{`["array"]`, "line 1: want a JSON object"},
		{`{"timestamp":"yesterday"}`, `line 1: field "timestamp": "yesterday" is neither RFC 3339 nor a Unix time`},
		{`{"ts":-5}`, `field "ts"`},
	} {
		_, err := Decode([]byte(tc.body), "t", Options{}, time.Now())
		require.ErrorIs(t, err, ErrDecode, tc.body)
		require.ErrorContains(t, err, tc.want)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"timestamp":"2026-11-21T10:00:00Z","message":"m","service":"s"}`))
	f.Add([]byte("{}\n\n{\"ts\":1}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := Decode(b, "t", Options{}, time.Unix(0, 0)); err != nil {
			require.ErrorIs(t, err, ErrDecode)
		}
	})
}
