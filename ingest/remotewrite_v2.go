package ingest

import (
	"bytes"
	"fmt"
	"mime"
	"net/http"
	"strconv"

	"github.com/cairn-dev/cairn/ingest/remotewrite"
)

// The remote write message types, named by the proto parameter of the
// Content-Type, and the 2.0 response headers.
const (
	protoV1 = "prometheus.WriteRequest"
	protoV2 = "io.prometheus.write.v2.Request"

	headerSamplesWritten    = "X-Prometheus-Remote-Write-Samples-Written"
	headerHistogramsWritten = "X-Prometheus-Remote-Write-Histograms-Written"
	headerExemplarsWritten  = "X-Prometheus-Remote-Write-Exemplars-Written"
)

// remoteWriteVersion picks the remote write version from a request's
// Content-Type, as the 2.0 specification negotiates it: application/
// x-protobuf with proto=io.prometheus.write.v2.Request is 2.0; without a
// proto parameter, with proto=prometheus.WriteRequest, or with no
// Content-Type at all it is 1.0. Anything else is an error for a 415.
func remoteWriteVersion(contentType string) (int, error) {
	if contentType == "" {
		return 1, nil
	}
	media, params, err := mime.ParseMediaType(contentType)
	if err == nil && media == "application/x-protobuf" {
		switch params["proto"] {
		case "", protoV1:
			return 1, nil
		case protoV2:
			return 2, nil
		}
	}
	return 0, fmt.Errorf("Content-Type %q is not supported: send application/x-protobuf;proto=%s (remote write 2.0) or application/x-protobuf;proto=%s (1.0)",
		contentType, protoV2, protoV1)
}

// handleRemoteWriteV2 serves a remote write 2.0 request whose tenant,
// encoding and Content-Type were checked. Every answer carries the
// X-Prometheus-Remote-Write-*-Written headers, counting what Cairn stored:
// float samples and native histograms; exemplars are not stored and are
// dropped silently, as Prometheus drops those it cannot append.
func (rc *Receiver) handleRemoteWriteV2(w http.ResponseWriter, r *http.Request, id string) {
	const protocol = "prometheus_v2"
	setWritten(w, 0, 0)
	buf := rc.bufs.Get().(*bytes.Buffer)
	defer rc.bufs.Put(buf)
	if err := rc.readBody(buf, w, r); err != nil {
		rc.fail(w, protocol, "body", statusOf(err), err)
		return
	}
	req, err := remotewrite.DecodeV2(buf.Bytes(), id, rc.cfg.MaxDecodedBytes)
	if err != nil {
		rc.fail(w, protocol, "decode", http.StatusBadRequest, err)
		return
	}
	var v verdict
	if req.Invalid > 0 {
		rc.drop(protocol, &v, reject("invalid_symbol_ref", "%v", req.InvalidErr), req.Invalid)
	}
	if req.Exemplars > 0 {
		rc.set.GetOrCreateCounter(fmt.Sprintf(`cairn_ingest_exemplars_dropped_total{protocol=%q}`, protocol)).Add(req.Exemplars)
	}
	kept := rc.admit(protocol, req.Series, &v, nil, nil)
	if err := rc.produce(r.Context(), protocol, id, kept, &v); err != nil {
		rc.fail(w, protocol, "kafka", http.StatusServiceUnavailable, err)
		return
	}
	samples, histograms := written(kept)
	setWritten(w, samples, histograms)
	if v.first != nil {
		rc.fail(w, protocol, v.first.reason, http.StatusBadRequest, v.partialError("samples"))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func setWritten(w http.ResponseWriter, samples, histograms int) {
	h := w.Header()
	h.Set(headerSamplesWritten, strconv.Itoa(samples))
	h.Set(headerHistogramsWritten, strconv.Itoa(histograms))
	h.Set(headerExemplarsWritten, "0")
}
