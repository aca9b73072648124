package head

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/cespare/xxhash/v2"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"

	"github.com/cairn-dev/cairn/store"
)

// Config configures the head.
type Config struct {
	// Window is how far back the head holds samples; 0 disables it.
	Window time.Duration
	// FutureSkew is how far ahead of the clock ingest accepts samples
	// (-ingest.max-future-skew); set by the program, not by a flag.
	FutureSkew time.Duration
	// Dir holds the TSDB blocks and memory-mapped chunks, one directory
	// per tenant; it is emptied at start. Empty means a new temporary
	// directory, removed when Run returns.
	Dir string
}

// RegisterFlags registers the head's flags.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.DurationVar(&c.Window, "query.head.window", 0,
		"Keep this much recent metrics data in the query role's memory, replayed from and kept up to date with the metrics topic, and answer queries over it without ClickHouse; 0 disables. The topic's retention must cover it.")
	fs.StringVar(&c.Dir, "query.head.dir", "",
		"Directory for the head's blocks and memory-mapped chunks (-query.head.window), emptied at start; empty means a new temporary directory, removed at exit.")
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.Window < 0 {
		return errors.New("-query.head.window must not be negative")
	}
	if c.Window > 0 && c.Window < time.Minute {
		return fmt.Errorf("-query.head.window=%s: must be at least 1m, or 0 to disable the head", c.Window)
	}
	return nil
}

// Head holds recent samples of every tenant. It is safe for concurrent
// use.
type Head struct {
	cfg    Config
	temp   bool // cfg.Dir is ours to remove
	logger *slog.Logger

	mu      sync.RWMutex
	tenants map[string]*tsdb.DB
	closed  bool

	from    atomic.Int64 // complete from here on; math.MaxInt64 until Ready
	invalid atomic.Bool  // set by Invalidate: never ready again

	appended, refused, tenantsCreated *metrics.Counter
	invalidated                       *metrics.Gauge
}

// New returns an empty head, not yet Ready, with its metrics in set.
func New(cfg Config, logger *slog.Logger, set *metrics.Set) (*Head, error) {
	temp := cfg.Dir == ""
	if temp {
		dir, err := os.MkdirTemp("", "cairn-head-")
		if err != nil {
			return nil, fmt.Errorf("create head directory: %w", err)
		}
		cfg.Dir = dir
	}
	if err := emptyDir(cfg.Dir); err != nil {
		return nil, err
	}
	h := &Head{
		cfg: cfg, temp: temp, logger: logger, tenants: map[string]*tsdb.DB{},
		appended:       set.NewCounter("cairn_head_samples_appended_total"),
		refused:        set.NewCounter("cairn_head_samples_refused_total"),
		tenantsCreated: set.NewCounter("cairn_head_tenants_created_total"),
		invalidated:    set.NewGauge("cairn_head_invalidated", nil),
	}
	h.from.Store(math.MaxInt64)
	set.NewGauge("cairn_head_series", func() float64 {
		h.mu.RLock()
		defer h.mu.RUnlock()
		var n uint64
		for _, t := range h.tenants {
			n += t.Head().NumSeries()
		}
		return float64(n)
	})
	return h, nil
}

// Window is how far back the head holds samples.
func (h *Head) Window() time.Duration { return h.cfg.Window }

// Ready declares the head complete for samples from from (ms) on.
func (h *Head) Ready(from int64) {
	if h.invalid.Load() {
		return
	}
	h.from.Store(from)
	h.logger.Info("head ready", "from", time.UnixMilli(from).UTC())
}

// Invalidate declares the head incomplete for good, so that queries read
// the store only: it missed data, for reason.
func (h *Head) Invalidate(reason string) {
	if h.invalid.Swap(true) {
		return
	}
	h.from.Store(math.MaxInt64)
	h.invalidated.Set(1)
	h.logger.Error("head invalidated: queries read ClickHouse only", "reason", reason)
}

// From is the time (ms) from which the head holds every sample; ok is
// false until Ready.
func (h *Head) From() (from int64, ok bool) {
	f := h.from.Load()
	if h.invalid.Load() || f == math.MaxInt64 {
		return 0, false
	}
	// Retention moves the start forward after Ready.
	return max(f, time.Now().Add(-h.cfg.Window).UnixMilli()), true
}

