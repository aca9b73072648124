package ingest

import (
	"bytes"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/cairn-dev/cairn/ingest/otlp"
	"github.com/cairn-dev/cairn/store/tenant"
)

// handleOTLPMetrics serves OTLP/HTTP metrics (POST /v1/metrics), protobuf
// or JSON, plain or gzip. As the OTLP specification asks, it answers 200
// with an ExportMetricsServiceResponse in the request's encoding, whose
// partial_success counts the data points that were not stored and names
// the first reason; 4xx with a google.rpc.Status for a request that
// cannot be read at all; 503 with Retry-After when Kafka is down, which
// the exporters retry.
func (rc *Receiver) handleOTLPMetrics(w http.ResponseWriter, r *http.Request) {
	const protocol = "otlp"
	req, ok := rc.readOTLP(w, r, protocol)
	if !ok {
		return
	}
	defer req.release()
	format, id, fail := req.format, req.tenant, req.fail
	md, err := otlp.Decode(req.body, format)
	if err != nil {
		fail("decode", http.StatusBadRequest, err)
		return
	}
	res := otlp.Convert(md, id)
	var v verdict
	rejectedPoints := 0
	for _, d := range res.Dropped {
		rc.drop(protocol, &v, reject(d.Reason, "%s", d.Msg), d.Points)
		rejectedPoints += d.Points
	}
	hit := make([]bool, res.Points)
	kept := rc.admit(protocol, res.Series, &v, func(i int) {
		if o := res.Origin[i]; o >= 0 && !hit[o] {
			hit[o] = true
			rejectedPoints++
		}
	}, nil)
	if err := rc.produce(r.Context(), protocol, id, kept, &v); err != nil {
		fail("kafka", http.StatusServiceUnavailable, err)
		return
	}
	rc.answerOTLP(w, format, res.Points, rejectedPoints, v.first)
}

// answerOTLP writes the 200 response of an export, with partial_success
// set when something was rejected.
func (rc *Receiver) answerOTLP(w http.ResponseWriter, format otlp.Format, points, rejected int, first *rejection) {
	resp := pmetricotlp.NewExportResponse()
	if first != nil {
		msg := first.msg
		if rejected > 0 {
			msg = fmt.Sprintf("%d of %d data points rejected, the rest were stored; first: %s", rejected, points, first.msg)
		}
		resp.PartialSuccess().SetRejectedDataPoints(int64(rejected))
		resp.PartialSuccess().SetErrorMessage(strings.ToValidUTF8(msg, "\uFFFD"))
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

// otlpRequest is an OTLP/HTTP export read far enough to decode.
type otlpRequest struct {
	format  otlp.Format
	tenant  string
	body    []byte // decompressed
	fail    func(reason string, status int, err error)
	release func() // returns the body's buffers to the pool
}

// readOTLP does what every OTLP/HTTP handler does first: it picks the
// encoding from Content-Type, the tenant from X-Scope-OrgID, and reads
// the body, gzip or not. When it returns false it has already answered,
// with a google.rpc.Status in the request's encoding.
func (rc *Receiver) readOTLP(w http.ResponseWriter, r *http.Request, protocol string) (otlpRequest, bool) {
	format, err := otlpFormat(r.Header.Get("Content-Type"))
	if err != nil {
		rc.failWith(w, protocol, "unsupported_content_type", http.StatusUnsupportedMediaType, err, otlpError(otlp.Protobuf))
		return otlpRequest{}, false
	}
	req := otlpRequest{format: format, fail: func(reason string, status int, err error) {
		rc.failWith(w, protocol, reason, status, err, otlpError(format))
	}}
	if req.tenant, err = tenant.FromRequest(r); err != nil {
		req.fail("invalid_tenant", http.StatusBadRequest, err)
		return otlpRequest{}, false
	}
	raw, out := rc.bufs.Get().(*bytes.Buffer), rc.bufs.Get().(*bytes.Buffer)
	req.release = func() { rc.bufs.Put(raw); rc.bufs.Put(out) }
	if req.body, err = rc.readDecoded(raw, out, w, r); err != nil {
		req.release()
		req.fail("body", statusOf(err), err)
		return otlpRequest{}, false
	}
	return req, true
}

// otlpFormat picks the OTLP encoding from a Content-Type.
func otlpFormat(contentType string) (otlp.Format, error) {
	media, _, _ := mime.ParseMediaType(contentType)
	switch media {
	case "application/x-protobuf":
		return otlp.Protobuf, nil
	case "application/json":
		return otlp.JSON, nil
	}
	return 0, fmt.Errorf("Content-Type %q is not supported: send application/x-protobuf or application/json", contentType)
}

// otlpError writes errors as OTLP/HTTP asks: a google.rpc.Status in the
// request's encoding.
func otlpError(format otlp.Format) errorWriter {
	return func(w http.ResponseWriter, status int, err error) {
		// A Status message must be valid UTF-8, and an error may quote the body.
		st := &spb.Status{Code: int32(grpcCode(status)), Message: strings.ToValidUTF8(err.Error(), "\uFFFD")}
		var body []byte
		if format == otlp.JSON {
			body, _ = protojson.Marshal(st)
		} else {
			body, _ = proto.Marshal(st)
		}
		w.Header().Set("Content-Type", format.ContentType())
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}
}

func grpcCode(status int) codes.Code {
	switch status {
	case http.StatusServiceUnavailable:
		return codes.Unavailable
	case http.StatusRequestEntityTooLarge:
		return codes.ResourceExhausted
	}
	return codes.InvalidArgument
}
