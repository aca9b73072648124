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
//
// A series with a Fingerprint and no Labels is a reference to a series
// whose labels were written before, for every day it has samples on: the
// writer stores its samples under the fingerprint and writes no series
// or label index rows (IsRef). Ingest sends each series' labels once per
// day and interval, and references in between.
type Series struct {
	Tenant  string
	Labels  labels.Labels // must include __name__, unless a reference
	Samples []Sample
	// Histograms are native histogram samples, stored apart from Samples
	// (histograms_write.go); they need not be sorted either.
	Histograms []HistogramSample
	// Fingerprint is Fingerprint(Labels) when whoever built the series
	// already computed it (ingest carries it through Kafka), or 0, which
	// tells the writer to compute it.
	Fingerprint uint64
}

// IsRef reports whether s is a reference: a fingerprint without labels.
func (s *Series) IsRef() bool { return s.Labels.IsEmpty() && s.Fingerprint != 0 }

// ResolvedFingerprint returns s.Fingerprint, computing it when it is 0.
func (s *Series) ResolvedFingerprint() uint64 {
	if s.Fingerprint != 0 {
		return s.Fingerprint
	}
	return Fingerprint(s.Labels)
}

// SeriesRef names a stored series: its fingerprint and its labels.
type SeriesRef struct {
	Fingerprint uint64
	Labels      labels.Labels
	// Histograms: the series has native histograms on a day of the
	// selected range, which ReadHistograms reads.
	Histograms bool
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

// Build and deploy kinds, the values of BuildEvent.Kind that DORA reads.
const (
	KindBuild  = "build"
	KindDeploy = "deploy"
)

// Common values of BuildEvent.Status; providers' other statuses are
// stored as given.
const (
	StatusRunning   = "running"
	StatusSuccess   = "success"
	StatusFailure   = "failure"
	StatusCancelled = "cancelled"
)

// BuildEvent is the state of one CI/CD run — a build or a deployment —
// as one webhook or API call reported it. A run reports several times
// (queued, running, finished); events with the same ID are versions of
// one run, and readers see only the one with the highest Version.
type BuildEvent struct {
	Tenant string
	// ID names the run across its events, and a re-run apart from the
	// first: provider, run ID and attempt, such as "github/1234567/2".
	ID string
	// Version orders the events of one ID, the highest winning; ingest
	// uses the event's update time or its Kafka offset (one run keeps to
	// one partition). 0 means max(StartedAt, FinishedAt).
	Version     uint64
	Service     string
	Pipeline    string
	Kind        string // KindBuild or KindDeploy
	Status      string // StatusSuccess, StatusFailure, …
	Commit      string
	Branch      string
	Environment string
	StartedAt   int64 // ms since the Unix epoch; 0 means FinishedAt
	FinishedAt  int64 // ms; 0 while the run is not finished
	CommitTime  int64 // ms of the commit, for lead time; 0 if unknown
	URL         string
	Trigger     string        // what started the run: push, schedule, manual, …
	Labels      labels.Labels // anything else worth keeping
}

// Alert states, the values of AlertState.State.
const (
	AlertPending  = "pending"
	AlertFiring   = "firing"
	AlertResolved = "resolved"
)

// AlertState is one state change of one alert — a rule's alert for one
// label set — as the rule evaluator saw it. The history of these changes
// is what DORA's time to restore reads (firing → resolved).
type AlertState struct {
	Tenant    string
	RuleGroup string
	AlertName string
	// Labels are the alert's labels, alertname included; their
	// fingerprint identifies the alert.
	Labels     labels.Labels
	State      string  // AlertPending, AlertFiring or AlertResolved
	T          int64   // ms: when the alert entered State
	ActiveAt   int64   // ms: when it became active (pending)
	FiredAt    int64   // ms: when it started firing; 0 if it has not
	ResolvedAt int64   // ms: when it resolved; 0 if it has not
	Value      float64 // the rule expression's value at T
	Service    string  // "" means Labels' service label
	Severity   string  // "" means Labels' severity label
}
