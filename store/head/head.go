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
	"github.com/prometheus/prometheus/model/labels"
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
	// LabelsInterval is the longest receivers go without sending a
	// series' labels, sending references in between
	// (-ingest.labels-interval); set by the program, not by a flag. The
	// head keeps a series' labels for at least this long after it last
	// appended to the series (labelsTTL).
	LabelsInterval time.Duration
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
	tenants map[string]*tenantHead
	closed  bool

	from atomic.Int64 // complete from here on; math.MaxInt64 until Ready
	// gap is just after the newest sample the head had to drop because
	// it could not resolve its reference: the head is complete only
	// after it, whatever Ready said. Receivers that send labels less
	// often than the head assumes (-ingest.labels-interval), or a tail
	// that fell behind the head's memory of labels, move it.
	gap     atomic.Int64
	invalid atomic.Bool // set by Invalidate: never ready again

	// now is the wall clock that ages the labels of references; tests
	// move it.
	now func() time.Time

	appended, refused, unresolved, tenantsCreated *metrics.Counter
	invalidated                                   *metrics.Gauge
}

// tenantHead is one tenant's TSDB and the labels of its recent series by
// Cairn fingerprint, which resolve references (store.Series.IsRef). The
// map is per tenant: the same labels in two tenants have the same
// fingerprint.
type tenantHead struct {
	db *tsdb.DB

	mu     sync.Mutex // guards labels and swept: partitions append concurrently
	labels map[uint64]labelsEntry
	swept  int64 // when expired entries were last dropped, ms
}

// labelsEntry is the labels of a series, in the TSDB's own copy (never
// a Kafka message's memory, which is reused), and when the head last
// appended to the series, by the wall clock in ms.
type labelsEntry struct {
	labels labels.Labels
	seen   int64
}

// labelsTTL is how long an entry of tenantHead.labels outlives its
// series' last append: Window, which is what the head holds, but at least
// an hour more than LabelsInterval, however short Window is. Receivers
// send references for up to LabelsInterval after the labels, and the
// tail's lag may grow in between; the hour also covers the default
// -ingest.labels-interval (10m) when LabelsInterval is not set.
func (c *Config) labelsTTL() time.Duration {
	return max(c.Window, c.LabelsInterval+time.Hour)
}

