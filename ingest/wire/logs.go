package wire

import (
	"encoding/binary"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/cairn-dev/cairn/store"
)

// AppendLogs appends a logs message holding entries, all of which belong
// to tenant, to dst. Consecutive entries of one stream share one copy of
// the stream's labels; sorting entries by stream first makes messages
// smaller.
//
// Layout after the header: stream runs count, then for each run the
// stream's labels, its entry count, and per entry the timestamp (zigzag
// delta in ns from the previous entry of the run, the first from 0), the
// line, and the structured metadata as labels.
func AppendLogs(dst []byte, tenant string, entries []store.LogEntry) []byte {
	dst = appendHeader(dst, v1, KindLogs, tenant)
	runs := streamRuns(entries)
	dst = binary.AppendUvarint(dst, uint64(len(runs)))
	for _, run := range runs {
		dst = appendLabels(dst, run[0].Stream)
		dst = binary.AppendUvarint(dst, uint64(len(run)))
		var prev int64
		for _, e := range run {
			dst = binary.AppendVarint(dst, e.T-prev)
			prev = e.T
			dst = appendString(dst, e.Line)
			dst = appendLabels(dst, e.Metadata)
		}
	}
	return dst
}

// streamRuns cuts entries into runs of consecutive entries of one stream.
func streamRuns(entries []store.LogEntry) [][]store.LogEntry {
	var runs [][]store.LogEntry
	start := 0
	for i := 1; i <= len(entries); i++ {
		if i == len(entries) || !labels.Equal(entries[i].Stream, entries[start].Stream) {
			runs = append(runs, entries[start:i])
			start = i
		}
	}
	return runs
}

// DecodeLogs decodes a logs message and appends its entries to dst. Each
// entry carries the message's tenant. Lines and labels share b's memory:
// b must not change while the entries live.
func DecodeLogs(dst []store.LogEntry, b []byte) ([]store.LogEntry, error) {
	d, tenant, err := body(b, KindLogs)
	if err != nil {
		return dst, err
	}
	var lb labels.ScratchBuilder
	runs := d.count(2)
	for i := 0; i < runs && d.err == nil; i++ {
		stream := d.labels(&lb)
		n := d.count(3) // timestamp, line length, metadata count
		var t int64
		for j := 0; j < n && d.err == nil; j++ {
			t += d.varint()
			line := d.view()
			md := d.labels(&lb)
			dst = append(dst, store.LogEntry{Tenant: tenant, Stream: stream, T: t, Line: line, Metadata: md})
		}
	}
	return dst, d.end()
}
