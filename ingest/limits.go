package ingest

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/cairn-dev/cairn/store"
)

// Limits bound what a receiver accepts from one series.
type Limits struct {
	MaxLabelsPerSeries  int
	MaxLabelNameLength  int
	MaxLabelValueLength int
	MaxSampleAge        time.Duration
	MaxFutureSkew       time.Duration
	MaxLineBytes        int
}

// RegisterFlags registers the limit flags on fs.
func (l *Limits) RegisterFlags(fs *flag.FlagSet) {
	fs.IntVar(&l.MaxLabelsPerSeries, "ingest.max-labels-per-series", 40, "Most labels a series may have, __name__ included.")
	fs.IntVar(&l.MaxLabelNameLength, "ingest.max-label-name-length", 1024, "Longest label name accepted, in bytes.")
	fs.IntVar(&l.MaxLabelValueLength, "ingest.max-label-value-length", 4096, "Longest label value accepted, in bytes.")
	fs.DurationVar(&l.MaxSampleAge, "ingest.max-sample-age", 0, "Reject samples and log lines older than this. 0 accepts any age.")
	fs.DurationVar(&l.MaxFutureSkew, "ingest.max-future-skew", 10*time.Minute, "Reject samples and log lines this far ahead of the receiver's clock.")
	fs.IntVar(&l.MaxLineBytes, "ingest.max-line-bytes", 256<<10, "Longest log line accepted, in bytes.")
}

// Validate checks the limits themselves.
func (l *Limits) Validate() error {
	var errs []error
	if l.MaxLabelsPerSeries < 1 {
		errs = append(errs, fmt.Errorf("-ingest.max-labels-per-series: %d, must be at least 1", l.MaxLabelsPerSeries))
	}
	if l.MaxLabelNameLength < 1 || l.MaxLabelValueLength < 1 {
		errs = append(errs, errors.New("-ingest.max-label-name-length and -ingest.max-label-value-length must be at least 1"))
	}
	if l.MaxLineBytes < 1 {
		errs = append(errs, fmt.Errorf("-ingest.max-line-bytes: %d, must be at least 1", l.MaxLineBytes))
	}
	if l.MaxSampleAge < 0 || l.MaxFutureSkew < 0 {
		errs = append(errs, errors.New("-ingest.max-sample-age and -ingest.max-future-skew must not be negative"))
	}
	return errors.Join(errs...)
}

// rejection is why a series, or some of its samples, was not accepted.
// reason is a short metric label; msg names the field and the limit.
type rejection struct {
	reason string
	msg    string
}

func (r *rejection) Error() string { return r.msg }

func reject(reason, format string, args ...any) *rejection {
	return &rejection{reason: reason, msg: fmt.Sprintf(format, args...)}
}

// checkSeries validates the labels of s. Labels must already be sorted.
func (l *Limits) checkSeries(s *store.Series) *rejection {
	if s.Labels.Len() > l.MaxLabelsPerSeries {
		return reject("too_many_labels", "series %s has %d labels, the limit is %d (-ingest.max-labels-per-series)", abbreviate(s.Labels), s.Labels.Len(), l.MaxLabelsPerSeries)
	}
	if s.Labels.Get(labels.MetricName) == "" {
		return reject("missing_metric_name", "series %s has no metric name (label __name__)", abbreviate(s.Labels))
	}
	return l.checkLabels("series", s.Labels)
}

// checkLabels validates each label of ls, a series' or a log stream's
// (what says which, for messages). ls must be sorted.
func (l *Limits) checkLabels(what string, ls labels.Labels) *rejection {
	var bad *rejection
	prev := ""
	ls.Range(func(lb labels.Label) {
		switch {
		case bad != nil:
		case lb.Name == prev:
			bad = reject("duplicate_label", "%s %s has label %q twice", what, abbreviate(ls), lb.Name)
		case lb.Name == labels.MetricName && !isLegacyMetricName(lb.Value):
			bad = reject("invalid_metric_name", "metric name %q is not valid: want [a-zA-Z_:][a-zA-Z0-9_:]*", truncate(lb.Value))
		case lb.Name != labels.MetricName && !isLegacyLabelName(lb.Name):
			bad = reject("invalid_label_name", "label name %q of %s %s is not valid: want [a-zA-Z_][a-zA-Z0-9_]*", truncate(lb.Name), what, abbreviate(ls))
		case len(lb.Name) > l.MaxLabelNameLength:
			bad = reject("label_name_too_long", "label name %q is %d bytes long, the limit is %d (-ingest.max-label-name-length)", truncate(lb.Name), len(lb.Name), l.MaxLabelNameLength)
		case len(lb.Value) > l.MaxLabelValueLength:
			bad = reject("label_value_too_long", "value of label %q of %s %s is %d bytes long, the limit is %d (-ingest.max-label-value-length)", lb.Name, what, abbreviate(ls), len(lb.Value), l.MaxLabelValueLength)
		case !utf8.ValidString(lb.Value):
			bad = reject("invalid_label_value", "value of label %q is not valid UTF-8", lb.Name)
		}
		prev = lb.Name
	})
	return bad
}

// timeWindow is a range of sample timestamps, in ms, inclusive.
type timeWindow struct{ minT, maxT int64 }

// window is the accepted time range of samples at now: -ingest.max-sample-age
// back (any age when 0), -ingest.max-future-skew ahead. A request computes
// it once for all its samples.
func (l *Limits) window(now time.Time) timeWindow {
	w := timeWindow{minT: math.MinInt64, maxT: now.Add(l.MaxFutureSkew).UnixMilli()}
	if l.MaxSampleAge > 0 {
		w.minT = now.Add(-l.MaxSampleAge).UnixMilli()
	}
	return w
}

// plainInWindow reports whether s holds no native histograms (which
// admission checks for more than time) and only samples inside the
// accepted time window: whether admission can reject nothing of it.
func (l *Limits) plainInWindow(s *store.Series, w timeWindow) bool {
	if len(s.Histograms) > 0 {
		return false
	}
	for _, smp := range s.Samples {
		if smp.T < w.minT || smp.T > w.maxT {
			return false
		}
	}
	return true
}

// filterSamples drops samples outside w, the accepted time window, from s
// in place and reports the first rejection, if any.
func (l *Limits) filterSamples(s *store.Series, w timeWindow) *rejection {
	var first *rejection
	kept := s.Samples[:0]
	for _, smp := range s.Samples {
		switch {
		case smp.T < w.minT:
			if first == nil {
				first = reject("sample_too_old", "sample of series %s at %s is older than %s (-ingest.max-sample-age)", abbreviate(s.Labels), time.UnixMilli(smp.T).UTC().Format(time.RFC3339), l.MaxSampleAge)
			}
		case smp.T > w.maxT:
			if first == nil {
				first = reject("sample_too_new", "sample of series %s at %s is more than %s in the future (-ingest.max-future-skew)", abbreviate(s.Labels), time.UnixMilli(smp.T).UTC().Format(time.RFC3339), l.MaxFutureSkew)
			}
		default:
			kept = append(kept, smp)
		}
	}
	s.Samples = kept
	return first
}

func isLegacyMetricName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func isLegacyLabelName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// abbreviate renders labels for an error message, cut to a readable size.
func abbreviate(ls labels.Labels) string { return truncate(ls.String()) }

func truncate(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
