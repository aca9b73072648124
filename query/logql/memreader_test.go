package logql

import (
	"cmp"
	"context"
	"regexp"
	"slices"
	"strings"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/cairn-dev/cairn/store"
)

// memReader is a Reader over entries in memory with the store's
// semantics, for tests without ClickHouse.
type memReader struct {
	entries []store.LogEntry
	reads   int // ReadLogs calls
	counts  int // CountLogs calls
}

func (m *memReader) selected(q store.LogQuery) []store.LogEntry {
	var out []store.LogEntry
next:
	for _, e := range m.entries {
		if e.Tenant != q.Tenant || e.T < q.Start || e.T > q.End {
			continue
		}
		for _, mt := range q.Matchers {
			if !mt.Matches(e.Stream.Get(mt.Name)) {
				continue next
			}
		}
		for _, f := range q.LineFilters {
			var ok bool
			switch f.Op {
			case store.LineContains, store.LineNotContains:
				ok = strings.Contains(e.Line, f.Value) == (f.Op == store.LineContains)
			default:
				ok = regexp.MustCompile(f.Value).MatchString(e.Line) == (f.Op == store.LineMatches)
			}
			if !ok {
				continue next
			}
		}
		out = append(out, e)
	}
	return out
}

func (m *memReader) ReadLogs(_ context.Context, q store.LogQuery) ([]store.LogEntry, error) {
	m.reads++
	es := m.selected(q)
	slices.SortStableFunc(es, func(a, b store.LogEntry) int {
		c := cmp.Compare(a.T, b.T)
		if q.Direction == store.Backward {
			c = -c
		}
		if c != 0 {
			return c
		}
		if c = cmp.Compare(store.Fingerprint(a.Stream), store.Fingerprint(b.Stream)); c != 0 {
			return c
		}
		return strings.Compare(a.Line, b.Line)
	})
	if q.Limit > 0 && len(es) > q.Limit {
		es = es[:q.Limit]
	}
	return es, nil
}

func (m *memReader) CountLogs(_ context.Context, q store.LogQuery, step int64) ([]store.StreamCounts, error) {
	m.counts++
	phase := q.End % step
	byStream := map[uint64]*store.StreamCounts{}
	var fps []uint64
	for _, e := range m.selected(q) {
		fp := store.Fingerprint(e.Stream)
		sc, ok := byStream[fp]
		if !ok {
			sc = &store.StreamCounts{Stream: store.StreamRef{Fingerprint: fp, Labels: e.Stream}}
			byStream[fp] = sc
			fps = append(fps, fp)
		}
		t := (e.T+step-1-phase)/step*step + phase
		i := slices.IndexFunc(sc.Points, func(p store.CountPoint) bool { return p.T == t })
		if i < 0 {
			sc.Points = append(sc.Points, store.CountPoint{T: t})
			i = len(sc.Points) - 1
		}
		sc.Points[i].Count++
		sc.Points[i].Bytes += uint64(len(e.Line))
	}
	var out []store.StreamCounts
	for _, fp := range fps {
		sc := byStream[fp]
		slices.SortFunc(sc.Points, func(a, b store.CountPoint) int { return cmp.Compare(a.T, b.T) })
		out = append(out, *sc)
	}
	slices.SortFunc(out, func(a, b store.StreamCounts) int { return labels.Compare(a.Stream.Labels, b.Stream.Labels) })
	return out, nil
}
