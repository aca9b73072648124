package ingest

import (
	"time"

	"github.com/cairn-dev/cairn/store"
)

// filterHistograms drops the native histograms of s that are too old or
// too far ahead, as filterSamples does samples, and those that are not
// valid histograms (bucket counts that do not add up to the count, spans
// that do not match the buckets, a schema out of range): Prometheus' own
// rules (histogram.Validate). It returns the first rejection.
func (l *Limits) filterHistograms(s *store.Series, w timeWindow) *rejection {
	if len(s.Histograms) == 0 {
		return nil
	}
	var first *rejection
	note := func(r func() *rejection) { // builds only the first message
		if first == nil {
			first = r()
		}
	}
	kept := s.Histograms[:0]
	for _, h := range s.Histograms {
		switch {
		case h.T < w.minT:
			note(func() *rejection {
				return reject("sample_too_old", "histogram of series %s at %s is older than %s (-ingest.max-sample-age)", abbreviate(s.Labels), at(h.T), l.MaxSampleAge)
			})
		case h.T > w.maxT:
			note(func() *rejection {
				return reject("sample_too_new", "histogram of series %s at %s is more than %s in the future (-ingest.max-future-skew)", abbreviate(s.Labels), at(h.T), l.MaxFutureSkew)
			})
		case (h.H == nil) == (h.FH == nil):
			note(func() *rejection {
				return reject("invalid_histogram", "histogram of series %s at %s has neither integer nor float counts", abbreviate(s.Labels), at(h.T))
			})
		default:
			if err := h.Validate(); err != nil {
				note(func() *rejection {
					return reject("invalid_histogram", "histogram of series %s at %s: %v", abbreviate(s.Labels), at(h.T), err)
				})
				continue
			}
			kept = append(kept, h)
		}
	}
	s.Histograms = kept
	return first
}

// at formats a sample's timestamp for messages.
func at(t int64) string { return time.UnixMilli(t).UTC().Format(time.RFC3339) }

// histogramBytes estimates what the histograms of s take in a metrics
// message.
func histogramBytes(s *store.Series) int {
	n := 0
	for _, h := range s.Histograms {
		n += 64
		if h.H != nil {
			n += 10 * (len(h.H.PositiveBuckets) + len(h.H.NegativeBuckets) + len(h.H.CustomValues))
		} else if h.FH != nil {
			n += 10 * (len(h.FH.PositiveBuckets) + len(h.FH.NegativeBuckets) + len(h.FH.CustomValues))
		}
	}
	return n
}

// written counts the float samples and native histograms of series.
func written(series []store.Series) (samples, histograms int) {
	for i := range series {
		samples += len(series[i].Samples)
		histograms += len(series[i].Histograms)
	}
	return samples, histograms
}
