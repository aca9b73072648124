package builds

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/cairn-dev/cairn/store"
)

// GitHubOptions say how GitHub deliveries become events.
type GitHubOptions struct {
	// Deploy matches the names of workflows whose runs are deployments;
	// nil matches none.
	Deploy *regexp.Regexp
	// Service, when set, is the service instead of the repository's name.
	Service string
}

// GitHubSignatureHeader carries a delivery's HMAC-SHA256 signature.
const GitHubSignatureHeader = "X-Hub-Signature-256"

// VerifyGitHub checks signature, the value of X-Hub-Signature-256
// ("sha256=<hex>"), against the HMAC-SHA256 of body under secret, in
// constant time.
func VerifyGitHub(secret string, body []byte, signature string) error {
	if signature == "" {
		return fmt.Errorf("%s is missing: this endpoint has a webhook secret, so deliveries must be signed with it", GitHubSignatureHeader)
	}
	hexSum, ok := strings.CutPrefix(signature, "sha256=")
	got, err := hex.DecodeString(hexSum)
	if !ok || err != nil || len(got) != sha256.Size {
		return fmt.Errorf("%s is not sha256=<64 hex digits>", GitHubSignatureHeader)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	_, _ = mac.Write(body)
	if !hmac.Equal(mac.Sum(nil), got) {
		return fmt.Errorf("%s does not match the body: the webhook's secret differs from this endpoint's", GitHubSignatureHeader)
	}
	return nil
}

// GitHubPayload returns the JSON of a delivery: the body itself, or its
// payload parameter when the webhook's content type is
// application/x-www-form-urlencoded.
func GitHubPayload(contentType string, body []byte) ([]byte, error) {
	if ct, _, _ := mime.ParseMediaType(contentType); ct != "application/x-www-form-urlencoded" {
		return body, nil
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("%w: form body: %v", ErrDecode, err)
	}
	if !form.Has("payload") {
		return nil, fmt.Errorf("%w: form body has no payload parameter", ErrDecode)
	}
	return []byte(form.Get("payload")), nil
}

type ghRepository struct {
	Name     string `json:"name"`
	FullName string `json:"full_name"`
}

type ghUser struct {
	Login string `json:"login"`
}

type ghRun struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	Path       string `json:"path"`
	HeadBranch string `json:"head_branch"`
	HeadSHA    string `json:"head_sha"`
	HeadCommit *struct {
		Timestamp string `json:"timestamp"`
	} `json:"head_commit"`
	Event           string  `json:"event"`
	Status          string  `json:"status"`
	Conclusion      string  `json:"conclusion"`
	RunNumber       int64   `json:"run_number"`
	RunAttempt      int64   `json:"run_attempt"`
	CreatedAt       string  `json:"created_at"`
	UpdatedAt       string  `json:"updated_at"`
	RunStartedAt    string  `json:"run_started_at"`
	HTMLURL         string  `json:"html_url"`
	Actor           *ghUser `json:"actor"`
	TriggeringActor *ghUser `json:"triggering_actor"`
}

type ghRunDelivery struct {
	WorkflowRun *ghRun `json:"workflow_run"`
	Workflow    *struct {
		Name string `json:"name"`
	} `json:"workflow"`
	Repository *ghRepository `json:"repository"`
}

// DecodeGitHub decodes a GitHub webhook delivery of the event type named
// by X-GitHub-Event. workflow_run deliveries are runs; workflow_job
// deliveries are recorded only for jobs that deploy to an environment.
// Anything else, ping included, is *Ignored.
func DecodeGitHub(event string, body []byte, opts GitHubOptions) (store.BuildEvent, error) {
	switch event {
	case "workflow_run":
		return decodeWorkflowRun(body, opts)
	case "workflow_job":
		return decodeWorkflowJob(body, opts)
	case "ping":
		return store.BuildEvent{}, ignored("pong: this endpoint records workflow_run and workflow_job events")
	}
	return store.BuildEvent{}, ignored("%s events are not recorded: this endpoint records workflow_run and workflow_job events", quote(event))
}

