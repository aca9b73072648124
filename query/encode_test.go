package query

import (
	"encoding/json"
	"math"
	"testing"

	jsoniter "github.com/json-iterator/go"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/util/jsonutil"
	"github.com/stretchr/testify/require"
)

// Our float and timestamp formats must be Prometheus' own: compare with
// the jsonutil functions its API uses.
func TestAppendFloatMatchesPrometheus(t *testing.T) {
	for _, v := range []float64{
		0, math.Copysign(0, -1), 1, -1, 0.1, 1.5, 2.0 / 3, 1e-6, 9.99e-7, 1e-7, 123456789012, 1e20, 1e21, -1e21,
		math.MaxFloat64, math.SmallestNonzeroFloat64, math.NaN(), math.Inf(1), math.Inf(-1),
	} {
		stream := jsoniter.ConfigCompatibleWithStandardLibrary.BorrowStream(nil)
		jsonutil.MarshalFloat(v, stream)
		want := string(stream.Buffer())
		jsoniter.ConfigCompatibleWithStandardLibrary.ReturnStream(stream)
		require.Equal(t, want, `"`+string(appendFloat(nil, v))+`"`, "value %v", v)
	}
}

func TestAppendTimestampMatchesPrometheus(t *testing.T) {
	for _, ts := range []int64{0, 1, 10, 100, 999, 1000, 1001, 1435781451781, 1435781451780, 1435781451000, -1, -1500, math.MaxInt64, math.MinInt64 + 1} {
		stream := jsoniter.ConfigCompatibleWithStandardLibrary.BorrowStream(nil)
		jsonutil.MarshalTimestamp(ts, stream)
		want := string(stream.Buffer())
		jsoniter.ConfigCompatibleWithStandardLibrary.ReturnStream(stream)
		require.Equal(t, want, string(appendTimestamp(nil, ts)), "timestamp %d", ts)
	}
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `q"uo\te`, "<html>&amp;", "tab\tnl\nnul\x00\x1f\x7f", "\b\f", "ünïcødé ✓", "line\u2028sep\u2029", "bad\xffutf8\xc3"} {
		want, err := json.Marshal(s)
		require.NoError(t, err)
		require.Equal(t, string(want), string(appendString(nil, s)), "string %q", s)
	}
}

// Vectors and matrices round-trip through Prometheus' client model.
func TestQueryDataRoundTrip(t *testing.T) {
	ls := labels.FromStrings("__name__", "x", "path", `/a"b<c>`)
	vec := promql.Vector{
		{Metric: ls, T: 1435781451781, F: 1.5},
		{Metric: labels.EmptyLabels(), T: 1435781451781, F: math.Inf(-1)},
	}
	b, err := appendQueryData(nil, vec)
	require.NoError(t, err)
	var d struct {
		ResultType string       `json:"resultType"`
		Result     model.Vector `json:"result"`
	}
	require.NoError(t, json.Unmarshal(b, &d))
	require.Equal(t, "vector", d.ResultType)
	require.Equal(t, model.LabelValue(`/a"b<c>`), d.Result[0].Metric["path"])
	require.Equal(t, model.Time(1435781451781), d.Result[0].Timestamp)
	require.True(t, math.IsInf(float64(d.Result[1].Value), -1))

	mat := promql.Matrix{
		{Metric: ls, Floats: []promql.FPoint{{T: 1000, F: 1}, {T: 2500, F: math.NaN()}}},
		{Metric: labels.FromStrings("a", "b")},
	}
	b, err = appendQueryData(nil, mat)
	require.NoError(t, err)
	require.Equal(t, `{"resultType":"matrix","result":[{"metric":{"__name__":"x","path":"/a\"b\u003cc\u003e"},"values":[[1,"1"],[2.500,"NaN"]]},{"metric":{"a":"b"}}]}`, string(b))
	var m struct {
		Result model.Matrix `json:"result"`
	}
	require.NoError(t, json.Unmarshal(b, &m))
	require.Len(t, m.Result[0].Values, 2)
	require.Equal(t, model.Time(2500), m.Result[0].Values[1].Timestamp)
}
