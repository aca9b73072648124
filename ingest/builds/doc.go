// Package builds decodes CI/CD build and deploy events into
// store.BuildEvent values: Cairn's own JSON (POST /api/v1/builds), GitHub
// Actions webhooks (POST /api/v1/builds/github) and GitLab webhooks (POST
// /api/v1/builds/gitlab). It also derives the metric samples of finished
// runs (Series). Checking events against ingest's limits, producing them
// and answering HTTP are ingest's job.
//
// # Runs, events and versions
//
// A run (a build or a deployment) reports several times: queued,
// running, finished. Every report becomes an event with the run's ID;
// the store keeps the one with the highest Version, so a late or
// repeated "running" never hides "success". IDs:
//
//	native: the event's id, or native/<service>/<pipeline>/<environment>/<started_at ms>
//	        (finished_at when there is no started_at): send the same
//	        started_at, or an id, in every event of a run
//	GitHub: github/<run id>/<run attempt>, a re-run apart from the first;
//	        github/<run id>/<attempt>/job/<job id> for a deploy job
//	GitLab: gitlab/pipeline/<id>, gitlab/job/<id>, gitlab/deployment/<id>
//
// GitHub runs take updated_at as Version; all others leave it 0, which
// the store reads as max(started_at, finished_at): a finished report
// beats a running one.
//
// # Native events
//
// A JSON object or an array of them, with service, kind (build or
// deploy), status, and started_at and/or finished_at required; pipeline,
// commit, branch, environment, commit_time, id, url, trigger and labels
// (an object of strings, numbers or booleans) optional. Unknown fields
// are errors, so a misspelt optional field is not silently lost. Times
// are RFC 3339 strings or integer Unix milliseconds (a number or a string
// of digits); values before 1973 are refused as seconds sent for
// milliseconds. A running event has no finished_at; a finished one has
// one, not before started_at. Statuses, case-insensitive:
//
//	success    success, succeeded, successful, passed, ok
//	failure    failure, failed, fail, error, errored, timed_out
//	cancelled  cancelled, canceled, aborted, skipped
//	running    running, in_progress, started, pending, queued
//
// skipped is cancelled: a skipped run did not reach an outcome, so it
// counts neither as a success nor as a failure. Any other status is an
// error. Each event is decoded on its own: one bad event does not keep
// the others out (see Result).
//
// # GitHub Actions
//
// workflow_run deliveries are runs: service = repository.name (or the
// endpoint's ?service=), pipeline = workflow_run.name (workflow.name,
// then path, when empty), commit = head_sha, branch = head_branch,
// trigger = event, url = html_url, commit_time = head_commit.timestamp,
// started_at = run_started_at (created_at when absent), and, once
// status is completed, finished_at = updated_at, GitHub giving no
// completion time. kind is deploy when the workflow's name matches
// GitHubOptions.Deploy (-github.deploy-workflows, (?i)deploy by default),
// else build. Statuses other than completed are running; conclusions:
//
//	success    success, neutral
//	failure    failure, timed_out, startup_failure
//	cancelled  cancelled, skipped, stale, action_required
//
// and any other conclusion is kept as GitHub gave it (such a run feeds no
// metrics). Labels: repository (full_name), actor, run_number.
//
// workflow_job deliveries are recorded only for jobs that deploy: those
// whose delivery carries a deployment, which GitHub adds when the job
// names an environment. They become kind deploy with that environment,
// pipeline = workflow_name, started_at = started_at, finished_at =
// completed_at, and labels job, deployment_id, runner. Other jobs are
// parts of a run that workflow_run reports, and are Ignored rather than
// counted twice. A workflow matched by -github.deploy-workflows whose job
// also names an environment reports two deployments, the run (no
// environment) and the job; count deployments by environment, or set
// the pattern to match nothing, when deploy jobs use environments.
//
// VerifyGitHub checks X-Hub-Signature-256 with hmac.Equal. GitHubPayload
// accepts both content types a GitHub webhook can use.
//
// # GitLab
//
// Pipeline Hook: a build; service = the last element of
// project.path_with_namespace (the project's name in its URL, as GitHub's
// repository.name is), pipeline = object_attributes.name, branch = ref,
// trigger = source, started_at = created_at, finished_at = finished_at,
// commit_time = commit.timestamp. Deployment Hook: a deploy to
// environment; a running deployment started at status_changed_at, a
// finished one finished then, its start unknown (GitLab sends the time
// of the change only), so it has no duration. commit is the full SHA
// from commit_url when it extends short_sha. Job Hook: recorded only for
// jobs with an environment whose action is start, as deploys; other jobs
// are parts of a pipeline and are Ignored. Subscribe to Deployment events
// or to Job events for deployments, not both: each deployment would
// count twice. Statuses: success; failed → failure; canceled and skipped
// → cancelled; created, waiting_for_resource, preparing, pending,
// running, canceling, manual, scheduled and blocked → running; others
// kept as given. Times are RFC 3339 or GitLab's "2006-01-02 15:04:05
// UTC" and "… -0700". VerifyGitLab compares X-Gitlab-Token in constant
// time.
//
// # Metrics
//
// Series turns each event of a finished run (success, failure or
// cancelled, with its finished_at) into samples at finished_at, labelled
// service, pipeline, kind, status, branch and environment (empty ones
// left out):
//
//	cairn_build_finished_timestamp_seconds  when it finished, always
//	cairn_build_duration_seconds            finished_at − started_at, when the start is known
//	cairn_deployment_lead_time_seconds      finished_at − commit_time, successful deploys with a commit time
//
// These are not counters: a counter is a running total, and a stateless
// receiver that sees each run once (and sometimes twice, on redelivery)
// has no total to keep. Each run contributes one sample per series
// instead, a function of the event alone, so a redelivered event
// produces the same sample, which the store keeps once. Count runs with
// count_over_time; see ingest's doc.go for the queries. Two runs of one
// series finishing in the same millisecond count once.
//
// builds imports store for the data model and nothing else of Cairn's.
package builds