func decodeWorkflowRun(body []byte, opts GitHubOptions) (store.BuildEvent, error) {
	var d ghRunDelivery
	if err := decodeJSON(body, &d, false); err != nil {
		return store.BuildEvent{}, err
	}
	r := d.WorkflowRun
	if r == nil {
		return store.BuildEvent{}, missing("workflow_run", "required in a workflow_run delivery")
	}
	if r.ID <= 0 {
		return store.BuildEvent{}, missing("workflow_run.id", "required: the run's ID, a positive integer")
	}
	service, ferr := githubService(d.Repository, opts)
	if ferr != nil {
		return store.BuildEvent{}, ferr
	}
	e := store.BuildEvent{
		ID: fmt.Sprintf("github/%d/%d", r.ID, max(r.RunAttempt, 1)), Service: service, Pipeline: r.Name,
		Kind: store.KindBuild, Commit: r.HeadSHA, Branch: r.HeadBranch, URL: r.HTMLURL, Trigger: r.Event,
	}
	if e.Pipeline == "" && d.Workflow != nil {
		e.Pipeline = d.Workflow.Name
	}
	if e.Pipeline == "" {
		e.Pipeline = r.Path
	}
	if opts.Deploy != nil && e.Pipeline != "" && opts.Deploy.MatchString(e.Pipeline) {
		e.Kind = store.KindDeploy
	}
	if ferr := runTimes(&e, r); ferr != nil {
		return store.BuildEvent{}, ferr
	}
	actor := r.TriggeringActor
	if actor == nil {
		actor = r.Actor
	}
	e.Labels = labelsOf("repository", repoName(d.Repository), "run_number", positive(r.RunNumber), "actor", login(actor))
	return e, nil
}

// runTimes sets the status, times and version of a workflow run. GitHub
// reports no completion time; a completed run's updated_at is it.
func runTimes(e *store.BuildEvent, r *ghRun) *FieldError {
	var ferr *FieldError
	if e.Status, ferr = githubStatus("workflow_run", r.Status, r.Conclusion); ferr != nil {
		return ferr
	}
	started, field := r.RunStartedAt, "workflow_run.run_started_at"
	if started == "" {
		started, field = r.CreatedAt, "workflow_run.created_at"
	}
	if e.StartedAt, ferr = parseTime(field, started); ferr != nil {
		return ferr
	}
	if e.StartedAt == 0 {
		return missing("workflow_run.run_started_at", "required: when the run started")
	}
	updated, ferr := parseTime("workflow_run.updated_at", r.UpdatedAt)
	if ferr != nil {
		return ferr
	}
	e.Version = uint64(max(updated, 0))
	if r.Status == "completed" {
		if updated == 0 {
			return missing("workflow_run.updated_at", "required in a completed run: when it completed")
		}
		e.FinishedAt = max(updated, e.StartedAt)
	}
	if r.HeadCommit != nil {
		e.CommitTime, ferr = parseTime("workflow_run.head_commit.timestamp", r.HeadCommit.Timestamp)
	}
	return ferr
}

// githubStatus maps a run's or job's status and conclusion to the
// store's: anything not completed is running; conclusions map as
// doc.go lists, and unknown ones are kept as GitHub gave them.
func githubStatus(obj, status, conclusion string) (string, *FieldError) {
	switch status {
	case "":
		return "", missing(obj+".status", "required: queued, in_progress, completed, …")
	case "completed":
	default:
		return store.StatusRunning, nil
	}
	switch conclusion {
	case "success", "neutral":
		return store.StatusSuccess, nil
	case "failure", "timed_out", "startup_failure":
		return store.StatusFailure, nil
	case "cancelled", "skipped", "stale", "action_required":
		return store.StatusCancelled, nil
	case "":
		return "", missing(obj+".conclusion", "required when the status is completed")
	}
	return strings.ToLower(conclusion), nil
}

func githubService(repo *ghRepository, opts GitHubOptions) (string, *FieldError) {
	switch {
	case opts.Service != "":
		return opts.Service, nil
	case repo == nil || repo.Name == "":
		return "", missing("repository.name", "required unless the URL names the service (?service=)")
	}
	return repo.Name, nil
}

