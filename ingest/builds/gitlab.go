package builds

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/cairn-dev/cairn/store"
)

// GitLabTokenHeader carries a GitLab webhook's secret token.
const GitLabTokenHeader = "X-Gitlab-Token"

// VerifyGitLab checks token, the value of X-Gitlab-Token, against want.
// Both are hashed first, so the comparison takes the same time whatever
// their lengths and contents.
func VerifyGitLab(want, token string) error {
	if token == "" {
		return fmt.Errorf("%s is missing: this endpoint has a webhook token, so deliveries must carry it", GitLabTokenHeader)
	}
	a, b := sha256.Sum256([]byte(want)), sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare(a[:], b[:]) != 1 {
		return fmt.Errorf("%s does not match: the webhook's secret token differs from this endpoint's", GitLabTokenHeader)
	}
	return nil
}

// GitLabOptions say how GitLab deliveries become events.
type GitLabOptions struct {
	// Service, when set, is the service instead of the project's path.
	Service string
}

type glProject struct {
	Name              string `json:"name"`
	PathWithNamespace string `json:"path_with_namespace"`
	WebURL            string `json:"web_url"`
}

type glUser struct {
	Username string `json:"username"`
}

// DecodeGitLab decodes a GitLab webhook delivery of the event type named
// by X-Gitlab-Event: Pipeline Hook (a pipeline is a build), Deployment
// Hook (a deploy) and Job Hook (recorded for jobs that deploy to an
// environment). Anything else is *Ignored.
func DecodeGitLab(event string, body []byte, opts GitLabOptions) (store.BuildEvent, error) {
	switch event {
	case "Pipeline Hook":
		return decodePipeline(body, opts)
	case "Job Hook":
		return decodeJob(body, opts)
	case "Deployment Hook":
		return decodeDeployment(body, opts)
	}
	return store.BuildEvent{}, ignored("%s events are not recorded: this endpoint records Pipeline, Job and Deployment Hook events", quote(event))
}

type glPipelineDelivery struct {
	ObjectKind string `json:"object_kind"`
	Attrs      *struct {
		ID         int64  `json:"id"`
		Name       string `json:"name"`
		Ref        string `json:"ref"`
		SHA        string `json:"sha"`
		Source     string `json:"source"`
		Status     string `json:"status"`
		CreatedAt  string `json:"created_at"`
		FinishedAt string `json:"finished_at"`
		URL        string `json:"url"`
	} `json:"object_attributes"`
	Project *glProject `json:"project"`
	User    *glUser    `json:"user"`
	Commit  *struct {
		Timestamp string `json:"timestamp"`
	} `json:"commit"`
}

func decodePipeline(body []byte, opts GitLabOptions) (store.BuildEvent, error) {
	var d glPipelineDelivery
	if err := decodeJSON(body, &d, false); err != nil {
		return store.BuildEvent{}, err
	}
	if ferr := objectKind(d.ObjectKind, "pipeline", "Pipeline Hook"); ferr != nil {
		return store.BuildEvent{}, ferr
	}
	a := d.Attrs
	switch {
	case a == nil:
		return store.BuildEvent{}, missing("object_attributes", "required in a Pipeline Hook delivery")
	case a.ID <= 0:
		return store.BuildEvent{}, missing("object_attributes.id", "required: the pipeline's ID, a positive integer")
	}
	service, ferr := gitlabService(d.Project, "", opts)
	if ferr != nil {
		return store.BuildEvent{}, ferr
	}
	e := store.BuildEvent{
		ID: "gitlab/pipeline/" + strconv.FormatInt(a.ID, 10), Service: service, Pipeline: a.Name, Kind: store.KindBuild,
		Commit: a.SHA, Branch: a.Ref, URL: a.URL, Trigger: a.Source,
		Labels: labelsOf("repository", projectPath(d.Project), "actor", username(d.User)),
	}
	if e.Status, ferr = gitlabStatus("object_attributes.status", a.Status); ferr != nil {
		return store.BuildEvent{}, ferr
	}
	if ferr := gitlabTimes(&e, "object_attributes.created_at", a.CreatedAt, "object_attributes.finished_at", a.FinishedAt); ferr != nil {
		return store.BuildEvent{}, ferr
	}
	if d.Commit != nil {
		if e.CommitTime, ferr = parseTime("commit.timestamp", d.Commit.Timestamp); ferr != nil {
			return store.BuildEvent{}, ferr
		}
	}
	return e, nil
}

