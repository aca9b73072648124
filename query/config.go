package query

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/prometheus/common/model"

	"github.com/cairn-dev/cairn/store/tenant"
)

// defaultLimits are the per-tenant query limits the flags set: every
// tenant's, unless TenantLimits overrides them.
func (c *Config) defaultLimits() tenant.Limits {
	return tenant.Limits{MaxFetchedSeries: c.MaxFetchedSeries, MaxRange: c.MaxRange, MaxSamples: c.MaxSamples, Timeout: c.Timeout}
}

// TenantDefaults returns l with the query limits set to the flags'
// values: the defaults of tenant.Overrides.
func (c *Config) TenantDefaults(l tenant.Limits) tenant.Limits {
	l.MaxFetchedSeries, l.MaxRange, l.MaxSamples, l.Timeout = c.MaxFetchedSeries, c.MaxRange, c.MaxSamples, c.Timeout
	return l
}

// Config configures the query API and its PromQL engine.
type Config struct {
	// Timeout bounds every query; a request's timeout parameter can only
	// shorten it.
	Timeout time.Duration
	// MaxSamples bounds the samples one query may hold in memory at once.
	MaxSamples int
	// LookbackDelta is how far back an instant selector looks for a sample.
	LookbackDelta time.Duration
	// DefaultSubqueryStep is the step of subqueries that name none, like
	// rate(x[1h:]); Prometheus uses its global evaluation interval.
	DefaultSubqueryStep time.Duration
	// MaxSeries bounds the series, label names and label values that the
	// series and label APIs return; 0 means no bound.
	MaxSeries int
	// MaxConcurrent bounds the PromQL queries evaluated at once; further
	// queries wait for a slot until their context ends.
	MaxConcurrent int
	// MaxFetchedSeries bounds the series that the selectors of one PromQL
	// query select together; 0 means no bound.
	MaxFetchedSeries int
	// MaxRange bounds the time span that one selector of a PromQL query
	// reads, its range and the lookback delta included; 0 means no bound.
	MaxRange time.Duration

	// ResultsCache configures the range query results cache.
	ResultsCache ResultsCacheConfig

	// BuildInfo is what /api/v1/status/buildinfo reports. It is set by
	// the program, not by flags.
	BuildInfo BuildInfo
	// TenantLimits gives each tenant's query limits (max_fetched_series,
	// max_range, max_samples, timeout); nil means the flags' for every
	// tenant. It is set by the program, not by flags.
	TenantLimits TenantLimits
}

// BuildInfo describes the running build, as Prometheus reports its own.
type BuildInfo struct {
	Version   string `json:"version"`
	Revision  string `json:"revision"`
	Branch    string `json:"branch"`
	BuildUser string `json:"buildUser"`
	BuildDate string `json:"buildDate"`
	GoVersion string `json:"goVersion"`
}

// RegisterFlags registers the configuration's flags on fs, under "query.".
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.DurationVar(&c.Timeout, "query.timeout", 2*time.Minute, "Maximum time a query may take. A request's timeout parameter can only shorten it.")
	fs.IntVar(&c.MaxSamples, "query.max-samples", 50_000_000, "Maximum number of samples a single query can load into memory.")
	fs.DurationVar(&c.LookbackDelta, "query.lookback-delta", 5*time.Minute, "How far back an instant vector selector looks for a sample.")
	fs.DurationVar(&c.DefaultSubqueryStep, "query.default-subquery-step", time.Minute, "Step of subqueries that do not name one.")
	fs.IntVar(&c.MaxSeries, "query.max-series", 100_000, "Maximum number of series, label names or label values returned by the series and label APIs; results beyond it are truncated with a warning. 0 means no limit.")
	fs.IntVar(&c.MaxConcurrent, "query.max-concurrent", 20, "Maximum number of PromQL queries evaluated at once.")
	fs.IntVar(&c.MaxFetchedSeries, "query.max-fetched-series", 100_000, "Maximum number of series the selectors of one PromQL query may select together; a query over it fails with a 422. 0 means no limit.")
	c.MaxRange = 32 * 24 * time.Hour
	fs.Var((*model.Duration)(&c.MaxRange), "query.max-range", "Maximum time span one selector of a PromQL query may read, its range and the lookback delta included, like 32d or 12h; a query over it fails with a 422. 0 means no limit.")
	c.ResultsCache.RegisterFlags(fs)
}

// Validate reports the first invalid setting.
func (c *Config) Validate() error {
	switch {
	case c.Timeout <= 0:
		return fmt.Errorf("-query.timeout is %s, it must be positive", c.Timeout)
	case c.MaxSamples <= 0:
		return fmt.Errorf("-query.max-samples is %d, it must be positive", c.MaxSamples)
	case c.LookbackDelta <= 0:
		return fmt.Errorf("-query.lookback-delta is %s, it must be positive", c.LookbackDelta)
	case c.DefaultSubqueryStep <= 0:
		return fmt.Errorf("-query.default-subquery-step is %s, it must be positive", c.DefaultSubqueryStep)
	case c.MaxSeries < 0:
		return errors.New("-query.max-series is negative, use 0 for no limit")
	case c.MaxConcurrent <= 0:
		return fmt.Errorf("-query.max-concurrent is %d, it must be positive", c.MaxConcurrent)
	case c.MaxFetchedSeries < 0:
		return errors.New("-query.max-fetched-series is negative, use 0 for no limit")
	case c.MaxRange < 0:
		return errors.New("-query.max-range is negative, use 0 for no limit")
	}
	return c.ResultsCache.Validate()
}
