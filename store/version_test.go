package store

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Version
		wantErr string
	}{
		{in: "18.16.1", want: Version{18, 16, 1}},
		{in: "23.8", want: Version{23, 8, 0}},
		{in: "24.8.4.13", want: Version{24, 8, 4}},
		{in: " 25.3.1 ", want: Version{25, 3, 1}},
		{in: "23", wantErr: "want X.Y or X.Y.Z"},
		{in: "23.x", wantErr: `part "x" is not a number`},
		{in: "", wantErr: "want X.Y"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseVersion(tc.in)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestVersionAtLeast(t *testing.T) {
	v := Version{23, 8, 2}
	require.Equal(t, "23.8.2", v.String())
	require.True(t, v.AtLeast(23, 8))
	require.True(t, v.AtLeast(22, 12))
	require.True(t, v.AtLeast(18, 16))
	require.False(t, v.AtLeast(23, 9))
	require.False(t, v.AtLeast(24, 1))
	require.False(t, featuresOf(Version{18, 16, 1}).modern)
	require.False(t, featuresOf(Version{23, 3, 0}).modern)
	require.True(t, featuresOf(Version{23, 8, 0}).modern)
	require.True(t, featuresOf(Version{25, 1, 0}).modern)
}
