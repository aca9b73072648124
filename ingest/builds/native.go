package builds

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/cairn-dev/cairn/store"
)

// Result is one event of a native request: the event, or why it cannot
// be stored.
type Result struct {
	Event store.BuildEvent
	Err   *FieldError // nil when Event is valid
}

// nativeEvent is the JSON form of a native build or deploy event.
type nativeEvent struct {
	ID          string                     `json:"id"`
	Service     string                     `json:"service"`
	Pipeline    string                     `json:"pipeline"`
	Kind        string                     `json:"kind"`
	Status      string                     `json:"status"`
	Commit      string                     `json:"commit"`
	Branch      string                     `json:"branch"`
	Environment string                     `json:"environment"`
	StartedAt   json.RawMessage            `json:"started_at"`
	FinishedAt  json.RawMessage            `json:"finished_at"`
	CommitTime  json.RawMessage            `json:"commit_time"`
	URL         string                     `json:"url"`
	Trigger     string                     `json:"trigger"`
	Labels      map[string]json.RawMessage `json:"labels"`
}

// DecodeNative decodes the body of POST /api/v1/builds: one JSON object
// or an array of them. An error means the body as a whole is not that;
// an event that is malformed or invalid has its Result's Err set, and
// the others are still decoded.
func DecodeNative(body []byte) ([]Result, error) {
	items, err := splitItems(body)
	if err != nil {
		return nil, err
	}
	out := make([]Result, len(items))
	for i, raw := range items {
		e, ferr := decodeNativeEvent(raw)
		out[i] = Result{Event: e, Err: ferr}
	}
	return out, nil
}

// splitItems checks that body is JSON and returns its objects unparsed.
func splitItems(body []byte) ([]json.RawMessage, error) {
	body = bytes.TrimSpace(body)
	var all json.RawMessage
	if err := json.Unmarshal(body, &all); err != nil {
		return nil, fmt.Errorf("%w: body is not JSON: %v", ErrDecode, err)
	}
	switch body[0] {
	case '{':
		return []json.RawMessage{body}, nil
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(body, &items); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrDecode, err)
		}
		return items, nil
	}
	return nil, fmt.Errorf("%w: body is JSON %s: want an object or an array of objects", ErrDecode, quote(string(body)))
}

func decodeNativeEvent(raw json.RawMessage) (store.BuildEvent, *FieldError) {
	if len(raw) == 0 || raw[0] != '{' {
		return store.BuildEvent{}, invalid("", "want a JSON object, got %s", quote(string(raw)))
	}
	var n nativeEvent
	if err := decodeJSON(raw, &n, true); err != nil {
		var ferr *FieldError
		if errors.As(err, &ferr) {
			return store.BuildEvent{}, ferr
		}
		return store.BuildEvent{}, invalid("", "%v", err)
	}
	e := store.BuildEvent{ID: n.ID, Service: n.Service, Pipeline: n.Pipeline, Commit: n.Commit, Branch: n.Branch,
		Environment: n.Environment, URL: n.URL, Trigger: n.Trigger}
	if ferr := n.identify(&e); ferr != nil {
		return store.BuildEvent{}, ferr
	}
	if ferr := n.times(&e); ferr != nil {
		return store.BuildEvent{}, ferr
	}
	ls, ferr := nativeLabels(n.Labels)
	if ferr != nil {
		return store.BuildEvent{}, ferr
	}
	e.Labels = ls
	if e.ID == "" {
		at := e.StartedAt
		if at == 0 {
			at = e.FinishedAt
		}
		e.ID = fmt.Sprintf("native/%s/%s/%s/%d", e.Service, e.Pipeline, e.Environment, at)
	}
	return e, nil
}

// identify checks and sets the service, kind and status.
func (n *nativeEvent) identify(e *store.BuildEvent) *FieldError {
	if n.Service == "" {
		return missing("service", "required: the service that was built or deployed")
	}
	switch strings.ToLower(n.Kind) {
	case store.KindBuild, store.KindDeploy:
		e.Kind = strings.ToLower(n.Kind)
	case "":
		return missing("kind", "required: build or deploy")
	default:
		return invalid("kind", "%s is neither build nor deploy", quote(n.Kind))
	}
	if n.Status == "" {
		return missing("status", "required: success, failure, cancelled or running")
	}
	status, ok := nativeStatus(n.Status)
	if !ok {
		return invalid("status", "%s is not a known status: want success, failure, cancelled or running, or a synonym (passed, failed, canceled, skipped, in_progress, …)", quote(n.Status))
	}
	e.Status = status
	return nil
}

// times parses the timestamps and checks them against each other and
// the status: a running event has not finished, a finished one has.
func (n *nativeEvent) times(e *store.BuildEvent) *FieldError {
	var ferr *FieldError
	if e.StartedAt, ferr = parseNativeTime("started_at", n.StartedAt); ferr != nil {
		return ferr
	}
	if e.FinishedAt, ferr = parseNativeTime("finished_at", n.FinishedAt); ferr != nil {
		return ferr
	}
	if e.CommitTime, ferr = parseNativeTime("commit_time", n.CommitTime); ferr != nil {
		return ferr
	}
	switch {
	case e.StartedAt == 0 && e.FinishedAt == 0:
		return missing("started_at", "required: started_at, finished_at or both")
	case e.FinishedAt != 0 && e.FinishedAt < e.StartedAt:
		return invalid("finished_at", "%s is before started_at %s", msTime(e.FinishedAt), msTime(e.StartedAt))
	case e.Status == store.StatusRunning && e.FinishedAt != 0:
		return invalid("finished_at", "set on a running event: a finished event has status success, failure or cancelled")
	case e.Status != store.StatusRunning && e.FinishedAt == 0:
		return missing("finished_at", "required for a %s event: when it finished", e.Status)
	}
	return nil
}

// nativeLabels turns the labels object into labels: strings as they are,
// numbers and booleans as their JSON text; null leaves a label out.
func nativeLabels(obj map[string]json.RawMessage) (labels.Labels, *FieldError) {
	if len(obj) == 0 {
		return labels.EmptyLabels(), nil
	}
	names := make([]string, 0, len(obj))
	for k := range obj {
		names = append(names, k)
	}
	sort.Strings(names)
	b := labels.NewScratchBuilder(len(obj))
	for _, k := range names {
		v := obj[k]
		switch {
		case string(v) == "null":
			continue
		case v[0] == '"':
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return labels.EmptyLabels(), invalid("labels."+k, "%v", err)
			}
			b.Add(k, s)
		case v[0] == '{' || v[0] == '[':
			return labels.EmptyLabels(), invalid("labels."+k, "want a string, number or boolean, got %s", quote(string(v)))
		default:
			b.Add(k, string(v))
		}
	}
	return b.Labels(), nil
}
