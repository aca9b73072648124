package wire

import (
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

func TestLogsRoundTrip(t *testing.T) {
	web := labels.FromStrings("app", "web", "env", "prod")
	db := labels.FromStrings("app", "db")
	in := []store.LogEntry{
		{Tenant: "t", Stream: web, T: 1700000000000000001, Line: "GET / 200", Metadata: labels.FromStrings("trace_id", "abc")},
		{Tenant: "t", Stream: web, T: 1700000000000000000, Line: ""}, // earlier, empty line
		{Tenant: "t", Stream: db, T: 5, Line: "checkpoint\nmultiline ünïcode"},
		{Tenant: "t", Stream: web, T: 1700000000000000002, Line: "again"},
	}
	b := AppendLogs(nil, "t", in)
	kind, err := Header(b)
	require.NoError(t, err)
	require.Equal(t, KindLogs, kind)

	got, err := DecodeLogs(nil, b)
	require.NoError(t, err)
	require.Len(t, got, len(in))
	for i := range in {
		require.Equal(t, in[i].Tenant, got[i].Tenant)
		require.Equal(t, in[i].Stream.String(), got[i].Stream.String())
		require.Equal(t, in[i].T, got[i].T)
		require.Equal(t, in[i].Line, got[i].Line)
		require.Equal(t, in[i].Metadata.String(), got[i].Metadata.String())
	}
}

func TestDecodeLogsErrors(t *testing.T) {
	good := AppendLogs(nil, "t", []store.LogEntry{{Stream: labels.FromStrings("a", "b"), T: 1, Line: "x"}})
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"metrics message", AppendMetrics(nil, "t", nil), "message is metrics, want logs"},
		{"version 2", []byte{'C', 2, 2, 0}, "logs messages have no version 2"},
		{"truncated", good[:len(good)-2], "corrupt message"},
		{"trailing", append(append([]byte{}, good...), 1), "1 trailing bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeLogs(nil, tc.in)
			require.ErrorIs(t, err, ErrCorrupt)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func FuzzDecodeLogs(f *testing.F) {
	f.Add(AppendLogs(nil, "t", []store.LogEntry{{Stream: labels.FromStrings("a", "b"), T: 1, Line: "x", Metadata: labels.FromStrings("k", "v")}}))
	f.Add([]byte{'C', 1, 2, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := DecodeLogs(nil, b)
		if err != nil {
			require.ErrorIs(t, err, ErrCorrupt)
			return
		}
		if len(entries) == 0 {
			return
		}
		again, err := DecodeLogs(nil, AppendLogs(nil, entries[0].Tenant, entries))
		require.NoError(t, err)
		require.Len(t, again, len(entries))
	})
}
