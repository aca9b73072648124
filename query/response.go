package query

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/util/annotations"
)

// errorType is an error class of the Prometheus API with its HTTP status.
type errorType struct {
	name string
	code int
}

var (
	errBadData  = errorType{"bad_data", http.StatusBadRequest}
	errExec     = errorType{"execution", http.StatusUnprocessableEntity}
	errCanceled = errorType{"canceled", 499} // nginx's "client closed request", as Prometheus
	errTimeout  = errorType{"timeout", http.StatusServiceUnavailable}
	errInternal = errorType{"internal", http.StatusInternalServerError}
)

// apiError is an error with its API class.
type apiError struct {
	typ errorType
	err error
}

func (e *apiError) Error() string { return e.err.Error() }
func (e *apiError) Unwrap() error { return e.err }

// classify maps an error to its API class. It is the one place where
// errors become HTTP statuses.
func classify(err error) *apiError {
	var (
		ae       *apiError
		limit    *LimitError
		canceled promql.ErrQueryCanceled
		timeout  promql.ErrQueryTimeout
		stor     promql.ErrStorage
	)
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &limit):
		// As Prometheus answers too many samples, and Mimir its limits.
		return &apiError{errExec, err}
	case errors.As(err, &timeout), errors.Is(err, context.DeadlineExceeded):
		// Before canceled: a driver may report a deadline as a cancellation.
		return &apiError{errTimeout, err}
	case errors.As(err, &canceled), errors.Is(err, context.Canceled):
		return &apiError{errCanceled, err}
	case errors.As(err, &stor):
		return &apiError{errInternal, err}
	}
	return &apiError{errExec, err}
}

// rawJSON is response data already encoded.
type rawJSON []byte

// maxAnnotations bounds the warnings and the infos of one response, as
// Prometheus does.
const maxAnnotations = 10

// writeSuccess writes the success envelope around data. Data of type
// rawJSON goes in as it is; anything else through encoding/json.
func writeSuccess(w http.ResponseWriter, data any, ws annotations.Annotations, query string) error {
	buf := make([]byte, 0, 256)
	buf = append(buf, `{"status":"success","data":`...)
	if raw, ok := data.(rawJSON); ok {
		buf = append(buf, raw...)
	} else {
		b, err := json.Marshal(data)
		if err != nil {
			return err
		}
		buf = append(buf, b...)
	}
	warnings, infos := ws.AsStrings(query, maxAnnotations, maxAnnotations)
	buf = appendStrings(buf, "warnings", warnings)
	buf = appendStrings(buf, "infos", infos)
	buf = append(buf, '}')
	writeBody(w, http.StatusOK, buf)
	return nil
}

// appendStrings appends `,"key":[...]` unless ss is empty.
func appendStrings(buf []byte, key string, ss []string) []byte {
	if len(ss) == 0 {
		return buf
	}
	buf = append(buf, `,"`...)
	buf = append(buf, key...)
	buf = append(buf, `":[`...)
	for i, s := range ss {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendString(buf, s)
	}
	return append(buf, ']')
}

// writeError writes the error envelope with the status of the error's class.
func writeError(w http.ResponseWriter, e *apiError) {
	buf := make([]byte, 0, 128)
	buf = append(buf, `{"status":"error","errorType":`...)
	buf = appendString(buf, e.typ.name)
	buf = append(buf, `,"error":`...)
	buf = appendString(buf, e.err.Error())
	buf = append(buf, '}')
	writeBody(w, e.typ.code, buf)
}

func writeBody(w http.ResponseWriter, code int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	// A write error means the client went away; there is no one to tell.
	_, _ = w.Write(body)
}
