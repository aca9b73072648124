package ingest

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/cairn-dev/cairn/ingest/builds"
	"github.com/cairn-dev/cairn/ingest/queue"
	"github.com/cairn-dev/cairn/ingest/wire"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/tenant"
)

// BuildsConfig configures the build and deploy receivers.
type BuildsConfig struct {
	GitHubSecret string
	GitLabToken  string
	// DeployWorkflows matches the names of GitHub workflows whose runs
	// are deployments; nil matches none.
	DeployWorkflows *regexp.Regexp
}

// defaultDeployWorkflows is -github.deploy-workflows' default.
const defaultDeployWorkflows = "(?i)deploy"

// RegisterFlags registers the build receiver flags on fs.
func (c *BuildsConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.GitHubSecret, "github.webhook-secret", "", "Secret of the GitHub webhook posting to /api/v1/builds/github: deliveries without a matching X-Hub-Signature-256 get 401. Empty accepts unsigned deliveries.")
	fs.StringVar(&c.GitLabToken, "gitlab.webhook-token", "", "Secret token of the GitLab webhook posting to /api/v1/builds/gitlab: deliveries without it in X-Gitlab-Token get 401. Empty accepts any.")
	v := regexpValue{&c.DeployWorkflows}
	_ = v.Set(defaultDeployWorkflows) // a constant that compiles
	fs.Var(v, "github.deploy-workflows", "RE2 `regexp` matching the names of GitHub workflows whose runs are deployments; other runs are builds. Empty matches none.")
}

// regexpValue is a flag holding a compiled regular expression; the empty
// string sets nil.
type regexpValue struct{ re **regexp.Regexp }

func (v regexpValue) Set(s string) error {
	if s == "" {
		*v.re = nil
		return nil
	}
	re, err := regexp.Compile(s)
	if err != nil {
		return err
	}
	*v.re = re
	return nil
}

func (v regexpValue) String() string {
	if v.re == nil || *v.re == nil {
		return ""
	}
	return (*v.re).String()
}

// registerBuilds mounts the build and deploy endpoints on r.
func (rc *Receiver) registerBuilds(r chi.Router) {
	r.Post("/api/v1/builds", rc.handleBuilds)
	r.Post("/api/v1/builds/github", rc.handleGitHub)
	r.Post("/api/v1/builds/gitlab", rc.handleGitLab)
}

// handleBuilds serves Cairn's own build events: an object or an array.
// Each event is checked on its own; what passes is stored and the first
// failure is named with its index, as for samples.
func (rc *Receiver) handleBuilds(w http.ResponseWriter, r *http.Request) {
	const protocol = "builds"
	id, body, ok := rc.readBuildsRequest(w, r, protocol)
	if !ok {
		return
	}
	results, err := builds.DecodeNative(body)
	if err != nil {
		rc.fail(w, protocol, "decode", http.StatusBadRequest, err)
		return
	}
	v := verdict{received: len(results)}
	now := rc.now()
	kept := make([]store.BuildEvent, 0, len(results))
	for i, res := range results {
		var rej *rejection
		if res.Err != nil {
			rej = reject(res.Err.Reason, "%s", res.Err.Error())
		} else {
			rej = rc.cfg.Limits.checkBuild(&res.Event, now)
		}
		if rej != nil {
			rej.msg = fmt.Sprintf("event %d: %s", i, rej.msg)
			rc.rejectOne(unitBuildEvents, protocol, &v, rej)
			continue
		}
		res.Event.Tenant = id
		kept = append(kept, res.Event)
	}
	rc.acceptBuilds(w, r, protocol, id, kept, &v)
}

// handleGitHub serves GitHub's webhook deliveries.
func (rc *Receiver) handleGitHub(w http.ResponseWriter, r *http.Request) {
	const protocol = "github"
	id, body, ok := rc.readBuildsRequest(w, r, protocol)
	if !ok {
		return
	}
	if secret := rc.cfg.Builds.GitHubSecret; secret != "" {
		if err := builds.VerifyGitHub(secret, body, r.Header.Get(builds.GitHubSignatureHeader)); err != nil {
			rc.fail(w, protocol, "unauthorized", http.StatusUnauthorized, err)
			return
		}
	}
	event := r.Header.Get("X-GitHub-Event")
	if event == "" {
		rc.fail(w, protocol, "missing_event", http.StatusBadRequest, errors.New("X-GitHub-Event is missing: want workflow_run, workflow_job or ping"))
		return
	}
	payload, err := builds.GitHubPayload(r.Header.Get("Content-Type"), body)
	if err != nil {
		rc.fail(w, protocol, "decode", http.StatusBadRequest, err)
		return
	}
	e, err := builds.DecodeGitHub(event, payload, builds.GitHubOptions{Deploy: rc.cfg.Builds.DeployWorkflows, Service: r.URL.Query().Get("service")})
	rc.acceptWebhook(w, r, protocol, id, e, err)
}

