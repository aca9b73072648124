package ingest

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/cairn-dev/cairn/store"
)

// sdkLogger is a logger of the OpenTelemetry Go SDK exporting, over OTLP/
// HTTP with gzip, to the receiver of e.
func sdkLogger(t *testing.T, e *receiverEnv) (log.Logger, *sdklog.LoggerProvider) {
	exp, err := otlploghttp.New(context.Background(),
		otlploghttp.WithEndpointURL(e.srv.URL+"/v1/logs"),
		otlploghttp.WithCompression(otlploghttp.GzipCompression),
		otlploghttp.WithRetry(otlploghttp.RetryConfig{Enabled: false}),
		otlploghttp.WithHeaders(map[string]string{"X-Scope-OrgID": "team-otel"}),
	)
	require.NoError(t, err)
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		attribute.String("service.name", "checkout"),
		attribute.String("service.namespace", "shop"),
		attribute.String("service.instance.id", "checkout-1"),
		attribute.String("deployment.environment.name", "test"),
		attribute.String("host.name", "node-7"),
	))
	require.NoError(t, err)
	lp := sdklog.NewLoggerProvider(
		sdklog.WithProcessor(sdklog.NewBatchProcessor(exp, sdklog.WithExportInterval(time.Hour))),
		sdklog.WithResource(res),
	)
	t.Cleanup(func() { _ = lp.Shutdown(context.Background()) })
	return lp.Logger("cairn.test", log.WithInstrumentationVersion("1.2.3")), lp
}

// TestOTLPLogsFromSDK sends what the OpenTelemetry Go SDK's OTLP/HTTP log
// exporter sends (protobuf, gzip) and checks the log entries: stream
// labels and structured metadata as Loki makes them, level from the
// severity, the trace context, and a partial success for a line over the
// limit.
func TestOTLPLogsFromSDK(t *testing.T) {
	e := newReceiverEnv(t)
	e.now = time.Now() // the SDK stamps observed times with the real clock
	logger, lp := sdkLogger(t, e)
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03, 0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c},
		SpanID:  trace.SpanID{0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74},
	})
	ctx := trace.ContextWithSpanContext(context.Background(), sc)
	at := e.now.Add(-time.Second)

	var rec log.Record
	rec.SetTimestamp(at)
	rec.SetSeverity(log.SeverityInfo)
	rec.SetSeverityText("INFO")
	rec.SetBody(attribute.StringValue("order placed"))
	rec.AddAttributes(attribute.String("order.id", "o-1042"), attribute.Map("http", attribute.String("method", "POST")))
	logger.Emit(ctx, rec)

	rec = log.Record{}
	rec.SetTimestamp(at)
	rec.SetSeverity(log.SeverityError)
	rec.SetBody(attribute.MapValue(attribute.String("msg", "payment declined"), attribute.Int("code", 402)))
	logger.Emit(context.Background(), rec)

	rec = log.Record{}
	rec.SetTimestamp(at)
	rec.SetBody(attribute.StringValue(strings.Repeat("x", 1025)))
	logger.Emit(context.Background(), rec)

	err := lp.ForceFlush(context.Background())
	require.ErrorContains(t, err, "1 of 3 log records rejected, the rest were stored; first: log line of stream")
	require.ErrorContains(t, err, "is 1025 bytes long, the limit is 1024 (-ingest.max-line-bytes)")

	got := e.consumeLogs(t, 2)
	const stream = `{deployment_environment_name="test", service_instance_id="checkout-1", service_name="checkout", service_namespace="shop"}`
	for _, g := range got {
		require.Equal(t, stream, g.Stream.String())
		require.Equal(t, "team-otel", g.Tenant)
		require.Equal(t, at.UnixNano(), g.T)
		require.Equal(t, "node-7", g.Metadata.Get("host_name"))
		require.Equal(t, "go", g.Metadata.Get("telemetry_sdk_language"))
		require.Equal(t, "cairn.test", g.Metadata.Get("scope_name"))
		require.Equal(t, "1.2.3", g.Metadata.Get("scope_version"))
	}
	byLine := map[string]store.LogEntry{}
	for _, g := range got {
		byLine[g.Line] = g
	}
	info := byLine["order placed"]
	require.Equal(t, "info", info.Metadata.Get("level"))
	require.Equal(t, "INFO", info.Metadata.Get("severity_text"))
	require.Equal(t, "9", info.Metadata.Get("severity_number"))
	require.Equal(t, "o-1042", info.Metadata.Get("order_id"))
	require.Equal(t, "POST", info.Metadata.Get("http_method"))
	require.Equal(t, "5b8efff798038103d269b633813fc60c", info.Metadata.Get("trace_id"))
	require.Equal(t, "eee19b7ec3c1b174", info.Metadata.Get("span_id"))
	require.NotEmpty(t, info.Metadata.Get("observed_timestamp"))

	errLine := byLine[`{"code":402,"msg":"payment declined"}`]
	require.Equal(t, "error", errLine.Metadata.Get("level"), "from severity_number alone")
	require.Equal(t, "", errLine.Metadata.Get("trace_id"))
}