// tenant returns tenant's TSDB, creating it.
func (h *Head) tenant(tenant string) (*tsdb.DB, error) {
	h.mu.RLock()
	t := h.tenants[tenant]
	h.mu.RUnlock()
	if t != nil {
		return t, nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if t := h.tenants[tenant]; t != nil {
		return t, nil
	}
	if h.closed {
		return nil, errors.New("head closed")
	}
	window := h.cfg.Window.Milliseconds()
	opts := tsdb.DefaultOptions()
	opts.WALSegmentSize = -1 // Kafka is the log: a restart replays it
	opts.RetentionDuration = window
	// Samples older than their series' newest, as from several senders,
	// go to out-of-order chunks rather than being refused; the newest may
	// be FutureSkew ahead of the clock that From follows.
	opts.OutOfOrderTimeWindow = window + h.cfg.FutureSkew.Milliseconds()
	// Blocks of two hours are merged into ones of up to 18 h, within
	// Window, as Prometheus does: a long query reads fewer blocks.
	opts.MaxBlockDuration = max(opts.MinBlockDuration, window)
	// One directory per tenant, named by a hash: tenant IDs may hold
	// characters a file name cannot.
	dir := filepath.Join(h.cfg.Dir, strconv.FormatUint(xxhash.Sum64String(tenant), 16))
	// Prometheus' TSDB logs every compaction at info; only its warnings
	// and errors are worth an operator's attention here.
	tlog := slog.New(warnAndUp{h.logger.Handler()}).With("tenant", tenant)
	t, err := tsdb.Open(dir, tlog, nil, opts, nil)
	if err != nil {
		return nil, fmt.Errorf("open head of tenant %q: %w", tenant, err)
	}
	h.tenants[tenant] = t
	h.tenantsCreated.Inc()
	return t, nil
}

// Append adds series' samples and native histograms. A sample the head
// refuses (out of order, or too old) is counted and skipped; Append fails
// only when a tenant's head cannot be created or committed to.
func (h *Head) Append(ctx context.Context, series []store.Series) error {
	apps := map[string]storage.Appender{}
	for i := range series {
		s := &series[i]
		app := apps[s.Tenant]
		if app == nil {
			t, err := h.tenant(s.Tenant)
			if err != nil {
				for _, a := range apps {
					_ = a.Rollback() // an open appender holds back isolation
				}
				return err
			}
			app = t.Appender(ctx)
			apps[s.Tenant] = app
		}
		// The decoder's labels may point into a whole Kafka message; a
		// series the TSDB creates keeps its own copy of them instead.
		var ref storage.SeriesRef
		ls := s.Labels
		if gr, ok := app.(storage.GetRef); ok {
			if ref, ls = gr.GetRef(s.Labels, s.Labels.Hash()); ref == 0 {
				ls = s.Labels.Copy()
			}
		}
		var ok, refused int
		for _, smp := range s.Samples {
			r, err := app.Append(ref, ls, smp.T, smp.V)
			if err != nil {
				refused++
				continue
			}
			ref = r
			ok++
		}
		for _, hs := range s.Histograms {
			r, err := app.AppendHistogram(ref, ls, hs.T, hs.H, hs.FH)
			if err != nil {
				refused++
				continue
			}
			ref = r
			ok++
		}
		h.appended.Add(ok)
		h.refused.Add(refused)
	}
	var errs []error
	for tenant, app := range apps {
		if err := app.Commit(); err != nil {
			errs = append(errs, fmt.Errorf("commit to head of tenant %q: %w", tenant, err))
		}
	}
	return errors.Join(errs...)
}

// Querier returns a querier over tenant's samples in [mint, maxt]. A
// tenant without samples in the head gets an empty one.
func (h *Head) Querier(tenant string, mint, maxt int64) (storage.Querier, error) {
	h.mu.RLock()
	t := h.tenants[tenant]
	h.mu.RUnlock()
	if t == nil {
		return storage.NoopQuerier(), nil
	}
	q, err := t.Querier(mint, maxt)
	if err != nil {
		return nil, fmt.Errorf("head querier of tenant %q: %w", tenant, err)
	}
	return q, nil
}

// Close closes every tenant's TSDB, and removes Dir when it is a
// temporary directory of the head's own. Until then each TSDB compacts its
// in-memory head into blocks in Dir and deletes blocks older than Window
// in the background.
func (h *Head) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	var errs []error
	for tenant, t := range h.tenants {
		if err := t.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close head of tenant %q: %w", tenant, err))
		}
	}
	h.tenants = map[string]*tsdb.DB{}
	h.closed = true
	if h.temp {
		if err := os.RemoveAll(h.cfg.Dir); err != nil {
			errs = append(errs, fmt.Errorf("remove head directory: %w", err))
		}
	}
	return errors.Join(errs...)
}

// warnAndUp passes on records of level Warn and above.
type warnAndUp struct{ slog.Handler }

func (w warnAndUp) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && w.Handler.Enabled(ctx, l)
}

func (w warnAndUp) WithAttrs(as []slog.Attr) slog.Handler { return warnAndUp{w.Handler.WithAttrs(as)} }

func (w warnAndUp) WithGroup(name string) slog.Handler { return warnAndUp{w.Handler.WithGroup(name)} }

// dirMarker names the file that marks a directory as a head's, which New
// may empty: a directory holding anything else is refused rather than
// wiped.
const dirMarker = ".cairn-head"

// emptyDir empties dir, creating it, if it is missing, empty or marked as a
// head's, and marks it.
func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("head directory: %w", err)
	}
	if len(entries) > 0 {
		if _, err := os.Stat(filepath.Join(dir, dirMarker)); err != nil {
			return fmt.Errorf("-query.head.dir=%s holds files of something else than Cairn's head (no %s file): refusing to empty it", dir, dirMarker)
		}
		for _, e := range entries {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("empty head directory: %w", err)
			}
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create head directory: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, dirMarker), []byte("Cairn empties this directory at start (-query.head.dir).\n"), 0o644); err != nil {
		return fmt.Errorf("mark head directory: %w", err)
	}
	return nil
}
