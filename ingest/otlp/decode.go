package otlp

import (
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
)

// ErrDecode is wrapped by every error about the body itself, which the
// receiver answers with 400.
var ErrDecode = errors.New("cannot decode OTLP metrics request")

// Format is the encoding of an OTLP/HTTP body.
type Format int

// The encodings OTLP/HTTP defines.
const (
	Protobuf Format = iota // application/x-protobuf
	JSON                   // application/json
)

func (f Format) String() string {
	if f == JSON {
		return "JSON"
	}
	return "protobuf"
}

// ContentType is the media type of f, for responses.
func (f Format) ContentType() string {
	if f == JSON {
		return "application/json"
	}
	return "application/x-protobuf"
}

// Decode unmarshals an uncompressed ExportMetricsServiceRequest.
func Decode(body []byte, f Format) (pmetric.Metrics, error) {
	req := pmetricotlp.NewExportRequest()
	var err error
	if f == JSON {
		err = req.UnmarshalJSON(body)
	} else {
		err = req.UnmarshalProto(body)
	}
	if err != nil {
		return pmetric.Metrics{}, fmt.Errorf("%w: %s: %v", ErrDecode, f, err)
	}
	return req.Metrics(), nil
}