type glJobDelivery struct {
	ObjectKind      string     `json:"object_kind"`
	Ref             string     `json:"ref"`
	SHA             string     `json:"sha"`
	BuildID         int64      `json:"build_id"`
	BuildName       string     `json:"build_name"`
	BuildStage      string     `json:"build_stage"`
	BuildStatus     string     `json:"build_status"`
	BuildCreatedAt  string     `json:"build_created_at"`
	BuildStartedAt  string     `json:"build_started_at"`
	BuildFinishedAt string     `json:"build_finished_at"`
	PipelineID      int64      `json:"pipeline_id"`
	ProjectName     string     `json:"project_name"`
	Project         *glProject `json:"project"`
	User            *glUser    `json:"user"`
	Commit          *struct {
		Name string `json:"name"`
	} `json:"commit"`
	Environment *struct {
		Name   string `json:"name"`
		Action string `json:"action"`
	} `json:"environment"`
}

// decodeJob records a job that deploys: one with an environment whose
// action is start. Other jobs are parts of a pipeline that Pipeline
// Hook reports.
func decodeJob(body []byte, opts GitLabOptions) (store.BuildEvent, error) {
	var d glJobDelivery
	if err := decodeJSON(body, &d, false); err != nil {
		return store.BuildEvent{}, err
	}
	if ferr := objectKind(d.ObjectKind, "build", "Job Hook"); ferr != nil {
		return store.BuildEvent{}, ferr
	}
	if d.BuildID <= 0 {
		return store.BuildEvent{}, missing("build_id", "required: the job's ID, a positive integer")
	}
	if env := d.Environment; env == nil || env.Name == "" || (env.Action != "start" && env.Action != "") {
		return store.BuildEvent{}, ignored("job %s of pipeline %d does not deploy to an environment: pipelines are recorded from Pipeline Hook events", quote(d.BuildName), d.PipelineID)
	}
	service, ferr := gitlabService(d.Project, d.ProjectName, opts)
	if ferr != nil {
		return store.BuildEvent{}, ferr
	}
	e := store.BuildEvent{
		ID: "gitlab/job/" + strconv.FormatInt(d.BuildID, 10), Service: service, Kind: store.KindDeploy,
		Environment: d.Environment.Name, Commit: d.SHA, Branch: d.Ref,
		Labels: labelsOf("repository", projectPath(d.Project), "job", d.BuildName, "stage", d.BuildStage,
			"pipeline_id", positive(d.PipelineID), "actor", username(d.User)),
	}
	if d.Commit != nil {
		e.Pipeline = d.Commit.Name
	}
	if d.Project != nil && d.Project.WebURL != "" {
		e.URL = d.Project.WebURL + "/-/jobs/" + strconv.FormatInt(d.BuildID, 10)
	}
	if e.Status, ferr = gitlabStatus("build_status", d.BuildStatus); ferr != nil {
		return store.BuildEvent{}, ferr
	}
	started, field := d.BuildStartedAt, "build_started_at"
	if started == "" {
		started, field = d.BuildCreatedAt, "build_created_at"
	}
	if ferr := gitlabTimes(&e, field, started, "build_finished_at", d.BuildFinishedAt); ferr != nil {
		return store.BuildEvent{}, ferr
	}
	return e, nil
}

type glDeploymentDelivery struct {
	ObjectKind      string     `json:"object_kind"`
	Status          string     `json:"status"`
	StatusChangedAt string     `json:"status_changed_at"`
	DeploymentID    int64      `json:"deployment_id"`
	DeployableID    int64      `json:"deployable_id"`
	DeployableURL   string     `json:"deployable_url"`
	Environment     string     `json:"environment"`
	ShortSHA        string     `json:"short_sha"`
	CommitURL       string     `json:"commit_url"`
	Project         *glProject `json:"project"`
	User            *glUser    `json:"user"`
}

