package ingest

import (
	"net/http"
	"strings"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/cairn-dev/cairn/ingest/otlp"
	"github.com/cairn-dev/cairn/store"
)

// handleOTLPLogs serves OTLP/HTTP logs (POST /v1/logs), protobuf or JSON,
// plain or gzip, as handleOTLPMetrics serves metrics: 200 with an
// ExportLogsServiceResponse in the request's encoding, whose
// partial_success counts the log records that were not stored and names
// the first reason; 4xx with a google.rpc.Status for a request that
// cannot be read; 503 with Retry-After when Kafka is down. Records map to
// log entries as Loki's OTLP endpoint maps them (see package otlp).
func (rc *Receiver) handleOTLPLogs(w http.ResponseWriter, r *http.Request) {
	const protocol = "otlp_logs"
	req, ok := rc.readOTLP(w, r, protocol)
	if !ok {
		return
	}
	defer req.release()
	format, id, fail := req.format, req.tenant, req.fail
	ld, err := otlp.DecodeLogs(req.body, format)
	if err != nil {
		fail("decode", http.StatusBadRequest, err)
		return
	}
	var v verdict
	kept := rc.admitLogs(protocol, otlp.ConvertLogs(ld, id, rc.now()), &v)
	rc.count(unitLogLines, protocol, "received", "", v.received)
	if err := rc.produceLogs(r.Context(), id, kept); err != nil {
		fail("kafka", http.StatusServiceUnavailable, err)
		return
	}
	rc.count(unitLogLines, protocol, "accepted", "", v.accepted())
	rc.answerOTLPLogs(w, format, &v)
}

// admitLogs validates entries against the limits, in place, and returns
// those that pass; v tallies them and the first rejection.
func (rc *Receiver) admitLogs(protocol string, entries []store.LogEntry, v *verdict) []store.LogEntry {
	v.received += len(entries)
	now := rc.now()
	kept := entries[:0]
	for i := range entries {
		if rej := rc.cfg.Limits.checkEntry(&entries[i], now); rej != nil {
			rc.rejectOne(unitLogLines, protocol, v, rej)
			continue
		}
		kept = append(kept, entries[i])
	}
	return kept
}

// answerOTLPLogs writes the 200 response of a logs export, with
// partial_success set when some records were rejected.
func (rc *Receiver) answerOTLPLogs(w http.ResponseWriter, format otlp.Format, v *verdict) {
	resp := plogotlp.NewExportResponse()
	if v.first != nil {
		resp.PartialSuccess().SetRejectedLogRecords(int64(v.rejected))
		resp.PartialSuccess().SetErrorMessage(strings.ToValidUTF8(v.partialError("log records").Error(), "\uFFFD"))
	}
	var body []byte
	var err error
	if format == otlp.JSON {
		body, err = resp.MarshalJSON()
	} else {
		body, err = resp.MarshalProto()
	}
	if err != nil {
		rc.logger.Error("otlp_response_marshal", "err", err)
	}
	w.Header().Set("Content-Type", format.ContentType())
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
