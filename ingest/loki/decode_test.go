package loki

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/grafana/loki/pkg/push"
	"github.com/klauspost/compress/snappy"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

// entryStrings renders entries for comparison.
func entryStrings(es []store.LogEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Tenant+" "+e.Stream.String()+" "+time.Unix(0, e.T).UTC().Format(time.RFC3339Nano)+" "+e.Line+" "+e.Metadata.String())
	}
	return out
}

func TestDecodeProto(t *testing.T) {
	ts := time.Date(2026, 11, 1, 12, 0, 0, 123456789, time.UTC)
	req := push.PushRequest{Streams: []push.Stream{{
		Labels: `{job="varlogs", filename="/var/log/syslog"}`,
		Entries: []push.Entry{
			{Timestamp: ts, Line: "first line"},
			{Timestamp: ts.Add(time.Second), Line: "second", StructuredMetadata: push.LabelsAdapter{{Name: "trace_id", Value: "abc"}}},
		},
	}}}
	raw, err := req.Marshal()
	require.NoError(t, err)
	got, err := NewDecoder().DecodeProto(snappy.Encode(nil, raw), "t1", 1<<20)
	require.NoError(t, err)
	require.Equal(t, []string{
		`t1 {filename="/var/log/syslog", job="varlogs"} 2026-11-01T12:00:00.123456789Z first line {}`,
		`t1 {filename="/var/log/syslog", job="varlogs"} 2026-11-01T12:00:01.123456789Z second {trace_id="abc"}`,
	}, entryStrings(got))
}

// TestDecodeJSONRecorded decodes a push body in the shape Loki's HTTP API
// documentation gives, with structured metadata on one entry.
func TestDecodeJSONRecorded(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("testdata", "push.json"))
	require.NoError(t, err)
	got, err := NewDecoder().DecodeJSON(body, "t1")
	require.NoError(t, err)
	require.Equal(t, []string{
		`t1 {env="prod", job="api"} 2026-11-01T12:00:00Z level=info msg="request served" status=200 {}`,
		`t1 {env="prod", job="api"} 2026-11-01T12:00:00.5Z level=error msg="upstream timeout" {trace_id="0af7651916cd43dd8448eb211c80319c"}`,
		`t1 {job="worker"} 2026-11-01T12:00:01Z {"level":"warn","msg":"retrying"} {}`,
	}, entryStrings(got))
}

func TestDecodeErrors(t *testing.T) {
	d := NewDecoder()
	badLabels, err := (&push.PushRequest{Streams: []push.Stream{{Labels: `{job=`, Entries: []push.Entry{{Line: "x"}}}}}).Marshal()
	require.NoError(t, err)
	for _, tc := range []struct {
		name  string
		proto []byte
		json  string
		want  string
	}{
		{name: "not snappy", proto: []byte("plain"), want: "snappy"},
		{name: "not protobuf", proto: snappy.Encode(nil, []byte{0xff, 0xff}), want: "protobuf"},
		{name: "bad stream labels", proto: snappy.Encode(nil, badLabels), want: "streams[0].labels"},
		{name: "not json", json: `{"streams":`, want: "JSON"},
		{name: "numeric timestamp", json: `{"streams":[{"stream":{"a":"b"},"values":[[1,"x"]]}]}`, want: "streams[0].values[0]: timestamp"},
		{name: "bad timestamp", json: `{"streams":[{"stream":{"a":"b"},"values":[["soon","x"]]}]}`, want: `timestamp "soon"`},
		{name: "short value", json: `{"streams":[{"stream":{"a":"b"},"values":[["1"]]}]}`, want: "got 1 elements"},
		{name: "bad metadata", json: `{"streams":[{"stream":{"a":"b"},"values":[["1","x",{"k":1}]]}]}`, want: "structured metadata"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.proto != nil {
				_, err = d.DecodeProto(tc.proto, "t", 1<<20)
			} else {
				_, err = d.DecodeJSON([]byte(tc.json), "t")
			}
			require.ErrorIs(t, err, ErrDecode)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func FuzzDecodeJSON(f *testing.F) {
	body, err := os.ReadFile(filepath.Join("testdata", "push.json"))
	require.NoError(f, err)
	f.Add(body)
	f.Add([]byte(`{"streams":[{"stream":{},"values":[]}]}`))
	d := NewDecoder()
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := d.DecodeJSON(b, "t"); err != nil {
			require.ErrorIs(t, err, ErrDecode)
		}
	})
}

func FuzzDecodeProto(f *testing.F) {
	raw, err := (&push.PushRequest{Streams: []push.Stream{{Labels: `{a="b"}`, Entries: []push.Entry{{Timestamp: time.Unix(1, 0), Line: "x"}}}}}).Marshal()
	require.NoError(f, err)
	f.Add(snappy.Encode(nil, raw))
	d := NewDecoder()
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := d.DecodeProto(b, "t", 1<<20); err != nil {
			require.ErrorIs(t, err, ErrDecode)
		}
	})
}
