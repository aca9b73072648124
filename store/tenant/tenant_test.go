package tenant

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFromRequest(t *testing.T) {
	for _, tc := range []struct {
		header  string
		want    string
		wantErr string
	}{
		{header: "", want: Default},
		{header: "team-a", want: "team-a"},
		{header: "a.b_c(1)*'!", want: "a.b_c(1)*'!"},
		{header: "a/b", wantErr: `unsupported character '/' at position 1`},
		{header: "..", wantErr: "reserved"},
		{header: strings.Repeat("x", MaxLength+1), wantErr: "the limit is 150"},
	} {
		t.Run(tc.header, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tc.header != "" {
				r.Header.Set(Header, tc.header)
			}
			got, err := FromRequest(r)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				require.ErrorContains(t, err, Header)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}
