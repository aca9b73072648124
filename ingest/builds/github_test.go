package builds

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

// ms is an RFC 3339 time in Unix milliseconds.
func ms(t *testing.T, s string) int64 {
	t.Helper()
	ts, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	return ts.UnixMilli()
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

var testDeploy = regexp.MustCompile(`(?i)deploy`)

func TestDecodeGitHub(t *testing.T) {
	const sha = "9f4c2d1be0a7c3f58e2b6d0a41c97e8f53b2a6d1"
	run := store.BuildEvent{
		ID: "github/6874512209/1", Service: "checkout-api", Pipeline: "CI", Kind: store.KindBuild, Status: store.StatusRunning,
		Commit: sha, Branch: "main", StartedAt: ms(t, "2023-11-14T21:40:09Z"), CommitTime: ms(t, "2023-11-14T21:39:58Z"),
		URL: "https://github.com/cairn-demo/checkout-api/actions/runs/6874512209", Trigger: "push",
		Labels: labels.FromStrings("actor", "ada-l", "repository", "cairn-demo/checkout-api", "run_number", "482"),
	}
	with := func(f func(e *store.BuildEvent)) store.BuildEvent {
		e := run
		f(&e)
		return e
	}
	for _, tc := range []struct {
		file, event string
		want        store.BuildEvent
	}{
		{"workflow_run.requested.json", "workflow_run", with(func(e *store.BuildEvent) { e.Version = uint64(ms(t, "2023-11-14T21:40:09Z")) })},
		{"workflow_run.in_progress.json", "workflow_run", with(func(e *store.BuildEvent) { e.Version = uint64(ms(t, "2023-11-14T21:40:17Z")) })},
		{"workflow_run.completed.json", "workflow_run", with(func(e *store.BuildEvent) {
			e.Status, e.FinishedAt = store.StatusSuccess, ms(t, "2023-11-14T21:46:31Z")
			e.Version = uint64(e.FinishedAt)
		})},
		{"workflow_run.completed.deploy.json", "workflow_run", with(func(e *store.BuildEvent) {
			e.ID, e.Pipeline, e.Kind, e.Status = "github/6874599120/2", "Deploy production", store.KindDeploy, store.StatusFailure
			e.FinishedAt, e.Version = ms(t, "2023-11-14T21:52:40Z"), uint64(ms(t, "2023-11-14T21:52:40Z"))
			e.URL = "https://github.com/cairn-demo/checkout-api/actions/runs/6874599120"
		})},
		{"workflow_job.completed.deployment.json", "workflow_job", store.BuildEvent{
			ID: "github/6874599120/2/job/18711202456", Service: "checkout-api", Pipeline: "Deploy production",
			Kind: store.KindDeploy, Status: store.StatusSuccess, Commit: sha, Branch: "main", Environment: "production",
			StartedAt: ms(t, "2023-11-14T21:47:10Z"), FinishedAt: ms(t, "2023-11-14T21:52:31Z"),
			URL:    "https://github.com/cairn-demo/checkout-api/actions/runs/6874599120/job/18711202456",
			Labels: labels.FromStrings("deployment_id", "1203395511", "job", "deploy", "repository", "cairn-demo/checkout-api", "runner", "GitHub Actions 14"),
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, err := DecodeGitHub(tc.event, readTestdata(t, "github/"+tc.file), GitHubOptions{Deploy: testDeploy})
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestDecodeGitHubOptions(t *testing.T) {
	body := readTestdata(t, "github/workflow_run.completed.deploy.json")
	got, err := DecodeGitHub("workflow_run", body, GitHubOptions{})
	require.NoError(t, err)
	require.Equal(t, store.KindBuild, got.Kind, "no pattern: every run is a build")
	got, err = DecodeGitHub("workflow_run", body, GitHubOptions{Deploy: testDeploy, Service: "checkout"})
	require.NoError(t, err)
	require.Equal(t, "checkout", got.Service)
}

func TestDecodeGitHubIgnored(t *testing.T) {
	for _, tc := range []struct{ file, event, want string }{
		{"ping.json", "ping", "pong"},
		{"workflow_job.in_progress.json", "workflow_job", `job "smoke-test" of run 6874599120 does not deploy to an environment`},
		{"ping.json", "push", `"push" events are not recorded`},
	} {
		_, err := DecodeGitHub(tc.event, readTestdata(t, "github/"+tc.file), GitHubOptions{})
		var ign *Ignored
		require.True(t, errors.As(err, &ign), "%s: %v", tc.file, err)
		require.Contains(t, ign.Msg, tc.want)
	}
}

func TestDecodeGitHubErrors(t *testing.T) {
	for _, tc := range []struct{ name, event, body, want string }{
		{"not json", "workflow_run", `{"workflow_run":`, "cannot decode build events"},
		{"array", "workflow_run", `[]`, "cannot decode build events"},
		{"no run", "workflow_run", `{"action":"completed"}`, `field "workflow_run": required`},
		{"no id", "workflow_run", `{"workflow_run":{"status":"queued"}}`, `field "workflow_run.id": required`},
		{"id type", "workflow_run", `{"workflow_run":{"id":"x"}}`, `field "workflow_run.id": want an integer, got JSON string`},
		{"no repository", "workflow_run", `{"workflow_run":{"id":1,"status":"queued","run_started_at":"2023-11-14T21:40:09Z"}}`, `field "repository.name": required unless the URL names the service`},
		{"no status", "workflow_run", `{"workflow_run":{"id":1},"repository":{"name":"r"}}`, `field "workflow_run.status": required`},
		{"no conclusion", "workflow_run", `{"workflow_run":{"id":1,"status":"completed","run_started_at":"2023-11-14T21:40:09Z","updated_at":"2023-11-14T21:40:09Z"},"repository":{"name":"r"}}`, `field "workflow_run.conclusion": required when the status is completed`},
		{"no start", "workflow_run", `{"workflow_run":{"id":1,"status":"queued"},"repository":{"name":"r"}}`, `field "workflow_run.run_started_at": required`},
		{"bad time", "workflow_run", `{"workflow_run":{"id":1,"status":"queued","run_started_at":"yesterday"},"repository":{"name":"r"}}`, `field "workflow_run.run_started_at": "yesterday" is not an RFC 3339 time`},
		{"completed without update", "workflow_run", `{"workflow_run":{"id":1,"status":"completed","conclusion":"success","run_started_at":"2023-11-14T21:40:09Z"},"repository":{"name":"r"}}`, `field "workflow_run.updated_at": required in a completed run`},
		{"job without run", "workflow_job", `{"workflow_job":{"id":5},"deployment":{"environment":"prod"}}`, `field "workflow_job.run_id": required`},
		{"job completed without time", "workflow_job", `{"workflow_job":{"id":5,"run_id":6,"status":"completed","conclusion":"success","started_at":"2023-11-14T21:40:09Z"},"deployment":{"environment":"prod"},"repository":{"name":"r"}}`, `field "workflow_job.completed_at": required`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeGitHub(tc.event, []byte(tc.body), GitHubOptions{})
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestGitHubStatus(t *testing.T) {
	for conclusion, want := range map[string]string{
		"success": store.StatusSuccess, "neutral": store.StatusSuccess, "failure": store.StatusFailure,
		"timed_out": store.StatusFailure, "startup_failure": store.StatusFailure, "cancelled": store.StatusCancelled,
		"skipped": store.StatusCancelled, "stale": store.StatusCancelled, "action_required": store.StatusCancelled,
		"Someday_New": "someday_new",
	} {
		got, ferr := githubStatus("workflow_run", "completed", conclusion)
		require.Nil(t, ferr)
		require.Equal(t, want, got, conclusion)
	}
	for _, status := range []string{"requested", "queued", "pending", "waiting", "in_progress"} {
		got, ferr := githubStatus("workflow_run", status, "")
		require.Nil(t, ferr)
		require.Equal(t, store.StatusRunning, got)
	}
}

func sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func TestVerifyGitHub(t *testing.T) {
	body := readTestdata(t, "github/ping.json")
	require.NoError(t, VerifyGitHub("s3cret", body, sign("s3cret", body)))
	for _, tc := range []struct{ name, sig, want string }{
		{"missing", "", "X-Hub-Signature-256 is missing"},
		{"other secret", sign("other", body), "X-Hub-Signature-256 does not match the body"},
		{"other body", sign("s3cret", append(body, ' ')), "X-Hub-Signature-256 does not match the body"},
		{"sha1", "sha1=0123456789abcdef0123456789abcdef01234567", "X-Hub-Signature-256 is not sha256=<64 hex digits>"},
		{"not hex", "sha256=zz", "X-Hub-Signature-256 is not sha256=<64 hex digits>"},
		{"short", "sha256=abcd", "X-Hub-Signature-256 is not sha256=<64 hex digits>"},
	} {
		require.ErrorContains(t, VerifyGitHub("s3cret", body, tc.sig), tc.want, tc.name)
	}
}

func TestGitHubPayload(t *testing.T) {
	js := readTestdata(t, "github/workflow_run.completed.json")
	got, err := GitHubPayload("application/json", js)
	require.NoError(t, err)
	require.Equal(t, js, got)
	form := "payload=" + url.QueryEscape(string(js))
	got, err = GitHubPayload("application/x-www-form-urlencoded", []byte(form))
	require.NoError(t, err)
	require.Equal(t, js, got)
	_, err = GitHubPayload("application/x-www-form-urlencoded", []byte("zen=1"))
	require.ErrorContains(t, err, "form body has no payload parameter")
	_, err = GitHubPayload("application/x-www-form-urlencoded", []byte("payload=%zz"))
	require.ErrorIs(t, err, ErrDecode)
}

func FuzzDecodeGitHub(f *testing.F) {
	for _, name := range []string{"workflow_run.completed.json", "workflow_run.in_progress.json", "workflow_job.completed.deployment.json", "ping.json"} {
		f.Add("workflow_run", readTestdata(f, "github/"+name))
		f.Add("workflow_job", readTestdata(f, "github/"+name))
	}
	f.Add("workflow_run", []byte(`{"workflow_run":{"id":1,"status":"completed","conclusion":"success","run_started_at":"2023-11-14T21:40:09Z","updated_at":"2020-01-01T00:00:00Z"},"repository":{"name":"r"}}`))
	f.Fuzz(func(t *testing.T, event string, body []byte) {
		e, err := DecodeGitHub(event, body, GitHubOptions{Deploy: testDeploy})
		if err != nil {
			var ign *Ignored
			var ferr *FieldError
			require.True(t, errors.As(err, &ign) || errors.As(err, &ferr) || errors.Is(err, ErrDecode), "unexpected error type: %v", err)
			return
		}
		checkDecoded(t, e)
	})
}

// checkDecoded checks what every decoder promises of an event it returns.
func checkDecoded(t *testing.T, e store.BuildEvent) {
	t.Helper()
	require.NotEmpty(t, e.ID)
	require.NotEmpty(t, e.Service)
	require.NotEmpty(t, e.Status)
	require.Contains(t, []string{store.KindBuild, store.KindDeploy}, e.Kind)
	require.True(t, e.StartedAt > 0 || e.FinishedAt > 0, "a start or a finish")
	if e.StartedAt > 0 && e.FinishedAt > 0 {
		require.GreaterOrEqual(t, e.FinishedAt, e.StartedAt)
	}
	if finished(e.Status) {
		require.Positive(t, e.FinishedAt, "a finished run has a finish")
	}
	if e.Status == store.StatusRunning {
		require.Zero(t, e.FinishedAt, "a running run has no finish")
	}
}