type ghJob struct {
	ID           int64  `json:"id"`
	RunID        int64  `json:"run_id"`
	RunAttempt   int64  `json:"run_attempt"`
	WorkflowName string `json:"workflow_name"`
	Name         string `json:"name"`
	HeadBranch   string `json:"head_branch"`
	HeadSHA      string `json:"head_sha"`
	HTMLURL      string `json:"html_url"`
	Status       string `json:"status"`
	Conclusion   string `json:"conclusion"`
	CreatedAt    string `json:"created_at"`
	StartedAt    string `json:"started_at"`
	CompletedAt  string `json:"completed_at"`
	RunnerName   string `json:"runner_name"`
}

type ghJobDelivery struct {
	WorkflowJob *ghJob `json:"workflow_job"`
	Deployment  *struct {
		ID          int64  `json:"id"`
		Environment string `json:"environment"`
	} `json:"deployment"`
	Repository *ghRepository `json:"repository"`
}

// decodeWorkflowJob records a job that deploys: one whose delivery has a
// deployment, which GitHub adds when the job names an environment. Other
// jobs are parts of a run that workflow_run reports.
func decodeWorkflowJob(body []byte, opts GitHubOptions) (store.BuildEvent, error) {
	var d ghJobDelivery
	if err := decodeJSON(body, &d, false); err != nil {
		return store.BuildEvent{}, err
	}
	j := d.WorkflowJob
	switch {
	case j == nil:
		return store.BuildEvent{}, missing("workflow_job", "required in a workflow_job delivery")
	case j.ID <= 0:
		return store.BuildEvent{}, missing("workflow_job.id", "required: the job's ID, a positive integer")
	case j.RunID <= 0:
		return store.BuildEvent{}, missing("workflow_job.run_id", "required: the ID of the job's run, a positive integer")
	case d.Deployment == nil || d.Deployment.Environment == "":
		return store.BuildEvent{}, ignored("job %s of run %d does not deploy to an environment: runs are recorded from workflow_run events", quote(j.Name), j.RunID)
	}
	service, ferr := githubService(d.Repository, opts)
	if ferr != nil {
		return store.BuildEvent{}, ferr
	}
	e := store.BuildEvent{
		ID:      fmt.Sprintf("github/%d/%d/job/%d", j.RunID, max(j.RunAttempt, 1), j.ID),
		Service: service, Pipeline: j.WorkflowName, Kind: store.KindDeploy, Environment: d.Deployment.Environment,
		Commit: j.HeadSHA, Branch: j.HeadBranch, URL: j.HTMLURL,
		Labels: labelsOf("repository", repoName(d.Repository), "job", j.Name, "deployment_id", positive(d.Deployment.ID), "runner", j.RunnerName),
	}
	if ferr := jobTimes(&e, j); ferr != nil {
		return store.BuildEvent{}, ferr
	}
	return e, nil
}

func jobTimes(e *store.BuildEvent, j *ghJob) *FieldError {
	var ferr *FieldError
	if e.Status, ferr = githubStatus("workflow_job", j.Status, j.Conclusion); ferr != nil {
		return ferr
	}
	started, field := j.StartedAt, "workflow_job.started_at"
	if started == "" {
		started, field = j.CreatedAt, "workflow_job.created_at"
	}
	if e.StartedAt, ferr = parseTime(field, started); ferr != nil {
		return ferr
	}
	if e.StartedAt == 0 {
		return missing("workflow_job.started_at", "required: when the job started")
	}
	if j.Status != "completed" {
		return nil
	}
	if e.FinishedAt, ferr = parseTime("workflow_job.completed_at", j.CompletedAt); ferr != nil {
		return ferr
	}
	if e.FinishedAt == 0 {
		return missing("workflow_job.completed_at", "required in a completed job: when it completed")
	}
	e.FinishedAt = max(e.FinishedAt, e.StartedAt)
	return nil
}

func repoName(r *ghRepository) string {
	if r == nil {
		return ""
	}
	return r.FullName
}

func login(u *ghUser) string {
	if u == nil {
		return ""
	}
	return u.Login
}

func positive(n int64) string {
	if n <= 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

// labelsOf returns the labels of name, value pairs whose value is not
// empty.
func labelsOf(kv ...string) labels.Labels {
	b := labels.NewScratchBuilder(len(kv) / 2)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			b.Add(kv[i], kv[i+1])
		}
	}
	b.Sort()
	return b.Labels()
}