func postOTLPLogs(t *testing.T, e *receiverEnv, body []byte, hdr map[string]string) (int, []byte, http.Header) {
	code, msg, h := postTo(t, e.srv.URL+"/v1/logs", body, hdr)
	return code, []byte(msg), h
}

// TestOTLPLogsJSON sends the OTLP/JSON request of the otlp package's
// golden test, gzip-compressed, and reads the JSON answer.
func TestOTLPLogsJSON(t *testing.T) {
	e := newReceiverEnv(t)
	e.now = time.Unix(1_700_000_000, 0)
	body, err := os.ReadFile("otlp/testdata/logs.json")
	require.NoError(t, err)
	code, resp, h := postOTLPLogs(t, e, gzipped(t, body), map[string]string{"Content-Type": "application/json", "Content-Encoding": "gzip"})
	require.Equal(t, http.StatusOK, code, string(resp))
	require.Equal(t, "application/json", h.Get("Content-Type"))
	er := plogotlp.NewExportResponse()
	require.NoError(t, er.UnmarshalJSON(resp))
	require.Equal(t, int64(0), er.PartialSuccess().RejectedLogRecords(), er.PartialSuccess().ErrorMessage())
	got := e.consumeLogs(t, 8)
	require.Len(t, got, 8)
	services := map[string]int{}
	for _, g := range got {
		services[g.Stream.Get("service_name")]++
		require.Equal(t, "anonymous", g.Tenant)
	}
	require.Equal(t, map[string]int{"checkout": 4, "nginx": 2, "unknown_service": 2}, services)
}

// TestOTLPLogsLimits checks that records failing Cairn's limits are
// counted in partial_success, in the request's encoding, and that the
// others are stored.
func TestOTLPLogsLimits(t *testing.T) {
	e := newReceiverEnv(t)
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "api")
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	for _, tc := range []struct {
		line string
		at   time.Time
	}{
		{"kept", e.now},
		{"from the future", e.now.Add(time.Hour)},
		{strings.Repeat("x", 1025), e.now},
	} {
		lr := lrs.AppendEmpty()
		lr.Body().SetStr(tc.line)
		lr.SetTimestamp(pcommon.NewTimestampFromTime(tc.at))
	}
	body, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
	require.NoError(t, err)
	code, resp, h := postOTLPLogs(t, e, body, map[string]string{"Content-Type": "application/x-protobuf"})
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "application/x-protobuf", h.Get("Content-Type"))
	er := plogotlp.NewExportResponse()
	require.NoError(t, er.UnmarshalProto(resp))
	require.Equal(t, int64(2), er.PartialSuccess().RejectedLogRecords())
	require.Contains(t, er.PartialSuccess().ErrorMessage(), "2 of 3 log records rejected, the rest were stored; first: ")
	require.Contains(t, er.PartialSuccess().ErrorMessage(), "in the future (-ingest.max-future-skew)")
	require.Equal(t, []string{`{service_name="api"} kept`}, lines(e.consumeLogs(t, 1)))
	require.Contains(t, setText(e), `cairn_ingest_log_lines_total{protocol="otlp_logs",result="rejected",reason="line_too_long"} 1`)
	require.Contains(t, setText(e), `cairn_ingest_log_lines_total{protocol="otlp_logs",result="accepted"} 1`)
}

