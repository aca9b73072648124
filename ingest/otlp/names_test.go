package otlp

import (
	"testing"

	"github.com/prometheus/otlptranslator"
	"github.com/stretchr/testify/require"
)

// The expectations follow Prometheus' OTLP translator (otlptranslator
// v1.0.0 with suffixes and underscore escaping, its default).
func TestMetricName(t *testing.T) {
	for _, tc := range []struct {
		name, unit string
		kind       kind
		want       string
	}{
		{"system.cpu.utilization", "1", kindGauge, "system_cpu_utilization_ratio"},
		{"system.cpu.utilization_ratio", "1", kindGauge, "system_cpu_utilization_ratio"},
		{"http.server.request.duration", "s", kindHistogram, "http_server_request_duration_seconds"},
		{"http.server.duration", "ms", kindHistogram, "http_server_duration_milliseconds"},
		{"http.server.active_requests", "{request}", kindUpDown, "http_server_active_requests"},
		{"http.server.requests", "{request}", kindCounter, "http_server_requests_total"},
		{"requests_total", "", kindCounter, "requests_total"},
		{"total_requests", "", kindCounter, "requests_total"},
		{"process.memory.usage", "By", kindUpDown, "process_memory_usage_bytes"},
		{"memory_bytes", "By", kindGauge, "memory_bytes"},
		{"network.io", "By/s", kindGauge, "network_io_bytes_per_second"},
		{"queue.rate", "1/s", kindGauge, "queue_rate_per_second"},
		{"disk.ops", "{operation}/s", kindCounter, "disk_ops_per_second_total"},
		{"temp", "Cel", kindGauge, "temp_celsius"},
		{"odd", "m/s²", kindGauge, "odd_meters_per_s"},
		{"weird", "furlongs", kindGauge, "weird_furlongs"},
		{"cpu.load", "%", kindGauge, "cpu_load_percent"},
		{"up", "1", kindUpDown, "up"},
		{"with:colon", "", kindGauge, "with:colon"},
		{"ünïcode.näme", "", kindGauge, "n_code_n_me"},
		{"2xx.responses", "", kindCounter, "_2xx_responses_total"},
		{"a__b", "", kindGauge, "a_b"},
	} {
		got, err := metricName(tc.name, tc.unit, tc.kind)
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.want, got, "%s [%s]", tc.name, tc.unit)
	}
	for _, bad := range []string{"", "...", "ü"} {
		_, err := metricName(bad, "", kindGauge)
		require.ErrorContains(t, err, "has no character of [a-zA-Z0-9:]")
	}
}

func TestLabelName(t *testing.T) {
	for key, want := range map[string]string{
		"http.request.method": "http_request_method",
		"service.name":        "service_name",
		"already_fine":        "already_fine",
		"a..b":                "a_b",
		"a__b":                "a_b",
		"_leading":            "_leading",
		"__reserved__":        "__reserved__",
		"__res.erved__":       "__res_erved__",
		"2xx":                 "key_2xx",
		"ключ":                "_",
		"k8s.pod.name":        "k8s_pod_name",
		"with:colon":          "with_colon",
	} {
		got, err := labelName(key)
		if want == "_" {
			require.ErrorContains(t, err, "nothing but underscores", key)
			continue
		}
		require.NoError(t, err, key)
		require.Equal(t, want, got, key)
	}
	_, err := labelName("")
	require.ErrorContains(t, err, "attribute key is empty")
	_, err = labelName("____")
	require.ErrorContains(t, err, "nothing but underscores")
}

// FuzzNamesMatchPrometheus checks metricName and labelName against
// Prometheus' otlptranslator (suffixes, underscore escaping: its default)
// on arbitrary names, units and keys.
func FuzzNamesMatchPrometheus(f *testing.F) {
	for _, seed := range []struct{ name, unit string }{
		{"http.server.request.duration", "s"}, {"total_requests", ""}, {"ratio_x", "1"},
		{"network.io", "By/s"}, {"odd", "m/s²"}, {"__a__", "{x}/y"}, {"2xx", "%"}, {"", ""}, {"ü", "ü"},
	} {
		f.Add(seed.name, seed.unit, uint8(0))
	}
	types := []otlptranslator.MetricType{
		otlptranslator.MetricTypeGauge, otlptranslator.MetricTypeMonotonicCounter,
		otlptranslator.MetricTypeNonMonotonicCounter, otlptranslator.MetricTypeHistogram, otlptranslator.MetricTypeSummary,
	}
	kinds := []kind{kindGauge, kindCounter, kindUpDown, kindHistogram, kindSummary}
	f.Fuzz(func(t *testing.T, name, unit string, k uint8) {
		i := int(k) % len(kinds)
		namer := otlptranslator.MetricNamer{WithMetricSuffixes: true}
		want, wantErr := namer.Build(otlptranslator.Metric{Name: name, Unit: unit, Type: types[i]})
		got, err := metricName(name, unit, kinds[i])
		if wantErr != nil || want == "" {
			require.Error(t, err, "name %q unit %q: Prometheus fails", name, unit)
		} else {
			require.NoError(t, err, "name %q unit %q", name, unit)
			require.Equal(t, want, got, "name %q unit %q", name, unit)
		}

		var ln otlptranslator.LabelNamer
		wantLabel, wantErr := ln.Build(name)
		gotLabel, err := labelName(name)
		if wantErr != nil {
			require.Error(t, err, "key %q: Prometheus fails", name)
			return
		}
		require.NoError(t, err, "key %q", name)
		require.Equal(t, wantLabel, gotLabel, "key %q", name)
	})
}
