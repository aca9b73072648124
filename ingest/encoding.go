package ingest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"

	"github.com/klauspost/compress/gzip"
)

// readDecoded reads a request body that may be gzip-compressed, as OTLP/
// HTTP and Influx clients send them: raw receives the body as sent
// (bounded by -ingest.max-request-bytes), out the decompressed body
// (bounded by -ingest.max-decoded-bytes). It returns the body to decode.
// Errors carry their HTTP status.
func (rc *Receiver) readDecoded(raw, out *bytes.Buffer, w http.ResponseWriter, r *http.Request) ([]byte, error) {
	enc := r.Header.Get("Content-Encoding")
	switch enc {
	case "", "identity", "gzip", "x-gzip":
	default:
		return nil, &statusError{http.StatusUnsupportedMediaType,
			fmt.Errorf("Content-Encoding %q is not supported: send gzip or no Content-Encoding", enc)}
	}
	if err := rc.readBody(raw, w, r); err != nil {
		return nil, err
	}
	if enc == "" || enc == "identity" {
		return raw.Bytes(), nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw.Bytes()))
	if err != nil {
		return nil, &statusError{http.StatusBadRequest, fmt.Errorf("Content-Encoding gzip: body is not gzip: %w", err)}
	}
	defer zr.Close()
	out.Reset()
	limit := int64(rc.cfg.MaxDecodedBytes)
	n, err := out.ReadFrom(io.LimitReader(zr, limit+1))
	if err != nil {
		return nil, &statusError{http.StatusBadRequest, fmt.Errorf("Content-Encoding gzip: decompress body: %w", err)}
	}
	if n > limit {
		return nil, &statusError{http.StatusRequestEntityTooLarge,
			fmt.Errorf("decompressed request body exceeds %d bytes (-ingest.max-decoded-bytes)", limit)}
	}
	return out.Bytes(), nil
}
