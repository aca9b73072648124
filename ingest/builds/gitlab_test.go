package builds

import (
	"errors"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

func TestDecodeGitLab(t *testing.T) {
	const sha = "5e7a1c9d04b2f6e83a1d9c0b7f2e4a6d8c1b3e5f"
	pipeline := store.BuildEvent{
		ID: "gitlab/pipeline/98231", Service: "checkout-api", Pipeline: "Checkout main", Kind: store.KindBuild,
		Status: store.StatusRunning, Commit: sha, Branch: "main", StartedAt: ms(t, "2023-11-14T21:40:05Z"),
		CommitTime: ms(t, "2023-11-14T21:39:50Z"), URL: "https://gitlab.example.com/shop/checkout-api/-/pipelines/98231",
		Trigger: "push", Labels: labels.FromStrings("actor", "graceh", "repository", "shop/checkout-api"),
	}
	success := pipeline
	success.Status, success.FinishedAt = store.StatusSuccess, ms(t, "2023-11-14T21:49:12Z")
	deployment := store.BuildEvent{
		ID: "gitlab/deployment/2290", Service: "checkout-api", Kind: store.KindDeploy, Status: store.StatusRunning,
		Commit: sha, Environment: "production", StartedAt: ms(t, "2023-11-14T21:46:00Z"),
		URL:    "https://gitlab.example.com/shop/checkout-api/-/jobs/551203",
		Labels: labels.FromStrings("actor", "graceh", "deployable_id", "551203", "repository", "shop/checkout-api"),
	}
	deployed := deployment
	deployed.Status, deployed.StartedAt, deployed.FinishedAt = store.StatusSuccess, 0, ms(t, "2023-11-14T21:49:11Z")
	for _, tc := range []struct {
		file, event string
		want        store.BuildEvent
	}{
		{"pipeline.running.json", "Pipeline Hook", pipeline},
		{"pipeline.success.json", "Pipeline Hook", success},
		{"deployment.running.json", "Deployment Hook", deployment},
		{"deployment.success.json", "Deployment Hook", deployed},
		{"job.deploy.json", "Job Hook", store.BuildEvent{
			ID: "gitlab/job/551203", Service: "checkout-api", Pipeline: "Checkout main", Kind: store.KindDeploy,
			Status: store.StatusSuccess, Commit: sha, Branch: "main", Environment: "production",
			StartedAt: ms(t, "2023-11-14T21:46:00.120Z"), FinishedAt: ms(t, "2023-11-14T21:49:10.530Z"),
			URL: "https://gitlab.example.com/shop/checkout-api/-/jobs/551203",
			Labels: labels.FromStrings("actor", "graceh", "job", "deploy-production", "pipeline_id", "98231",
				"repository", "shop/checkout-api", "stage", "deploy"),
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, err := DecodeGitLab(tc.event, readTestdata(t, "gitlab/"+tc.file), GitLabOptions{})
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestDecodeGitLabIgnored(t *testing.T) {
	for _, tc := range []struct{ file, event, want string }{
		{"job.test.json", "Job Hook", `job "unit-tests" of pipeline 98231 does not deploy to an environment`},
		{"pipeline.success.json", "Push Hook", `"Push Hook" events are not recorded`},
	} {
		_, err := DecodeGitLab(tc.event, readTestdata(t, "gitlab/"+tc.file), GitLabOptions{})
		var ign *Ignored
		require.True(t, errors.As(err, &ign), "%s: %v", tc.file, err)
		require.Contains(t, ign.Msg, tc.want)
	}
}

func TestDecodeGitLabErrors(t *testing.T) {
	for _, tc := range []struct{ name, event, body, want string }{
		{"not json", "Pipeline Hook", `object_kind=pipeline`, "cannot decode build events"},
		{"kind mismatch", "Pipeline Hook", `{"object_kind":"deployment"}`, `field "object_kind": "deployment" does not match X-Gitlab-Event "Pipeline Hook"`},
		{"no attributes", "Pipeline Hook", `{"object_kind":"pipeline"}`, `field "object_attributes": required`},
		{"no id", "Pipeline Hook", `{"object_attributes":{"status":"running"}}`, `field "object_attributes.id": required`},
		{"no project", "Pipeline Hook", `{"object_attributes":{"id":1,"status":"running","created_at":"2023-11-14 21:40:05 UTC"}}`, `field "project.path_with_namespace": required unless the URL names the service`},
		{"no status", "Pipeline Hook", `{"object_attributes":{"id":1},"project":{"path_with_namespace":"a/b"}}`, `field "object_attributes.status": required`},
		{"no start", "Pipeline Hook", `{"object_attributes":{"id":1,"status":"running"},"project":{"path_with_namespace":"a/b"}}`, `field "object_attributes.created_at": required`},
		{"bad time", "Pipeline Hook", `{"object_attributes":{"id":1,"status":"running","created_at":"12/11/2023"},"project":{"path_with_namespace":"a/b"}}`, `field "object_attributes.created_at": "12/11/2023" is not an RFC 3339 time`},
		{"status type", "Pipeline Hook", `{"object_attributes":{"id":1,"status":3}}`, `field "object_attributes.status": want a string, got JSON number`},
		{"job id", "Job Hook", `{"object_kind":"build"}`, `field "build_id": required`},
		{"deployment id", "Deployment Hook", `{"object_kind":"deployment","environment":"prod"}`, `field "deployment_id": required`},
		{"deployment environment", "Deployment Hook", `{"deployment_id":3}`, `field "environment": required`},
		{"deployment time", "Deployment Hook", `{"deployment_id":3,"environment":"prod","status":"success","project":{"name":"x"}}`, `field "status_changed_at": required`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeGitLab(tc.event, []byte(tc.body), GitLabOptions{})
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestDecodeGitLabService(t *testing.T) {
	body := readTestdata(t, "gitlab/pipeline.success.json")
	got, err := DecodeGitLab("Pipeline Hook", body, GitLabOptions{Service: "checkout"})
	require.NoError(t, err)
	require.Equal(t, "checkout", got.Service)
	// A canceled pipeline that never ran has no finish: it finished when
	// it was created, and its duration is unknown.
	got, err = DecodeGitLab("Pipeline Hook", []byte(`{"object_attributes":{"id":7,"status":"canceled","created_at":"2023-11-14 21:40:05 UTC","finished_at":null},"project":{"name":"x"}}`), GitLabOptions{})
	require.NoError(t, err)
	require.Equal(t, store.StatusCancelled, got.Status)
	require.Equal(t, int64(0), got.StartedAt)
	require.Equal(t, ms(t, "2023-11-14T21:40:05Z"), got.FinishedAt)
}

func TestVerifyGitLab(t *testing.T) {
	require.NoError(t, VerifyGitLab("t0ken", "t0ken"))
	require.ErrorContains(t, VerifyGitLab("t0ken", ""), "X-Gitlab-Token is missing")
	require.ErrorContains(t, VerifyGitLab("t0ken", "t0ken2"), "X-Gitlab-Token does not match")
	require.ErrorContains(t, VerifyGitLab("t0ken", "T0KEN"), "X-Gitlab-Token does not match")
}

func FuzzDecodeGitLab(f *testing.F) {
	for _, tc := range []struct{ event, file string }{
		{"Pipeline Hook", "pipeline.success.json"}, {"Pipeline Hook", "pipeline.running.json"},
		{"Job Hook", "job.deploy.json"}, {"Deployment Hook", "deployment.success.json"},
	} {
		f.Add(tc.event, readTestdata(f, "gitlab/"+tc.file))
	}
	f.Fuzz(func(t *testing.T, event string, body []byte) {
		e, err := DecodeGitLab(event, body, GitLabOptions{})
		if err != nil {
			var ign *Ignored
			var ferr *FieldError
			require.True(t, errors.As(err, &ign) || errors.As(err, &ferr) || errors.Is(err, ErrDecode), "unexpected error type: %v", err)
			return
		}
		checkDecoded(t, e)
	})
}
