package loki

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/grafana/loki/pkg/push"
	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/cairn-dev/cairn/store"
)

// ErrDecode is wrapped by every error about the body itself; receivers
// answer it with 400.
var ErrDecode = errors.New("cannot decode Loki push request")

// Decoder decodes push requests. It is safe for concurrent use.
type Decoder struct {
	parser parser.Parser
}

// NewDecoder returns a decoder.
func NewDecoder() *Decoder { return &Decoder{parser: parser.NewParser(parser.Options{})} }

// DecodeProto decodes a snappy-compressed protobuf push request. maxDecoded
// bounds the uncompressed size.
func (d *Decoder) DecodeProto(body []byte, tenant string, maxDecoded int) ([]store.LogEntry, error) {
	n, err := snappy.DecodedLen(body)
	if err != nil {
		return nil, fmt.Errorf("%w: snappy: %v", ErrDecode, err)
	}
	if n > maxDecoded {
		return nil, fmt.Errorf("%w: decompressed body of %d bytes exceeds the limit of %d", ErrDecode, n, maxDecoded)
	}
	raw, err := snappy.Decode(nil, body)
	if err != nil {
		return nil, fmt.Errorf("%w: snappy: %v", ErrDecode, err)
	}
	var req push.PushRequest
	if err := req.Unmarshal(raw); err != nil {
		return nil, fmt.Errorf("%w: protobuf: %v", ErrDecode, err)
	}
	var out []store.LogEntry
	for i, s := range req.Streams {
		stream, err := d.streamLabels(s.Labels)
		if err != nil {
			return nil, fmt.Errorf("%w: streams[%d].labels: %v", ErrDecode, i, err)
		}
		for _, e := range s.Entries {
			out = append(out, store.LogEntry{
				Tenant:   tenant,
				Stream:   stream,
				T:        e.Timestamp.UnixNano(),
				Line:     e.Line,
				Metadata: metadataLabels(e.StructuredMetadata),
			})
		}
	}
	return out, nil
}

// streamLabels parses a stream selector such as {app="web",env="prod"}.
func (d *Decoder) streamLabels(s string) (labels.Labels, error) {
	ls, err := d.parser.ParseMetric(s)
	if err != nil {
		return labels.EmptyLabels(), fmt.Errorf("%q: %v", s, err)
	}
	return ls, nil
}

func metadataLabels(md push.LabelsAdapter) labels.Labels {
	if len(md) == 0 {
		return labels.EmptyLabels()
	}
	b := labels.NewScratchBuilder(len(md))
	for _, l := range md {
		b.Add(l.Name, l.Value)
	}
	b.Sort()
	return b.Labels()
}

// jsonPush is the JSON form of a push request.
type jsonPush struct {
	Streams []struct {
		Stream map[string]string   `json:"stream"`
		Values [][]json.RawMessage `json:"values"`
	} `json:"streams"`
}

// DecodeJSON decodes the JSON form of a push request.
func (d *Decoder) DecodeJSON(body []byte, tenant string) ([]store.LogEntry, error) {
	var req jsonPush
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, fmt.Errorf("%w: JSON: %v", ErrDecode, err)
	}
	var out []store.LogEntry
	for i, s := range req.Streams {
		stream := labels.FromMap(s.Stream)
		for j, v := range s.Values {
			e, err := jsonEntry(v)
			if err != nil {
				return nil, fmt.Errorf("%w: streams[%d].values[%d]: %v", ErrDecode, i, j, err)
			}
			e.Tenant, e.Stream = tenant, stream
			out = append(out, e)
		}
	}
	return out, nil
}

// jsonEntry decodes ["<unix ns>", "<line>"] with an optional third element
// holding structured metadata as an object of strings.
func jsonEntry(v []json.RawMessage) (store.LogEntry, error) {
	if len(v) < 2 || len(v) > 3 {
		return store.LogEntry{}, fmt.Errorf("want [timestamp, line] or [timestamp, line, metadata], got %d elements", len(v))
	}
	var ts, line string
	if err := json.Unmarshal(v[0], &ts); err != nil {
		return store.LogEntry{}, fmt.Errorf("timestamp: want a string of Unix nanoseconds: %v", err)
	}
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return store.LogEntry{}, fmt.Errorf("timestamp %q: want Unix nanoseconds", ts)
	}
	if err := json.Unmarshal(v[1], &line); err != nil {
		return store.LogEntry{}, fmt.Errorf("line: want a string: %v", err)
	}
	e := store.LogEntry{T: t, Line: line, Metadata: labels.EmptyLabels()}
	if len(v) == 3 {
		var md map[string]string
		if err := json.Unmarshal(v[2], &md); err != nil {
			return store.LogEntry{}, fmt.Errorf("structured metadata: want an object of strings: %v", err)
		}
		e.Metadata = labels.FromMap(md)
	}
	return e, nil
}
