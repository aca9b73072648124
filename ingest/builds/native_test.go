package builds

import (
	"errors"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

func TestDecodeNative(t *testing.T) {
	const sha = "9f4c2d1be0a7c3f58e2b6d0a41c97e8f53b2a6d1"
	got, err := DecodeNative(readTestdata(t, "native/events.json"))
	require.NoError(t, err)
	started := ms(t, "2023-11-14T21:40:09Z")
	rollout := store.BuildEvent{
		ID: "argo/checkout-api/2291", Service: "checkout-api", Pipeline: "argo-rollout", Kind: store.KindDeploy,
		Status: store.StatusRunning, Commit: sha, Environment: "production", StartedAt: ms(t, "2023-11-14T21:47:10Z"),
		Labels: labels.EmptyLabels(),
	}
	done := rollout
	done.Status, done.FinishedAt, done.CommitTime = store.StatusSuccess, ms(t, "2023-11-14T21:52:31.25Z"), 1699997998000
	require.Equal(t, []Result{
		{Event: store.BuildEvent{
			ID: "native/checkout-api/release//1699998009000", Service: "checkout-api", Pipeline: "release", Kind: store.KindBuild,
			Status: store.StatusSuccess, Commit: sha, Branch: "main", StartedAt: started, FinishedAt: 1699998391000,
			CommitTime: ms(t, "2023-11-14T21:39:58Z"), URL: "https://ci.example.com/runs/3181", Trigger: "push",
			Labels: labels.FromStrings("attempt", "1", "cached", "true", "runner", "buildkite-7"),
		}},
		{Event: rollout},
		{Event: done},
	}, got)

	got, err = DecodeNative(readTestdata(t, "native/single.json"))
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Nil(t, got[0].Err)
	require.Equal(t, "native/billing//staging/1699997400000", got[0].Event.ID)
	require.Equal(t, store.StatusFailure, got[0].Event.Status)
}

func TestNativeStatus(t *testing.T) {
	for in, want := range map[string]string{
		"success": store.StatusSuccess, "Succeeded": store.StatusSuccess, "passed": store.StatusSuccess, " ok ": store.StatusSuccess,
		"failure": store.StatusFailure, "FAILED": store.StatusFailure, "error": store.StatusFailure, "timed_out": store.StatusFailure,
		"cancelled": store.StatusCancelled, "canceled": store.StatusCancelled, "aborted": store.StatusCancelled, "skipped": store.StatusCancelled,
		"running": store.StatusRunning, "in_progress": store.StatusRunning, "pending": store.StatusRunning, "queued": store.StatusRunning,
	} {
		got, ok := nativeStatus(in)
		require.True(t, ok, in)
		require.Equal(t, want, got, in)
	}
	_, ok := nativeStatus("neutral")
	require.False(t, ok)
}

func TestDecodeNativeBody(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"empty", "", "body is not JSON"},
		{"truncated", `[{"service":"a"`, "body is not JSON"},
		{"scalar", `42`, "body is JSON \"42\": want an object or an array of objects"},
		{"two values", `{} {}`, "body is not JSON"},
	} {
		_, err := DecodeNative([]byte(tc.body))
		require.ErrorIs(t, err, ErrDecode, tc.name)
		require.ErrorContains(t, err, tc.want, tc.name)
	}
	got, err := DecodeNative([]byte(`[]`))
	require.NoError(t, err)
	require.Empty(t, got)
}

func TestDecodeNativeInvalid(t *testing.T) {
	const ok = `"service":"api","kind":"build","status":"success","started_at":"2023-11-14T21:40:09Z","finished_at":"2023-11-14T21:41:09Z"`
	for _, tc := range []struct{ name, event, reason, want string }{
		{"not an object", `"build"`, "invalid_field", `want a JSON object, got "\"build\""`},
		{"no service", `{"kind":"build","status":"success","finished_at":1699998391000}`, "missing_field", `field "service": required`},
		{"no kind", `{"service":"api","status":"success","finished_at":1699998391000}`, "missing_field", `field "kind": required: build or deploy`},
		{"bad kind", `{"service":"api","kind":"release","status":"success","finished_at":1699998391000}`, "invalid_field", `field "kind": "release" is neither build nor deploy`},
		{"no status", `{"service":"api","kind":"build","finished_at":1699998391000}`, "missing_field", `field "status": required`},
		{"bad status", `{"service":"api","kind":"build","status":"neutral","finished_at":1699998391000}`, "invalid_field", `field "status": "neutral" is not a known status`},
		{"no times", `{"service":"api","kind":"build","status":"running"}`, "missing_field", `field "started_at": required: started_at, finished_at or both`},
		{"order", `{"service":"api","kind":"build","status":"success","started_at":1699998391000,"finished_at":1699998390000}`, "invalid_field", `field "finished_at": 2023-11-14T21:46:30Z is before started_at 2023-11-14T21:46:31Z`},
		{"running finished", `{"service":"api","kind":"build","status":"running","started_at":1699998390000,"finished_at":1699998391000}`, "invalid_field", `field "finished_at": set on a running event`},
		{"finished without finish", `{"service":"api","kind":"deploy","status":"success","started_at":1699998390000}`, "missing_field", `field "finished_at": required for a success event`},
		{"seconds", `{"service":"api","kind":"build","status":"success","finished_at":1699998391}`, "invalid_field", `field "finished_at": 1699998391 ms is before 1973-03-03: send Unix milliseconds, not seconds`},
		{"bad time", `{"service":"api","kind":"build","status":"success","finished_at":"14/11/2023"}`, "invalid_field", `field "finished_at": "14/11/2023" is neither an RFC 3339 time nor integer Unix milliseconds`},
		{"float time", `{"service":"api","kind":"build","status":"success","finished_at":1.7e12}`, "invalid_field", `field "finished_at": "1.7e12" is neither`},
		{"service type", `{"service":7,"kind":"build"}`, "invalid_field", `field "service": want a string, got JSON number`},
		{"unknown field", `{` + ok + `,"finshed_at":1}`, "unknown_field", `field "finshed_at": not a field of a build event`},
		{"labels type", `{` + ok + `,"labels":["a"]}`, "invalid_field", `field "labels": want an object, got JSON array`},
		{"label value", `{` + ok + `,"labels":{"a":{"b":1}}}`, "invalid_field", `field "labels.a": want a string, number or boolean`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeNative([]byte(`[{` + ok + `},` + tc.event + `]`))
			require.NoError(t, err)
			require.Len(t, got, 2)
			require.Nil(t, got[0].Err, "the valid event is decoded")
			require.NotNil(t, got[1].Err)
			require.Equal(t, tc.reason, got[1].Err.Reason)
			require.ErrorContains(t, got[1].Err, tc.want)
		})
	}
}

func FuzzDecodeNative(f *testing.F) {
	f.Add(readTestdata(f, "native/events.json"))
	f.Add(readTestdata(f, "native/single.json"))
	f.Add([]byte(`{"service":"a","kind":"deploy","status":"ok","started_at":"1699998390000","finished_at":1699998391000,"labels":{"x":1}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		results, err := DecodeNative(body)
		if err != nil {
			require.True(t, errors.Is(err, ErrDecode), "unexpected error type: %v", err)
			return
		}
		for _, r := range results {
			if r.Err == nil {
				checkDecoded(t, r.Event)
				_, ok := nativeStatus(r.Event.Status)
				require.True(t, ok)
			}
		}
	})
}
