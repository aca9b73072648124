package store

import (
	"math"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/stretchr/testify/require"
)

// TestFingerprintStable pins fingerprints: a change would split every
// stored series in two. The values were checked independently with
// ClickHouse's xxHash64 over the same bytes.
func TestFingerprintStable(t *testing.T) {
	for _, tc := range []struct {
		ls   labels.Labels
		want uint64
	}{
		{labels.FromStrings("__name__", "up", "instance", "localhost:9090", "job", "prometheus"), 0xf28c8afcd224e55f},
		{labels.FromStrings("job", "prometheus", "__name__", "up", "instance", "localhost:9090"), 0xf28c8afcd224e55f},
		{labels.EmptyLabels(), 0xef46db3751d8e999},
	} {
		t.Run(tc.ls.String(), func(t *testing.T) {
			require.Equal(t, tc.want, Fingerprint(tc.ls))
		})
	}
	// The separator keeps name/value boundaries apart.
	require.NotEqual(t, Fingerprint(labels.FromStrings("a", "bc")), Fingerprint(labels.FromStrings("ab", "c")))
}

func TestEncodeValue(t *testing.T) {
	staleNaN := math.Float64frombits(value.StaleNaN)
	for _, v := range []float64{0, -1.5, math.Inf(1), math.NaN(), staleNaN} {
		stored, flags := encodeValue(v)
		got := decodeValue(stored, flags)
		require.Equal(t, math.Float64bits(v), math.Float64bits(got), "%v", v)
	}
	stored, flags := encodeValue(staleNaN)
	require.Equal(t, 0.0, stored)
	require.Equal(t, staleFlag, flags)
}
