package otlp

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/cairn-dev/cairn/store"
)

// logsNow stamps records without any timestamp in these tests.
var logsNow = time.Unix(1_800_000_000, 0)

func readLogs(t testing.TB, path string) plog.Logs {
	body, err := os.ReadFile(path)
	require.NoError(t, err)
	ld, err := DecodeLogs(body, JSON)
	require.NoError(t, err)
	return ld
}

// renderLogs prints entries one a line: "stream t line" and the metadata
// indented below.
func renderLogs(entries []store.LogEntry) string {
	var b strings.Builder
	for _, e := range entries {
		fmt.Fprintf(&b, "%s %d %q\n    %s\n", e.Stream, e.T, e.Line, e.Metadata)
	}
	return b.String()
}

// TestConvertLogsGolden converts an OTLP/JSON logs request in the shape
// the OpenTelemetry SDKs and Collector send (Kubernetes resources, a
// scope, nested attributes, every body type, records without a time or
// a severity) and compares with testdata/logs.golden. The same request in
// protobuf converts the same.
func TestConvertLogsGolden(t *testing.T) {
	ld := readLogs(t, "testdata/logs.json")
	entries := ConvertLogs(ld, "t1", logsNow)
	got := renderLogs(entries)
	if *update {
		require.NoError(t, os.WriteFile("testdata/logs.golden", []byte(got), 0o644))
	}
	want, err := os.ReadFile("testdata/logs.golden")
	require.NoError(t, err)
	require.Equal(t, string(want), got)
	require.Len(t, entries, ld.LogRecordCount())
	for _, e := range entries {
		require.Equal(t, "t1", e.Tenant)
	}

	raw, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
	require.NoError(t, err)
	ld2, err := DecodeLogs(raw, Protobuf)
	require.NoError(t, err)
	require.Equal(t, got, renderLogs(ConvertLogs(ld2, "t1", logsNow)))
}

// TestConvertLogsServiceName checks how a stream is named when its
// resource has no service.name, as Loki does: from the first usual
// service label the stream has, else unknown_service.
func TestConvertLogsServiceName(t *testing.T) {
	f := func(want string, kv ...string) {
		t.Helper()
		ld := plog.NewLogs()
		rl := ld.ResourceLogs().AppendEmpty()
		for i := 0; i < len(kv); i += 2 {
			rl.Resource().Attributes().PutStr(kv[i], kv[i+1])
		}
		rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Body().SetStr("x")
		es := ConvertLogs(ld, "t", logsNow)
		require.Len(t, es, 1)
		require.Equal(t, want, es[0].Stream.Get("service_name"), kv)
	}
	f("unknown_service")
	f("unknown_service", "host.name", "h1") // not a stream label, so not a candidate
	f("api", "service.name", "api", "k8s.container.name", "c")
	f("c", "k8s.container.name", "c", "k8s.job.name", "j")
	f("j", "k8s.job.name", "j")
	f("unknown_service", "service.name", "")
}

func TestLevel(t *testing.T) {
	for _, tc := range []struct {
		text string
		num  plog.SeverityNumber
		want string
	}{
		{"", plog.SeverityNumberUnspecified, ""},
		{"INFO", plog.SeverityNumberInfo, "info"},
		{"Warning", 0, "warn"},
		{"ERROR3", plog.SeverityNumberError3, "error"},
		{"err", 0, "error"},
		{"CRIT", 0, "critical"},
		{"Notice", plog.SeverityNumberInfo2, "notice"}, // unknown text is kept, lowercased
		{"info5", 0, "info5"},
		{"", plog.SeverityNumberTrace2, "trace"},
		{"", plog.SeverityNumberDebug4, "debug"},
		{"", plog.SeverityNumberInfo3, "info"},
		{"", plog.SeverityNumberWarn, "warn"},
		{"", plog.SeverityNumberError4, "error"},
		{"", plog.SeverityNumberFatal, "fatal"},
		{"", 25, ""},
	} {
		require.Equal(t, tc.want, Level(tc.text, tc.num), "%q %d", tc.text, tc.num)
	}
}