// TestOTLPLogsMalformed sends bodies no exporter should and expects a 4xx
// whose google.rpc.Status names the problem, never a 5xx.
func TestOTLPLogsMalformed(t *testing.T) {
	e := newReceiverEnv(t)
	pb := map[string]string{"Content-Type": "application/x-protobuf"}
	js := map[string]string{"Content-Type": "application/json"}
	bomb := gzipped(t, make([]byte, 5<<20))
	for _, tc := range []struct {
		name string
		body []byte
		hdr  map[string]string
		code int
		want string
	}{
		{"bad protobuf", []byte("\xff\xff\xff"), pb, 400, "cannot decode OTLP logs request: protobuf"},
		{"truncated protobuf", []byte{0x0a, 0x10, 0x0a}, pb, 400, "cannot decode OTLP logs request: protobuf"},
		{"bad json", []byte(`{"resourceLogs":[`), js, 400, "cannot decode OTLP logs request: JSON"},
		{"json of the wrong shape", []byte(`{"resourceLogs":{"a":1}}`), js, 400, "cannot decode OTLP logs request: JSON"},
		{"bad gzip", []byte("not gzip"), with(pb, "Content-Encoding", "gzip"), 400, "body is not gzip"},
		{"gzip bomb", bomb, with(pb, "Content-Encoding", "gzip"), 413, "-ingest.max-decoded-bytes"},
		{"too large", make([]byte, 2<<20), pb, 413, "-ingest.max-request-bytes"},
		{"encoding", []byte("{}"), with(js, "Content-Encoding", "br"), 415, `Content-Encoding "br"`},
		{"content type", []byte("{}"), map[string]string{"Content-Type": "text/plain"}, 415, `Content-Type "text/plain" is not supported`},
		{"no content type", []byte("{}"), nil, 415, `Content-Type "" is not supported`},
		{"tenant", []byte("{}"), with(js, "X-Scope-OrgID", "a/b"), 400, "X-Scope-OrgID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, resp, h := postOTLPLogs(t, e, tc.body, tc.hdr)
			require.Equal(t, tc.code, code, string(resp))
			require.Contains(t, errorMessage(t, string(resp), h), tc.want)
		})
	}
	code, resp, _ := postOTLPLogs(t, e, []byte("{}"), js)
	require.Equal(t, http.StatusOK, code, "an empty export is fine")
	require.JSONEq(t, `{"partialSuccess":{}}`, string(resp))
	code, _, _ = postOTLPLogs(t, e, nil, pb)
	require.Equal(t, http.StatusOK, code, "so is an empty protobuf body")
}

func TestOTLPLogsKafkaDown(t *testing.T) {
	srv := kafkaDownServer(t)
	ld := plog.NewLogs()
	ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Body().SetStr("x")
	body, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
	require.NoError(t, err)
	code, msg, h := postTo(t, srv.URL+"/v1/logs", body, map[string]string{"Content-Type": "application/x-protobuf"})
	require.Equal(t, http.StatusServiceUnavailable, code, msg)
	require.Equal(t, "5", h.Get("Retry-After"))
	var st spb.Status
	require.NoError(t, proto.Unmarshal([]byte(msg), &st))
	require.Equal(t, int32(14), st.Code) // Unavailable
	require.Contains(t, st.Message, "kafka unavailable")
}
