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
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"
)

// sdkMeter is a meter of the OpenTelemetry Go SDK exporting, over OTLP/
// HTTP with gzip, to the receiver of e.
func sdkMeter(t *testing.T, e *receiverEnv, opts ...otlpmetrichttp.Option) (metric.Meter, *sdkmetric.MeterProvider) {
	opts = append([]otlpmetrichttp.Option{
		otlpmetrichttp.WithEndpointURL(e.srv.URL + "/v1/metrics"),
		otlpmetrichttp.WithCompression(otlpmetrichttp.GzipCompression),
		otlpmetrichttp.WithRetry(otlpmetrichttp.RetryConfig{Enabled: false}),
		otlpmetrichttp.WithHeaders(map[string]string{"X-Scope-OrgID": "team-otel"}),
	}, opts...)
	exp, err := otlpmetrichttp.New(context.Background(), opts...)
	require.NoError(t, err)
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		attribute.String("service.name", "checkout"),
		attribute.String("service.namespace", "shop"),
		attribute.String("service.instance.id", "checkout-1"),
		attribute.String("deployment.environment.name", "test"),
	))
	require.NoError(t, err)
	mp := sdkmetric.NewMeterProvider(
		sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(time.Hour))),
		sdkmetric.WithResource(res),
	)
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	return mp.Meter("cairn.test"), mp
}

// TestOTLPFromSDK sends what the OpenTelemetry Go SDK's OTLP/HTTP metric
// exporter sends (protobuf, gzip) and checks the Prometheus series.
func TestOTLPFromSDK(t *testing.T) {
	e := newReceiverEnv(t)
	e.now = time.Now() // the SDK stamps points with the real clock
	meter, mp := sdkMeter(t, e)
	ctx := context.Background()

	requests, err := meter.Int64Counter("http.server.requests", metric.WithUnit("{request}"))
	require.NoError(t, err)
	requests.Add(ctx, 3, metric.WithAttributes(attribute.String("http.route", "/cart")))
	active, err := meter.Int64UpDownCounter("http.server.active_requests", metric.WithUnit("{request}"))
	require.NoError(t, err)
	active.Add(ctx, 2)
	duration, err := meter.Float64Histogram("http.server.request.duration", metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.005, 0.05, 0.5))
	require.NoError(t, err)
	for _, d := range []float64{0.001, 0.02, 0.03, 0.7} {
		duration.Record(ctx, d, metric.WithAttributes(attribute.String("http.route", "/cart")))
	}
	memory, err := meter.Float64Gauge("process.memory.utilization", metric.WithUnit("1"))
	require.NoError(t, err)
	memory.Record(ctx, 0.25)

	require.NoError(t, mp.ForceFlush(ctx))

	// 1 counter + 1 up-down + (3 buckets + Inf + sum + count) + 1 gauge +
	// target_info (twice when the points straddle a millisecond).
	got := byName(e.consumeAtLeast(t, 10))
	want := map[string]string{
		"http_server_requests_total":                 `{__name__="http_server_requests_total", http_route="/cart", instance="checkout-1", job="shop/checkout"}`,
		"http_server_active_requests":                `{__name__="http_server_active_requests", instance="checkout-1", job="shop/checkout"}`,
		"http_server_request_duration_seconds_count": `{__name__="http_server_request_duration_seconds_count", http_route="/cart", instance="checkout-1", job="shop/checkout"}`,
		"http_server_request_duration_seconds_sum":   `{__name__="http_server_request_duration_seconds_sum", http_route="/cart", instance="checkout-1", job="shop/checkout"}`,
		"process_memory_utilization_ratio":           `{__name__="process_memory_utilization_ratio", instance="checkout-1", job="shop/checkout"}`,
	}
	for name, ls := range want {
		require.Len(t, got[name], 1, name)
		require.Equal(t, "team-otel", got[name][0].Tenant)
		require.Equal(t, ls, got[name][0].Labels.String())
	}
	require.Equal(t, float64(3), got["http_server_requests_total"][0].Samples[0].V)
	require.Equal(t, 0.751, got["http_server_request_duration_seconds_sum"][0].Samples[0].V)
	buckets := map[string]float64{}
	for _, s := range got["http_server_request_duration_seconds_bucket"] {
		buckets[s.Labels.Get("le")] = s.Samples[0].V
	}
	require.Equal(t, map[string]float64{"0.005": 1, "0.05": 3, "0.5": 3, "+Inf": 4}, buckets)
	require.NotEmpty(t, got["target_info"])
	require.Equal(t, "test", got["target_info"][0].Labels.Get("deployment_environment_name"))
	require.Equal(t, "go", got["target_info"][0].Labels.Get("telemetry_sdk_language"))
}

// TestOTLPDeltaFromSDK configures the SDK for delta temporality, which
// Cairn (like Prometheus) does not take: the exporter gets a partial
// success naming it, and the gauge of the same export is stored.
func TestOTLPDeltaFromSDK(t *testing.T) {
	e := newReceiverEnv(t)
	e.now = time.Now()
	meter, mp := sdkMeter(t, e, otlpmetrichttp.WithTemporalitySelector(func(sdkmetric.InstrumentKind) metricdata.Temporality {
		return metricdata.DeltaTemporality
	}))
	ctx := context.Background()
	counter, err := meter.Int64Counter("jobs.done")
	require.NoError(t, err)
	counter.Add(ctx, 1, metric.WithAttributes(attribute.Int("shard", 1)))
	counter.Add(ctx, 1, metric.WithAttributes(attribute.Int("shard", 2)))
	gauge, err := meter.Int64Gauge("queue.depth")
	require.NoError(t, err)
	gauge.Record(ctx, 7)

	err = mp.ForceFlush(ctx)
	require.ErrorContains(t, err, "OTLP partial success: 2 of 3 data points rejected, the rest were stored; first: "+
		`metric "jobs.done" has delta temporality, which Cairn does not store: 2 data points rejected; configure the exporter for cumulative temporality (2 metric data points rejected)`)
	got := byName(e.consumeAtLeast(t, 2))
	require.Len(t, got["queue_depth"], 1)
	require.NotEmpty(t, got["target_info"])
}