// TestConvertLogsCollisions checks precedence when names collide once
// sanitized: record fields, then log attributes, then scope, then
// resource; within one map the first key in byte order.
func TestConvertLogsCollisions(t *testing.T) {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "svc")
	rl.Resource().Attributes().PutStr("team", "from-resource")
	rl.Resource().Attributes().PutStr("host.name", "from-resource")
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().Attributes().PutStr("team", "from-scope")
	lr := sl.LogRecords().AppendEmpty()
	lr.SetSeverityText("DEBUG")
	lr.Attributes().PutStr("level", "from-attribute")
	lr.Attributes().PutStr("host_name", "b")
	lr.Attributes().PutStr("host.name", "a")
	es := ConvertLogs(ld, "t", logsNow)
	require.Len(t, es, 1)
	require.Equal(t, `{host_name="a", level="debug", severity_text="DEBUG", team="from-scope"}`, es[0].Metadata.String())
	require.Equal(t, `{service_name="svc"}`, es[0].Stream.String())
	require.Equal(t, logsNow.UnixNano(), es[0].T)
}

func TestDecodeLogsErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		body   string
		format Format
		want   string
	}{
		{"protobuf garbage", "\xff\xff\xff", Protobuf, "cannot decode OTLP logs request: protobuf: "},
		{"json garbage", "{not json", JSON, "cannot decode OTLP logs request: JSON: "},
		{"json empty", "", JSON, "cannot decode OTLP logs request: JSON: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeLogs([]byte(tc.body), tc.format)
			require.ErrorIs(t, err, ErrDecodeLogs)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func FuzzDecodeLogs(f *testing.F) {
	ld := readLogs(f, "testdata/logs.json")
	raw, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
	require.NoError(f, err)
	js, err := os.ReadFile("testdata/logs.json")
	require.NoError(f, err)
	f.Add(raw, false)
	f.Add(js, true)
	f.Add([]byte(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"x"}}]}]}]}`), true)
	f.Add([]byte{}, false)
	f.Fuzz(func(t *testing.T, body []byte, json bool) {
		format := Protobuf
		if json {
			format = JSON
		}
		ld, err := DecodeLogs(body, format)
		if err != nil {
			require.ErrorIs(t, err, ErrDecodeLogs)
			return
		}
		es := ConvertLogs(ld, "t", logsNow)
		require.Len(t, es, ld.LogRecordCount())
		for _, e := range es {
			require.NotEmpty(t, e.Stream.Get("service_name"))
			_, dup := e.Stream.HasDuplicateLabelNames()
			require.False(t, dup, e.Stream.String())
			_, dup = e.Metadata.HasDuplicateLabelNames()
			require.False(t, dup, e.Metadata.String())
			require.NotZero(t, e.T)
		}
	})
}

// generatedLogs is n resources of typical SDK log output.
func generatedLogs(n int) plog.Logs {
	ld := plog.NewLogs()
	for i := range n {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("service.name", "svc")
		rl.Resource().Attributes().PutStr("service.instance.id", strconv.Itoa(i%7))
		rl.Resource().Attributes().PutStr("host.name", "h"+strconv.Itoa(i%3))
		sl := rl.ScopeLogs().AppendEmpty()
		sl.Scope().SetName("app")
		for j := range 20 {
			lr := sl.LogRecords().AppendEmpty()
			lr.SetTimestamp(pcommon.Timestamp(1_700_000_000_000_000_000 + int64(i*20+j)*1e6))
			lr.SetSeverityNumber(plog.SeverityNumberInfo)
			lr.SetSeverityText("INFO")
			lr.Body().SetStr(fmt.Sprintf("request %d served in %dms", j, j*3))
			lr.Attributes().PutStr("http.route", "/api/items")
			lr.Attributes().PutInt("http.response.status_code", 200)
			lr.SetTraceID(pcommon.TraceID{1, 2, 3, byte(j)})
		}
	}
	return ld
}

func BenchmarkDecodeConvertLogs(b *testing.B) {
	req := plogotlp.NewExportRequestFromLogs(generatedLogs(50))
	pb, err := req.MarshalProto()
	require.NoError(b, err)
	js, err := req.MarshalJSON()
	require.NoError(b, err)
	for _, tc := range []struct {
		format Format
		body   []byte
	}{{Protobuf, pb}, {JSON, js}} {
		b.Run(tc.format.String(), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(tc.body)))
			for b.Loop() {
				ld, err := DecodeLogs(tc.body, tc.format)
				if err != nil {
					b.Fatal(err)
				}
				ConvertLogs(ld, "t", logsNow)
			}
		})
	}
}
