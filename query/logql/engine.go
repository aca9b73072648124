package logql

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	promparser "github.com/prometheus/prometheus/promql/parser"

	"github.com/cairn-dev/cairn/store"
)

// Reader reads log entries; *store.Client implements it.
type Reader interface {
	// ReadLogs returns the entries q selects, in q.Direction, at most
	// q.Limit.
	ReadLogs(ctx context.Context, q store.LogQuery) ([]store.LogEntry, error)
	// CountLogs counts the entries q selects and their bytes per stream
	// and step, the steps aligned so that q.End ends one.
	CountLogs(ctx context.Context, q store.LogQuery, step int64) ([]store.StreamCounts, error)
}

// Limits bound the work of one query; 0 means no bound.
type Limits struct {
	// MaxScanLines bounds the lines one query reads into Go: those of
	// pipelines with stages ClickHouse cannot run.
	MaxScanLines int
	// MaxSeries bounds the series of a metric query's result.
	MaxSeries int
}

// Engine evaluates parsed queries over a Reader.
type Engine struct {
	reader Reader
	limits Limits
	batch  int // entries per ReadLogs call of a scan
}

// NewEngine returns an engine that reads from r within limits.
func NewEngine(r Reader, limits Limits) *Engine {
	return &Engine{reader: r, limits: limits, batch: scanBatch}
}

// Params are what a query is evaluated over.
type Params struct {
	Tenant string
	// Start and End bound a range query (ns): log queries select
	// [Start, End), metric queries are evaluated at Start, Start+Step, …
	// up to End. An instant query has Step 0 and Start == End.
	Start, End int64
	Step       time.Duration
	Limit      int             // entries of a log query
	Direction  store.Direction // of a log query
	// Categorize keeps a log query's streams to their stream labels and
	// returns structured metadata and parsed labels per entry.
	Categorize bool
}

// Result is a query's answer: Streams for a log query, a promql.Matrix
// (range) or promql.Vector (instant) for a metric query.
type Result struct {
	Streams []Stream
	Value   promparser.Value
	Stats   Stats
}

// Stream is the entries of one label set.
type Stream struct {
	Labels  labels.Labels
	Entries []Entry
}

// Entry is one log line of a result.
type Entry struct {
	T    int64 // ns
	Line string
	// With Params.Categorize, the entry's own labels.
	Metadata, Parsed labels.Labels
}

// Stats describe the work of a query.
type Stats struct {
	LinesScanned int64 // lines read into Go, or counted in ClickHouse
	BytesScanned int64 // their bytes
	LinesKept    int64 // lines that passed the Go pipeline
}

// ErrInstantLogQuery is Loki's answer to a log query at one instant.
var ErrInstantLogQuery = errors.New("log queries are not supported as an instant query type, please change your query to a range query type")

// Query evaluates e.
func (e *Engine) Query(ctx context.Context, expr Expr, p Params) (*Result, error) {
	switch expr := expr.(type) {
	case *LogExpr:
		if p.Step == 0 && p.Start == p.End {
			return nil, ErrInstantLogQuery
		}
		return e.logQuery(ctx, expr, p)
	case SampleExpr:
		return e.metricQuery(ctx, expr, p)
	}
	return nil, fmt.Errorf("unsupported expression %T", expr)
}

// scanBatch is how many entries one ReadLogs call of a scan asks for.
const scanBatch = 5000

// scan reads the entries q selects in q.Direction, a batch at a time,
// and calls each for them until it returns false. A batch ends before the
// timestamp of its last entry, and the next starts at that timestamp, so
// that entries sharing a timestamp are read together.
func (e *Engine) scan(ctx context.Context, q store.LogQuery, st *Stats, each func(store.LogEntry) bool) error {
	batch := e.batch
	for {
		q.Limit = batch
		es, err := e.reader.ReadLogs(ctx, q)
		if err != nil {
			return err
		}
		if err := e.account(st, es); err != nil {
			return err
		}
		n := len(es)
		if n == batch {
			for n > 0 && es[n-1].T == es[len(es)-1].T {
				n--
			}
			if n == 0 { // one timestamp fills the batch
				batch *= 2
				continue
			}
		}
		for _, en := range es[:n] {
			if !each(en) {
				return nil
			}
		}
		if len(es) < batch {
			return nil
		}
		if q.Direction == store.Backward {
			q.End = es[n].T
		} else {
			q.Start = es[n].T
		}
	}
}

// account adds entries read to the stats, within MaxScanLines.
func (e *Engine) account(st *Stats, es []store.LogEntry) error {
	st.LinesScanned += int64(len(es))
	for _, en := range es {
		st.BytesScanned += int64(len(en.Line))
	}
	if max := e.limits.MaxScanLines; max > 0 && st.LinesScanned > int64(max) {
		return &LimitError{Msg: fmt.Sprintf("the query would read more than %d log lines into memory (-loki.max-scan-lines); "+
			"narrow the time range, the stream selector, or add line filters before the parser", max)}
	}
	return nil
}
