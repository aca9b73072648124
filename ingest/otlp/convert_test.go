package otlp

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/storage/remote/otlptranslator/prometheusremotewrite"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func readMetrics(t testing.TB, path string) pmetric.Metrics {
	body, err := os.ReadFile(path)
	require.NoError(t, err)
	md, err := Decode(body, JSON)
	require.NoError(t, err)
	return md
}

// renderSeries prints series one sample a line, sorted: "labels t value".
func renderSeries(res *Result) []string {
	var lines []string
	for _, s := range res.Series {
		for _, smp := range s.Samples {
			lines = append(lines, fmt.Sprintf("%s %d %s", s.Labels, smp.T, formatValue(smp.V)))
		}
		for _, h := range s.Histograms {
			lines = append(lines, fmt.Sprintf("%s %d %s", s.Labels, h.T, formatHistogram(h.H, h.FH)))
		}
	}
	slices.Sort(lines)
	return lines
}

// formatHistogram prints a native histogram, as floats so that integer
// and float histograms of the same counts print the same.
func formatHistogram(h *histogram.Histogram, fh *histogram.FloatHistogram) string {
	if h != nil {
		fh = h.ToFloat(nil)
	}
	if value.IsStaleNaN(fh.Sum) {
		return "stale histogram"
	}
	return fh.String()
}

