package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/cairn-dev/cairn/ingest/influx"
	"github.com/cairn-dev/cairn/store/tenant"
)

// influxVersion is the InfluxDB version Cairn answers as: the 1.x API
// it speaks.
const influxVersion = "1.8.10"

// registerInflux mounts the InfluxDB endpoints on r: the writes of both
// versions, and what 1.x clients call before they write.
func (rc *Receiver) registerInflux(r chi.Router) {
	r.Post("/write", rc.handleInfluxV1)
	r.Post("/api/v2/write", rc.handleInfluxV2)
	r.Get("/ping", handleInfluxPing)
	r.Head("/ping", handleInfluxPing)
	r.Post("/query", rc.handleInfluxQuery)
}

// handleInfluxPing answers GET and HEAD /ping as InfluxDB 1.x does: 204
// with X-Influxdb-Version, or with ?verbose=true 200 and the version in
// JSON.
func handleInfluxPing(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Influxdb-Version", influxVersion)
	w.Header().Set("X-Influxdb-Build", "OSS")
	if v := r.URL.Query().Get("verbose"); v == "true" || v == "1" {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"version":"`+influxVersion+`"}`+"\n")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleInfluxQuery answers POST /query for the statements clients send
// before writing: CREATE DATABASE, which Telegraf's influxdb output sends
// at start and after "database not found". It creates nothing — the
// tenant is X-Scope-OrgID's, the database is ignored — and answers 200
// with one result per statement, as InfluxDB 1.x does. Any other InfluxQL
// is a 400 naming what is supported.
func (rc *Receiver) handleInfluxQuery(w http.ResponseWriter, r *http.Request) {
	const protocol = "influx"
	w.Header().Set("X-Influxdb-Version", influxVersion)
	fail := func(reason string, err error) {
		rc.failWith(w, protocol, reason, http.StatusBadRequest, err, influxError(true))
	}
	if _, err := tenant.FromRequest(r); err != nil {
		fail("invalid_tenant", err)
		return
	}
	q := r.FormValue("q")
	if strings.TrimSpace(q) == "" {
		fail("unsupported_query", errors.New(`missing required parameter "q"`))
		return
	}
	n, err := influx.CreateDatabases(q)
	if err != nil {
		fail("unsupported_query", fmt.Errorf("%w: Cairn's /query accepts only CREATE DATABASE, which it answers without creating anything (the tenant is X-Scope-OrgID's); query the data with PromQL at /api/v1/query", err))
		return
	}
	var b strings.Builder
	b.WriteString(`{"results":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"statement_id":%d}`, i)
	}
	b.WriteString("]}\n")
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, b.String())
}

// handleInfluxV1 serves InfluxDB 1.x writes (POST /write?db=…&precision=…).
func (rc *Receiver) handleInfluxV1(w http.ResponseWriter, r *http.Request) {
	rc.handleInflux(w, r, true)
}

// handleInfluxV2 serves InfluxDB 2.x writes (POST /api/v2/write?org=…&bucket=…&precision=…).
func (rc *Receiver) handleInfluxV2(w http.ResponseWriter, r *http.Request) {
	rc.handleInflux(w, r, false)
}

// handleInflux serves line protocol writes, plain or gzip, and answers as
// InfluxDB does: 204 when everything was written; 400 with a JSON error
// naming the first bad line or rejected series when something was not
// (the rest is stored, as InfluxDB 1.x's partial writes); 503 with
// Retry-After when Kafka is down, which Telegraf retries. The tenant is
// the X-Scope-OrgID header's, as for every receiver: db, org and bucket
// are accepted and ignored. String fields are skipped without failing the
// write, since every Telegraf flush has some; the self-metrics count them.
func (rc *Receiver) handleInflux(w http.ResponseWriter, r *http.Request, v1 bool) {
	const protocol = "influx"
	fail := func(reason string, status int, err error) {
		rc.failWith(w, protocol, reason, status, err, influxError(v1))
	}
	id, err := tenant.FromRequest(r)
	if err != nil {
		fail("invalid_tenant", http.StatusBadRequest, err)
		return
	}
	prec, err := influx.ParsePrecision(r.URL.Query().Get("precision"))
	if err != nil {
		fail("invalid_precision", http.StatusBadRequest, err)
		return
	}
	raw, out := rc.bufs.Get().(*bytes.Buffer), rc.bufs.Get().(*bytes.Buffer)
	defer rc.bufs.Put(raw)
	defer rc.bufs.Put(out)
	body, err := rc.readDecoded(raw, out, w, r)
	if err != nil {
		fail("body", statusOf(err), err)
		return
	}
	res, decodeErr := influx.Decode(body, id, prec, rc.now())
	if res.Lines == 0 {
		fail("empty", http.StatusBadRequest, errors.New("writing requires points"))
		return
	}
	var v verdict
	if decodeErr != nil {
		rc.drop(protocol, &v, reject("invalid_line", "%v", decodeErr), res.Bad)
	}
	if res.Strings > 0 {
		rc.countSamples(protocol, "received", "", res.Strings)
		rc.countSamples(protocol, "rejected", "string_field", res.Strings)
	}
	named := v.first != nil
	kept := rc.admit(protocol, res.Series, &v, func(i int) {
		if !named {
			named = true
			v.first = &rejection{reason: v.first.reason, msg: fmt.Sprintf("line %d: %s", res.Line[i], v.first.msg)}
		}
	}, nil)
	if err := rc.produce(r.Context(), protocol, id, kept, &v); err != nil {
		fail("kafka", http.StatusServiceUnavailable, err)
		return
	}
	if v.first != nil {
		err := v.partialError("values")
		if v.accepted() > 0 {
			err = fmt.Errorf("partial write: %w", err)
		}
		fail(v.first.reason, http.StatusBadRequest, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// influxErrorBody is InfluxDB's error shape: 2.x reads code and message,
// Telegraf's 1.x output reads error.
type influxErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Error   string `json:"error,omitempty"`
}

func influxError(v1 bool) errorWriter {
	return func(w http.ResponseWriter, status int, err error) {
		body := influxErrorBody{Code: influxCode(status), Message: err.Error()}
		if v1 {
			body.Error = body.Message
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(body)
	}
}

// influxCode names an HTTP status the way InfluxDB's errors do.
func influxCode(status int) string {
	switch status {
	case http.StatusServiceUnavailable:
		return "unavailable"
	case http.StatusRequestEntityTooLarge:
		return "request too large"
	case http.StatusUnsupportedMediaType:
		return "unsupported media type"
	}
	return "invalid"
}
