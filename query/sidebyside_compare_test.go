package query

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// canonical is a query response reduced to what must agree between two
// Prometheus API servers: status, error type, result type, and each
// series' labels and points, with the labels in dropLabel removed.
type canonical struct {
	Status, ErrorType, ResultType string
	Series                        []canonicalSeries
}

type canonicalSeries struct {
	Metric string
	Points []point
}

type point struct {
	T float64
	V string
}

func (c canonical) empty() bool { return len(c.Series) == 0 }

// canonicalize decodes a query response. Series are sorted by labels
// unless ordered, when a vector's order is part of the answer (sort()).
func canonicalize(body []byte, drop string, ordered bool) (canonical, error) {
	var env struct {
		Status    string `json:"status"`
		ErrorType string `json:"errorType"`
		Data      struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return canonical{}, fmt.Errorf("decode response %q: %w", body, err)
	}
	c := canonical{Status: env.Status, ErrorType: env.ErrorType, ResultType: env.Data.ResultType}
	if env.Status != "success" {
		return c, nil
	}
	dec := json.NewDecoder(bytes.NewReader(env.Data.Result))
	dec.UseNumber()
	var err error
	switch c.ResultType {
	case "vector":
		var vs []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		}
		if err = dec.Decode(&vs); err == nil {
			for _, v := range vs {
				c.Series = append(c.Series, canonicalSeries{Metric: metricString(v.Metric, drop), Points: []point{toPoint(v.Value)}})
			}
		}
	case "matrix":
		var ms []struct {
			Metric map[string]string `json:"metric"`
			Values [][2]any          `json:"values"`
		}
		if err = dec.Decode(&ms); err == nil {
			for _, m := range ms {
				s := canonicalSeries{Metric: metricString(m.Metric, drop)}
				for _, v := range m.Values {
					s.Points = append(s.Points, toPoint(v))
				}
				c.Series = append(c.Series, s)
			}
		}
	case "scalar", "string":
		var v [2]any
		if err = dec.Decode(&v); err == nil {
			c.Series = []canonicalSeries{{Points: []point{toPoint(v)}}}
		}
	default:
		err = fmt.Errorf("unknown result type %q", c.ResultType)
	}
	if err != nil {
		return c, fmt.Errorf("decode %s result: %w", c.ResultType, err)
	}
	if !ordered || c.ResultType != "vector" {
		slices.SortFunc(c.Series, func(a, b canonicalSeries) int { return strings.Compare(a.Metric, b.Metric) })
	}
	return c, nil
}

func metricString(m map[string]string, drop string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		if k != drop {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.Quote(m[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func toPoint(v [2]any) point {
	var p point
	if n, ok := v[0].(json.Number); ok {
		p.T, _ = n.Float64()
	}
	p.V, _ = v[1].(string)
	return p
}

// diff describes the first difference between want and got, or returns
// "" when they agree: same series and timestamps, values within a
// relative tolerance of 1e-9.
func diff(want, got canonical) string {
	switch {
	case want.Status != got.Status || want.ErrorType != got.ErrorType:
		return fmt.Sprintf("status %s %s, want %s %s", got.Status, got.ErrorType, want.Status, want.ErrorType)
	case want.ResultType != got.ResultType:
		return fmt.Sprintf("result type %s, want %s", got.ResultType, want.ResultType)
	}
	for i := range max(len(want.Series), len(got.Series)) {
		if i >= len(got.Series) {
			return fmt.Sprintf("missing series %s", want.Series[i].Metric)
		}
		if i >= len(want.Series) {
			return fmt.Sprintf("extra series %s", got.Series[i].Metric)
		}
		w, g := want.Series[i], got.Series[i]
		if w.Metric != g.Metric {
			return fmt.Sprintf("series %d is %s, want %s", i, g.Metric, w.Metric)
		}
		if d := diffPoints(w.Points, g.Points); d != "" {
			return fmt.Sprintf("series %s: %s", w.Metric, d)
		}
	}
	return ""
}

func diffPoints(want, got []point) string {
	if len(want) != len(got) {
		return fmt.Sprintf("%d points, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if w.T != g.T {
			return fmt.Sprintf("point %d at %v, want %v", i, g.T, w.T)
		}
		if !closeValues(w.V, g.V) {
			return fmt.Sprintf("value at %v is %s, want %s", w.T, g.V, w.V)
		}
	}
	return ""
}

func closeValues(a, b string) bool {
	if a == b {
		return true
	}
	x, errA := strconv.ParseFloat(a, 64)
	y, errB := strconv.ParseFloat(b, 64)
	if errA != nil || errB != nil {
		return false // strings, or unparsable: only equal strings agree
	}
	if math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0) {
		return false // equal ones compared equal as strings
	}
	return math.Abs(x-y) <= 1e-9*math.Max(math.Abs(x), math.Abs(y))
}
