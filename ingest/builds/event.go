package builds

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-dev/cairn/store"
)

// ErrDecode is wrapped by every error about a body that is not JSON of
// the expected shape as a whole.
var ErrDecode = errors.New("cannot decode build events")

// FieldError says which field of an event is missing or wrong.
type FieldError struct {
	Field  string // JSON path: "kind", "workflow_run.head_sha"
	Reason string // short, for self-metrics: missing_field, invalid_field
	Msg    string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return fmt.Sprintf("field %q: %s", e.Field, e.Msg)
}

func missing(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Reason: "missing_field", Msg: fmt.Sprintf(format, args...)}
}

func invalid(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Reason: "invalid_field", Msg: fmt.Sprintf(format, args...)}
}

// Ignored is the answer to a delivery that is well-formed but records
// nothing: a ping, an event type or a job Cairn does not record. A
// receiver answers it with 200 and Msg, so that the sender's delivery log
// shows success and why nothing was stored.
type Ignored struct{ Msg string }

func (i *Ignored) Error() string { return i.Msg }

func ignored(format string, args ...any) *Ignored { return &Ignored{Msg: fmt.Sprintf(format, args...)} }

// finished reports whether status is one of a run that ended.
func finished(status string) bool {
	switch status {
	case store.StatusSuccess, store.StatusFailure, store.StatusCancelled:
		return true
	}
	return false
}

// nativeStatus maps a status the native API accepts, synonyms included,
// to the store's. Case and surrounding space do not matter.
func nativeStatus(s string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "success", "succeeded", "successful", "passed", "ok":
		return store.StatusSuccess, true
	case "failure", "failed", "fail", "error", "errored", "timed_out":
		return store.StatusFailure, true
	case "cancelled", "canceled", "aborted", "skipped":
		return store.StatusCancelled, true
	case "running", "in_progress", "started", "pending", "queued":
		return store.StatusRunning, true
	}
	return "", false
}

// parseTime reads a provider's timestamp: RFC 3339, or GitLab's
// "2006-01-02 15:04:05 UTC" and "2006-01-02 15:04:05 -0700". "" is 0.
func parseTime(field, s string) (int64, *FieldError) {
	if s == "" {
		return 0, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05 UTC", "2006-01-02 15:04:05 -0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return checkMillis(field, t.UnixMilli())
		}
	}
	return 0, invalid(field, "%s is not an RFC 3339 time", quote(s))
}

// parseNativeTime reads a native event's timestamp: an RFC 3339 string,
// or Unix milliseconds as a JSON integer or a string of digits. Absent
// and null are 0.
func parseNativeTime(field string, raw json.RawMessage) (int64, *FieldError) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	s := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, invalid(field, "%v", err)
		}
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return checkMillis(field, t.UnixMilli())
		}
	}
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, invalid(field, "%s is neither an RFC 3339 time nor integer Unix milliseconds", quote(s))
	}
	return checkMillis(field, ms)
}

// checkMillis refuses times before 1973, which are nearly always Unix
// seconds sent as milliseconds.
func checkMillis(field string, ms int64) (int64, *FieldError) {
	if ms < 1e11 {
		return 0, invalid(field, "%d ms is before 1973-03-03: send Unix milliseconds, not seconds", ms)
	}
	return ms, nil
}

// decodeJSON unmarshals body into v, turning a type mismatch into a
// FieldError naming the field and anything else into ErrDecode.
func decodeJSON(body []byte, v any, strict bool) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if strict {
		dec.DisallowUnknownFields()
	}
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("data after the JSON value")
	}
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return invalid(typeErr.Field, "want %s, got JSON %s", jsonType(typeErr.Type), typeErr.Value)
	case strict && strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.TrimPrefix(err.Error(), "json: unknown field ")
		return &FieldError{Field: strings.Trim(name, `"`), Reason: "unknown_field", Msg: "not a field of a build event; see the API's documentation"}
	}
	return fmt.Errorf("%w: %v", ErrDecode, err)
}

// quote renders a value for an error message, cut to a readable size.
func quote(s string) string {
	if len(s) > 64 {
		return strconv.Quote(s[:64]) + "…"
	}
	return strconv.Quote(s)
}

// jsonType names what JSON value a Go type takes.
func jsonType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct, reflect.Pointer:
		return "an object"
	}
	return t.String()
}

// msTime renders a millisecond timestamp for an error message.
func msTime(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano) }