// sweepEvery bounds how often Append looks for expired entries of
// tenantHead.labels: a pass visits every entry of a tenant, so it is
// amortised over a minute of appends.
const sweepEvery = time.Minute

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
		cfg: cfg, temp: temp, logger: logger, tenants: map[string]*tenantHead{}, now: time.Now,
		appended:       set.NewCounter("cairn_head_samples_appended_total"),
		refused:        set.NewCounter("cairn_head_samples_refused_total"),
		unresolved:     set.NewCounter("cairn_head_unresolved_samples_total"),
		tenantsCreated: set.NewCounter("cairn_head_tenants_created_total"),
		invalidated:    set.NewGauge("cairn_head_invalidated", nil),
	}
	h.from.Store(math.MaxInt64)
	set.NewGauge("cairn_head_series", func() float64 {
		h.mu.RLock()
		defer h.mu.RUnlock()
		var n uint64
		for _, t := range h.tenants {
			n += t.db.Head().NumSeries()
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
	// Retention moves the start forward after Ready, and so does a
	// reference the head could not resolve.
	return max(f, h.gap.Load(), time.Now().Add(-h.cfg.Window).UnixMilli()), true
}

// tenant returns tenant's TSDB and labels, creating them.
func (h *Head) tenant(tenant string) (*tenantHead, error) {
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
	db, err := tsdb.Open(dir, tlog, nil, opts, nil)
	if err != nil {
		return nil, fmt.Errorf("open head of tenant %q: %w", tenant, err)
	}
	t = &tenantHead{db: db, labels: map[uint64]labelsEntry{}}
	h.tenants[tenant] = t
	h.tenantsCreated.Inc()
	return t, nil
}

// Append adds series' samples and native histograms. A reference
// (store.Series.IsRef) appends under the labels its tenant's head last
// saw for its fingerprint; one the head has no labels for is counted in
// cairn_head_unresolved_samples_total and skipped (the receiver sends
// its labels again within -ingest.labels-interval). A sample the head
// refuses (out of order, or too old) is counted and skipped too; Append
// fails only when a tenant's head cannot be created or committed to.
func (h *Head) Append(ctx context.Context, series []store.Series) error {
	now := h.now().UnixMilli()
	type open struct {
		t   *tenantHead
		app storage.Appender
	}
	opens := map[string]open{}
	for i := range series {
		s := &series[i]
		o, ok := opens[s.Tenant]
		if !ok {
			t, err := h.tenant(s.Tenant)
			if err != nil {
				for _, o := range opens {
					_ = o.app.Rollback() // an open appender holds back isolation
				}
				return err
			}
			t.sweep(now, h.cfg.labelsTTL())
			o = open{t: t, app: t.db.Appender(ctx)}
			opens[s.Tenant] = o
		}
		ref, ls, ok := o.t.resolve(o.app, s, now)
		if !ok {
			h.unresolved.Add(len(s.Samples) + len(s.Histograms))
			h.dropped(s)
			continue
		}
		var appended, refused int
		for _, smp := range s.Samples {
			r, err := o.app.Append(ref, ls, smp.T, smp.V)
			if err != nil {
				refused++
				continue
			}
			ref = r
			appended++
		}
		for _, hs := range s.Histograms {
			r, err := o.app.AppendHistogram(ref, ls, hs.T, hs.H, hs.FH)
			if err != nil {
				refused++
				continue
			}
			ref = r
			appended++
		}
		h.appended.Add(appended)
		h.refused.Add(refused)
	}
	var errs []error
	for tenant, o := range opens {
		if err := o.app.Commit(); err != nil {
			errs = append(errs, fmt.Errorf("commit to head of tenant %q: %w", tenant, err))
		}
	}
	return errors.Join(errs...)
}

// resolve returns the labels to append s under and the TSDB's reference
// to the series, 0 if it has none yet, and remembers the labels under
// s's fingerprint as seen at now (ms). ok is false for a reference whose
// labels t does not hold.
func (t *tenantHead) resolve(app storage.Appender, s *store.Series, now int64) (ref storage.SeriesRef, ls labels.Labels, ok bool) {
	fp := s.ResolvedFingerprint()
	t.mu.Lock()
	defer t.mu.Unlock()
	ls = s.Labels
	own := false // ls is memory of the head's own, not of a Kafka message
	if s.IsRef() {
		e, known := t.labels[fp]
		if !known {
			return 0, labels.EmptyLabels(), false
		}
		ls, own = e.labels, true
	}
	// A series the TSDB holds comes with the TSDB's copy of its labels,
	// which the map then shares; a new one gets a copy, which the TSDB
	// keeps.
	if gr, isGetRef := app.(storage.GetRef); isGetRef {
		var kept labels.Labels
		if ref, kept = gr.GetRef(ls, ls.Hash()); ref != 0 {
			ls, own = kept, true
		}
	}
	if !own {
		ls = ls.Copy()
	}
	t.labels[fp] = labelsEntry{labels: ls, seen: now}
	return ref, ls, true
}

// sweep drops the labels of series not appended to for ttl, at most once
// every sweepEvery, so that the map holds about the series of the last
// ttl rather than every series ever seen. Every append, labelled or
// reference, refreshes its entry by the wall clock rather than by sample
// time: a sender catching up on samples older than Window keeps its
// series' labels while it moves on to recent ones. (The replay at start
// touches every entry at once, so series that ended early in it stay up
// to ttl longer.) Dropping is safe: a series not appended to for ttl,
// longer than LabelsInterval, gets its labels sent again before any
// further reference.
func (t *tenantHead) sweep(now int64, ttl time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if now-t.swept < sweepEvery.Milliseconds() {
		return
	}
	t.swept = now
	for fp, e := range t.labels {
		if now-e.seen > ttl.Milliseconds() {
			delete(t.labels, fp)
		}
	}
}

// dropped moves gap past the samples of s, which the head does not hold.
func (h *Head) dropped(s *store.Series) {
	newest := int64(math.MinInt64)
	for _, p := range s.Samples {
		newest = max(newest, p.T)
	}
	for _, p := range s.Histograms {
		newest = max(newest, p.T)
	}
	for {
		g := h.gap.Load()
		if newest < g || h.gap.CompareAndSwap(g, newest+1) {
			return
		}
	}
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
	q, err := t.db.Querier(mint, maxt)
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
		if err := t.db.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close head of tenant %q: %w", tenant, err))
		}
	}
	h.tenants = map[string]*tenantHead{}
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