// decodeDeployment records a deployment. GitLab reports each status
// change with its time only: a running deployment started then, a
// finished one finished then, and when it started is not known.
func decodeDeployment(body []byte, opts GitLabOptions) (store.BuildEvent, error) {
	var d glDeploymentDelivery
	if err := decodeJSON(body, &d, false); err != nil {
		return store.BuildEvent{}, err
	}
	if ferr := objectKind(d.ObjectKind, "deployment", "Deployment Hook"); ferr != nil {
		return store.BuildEvent{}, ferr
	}
	switch {
	case d.DeploymentID <= 0:
		return store.BuildEvent{}, missing("deployment_id", "required: the deployment's ID, a positive integer")
	case d.Environment == "":
		return store.BuildEvent{}, missing("environment", "required: the environment deployed to")
	}
	service, ferr := gitlabService(d.Project, "", opts)
	if ferr != nil {
		return store.BuildEvent{}, ferr
	}
	e := store.BuildEvent{
		ID: "gitlab/deployment/" + strconv.FormatInt(d.DeploymentID, 10), Service: service, Kind: store.KindDeploy,
		Environment: d.Environment, Commit: fullSHA(d.ShortSHA, d.CommitURL), URL: d.DeployableURL,
		Labels: labelsOf("repository", projectPath(d.Project), "deployable_id", positive(d.DeployableID), "actor", username(d.User)),
	}
	if e.Status, ferr = gitlabStatus("status", d.Status); ferr != nil {
		return store.BuildEvent{}, ferr
	}
	at, ferr := parseTime("status_changed_at", d.StatusChangedAt)
	switch {
	case ferr != nil:
		return store.BuildEvent{}, ferr
	case at == 0:
		return store.BuildEvent{}, missing("status_changed_at", "required: when the deployment's status changed")
	case e.Status == store.StatusRunning:
		e.StartedAt = at
	default:
		e.FinishedAt = at
	}
	return e, nil
}

// gitlabStatus maps a pipeline's, job's or deployment's status to the
// store's: statuses before the end are running; unknown ones are kept as
// GitLab gave them.
func gitlabStatus(field, status string) (string, *FieldError) {
	switch status {
	case "":
		return "", missing(field, "required")
	case "success":
		return store.StatusSuccess, nil
	case "failed":
		return store.StatusFailure, nil
	case "canceled", "skipped":
		return store.StatusCancelled, nil
	case "created", "waiting_for_resource", "preparing", "pending", "running", "canceling", "manual", "scheduled", "blocked":
		return store.StatusRunning, nil
	}
	return strings.ToLower(status), nil
}

// gitlabTimes sets the start and, for a run that ended, the finish. A run
// that ended without a finish time (canceled before it ran) finished at
// its start, which is then unknown.
func gitlabTimes(e *store.BuildEvent, startField, start, finishField, finish string) *FieldError {
	var ferr *FieldError
	if e.StartedAt, ferr = parseTime(startField, start); ferr != nil {
		return ferr
	}
	if e.StartedAt == 0 {
		return missing(startField, "required: when the run started")
	}
	if e.Status == store.StatusRunning {
		return nil
	}
	if e.FinishedAt, ferr = parseTime(finishField, finish); ferr != nil {
		return ferr
	}
	if e.FinishedAt == 0 {
		e.StartedAt, e.FinishedAt = 0, e.StartedAt
	}
	e.FinishedAt = max(e.FinishedAt, e.StartedAt)
	return nil
}

func objectKind(got, want, event string) *FieldError {
	if got != "" && got != want {
		return invalid("object_kind", "%s does not match X-Gitlab-Event %q, whose object_kind is %q", quote(got), event, want)
	}
	return nil
}

// gitlabService is the project's path without its namespace: the name in
// its URL, as GitHub's repository name is.
func gitlabService(p *glProject, projectName string, opts GitLabOptions) (string, *FieldError) {
	switch {
	case opts.Service != "":
		return opts.Service, nil
	case p != nil && p.PathWithNamespace != "":
		return path.Base(p.PathWithNamespace), nil
	case p != nil && p.Name != "":
		return p.Name, nil
	case projectName != "":
		return strings.TrimSpace(path.Base(projectName)), nil
	}
	return "", missing("project.path_with_namespace", "required unless the URL names the service (?service=)")
}

// fullSHA is the commit's full SHA, the last element of commitURL, when
// it extends short; otherwise short.
func fullSHA(short, commitURL string) string {
	if sha := path.Base(commitURL); len(sha) == 40 && short != "" && strings.HasPrefix(sha, short) {
		return sha
	}
	return short
}

func projectPath(p *glProject) string {
	if p == nil {
		return ""
	}
	return p.PathWithNamespace
}

func username(u *glUser) string {
	if u == nil {
		return ""
	}
	return u.Username
}
