package tenant

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// Overrides holds every tenant's limits: the defaults, replaced for some
// tenants by the overrides file, which Run reloads periodically. It is
// safe for concurrent use; For is lock-free.
//
// The file has the shape of Mimir's runtime configuration:
//
//	overrides:
//	  team-a:
//	    ingestion_rate: 50000    # per second; 0 means no limit
//	    ingestion_burst: 500000
//	    max_fetched_series: 20000
//	    max_range: 7d
//	    max_samples: 10000000
//	    timeout: 30s
//
// A limit left out keeps its default. An unknown field, a bad value or a
// bad tenant ID makes the whole file invalid: NewOverrides fails, and a
// reload keeps the last good file, logs the error and counts it.
type Overrides struct {
	cfg      OverridesConfig
	defaults Limits
	logger   *slog.Logger
	tenants  atomic.Pointer[map[string]Limits]
	last     []byte // the file as last loaded, to log changes only
	set      *metrics.Set
}

// NewOverrides returns the limits of defaults and, when cfg.File is set,
// of the overrides file, which it reads once: a bad file is an error
// naming the tenant and the field. It starts no goroutines.
func NewOverrides(cfg OverridesConfig, defaults Limits, logger *slog.Logger, set *metrics.Set) (*Overrides, error) {
	if logger == nil || set == nil {
		return nil, errors.New("overrides: logger and metrics set are required")
	}
	o := &Overrides{cfg: cfg, defaults: defaults, logger: logger.With("component", "overrides"), set: set}
	o.tenants.Store(&map[string]Limits{})
	if cfg.File != "" {
		if _, err := o.reload(); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// For returns the limits of tenant id.
func (o *Overrides) For(id string) Limits {
	if l, ok := (*o.tenants.Load())[id]; ok {
		return l
	}
	return o.defaults
}

// Run reloads the overrides file every -limits.overrides-period until ctx
// ends. It returns nil at once when there is no file.
func (o *Overrides) Run(ctx context.Context) error {
	if o.cfg.File == "" {
		return nil
	}
	t := time.NewTicker(o.cfg.Period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			changed, err := o.reload()
			switch {
			case err != nil:
				o.logger.Error("overrides_reload_failed", "file", o.cfg.File, "err", err)
			case changed:
				o.logger.Info("overrides_reloaded", "file", o.cfg.File, "tenants", len(*o.tenants.Load()))
			}
		}
	}
}

// reload reads and parses the file and, if it is valid, makes it
// current; otherwise the last good one stays. It counts the outcome in
// cairn_limits_overrides_reloads_total{result} and
// cairn_limits_overrides_last_reload_successful, and reports whether the
// file changed.
func (o *Overrides) reload() (bool, error) {
	data, err := os.ReadFile(o.cfg.File)
	var tenants map[string]Limits
	if err == nil {
		tenants, err = ParseOverrides(data, o.defaults)
	}
	ok := o.set.GetOrCreateGauge("cairn_limits_overrides_last_reload_successful", nil)
	if err != nil {
		o.set.GetOrCreateCounter(`cairn_limits_overrides_reloads_total{result="failure"}`).Inc()
		ok.Set(0)
		return false, fmt.Errorf("%s %s: %w", OverridesFlag, o.cfg.File, err)
	}
	o.set.GetOrCreateCounter(`cairn_limits_overrides_reloads_total{result="success"}`).Inc()
	ok.Set(1)
	o.tenants.Store(&tenants)
	changed := !bytes.Equal(data, o.last)
	o.last = data
	return changed, nil
}

// overridesFile is the shape of the overrides file.
type overridesFile struct {
	Overrides map[string]*limitsYAML `yaml:"overrides"`
}

// limitsYAML is one tenant's entry; nil fields keep their defaults.
type limitsYAML struct {
	IngestionRate    *float64 `yaml:"ingestion_rate"`
	IngestionBurst   *int     `yaml:"ingestion_burst"`
	MaxFetchedSeries *int     `yaml:"max_fetched_series"`
	MaxRange         *string  `yaml:"max_range"` // parsed by apply, naming the field
	MaxSamples       *int     `yaml:"max_samples"`
	Timeout          *string  `yaml:"timeout"`
}

// ParseOverrides parses an overrides file: each tenant's limits are
// defaults with the limits its entry sets. Errors name the tenant and the
// field; unknown fields are errors.
func ParseOverrides(data []byte, defaults Limits) (map[string]Limits, error) {
	var f overridesFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("parse YAML: %w", err)
	}
	out := make(map[string]Limits, len(f.Overrides))
	for id, y := range f.Overrides {
		if err := Validate(id); err != nil {
			return nil, fmt.Errorf("overrides: %w", err)
		}
		l, err := y.apply(defaults)
		if err != nil {
			return nil, fmt.Errorf("overrides: tenant %q: %w", id, err)
		}
		out[id] = l
	}
	return out, nil
}

// apply returns d with the limits y sets, or an error naming the first
// invalid one.
func (y *limitsYAML) apply(d Limits) (Limits, error) {
	d.overridden = map[string]bool{}
	if y == nil {
		return d, nil
	}
	set := func(name string, bad bool, format string, v any) error {
		if bad {
			return fmt.Errorf("%s: "+format, name, v)
		}
		d.overridden[name] = true
		return nil
	}
	var errs []error
	if v := y.IngestionRate; v != nil {
		d.IngestionRate = *v
		errs = append(errs, set(IngestionRate, *v < 0, "%g, must not be negative (0 means no limit)", *v))
	}
	if v := y.IngestionBurst; v != nil {
		d.IngestionBurst = *v
		errs = append(errs, set(IngestionBurst, *v < 1, "%d, must be at least 1", *v))
	}
	if v := y.MaxFetchedSeries; v != nil {
		d.MaxFetchedSeries = *v
		errs = append(errs, set(MaxFetchedSeries, *v < 0, "%d, must not be negative (0 means no limit)", *v))
	}
	if v := y.MaxRange; v != nil {
		r, err := model.ParseDuration(*v)
		if err != nil {
			return d, fmt.Errorf("%s: %w", MaxRange, err)
		}
		d.MaxRange = time.Duration(r)
		d.overridden[MaxRange] = true
	}
	if v := y.MaxSamples; v != nil {
		d.MaxSamples = *v
		errs = append(errs, set(MaxSamples, *v < 1, "%d, must be positive", *v))
	}
	if v := y.Timeout; v != nil {
		r, err := model.ParseDuration(*v)
		if err != nil {
			return d, fmt.Errorf("%s: %w", Timeout, err)
		}
		d.Timeout = time.Duration(r)
		errs = append(errs, set(Timeout, r <= 0, "%s, must be positive", *v))
	}
	return d, errors.Join(errs...)
}
