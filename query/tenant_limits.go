package query

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/prometheus/promql"

	"github.com/cairn-dev/cairn/store/tenant"
)

// TenantLimits looks up a tenant's limits; *tenant.Overrides implements
// it.
type TenantLimits interface {
	For(id string) tenant.Limits
}

var _ TenantLimits = (*tenant.Overrides)(nil)

// scope is what one query runs under: its tenant and the tenant's limits.
type scope struct {
	tenant string
	limits tenant.Limits
}

// scope returns tenant id's scope: the limits of Config.TenantLimits, or
// the flags' when it is nil.
func (a *API) scope(id string) scope {
	if a.cfg.TenantLimits != nil {
		return scope{tenant: id, limits: a.cfg.TenantLimits.For(id)}
	}
	return scope{tenant: id, limits: a.cfg.defaultLimits()}
}

// engineKey is what sets one engine apart from another.
type engineKey struct {
	maxSamples int
	timeout    time.Duration
}

// maxEngines bounds the engines kept for distinct max_samples and timeout
// overrides; past it they are dropped and made again as needed. Engines
// keep no state between queries, so dropping one costs nothing.
const maxEngines = 64

// engine returns the PromQL engine for s's max_samples and timeout, which
// the engine applies itself: made once per distinct pair.
func (a *API) engine(s scope) *promql.Engine {
	key := engineKey{maxSamples: s.limits.MaxSamples, timeout: s.limits.Timeout}
	a.enginesMu.Lock()
	defer a.enginesMu.Unlock()
	if e, ok := a.engines[key]; ok {
		return e
	}
	if len(a.engines) >= maxEngines {
		clear(a.engines)
	}
	opts := a.engineOpts
	opts.MaxSamples, opts.Timeout = key.maxSamples, key.timeout
	e := promql.NewEngine(opts)
	a.engines[key] = e
	return e
}

// overrideNames maps the flags that LimitErrors name to the limits of the
// overrides file.
var overrideNames = map[string]string{
	"-query.max-fetched-series": tenant.MaxFetchedSeries,
	"-query.max-range":          tenant.MaxRange,
	"-query.max-samples":        tenant.MaxSamples,
}

// limitError is a LimitError of the limit flag, or, when s's override set
// that limit, a *TenantLimitError naming the override.
func (s scope) limitError(le *LimitError) error {
	if name := overrideNames[le.Flag]; name != "" && s.limits.Overridden(name) {
		return &TenantLimitError{LimitError: LimitError{Flag: name, Value: le.Value, What: le.What}, Tenant: s.tenant}
	}
	return le
}

// TenantLimitError is a query over a limit that the tenant's entry in the
// overrides file set; Flag is the limit's name there. The API answers it
// as a LimitError, which it unwraps to.
type TenantLimitError struct {
	LimitError
	Tenant string
}

func (e *TenantLimitError) Error() string {
	return fmt.Sprintf("%s, more than the limit %s=%s for tenant %s allows (%s)", e.What, e.Flag, e.Value, e.Tenant, tenant.OverridesFlag)
}

func (e *TenantLimitError) Unwrap() error { return &e.LimitError }

// nameLimit adds the limit and its value, and the tenant when its
// override set it, to the errors for exceeding a bound: the engine's say
// what happened but not which bound. timeout is the request's own, 0 if
// none.
func (s scope) nameLimit(err error, timeout time.Duration) error {
	var (
		le  *LimitError
		tle *TenantLimitError
	)
	if errors.As(err, &le) {
		if errors.As(err, &tle) {
			return err
		}
		if tl := s.limitError(le); tl != le {
			return tl
		}
		return err
	}
	var tooMany promql.ErrTooManySamples
	if errors.As(err, &tooMany) {
		return s.limitError(&LimitError{Flag: "-query.max-samples", Value: strconv.Itoa(s.limits.MaxSamples), What: err.Error()})
	}
	if classify(err).typ != errTimeout {
		return err
	}
	switch {
	case timeout > 0 && timeout < s.limits.Timeout:
		return fmt.Errorf("%w (the limit is the request's timeout=%s)", err, timeout)
	case s.limits.Overridden(tenant.Timeout):
		return fmt.Errorf("%w (the limit is %s=%s for tenant %s, %s)", err, tenant.Timeout, s.limits.Timeout, s.tenant, tenant.OverridesFlag)
	}
	return fmt.Errorf("%w (the limit is -query.timeout=%s)", err, s.limits.Timeout)
}
