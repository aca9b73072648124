package query

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// maxPointsPerSeries is Prometheus' bound on the steps of a range query.
const maxPointsPerSeries = 11000

// The default bounds of optional time ranges, as in Prometheus' API.
var (
	minTime = time.Unix(math.MinInt64/1000+62135596801, 0).UTC()
	maxTime = time.Unix(math.MaxInt64/1000-62135596801, 999999999).UTC()

	minTimeFormatted = minTime.Format(time.RFC3339Nano)
	maxTimeFormatted = maxTime.Format(time.RFC3339Nano)
)

// timeParam parses the request's parameter name, or returns def when the
// parameter is absent.
func timeParam(r *http.Request, name string, def time.Time) (time.Time, error) {
	s := r.FormValue(name)
	if s == "" {
		return def, nil
	}
	t, err := parseTime(s)
	if err != nil {
		return time.Time{}, badParam(name, err)
	}
	return t, nil
}

// parseTime accepts Unix seconds with up to millisecond precision, or
// RFC 3339, as Prometheus does.
func parseTime(s string) (time.Time, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		sec, frac := math.Modf(f)
		frac = math.Round(frac*1000) / 1000
		return time.Unix(int64(sec), int64(frac*float64(time.Second))).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	// time.Parse handles only four-digit years; accept our own bounds.
	switch s {
	case minTimeFormatted:
		return minTime, nil
	case maxTimeFormatted:
		return maxTime, nil
	}
	return time.Time{}, fmt.Errorf("cannot parse %q to a valid timestamp", s)
}

// parseDuration accepts float seconds or a Prometheus duration like "1m30s".
func parseDuration(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		ns := f * float64(time.Second)
		if ns > math.MaxInt64 || ns < math.MinInt64 {
			return 0, fmt.Errorf("cannot parse %q to a valid duration. It overflows int64", s)
		}
		return time.Duration(ns), nil
	}
	if d, err := model.ParseDuration(s); err == nil {
		return time.Duration(d), nil
	}
	return 0, fmt.Errorf("cannot parse %q to a valid duration", s)
}

// limitParam parses the limit parameter; 0 means no limit.
func limitParam(r *http.Request) (int, error) {
	s := r.FormValue("limit")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, badParam("limit", err)
	}
	if n < 0 {
		return 0, badParam("limit", errors.New("limit must be non-negative"))
	}
	return n, nil
}

// matchersParam parses every match[] parameter. Each selector must have a
// matcher that rejects the empty string, or it would select everything.
func matchersParam(p parser.Parser, r *http.Request) ([][]*labels.Matcher, error) {
	sets, err := p.ParseMetricSelectors(r.Form["match[]"])
	if err != nil {
		return nil, badParam("match[]", err)
	}
	for _, ms := range sets {
		if !selective(ms) {
			return nil, badParam("match[]", errors.New("match[] must contain at least one non-empty matcher"))
		}
	}
	return sets, nil
}

func selective(ms []*labels.Matcher) bool {
	for _, m := range ms {
		if m != nil && !m.Matches("") {
			return true
		}
	}
	return false
}

// badParam is a bad_data error that names the parameter, as Prometheus does.
func badParam(name string, err error) *apiError {
	return &apiError{typ: errBadData, err: fmt.Errorf("invalid parameter %q: %w", name, err)}
}
