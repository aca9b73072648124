package query

import (
	"errors"
	"flag"
	"fmt"
	"time"
)

// LokiConfig configures the Loki-compatible API.
type LokiConfig struct {
	// Timeout bounds every Loki API request.
	Timeout time.Duration
	// MaxEntriesLimit bounds the limit parameter of log queries, as
	// Loki's max_entries_limit_per_query.
	MaxEntriesLimit int
	// MaxScanLines bounds the log lines one query reads into Go: those of
	// pipelines with parser stages, and of metric queries over them.
	MaxScanLines int
	// MaxSeries bounds the series of a metric query's result, as Loki's
	// max_query_series.
	MaxSeries int
}

// RegisterFlags registers the configuration's flags on fs, under "loki.".
func (c *LokiConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.DurationVar(&c.Timeout, "loki.timeout", 2*time.Minute, "Maximum time a Loki API request may take.")
	fs.IntVar(&c.MaxEntriesLimit, "loki.max-entries-limit", 5000, "Maximum limit parameter of a LogQL log query.")
	fs.IntVar(&c.MaxScanLines, "loki.max-scan-lines", 1_000_000, "Maximum number of log lines one LogQL query may read into memory to run parser stages (json, logfmt, regexp, pattern) and what follows them; a query over it fails with a 400. 0 means no limit.")
	fs.IntVar(&c.MaxSeries, "loki.max-series", 500, "Maximum number of series a LogQL metric query may return. 0 means no limit.")
}

// Validate reports the first invalid setting.
func (c *LokiConfig) Validate() error {
	switch {
	case c.Timeout <= 0:
		return fmt.Errorf("-loki.timeout is %s, it must be positive", c.Timeout)
	case c.MaxEntriesLimit <= 0:
		return fmt.Errorf("-loki.max-entries-limit is %d, it must be positive", c.MaxEntriesLimit)
	case c.MaxScanLines < 0:
		return errors.New("-loki.max-scan-lines is negative, use 0 for no limit")
	case c.MaxSeries < 0:
		return errors.New("-loki.max-series is negative, use 0 for no limit")
	}
	return nil
}
