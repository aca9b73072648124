package store

import (
	"math"

	"github.com/cespare/xxhash/v2"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
)

// Sample is one value of a series at a millisecond Unix timestamp.
type Sample struct {
	T int64   // milliseconds since the Unix epoch
	V float64 // value.StaleNaN marks the series stale at T
}

// IsStale reports whether s is a Prometheus stale marker.
func (s Sample) IsStale() bool { return value.IsStaleNaN(s.V) }

// Series is a batch of samples of one series of one tenant, as ingest
// hands it to the store. Samples need not be sorted.
type Series struct {
	Tenant  string
	Labels  labels.Labels // must include __name__
	Samples []Sample
}

// SeriesRef names a stored series: its fingerprint and its labels.
type SeriesRef struct {
	Fingerprint uint64
	Labels      labels.Labels
}

// Fingerprint identifies a series within a tenant: a 64-bit xxhash of its
// labels, sorted by name, each as name 0xff value 0xff. It is stable across
// releases; changing it would split every stored series in two.
func Fingerprint(ls labels.Labels) uint64 {
	d := xxhash.New()
	ls.Range(func(l labels.Label) {
		_, _ = d.WriteString(l.Name)
		_, _ = d.Write(sep)
		_, _ = d.WriteString(l.Value)
		_, _ = d.Write(sep)
	})
	return d.Sum64()
}

var sep = []byte{0xff}

// staleFlag marks a stored row as a stale marker; its value column holds 0.
const staleFlag uint8 = 1

// encodeValue splits a sample value into the stored value and flags.
func encodeValue(v float64) (float64, uint8) {
	if value.IsStaleNaN(v) {
		return 0, staleFlag
	}
	return v, 0
}

// decodeValue is the inverse of encodeValue.
func decodeValue(v float64, flags uint8) float64 {
	if flags&staleFlag != 0 {
		return math.Float64frombits(value.StaleNaN)
	}
	return v
}

// LogEntry is one log line of one stream of one tenant, as ingest hands it
// to the store and as ReadLogs returns it.
type LogEntry struct {
	Tenant string
	// Stream labels identify the stream; its fingerprint is
	// Fingerprint(Stream). Loki's stream labels, OTLP's resource
	// attributes that ingest promotes.
	Stream labels.Labels
	T      int64 // nanoseconds since the Unix epoch
	Line   string
	// Metadata is per-line data that is not part of the stream's
	// identity: Loki's structured metadata, OTLP attributes left over.
	Metadata labels.Labels
}

// StreamRef names a stored log stream: its fingerprint and its labels.
type StreamRef struct {
	Fingerprint uint64
	Labels      labels.Labels
}