func formatValue(v float64) string {
	if value.IsStaleNaN(v) {
		return "stale"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func render(res *Result) string {
	lines := renderSeries(res)
	lines = append(lines, fmt.Sprintf("points %d", res.Points))
	for _, d := range res.Dropped {
		lines = append(lines, fmt.Sprintf("dropped %s %d: %s", d.Reason, d.Points, d.Msg))
	}
	return strings.Join(lines, "\n") + "\n"
}

// TestConvertGolden converts an OTLP/JSON request in the shape the
// OpenTelemetry SDKs and Collector send (every metric type, resource
// attributes, a stale point, an exponential histogram, delta points Cairn
// does not store) and compares with testdata/metrics.golden. The same request in
// protobuf converts the same.
func TestConvertGolden(t *testing.T) {
	md := readMetrics(t, "testdata/metrics.json")
	res := Convert(md, "t1")
	got := render(res)
	if *update {
		require.NoError(t, os.WriteFile("testdata/metrics.golden", []byte(got), 0o644))
	}
	want, err := os.ReadFile("testdata/metrics.golden")
	require.NoError(t, err)
	require.Equal(t, string(want), got)

	for i, s := range res.Series {
		require.Equal(t, "t1", s.Tenant)
		require.Less(t, res.Origin[i], res.Points)
	}

	raw, err := pmetricotlp.NewExportRequestFromMetrics(md).MarshalProto()
	require.NoError(t, err)
	md2, err := Decode(raw, Protobuf)
	require.NoError(t, err)
	require.Equal(t, got, render(Convert(md2, "t1")))
}

// TestConvertMatchesPrometheus runs Prometheus' own OTLP translator (the
// one its /api/v1/otlp/v1/metrics endpoint uses, default settings) on the
// same requests and requires the same float samples and native
// histograms (from exponential histograms).
func TestConvertMatchesPrometheus(t *testing.T) {
	for name, md := range map[string]pmetric.Metrics{
		"golden":     readMetrics(t, "testdata/metrics.json"),
		"collisions": collidingMetrics(),
		"generated":  generatedMetrics(50),
	} {
		t.Run(name, func(t *testing.T) {
			app := &recorder{}
			conv := prometheusremotewrite.NewPrometheusConverter(app)
			_, err := conv.FromMetrics(context.Background(), md, prometheusremotewrite.Settings{AddMetricSuffixes: true})
			if err != nil {
				require.ErrorContains(t, err, "invalid temporality and type combination")
			}
			slices.Sort(app.lines)
			require.Equal(t, app.lines, renderSeries(Convert(md, "t")))
		})
	}
}

// recorder is a storage.AppenderV2 that prints float samples.
type recorder struct{ lines []string }

func (r *recorder) Append(_ storage.SeriesRef, ls labels.Labels, _, t int64, v float64, h *histogram.Histogram, fh *histogram.FloatHistogram, _ storage.AOptions) (storage.SeriesRef, error) {
	if h == nil && fh == nil {
		r.lines = append(r.lines, fmt.Sprintf("%s %d %s", ls, t, formatValue(v)))
	} else {
		r.lines = append(r.lines, fmt.Sprintf("%s %d %s", ls, t, formatHistogram(h, fh)))
	}
	return 1, nil
}

func (*recorder) Commit() error   { return nil }
func (*recorder) Rollback() error { return nil }

// collidingMetrics has attribute keys that collide once sanitized, a
// reserved-looking key, empty values and attributes named like the labels
// Prometheus adds.
func collidingMetrics() pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.instance.id", "i-1")
	rm.Resource().Attributes().PutStr("cloud.region", "eu-west-1")
	m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("queue.size")
	m.SetUnit("{message}")
	dp := m.SetEmptyGauge().DataPoints().AppendEmpty()
	dp.SetTimestamp(pcommon.Timestamp(1_700_000_000_000_000_000))
	dp.SetIntValue(5)
	a := dp.Attributes()
	a.PutStr("queue.name", "a")
	a.PutStr("queue_name", "b")
	a.PutStr("queue-name", "c")
	a.PutStr("__tenant__", "x")
	a.PutStr("empty", "")
	a.PutStr("instance", "overridden")
	a.PutInt("retries", 3)
	a.PutBool("durable", true)

	h := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	h.SetName("size")
	h.SetUnit("By")
	h.SetEmptyHistogram().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	hp := h.Histogram().DataPoints().AppendEmpty()
	hp.SetTimestamp(pcommon.Timestamp(1_700_000_000_000_000_000))
	hp.Attributes().PutStr("le", "user-set")
	hp.SetCount(3)
	hp.BucketCounts().FromRaw([]uint64{1, 2})
	hp.ExplicitBounds().FromRaw([]float64{1e-9, 1e21})
	return md
}

// generatedMetrics is n resources of typical SDK output over ten minutes,
// so that target_info gets samples across its span.
func generatedMetrics(n int) pmetric.Metrics {
	md := pmetric.NewMetrics()
	for i := range n {
		rm := md.ResourceMetrics().AppendEmpty()
		rm.Resource().Attributes().PutStr("service.name", "svc")
		rm.Resource().Attributes().PutStr("service.instance.id", strconv.Itoa(i%7))
		rm.Resource().Attributes().PutStr("host.name", "h"+strconv.Itoa(i%3))
		ms := rm.ScopeMetrics().AppendEmpty().Metrics()
		base := int64(1_700_000_000_000_000_000) + int64(i)*12_345_678_901
		for j := range 4 {
			m := ms.AppendEmpty()
			m.SetName(fmt.Sprintf("app.metric.%d", j))
			m.SetUnit([]string{"s", "By", "1", "{x}/s"}[j])
			sum := m.SetEmptySum()
			sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			sum.SetIsMonotonic(j%2 == 0)
			dp := sum.DataPoints().AppendEmpty()
			dp.SetTimestamp(pcommon.Timestamp(base + int64(j)*int64(math.Pow10(11))))
			dp.SetDoubleValue(float64(i*j) + 0.5)
			dp.Attributes().PutStr("k", strconv.Itoa(j))
		}
	}
	return md
}

func TestConvertDrops(t *testing.T) {
	md := pmetric.NewMetrics()
	ms := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics()
	noTime := ms.AppendEmpty()
	noTime.SetName("no.time")
	noTime.SetEmptyGauge().DataPoints().AppendEmpty().SetDoubleValue(1)
	badName := ms.AppendEmpty()
	badName.SetName("ßßß")
	badName.SetEmptyGauge().DataPoints().AppendEmpty().SetTimestamp(1e18)
	badKey := ms.AppendEmpty()
	badKey.SetName("ok")
	dp := badKey.SetEmptyGauge().DataPoints().AppendEmpty()
	dp.SetTimestamp(1e18)
	dp.Attributes().PutStr("...", "v")
	unspecified := ms.AppendEmpty()
	unspecified.SetName("unspecified")
	unspecified.SetEmptySum().DataPoints().AppendEmpty().SetTimestamp(1e18)

	res := Convert(md, "t")
	require.Empty(t, res.Series)
	require.Equal(t, 4, res.Points)
	require.Equal(t, []Drop{
		{Reason: "missing_timestamp", Points: 1, Msg: `a data point of metric "no.time" has no time_unix_nano`},
		{Reason: "invalid_metric_name", Points: 1, Msg: `metric name "ßßß" has no character of [a-zA-Z0-9:]: 1 data points rejected`},
		{Reason: "invalid_label_name", Points: 1, Msg: `a data point of metric "ok": attribute key "..." is nothing but underscores once sanitized`},
		{Reason: "invalid_temporality", Points: 1, Msg: `metric "unspecified" has aggregation temporality Unspecified: 1 data points rejected; send cumulative temporality`},
	}, res.Dropped)
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		body   string
		format Format
		want   string
	}{
		{"protobuf garbage", "\xff\xff\xff", Protobuf, "cannot decode OTLP metrics request: protobuf: "},
		{"json garbage", "{not json", JSON, "cannot decode OTLP metrics request: JSON: "},
		{"json empty", "", JSON, "cannot decode OTLP metrics request: JSON: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode([]byte(tc.body), tc.format)
			require.ErrorIs(t, err, ErrDecode)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func FuzzDecode(f *testing.F) {
	md := readMetrics(f, "testdata/metrics.json")
	raw, err := pmetricotlp.NewExportRequestFromMetrics(md).MarshalProto()
	require.NoError(f, err)
	js, err := os.ReadFile("testdata/metrics.json")
	require.NoError(f, err)
	f.Add(raw, false)
	f.Add(js, true)
	f.Add([]byte(`{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"x","gauge":{"dataPoints":[{"timeUnixNano":"1","asInt":"1"}]}}]}]}]}`), true)
	f.Add([]byte{}, false)
	f.Fuzz(func(t *testing.T, body []byte, json bool) {
		format := Protobuf
		if json {
			format = JSON
		}
		md, err := Decode(body, format)
		if err != nil {
			require.ErrorIs(t, err, ErrDecode)
			return
		}
		res := Convert(md, "t")
		require.Len(t, res.Origin, len(res.Series))
		for i, s := range res.Series {
			require.Equal(t, 1, len(s.Samples)+len(s.Histograms))
			require.NotEmpty(t, s.Labels.Get(labels.MetricName))
			require.Less(t, res.Origin[i], res.Points)
		}
	})
}

func BenchmarkDecodeConvert(b *testing.B) {
	req := pmetricotlp.NewExportRequestFromMetrics(generatedMetrics(500))
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
				md, err := Decode(tc.body, tc.format)
				if err != nil {
					b.Fatal(err)
				}
				Convert(md, "t")
			}
		})
	}
}