func postOTLP(t *testing.T, e *receiverEnv, body []byte, contentType string) (int, []byte, http.Header) {
	code, msg, h := postTo(t, e.srv.URL+"/v1/metrics", body, map[string]string{"Content-Type": contentType})
	return code, []byte(msg), h
}

// TestOTLPJSON sends the OTLP/JSON request of the otlp package's golden
// test and reads the JSON answer.
func TestOTLPJSON(t *testing.T) {
	e := newReceiverEnv(t)
	body, err := os.ReadFile("otlp/testdata/metrics.json")
	require.NoError(t, err)
	code, resp, h := postOTLP(t, e, body, "application/json; charset=utf-8")
	require.Equal(t, http.StatusOK, code, string(resp))
	require.Equal(t, "application/json", h.Get("Content-Type"))
	er := pmetricotlp.NewExportResponse()
	require.NoError(t, er.UnmarshalJSON(resp))
	require.Equal(t, int64(2), er.PartialSuccess().RejectedDataPoints())
	require.Equal(t, `2 of 12 data points rejected, the rest were stored; first: metric "app.requests.delta" has delta temporality, which Cairn does not store: 2 data points rejected; configure the exporter for cumulative temporality`,
		er.PartialSuccess().ErrorMessage())
	got := e.consumeSeries(t, 20)
	histograms := 0
	for _, s := range got {
		histograms += len(s.Histograms)
	}
	require.Equal(t, 3, histograms, "the exponential histogram's points, a stale one included")
}

// TestOTLPLimits checks that a point failing Cairn's limits is counted
// in partial_success as one data point, however many series it made.
func TestOTLPLimits(t *testing.T) {
	e := newReceiverEnv(t)
	md := pmetric.NewMetrics()
	ms := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics()
	h := ms.AppendEmpty()
	h.SetName("latency")
	h.SetEmptyHistogram().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	for _, v := range []string{"ok", strings.Repeat("v", 65)} {
		dp := h.Histogram().DataPoints().AppendEmpty()
		dp.SetTimestamp(pcommon.NewTimestampFromTime(e.now))
		dp.Attributes().PutStr("path", v)
		dp.SetCount(1)
		dp.BucketCounts().FromRaw([]uint64{1, 0})
		dp.ExplicitBounds().FromRaw([]float64{1})
	}
	body, err := pmetricotlp.NewExportRequestFromMetrics(md).MarshalProto()
	require.NoError(t, err)
	code, resp, h2 := postOTLP(t, e, body, "application/x-protobuf")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "application/x-protobuf", h2.Get("Content-Type"))
	er := pmetricotlp.NewExportResponse()
	require.NoError(t, er.UnmarshalProto(resp))
	require.Equal(t, int64(1), er.PartialSuccess().RejectedDataPoints())
	require.Contains(t, er.PartialSuccess().ErrorMessage(), "1 of 2 data points rejected, the rest were stored; first: ")
	require.Contains(t, er.PartialSuccess().ErrorMessage(), "(-ingest.max-label-value-length)")
	require.Len(t, e.consumeSeries(t, 3), 3) // _count, le="1", le="+Inf"
}

// TestOTLPErrors checks the error bodies: a google.rpc.Status in the
// request's encoding.
func TestOTLPErrors(t *testing.T) {
	e := newReceiverEnv(t)
	code, resp, h := postOTLP(t, e, []byte("\xff\xff"), "application/x-protobuf")
	require.Equal(t, http.StatusBadRequest, code)
	require.Equal(t, "application/x-protobuf", h.Get("Content-Type"))
	var st spb.Status
	require.NoError(t, proto.Unmarshal(resp, &st))
	require.Equal(t, int32(3), st.Code) // InvalidArgument
	require.Contains(t, st.Message, "cannot decode OTLP metrics request: protobuf")

	code, resp, _ = postOTLP(t, e, []byte("{"), "application/json")
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, string(resp), `"message":"cannot decode OTLP metrics request: JSON`)

	code, resp, _ = postOTLP(t, e, []byte("{}"), "text/plain")
	require.Equal(t, http.StatusUnsupportedMediaType, code)
	require.NoError(t, proto.Unmarshal(resp, &st))
	require.Equal(t, `Content-Type "text/plain" is not supported: send application/x-protobuf or application/json`, st.Message)

	code, _, _ = postOTLP(t, e, []byte("{}"), "application/json")
	require.Equal(t, http.StatusOK, code)
}

func TestOTLPKafkaDown(t *testing.T) {
	srv := kafkaDownServer(t)
	md := pmetric.NewMetrics()
	m := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("g")
	m.SetEmptyGauge().DataPoints().AppendEmpty().SetTimestamp(pcommon.NewTimestampFromTime(time.Now()))
	body, err := pmetricotlp.NewExportRequestFromMetrics(md).MarshalJSON()
	require.NoError(t, err)
	code, msg, h := postTo(t, srv.URL+"/v1/metrics", body, map[string]string{"Content-Type": "application/json"})
	require.Equal(t, http.StatusServiceUnavailable, code, msg)
	require.Equal(t, "5", h.Get("Retry-After"))
	require.Contains(t, msg, `"code":14`)
	require.Contains(t, msg, "kafka unavailable")
}
