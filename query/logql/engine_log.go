package logql

import (
	"context"
	"slices"
	"strings"

	"github.com/cairn-dev/cairn/store"
)

// logQuery answers a log query: at most p.Limit entries in p.Direction.
func (e *Engine) logQuery(ctx context.Context, expr *LogExpr, p Params) (*Result, error) {
	plan := planLog(expr)
	q := store.LogQuery{
		Tenant: p.Tenant, Matchers: plan.matchers, LineFilters: plan.pushed,
		Start: p.Start, End: p.End - 1, Direction: p.Direction,
	}
	res := &Result{}
	g := newStreamGrouper(p.Categorize)
	pipeline := NewPipeline(plan.rest)
	if len(plan.rest) == 0 {
		q.Limit = p.Limit
		es, err := e.reader.ReadLogs(ctx, q)
		if err != nil {
			return nil, err
		}
		if err := e.account(&res.Stats, es); err != nil {
			return nil, err
		}
		for _, en := range es {
			pipeline.Process(en.T, en.Line, en.Stream, en.Metadata)
			g.add(pipeline, en.T)
		}
	} else {
		err := e.scan(ctx, q, &res.Stats, func(en store.LogEntry) bool {
			if pipeline.Process(en.T, en.Line, en.Stream, en.Metadata) {
				g.add(pipeline, en.T)
			}
			return p.Limit <= 0 || g.entries < p.Limit
		})
		if err != nil {
			return nil, err
		}
	}
	res.Stats.LinesKept = int64(g.entries)
	res.Streams = g.streams()
	return res, nil
}

// streamGrouper gathers processed lines into streams by label set.
type streamGrouper struct {
	categorize bool
	byKey      map[string]*Stream
	keys       []string
	entries    int
}

func newStreamGrouper(categorize bool) *streamGrouper {
	return &streamGrouper{categorize: categorize, byKey: map[string]*Stream{}}
}

func (g *streamGrouper) add(p *Pipeline, t int64) {
	en := Entry{T: t, Line: p.Line()}
	ls := p.Labels()
	if g.categorize {
		ls, en.Metadata, en.Parsed = p.Categorized()
	}
	key := ls.String()
	s, ok := g.byKey[key]
	if !ok {
		s = &Stream{Labels: ls}
		g.byKey[key] = s
		g.keys = append(g.keys, key)
	}
	s.Entries = append(s.Entries, en)
	g.entries++
}

// streams returns the streams sorted by their labels' text, as Loki
// sorts them.
func (g *streamGrouper) streams() []Stream {
	slices.SortFunc(g.keys, strings.Compare)
	out := make([]Stream, len(g.keys))
	for i, k := range g.keys {
		out[i] = *g.byKey[k]
	}
	return out
}