// handleGitLab serves GitLab's webhook deliveries.
func (rc *Receiver) handleGitLab(w http.ResponseWriter, r *http.Request) {
	const protocol = "gitlab"
	id, body, ok := rc.readBuildsRequest(w, r, protocol)
	if !ok {
		return
	}
	if token := rc.cfg.Builds.GitLabToken; token != "" {
		if err := builds.VerifyGitLab(token, r.Header.Get(builds.GitLabTokenHeader)); err != nil {
			rc.fail(w, protocol, "unauthorized", http.StatusUnauthorized, err)
			return
		}
	}
	event := r.Header.Get("X-Gitlab-Event")
	if event == "" {
		rc.fail(w, protocol, "missing_event", http.StatusBadRequest, errors.New("X-Gitlab-Event is missing: want Pipeline Hook, Job Hook or Deployment Hook"))
		return
	}
	e, err := builds.DecodeGitLab(event, body, builds.GitLabOptions{Service: r.URL.Query().Get("service")})
	rc.acceptWebhook(w, r, protocol, id, e, err)
}

// readBuildsRequest reads a request's tenant and body, answering the
// request itself when either is wrong.
func (rc *Receiver) readBuildsRequest(w http.ResponseWriter, r *http.Request, protocol string) (string, []byte, bool) {
	id, err := tenant.FromRequest(r)
	if err != nil {
		rc.fail(w, protocol, "invalid_tenant", http.StatusBadRequest, err)
		return "", nil, false
	}
	raw, dec := rc.bufs.Get().(*bytes.Buffer), rc.bufs.Get().(*bytes.Buffer)
	defer rc.bufs.Put(raw)
	defer rc.bufs.Put(dec)
	body, err := rc.readDecoded(raw, dec, w, r)
	if err != nil {
		rc.fail(w, protocol, "body", statusOf(err), err)
		return "", nil, false
	}
	return id, bytes.Clone(body), true
}

// acceptWebhook answers a decoded webhook delivery: 200 with the reason
// when it records nothing, 400 naming the field when it is malformed,
// and otherwise as acceptBuilds does.
func (rc *Receiver) acceptWebhook(w http.ResponseWriter, r *http.Request, protocol, id string, e store.BuildEvent, err error) {
	var ign *builds.Ignored
	var ferr *builds.FieldError
	switch {
	case errors.As(err, &ign):
		rc.count(unitBuildEvents, protocol, "ignored", "", 1)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, ign.Msg+"\n")
		return
	case errors.As(err, &ferr):
		rc.fail(w, protocol, ferr.Reason, http.StatusBadRequest, err)
		return
	case err != nil:
		rc.fail(w, protocol, "decode", http.StatusBadRequest, err)
		return
	}
	v := verdict{received: 1}
	var kept []store.BuildEvent
	if rej := rc.cfg.Limits.checkBuild(&e, rc.now()); rej != nil {
		rej.msg = fmt.Sprintf("run %s: %s", e.ID, rej.msg)
		rc.rejectOne(unitBuildEvents, protocol, &v, rej)
	} else {
		e.Tenant = id
		kept = append(kept, e)
	}
	rc.acceptBuilds(w, r, protocol, id, kept, &v)
}

