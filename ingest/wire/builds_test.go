package wire

import (
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

func TestBuildsRoundTrip(t *testing.T) {
	in := []store.BuildEvent{
		{
			Tenant: "team-a", ID: "github/289782451/2", Version: 1601915629000, Service: "octo-repo", Pipeline: "Deploy",
			Kind: store.KindDeploy, Status: store.StatusSuccess, Commit: "3484a3fb816e0859fd6e1cea078d76385ff50625",
			Branch: "main", Environment: "production", StartedAt: 1601915604000, FinishedAt: 1601915629000,
			CommitTime: 1601915527000, URL: "https://github.com/octo-org/octo-repo/actions/runs/289782451", Trigger: "push",
			Labels: labels.FromStrings("actor", "Codertocat", "repository", "octo-org/octo-repo"),
		},
		{Tenant: "team-a", ID: "native/api//1", Service: "api", Kind: store.KindBuild, Status: store.StatusRunning, StartedAt: 1},
		{Tenant: "team-a", ID: "ünïcode", Status: "neutral", StartedAt: -5, FinishedAt: -1}, // stored as given
	}
	b := AppendBuilds(nil, "team-a", in)
	kind, err := Header(b)
	require.NoError(t, err)
	require.Equal(t, KindBuilds, kind)
	require.Equal(t, "builds", kind.String())

	got, err := DecodeBuilds(nil, b)
	require.NoError(t, err)
	require.Len(t, got, len(in))
	for i := range in {
		want := in[i]
		if want.Labels.IsEmpty() {
			want.Labels = got[i].Labels // nil and empty label sets are the same set
		}
		require.Equal(t, want.Labels.String(), got[i].Labels.String())
		got[i].Labels, want.Labels = labels.EmptyLabels(), labels.EmptyLabels()
		require.Equal(t, want, got[i])
	}
}

func TestDecodeBuildsErrors(t *testing.T) {
	good := AppendBuilds(nil, "t", []store.BuildEvent{{ID: "x", Service: "api", Kind: "build", Status: "success", StartedAt: 1}})
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"logs message", AppendLogs(nil, "t", nil), "message is logs, want builds"},
		{"truncated", good[:len(good)-3], "corrupt message"},
		{"trailing", append(append([]byte{}, good...), 7), "1 trailing bytes"},
		{"huge count", []byte{'C', 1, 3, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}, "exceeds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeBuilds(nil, tc.in)
			require.ErrorIs(t, err, ErrCorrupt)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func FuzzDecodeBuilds(f *testing.F) {
	f.Add(AppendBuilds(nil, "t", []store.BuildEvent{{ID: "github/1/1", Version: 9, Service: "api", Kind: "deploy", Status: "failure",
		StartedAt: 1, FinishedAt: 2, Labels: labels.FromStrings("k", "v")}}))
	f.Add([]byte{'C', 1, 3, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		events, err := DecodeBuilds(nil, b)
		if err != nil {
			require.ErrorIs(t, err, ErrCorrupt)
			return
		}
		if len(events) == 0 {
			return
		}
		again, err := DecodeBuilds(nil, AppendBuilds(nil, events[0].Tenant, events))
		require.NoError(t, err)
		require.Len(t, again, len(events))
		for i := range events {
			require.Equal(t, events[i].ID, again[i].ID)
			require.Equal(t, events[i].Version, again[i].Version)
			require.Equal(t, events[i].FinishedAt, again[i].FinishedAt)
		}
	})
}

func BenchmarkAppendDecodeBuilds(b *testing.B) {
	events := make([]store.BuildEvent, 100)
	for i := range events {
		events[i] = store.BuildEvent{ID: "github/289782451/1", Service: "octo-repo", Pipeline: "CI", Kind: "build", Status: "success",
			Commit: "3484a3fb816e0859fd6e1cea078d76385ff50625", Branch: "main", StartedAt: 1601915604000, FinishedAt: 1601915629000,
			URL: "https://github.com/octo-org/octo-repo/actions/runs/289782451", Labels: labels.FromStrings("repository", "octo-org/octo-repo")}
	}
	b.ReportAllocs()
	var buf []byte
	var out []store.BuildEvent
	for b.Loop() {
		buf = AppendBuilds(buf[:0], "t", events)
		var err error
		if out, err = DecodeBuilds(out[:0], buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(buf))/float64(len(events)), "bytes/event")
}
