package tenant

import (
	"errors"
	"flag"
	"fmt"
	"time"
)

// Names of the per-tenant limits, as the overrides file spells them.
const (
	IngestionRate    = "ingestion_rate"
	IngestionBurst   = "ingestion_burst"
	MaxFetchedSeries = "max_fetched_series"
	MaxRange         = "max_range"
	MaxSamples       = "max_samples"
	Timeout          = "timeout"
)

// OverridesFlag is the flag that names the overrides file; errors about a
// limit a tenant's override set name it.
const OverridesFlag = "-limits.overrides-file"

// Limits are the limits of one tenant. Their defaults come from flags;
// the overrides file replaces some of them for some tenants.
type Limits struct {
	// IngestionRate bounds the samples, log lines and build events a
	// tenant may send per second, per ingest process; 0 means no bound.
	IngestionRate float64
	// IngestionBurst is how many of them may come at once: the size of
	// the tenant's token bucket. A request larger than it is refused.
	IngestionBurst int
	// MaxFetchedSeries bounds the series one PromQL query selects; 0
	// means no bound.
	MaxFetchedSeries int
	// MaxRange bounds the time span one selector reads; 0 means no bound.
	MaxRange time.Duration
	// MaxSamples bounds the samples one query holds in memory at once.
	MaxSamples int
	// Timeout bounds the time one query may take.
	Timeout time.Duration

	overridden map[string]bool // limits the overrides file set, by name
}

// Overridden reports whether the overrides file set the limit called
// name (IngestionRate, MaxRange, …) for this tenant, rather than its
// flag. Errors name the one or the other.
func (l Limits) Overridden(name string) bool { return l.overridden[name] }

// Source returns where the limit called name comes from: OverridesFlag
// when the tenant's override set it, else flag.
func (l Limits) Source(name, flag string) string {
	if l.Overridden(name) {
		return OverridesFlag
	}
	return flag
}

// OverridesConfig configures the per-tenant limits: the defaults of the
// ingestion limits (the query limits' defaults are the -query.* flags)
// and the overrides file.
type OverridesConfig struct {
	IngestionRate  float64
	IngestionBurst int
	File           string
	Period         time.Duration
}

// RegisterFlags registers the flags on fs, under "limits.".
func (c *OverridesConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.Float64Var(&c.IngestionRate, "limits.ingestion-rate", 0, "Samples, log lines and build events per second each tenant may send to one ingest process; a request over it gets a 429 with Retry-After. 0 means no limit. The overrides file sets it per tenant (ingestion_rate).")
	fs.IntVar(&c.IngestionBurst, "limits.ingestion-burst", 200_000, "Samples, log lines and build events a tenant may send at once over -limits.ingestion-rate; a larger request is refused. The overrides file sets it per tenant (ingestion_burst).")
	fs.StringVar(&c.File, "limits.overrides-file", "", "YAML `file` of per-tenant limits: overrides: {<tenant>: {ingestion_rate, ingestion_burst, max_fetched_series, max_range, max_samples, timeout}}; a limit left out keeps its flag's value (-limits.ingestion-*, -query.*). Reloaded every -limits.overrides-period; a bad file at start is an error, on reload it keeps the last good one.")
	fs.DurationVar(&c.Period, "limits.overrides-period", 10*time.Second, "How often the overrides file is reloaded.")
}

// Defaults returns the ingestion limits the flags set; the query limits
// are left for the query flags to fill in.
func (c *OverridesConfig) Defaults() Limits {
	return Limits{IngestionRate: c.IngestionRate, IngestionBurst: c.IngestionBurst}
}

// Validate checks the configuration.
func (c *OverridesConfig) Validate() error {
	var errs []error
	if c.IngestionRate < 0 {
		errs = append(errs, fmt.Errorf("-limits.ingestion-rate: %g, must not be negative (0 means no limit)", c.IngestionRate))
	}
	if c.IngestionBurst < 1 {
		errs = append(errs, fmt.Errorf("-limits.ingestion-burst: %d, must be at least 1", c.IngestionBurst))
	}
	if c.File != "" && c.Period <= 0 {
		errs = append(errs, fmt.Errorf("-limits.overrides-period: %s, must be positive", c.Period))
	}
	return errors.Join(errs...)
}