// acceptBuilds produces the accepted events, then the samples of those
// that finished, and answers: 204, 400 naming the first rejection (the
// rest are stored), or 503 when Kafka did not acknowledge. Producing
// twice is harmless — events are versions of their run and samples are
// functions of their event — so a client retrying a 503 loses nothing
// and doubles nothing.
func (rc *Receiver) acceptBuilds(w http.ResponseWriter, r *http.Request, protocol, id string, kept []store.BuildEvent, v *verdict) {
	rc.count(unitBuildEvents, protocol, "received", "", v.received)
	if err := rc.produceBuilds(r.Context(), id, kept); err != nil {
		rc.fail(w, protocol, "kafka", http.StatusServiceUnavailable, err)
		return
	}
	var sv verdict
	series := rc.admit(protocol, builds.Series(id, kept), &sv, nil, nil)
	if err := rc.produce(r.Context(), protocol, id, series, &sv); err != nil {
		rc.fail(w, protocol, "kafka", http.StatusServiceUnavailable, err)
		return
	}
	rc.count(unitBuildEvents, protocol, "accepted", "", v.accepted())
	if v.first != nil {
		rc.fail(w, protocol, v.first.reason, http.StatusBadRequest, v.partialError("build events"))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// checkBuild validates a decoded event against the limits: the size and
// encoding of its fields (a URL is free text, bounded as a log line is;
// the rest are label-like), its times against the accepted window, and
// its labels. commit_time may be older than -ingest.max-sample-age: a
// deploy of an old commit is a deploy of today.
func (l *Limits) checkBuild(e *store.BuildEvent, now time.Time) *rejection {
	for _, f := range [...]struct {
		name, value, flag string
		limit             int
	}{
		{"service", e.Service, "label-value-length", l.MaxLabelValueLength}, {"pipeline", e.Pipeline, "label-value-length", l.MaxLabelValueLength},
		{"status", e.Status, "label-value-length", l.MaxLabelValueLength}, {"branch", e.Branch, "label-value-length", l.MaxLabelValueLength},
		{"environment", e.Environment, "label-value-length", l.MaxLabelValueLength}, {"commit", e.Commit, "label-value-length", l.MaxLabelValueLength},
		{"trigger", e.Trigger, "label-value-length", l.MaxLabelValueLength}, {"id", e.ID, "label-value-length", l.MaxLabelValueLength},
		{"url", e.URL, "line-bytes", l.MaxLineBytes},
	} {
		switch {
		case len(f.value) > f.limit:
			return reject("field_too_long", "field %q is %d bytes long, the limit is %d (-ingest.max-%s)", f.name, len(f.value), f.limit, f.flag)
		case !utf8.ValidString(f.value):
			return reject("invalid_utf8", "field %q is not valid UTF-8", f.name)
		}
	}
	maxT := min(now.Add(l.MaxFutureSkew).UnixMilli(), store.MaxTime)
	for _, f := range [...]struct {
		name   string
		t      int64
		hasAge bool
	}{{"started_at", e.StartedAt, true}, {"finished_at", e.FinishedAt, true}, {"commit_time", e.CommitTime, false}} {
		switch {
		case f.t > maxT:
			return reject("too_new", "field %q: %s is more than %s in the future (-ingest.max-future-skew)", f.name, fmtMillis(f.t), l.MaxFutureSkew)
		case f.t != 0 && f.hasAge && l.MaxSampleAge > 0 && f.t < now.Add(-l.MaxSampleAge).UnixMilli():
			return reject("too_old", "field %q: %s is older than %s (-ingest.max-sample-age)", f.name, fmtMillis(f.t), l.MaxSampleAge)
		}
	}
	if e.Labels.Len() > l.MaxLabelsPerSeries {
		return reject("too_many_labels", "labels: %d, the limit is %d (-ingest.max-labels-per-series)", e.Labels.Len(), l.MaxLabelsPerSeries)
	}
	return l.checkLabels("build event", e.Labels)
}

func fmtMillis(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano) }

// produceBuilds produces events to the builds topic, each on the
// partition of its ID's hash, so the events of one run keep their order.
func (rc *Receiver) produceBuilds(ctx context.Context, id string, events []store.BuildEvent) error {
	if len(events) == 0 {
		return nil
	}
	if err := rc.charge(ctx, id, unitBuildEvents, len(events)); err != nil {
		return err
	}
	parts, err := rc.producer.Partitions(ctx, rc.topics.Builds)
	if err != nil {
		return err
	}
	shards := make([][]store.BuildEvent, parts)
	for _, e := range events {
		h := fnv.New64a()
		_, _ = h.Write([]byte(e.ID))
		shard := h.Sum64() % uint64(parts)
		shards[shard] = append(shards[shard], e)
	}
	var msgs []queue.Message
	for shard, es := range shards {
		for len(es) > 0 {
			n := eventsPerMessage(es, maxMessageBytes)
			msgs = append(msgs, queue.Message{Topic: rc.topics.Builds, Key: queue.ShardKey(id, shard), Value: wire.AppendBuilds(nil, id, es[:n])})
			es = es[n:]
		}
	}
	return rc.producer.Produce(ctx, msgs)
}

// eventsPerMessage returns how many of es fit in one message of about
// limit bytes; always at least one.
func eventsPerMessage(es []store.BuildEvent, limit int) int {
	size := 0
	for i, e := range es {
		size += 48 + len(e.ID) + len(e.Service) + len(e.Pipeline) + len(e.Kind) + len(e.Status) + len(e.Commit) +
			len(e.Branch) + len(e.Environment) + len(e.URL) + len(e.Trigger) + int(e.Labels.ByteSize())
		if size > limit && i > 0 {
			return i
		}
	}
	return len(es)
}
