package ingest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/cairn-dev/cairn/store/tenant"
)

// TenantLimits looks up a tenant's limits; *tenant.Overrides implements
// it.
type TenantLimits interface {
	For(id string) tenant.Limits
}

var _ TenantLimits = (*tenant.Overrides)(nil)

// rateLimiter holds a token bucket per tenant, sized by the tenant's
// ingestion_rate and ingestion_burst as they are now: a reloaded
// overrides file resizes the buckets of the tenants it changes.
type rateLimiter struct {
	limits  TenantLimits // nil: no limits
	now     func() time.Time
	max     int // buckets kept before full ones are swept out
	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

// maxBuckets is how many tenants' buckets are kept before the full ones
// are dropped. A full bucket is what a new one would be, so dropping it
// changes nothing but memory.
const maxBuckets = 10_000

func newRateLimiter(limits TenantLimits) *rateLimiter {
	return &rateLimiter{limits: limits, now: time.Now, max: maxBuckets, buckets: map[string]*rate.Limiter{}}
}

// bucket returns tenant id's bucket, sized by l.
func (rl *rateLimiter) bucket(id string, l tenant.Limits, now time.Time) *rate.Limiter {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	b := rl.buckets[id]
	if b == nil {
		if len(rl.buckets) >= rl.max {
			for other, ob := range rl.buckets {
				if ob.TokensAt(now) >= float64(ob.Burst()) {
					delete(rl.buckets, other)
				}
			}
			// Sweep again only once the map has doubled: with many
			// tenants sending at once, a sweep per new tenant would scan
			// every bucket under the lock each time.
			rl.max = max(rl.max, 2*len(rl.buckets))
		}
		b = rate.NewLimiter(rate.Limit(l.IngestionRate), l.IngestionBurst)
		rl.buckets[id] = b
		return b
	}
	if b.Limit() != rate.Limit(l.IngestionRate) {
		b.SetLimitAt(now, rate.Limit(l.IngestionRate))
	}
	if b.Burst() != l.IngestionBurst {
		b.SetBurstAt(now, l.IngestionBurst)
	}
	return b
}

// chargeKey is the context key of a request's *charge.
type chargeKey struct{}

// charge records whether a request was charged to its tenant's rate. A
// request is charged once, for what it produces first: the samples of a
// metrics write, the log lines of a push, the events of a builds request
// (whose derived samples are then free).
type charge struct{ done bool }

// limitTenants marks every request to the receivers as one to charge to
// its tenant's ingestion rate. The charge happens once the request is
// decoded and validated, so that it counts what will be stored, and
// before anything is produced to Kafka, so that a refused request leaves
// nothing behind. Telemetry that the bridge reads from Kafka is not
// charged: it has been accepted already.
func (rc *Receiver) limitTenants(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), chargeKey{}, &charge{})))
	})
}

// charge takes n units (samples, log lines or build events, unit says
// which) from tenant id's bucket if ctx is a request's that was not
// charged yet. Over the rate, it takes nothing and returns a
// *tenantLimitError.
func (rc *Receiver) charge(ctx context.Context, id, unit string, n int) error {
	c, _ := ctx.Value(chargeKey{}).(*charge)
	if c == nil || c.done || n == 0 || rc.tenants.limits == nil {
		return nil
	}
	c.done = true
	l := rc.tenants.limits.For(id)
	if l.IngestionRate <= 0 {
		return nil
	}
	now := rc.tenants.now()
	b := rc.tenants.bucket(id, l, now)
	what := fmt.Sprintf("%d %s", n, strings.ReplaceAll(unit, "_", " "))
	rateLimit := fmt.Sprintf("%s=%g per second (%s)", tenant.IngestionRate, l.IngestionRate, l.Source(tenant.IngestionRate, "-limits.ingestion-rate"))
	burstLimit := fmt.Sprintf("%s=%d (%s)", tenant.IngestionBurst, l.IngestionBurst, l.Source(tenant.IngestionBurst, "-limits.ingestion-burst"))
	res := b.ReserveN(now, n)
	if !res.OK() {
		return &tenantLimitError{
			reason: "over_burst", unit: unit, n: n,
			retryAfter: time.Duration(float64(l.IngestionBurst) / l.IngestionRate * float64(time.Second)),
			msg:        fmt.Sprintf("tenant %q sent %s in one request, more than its limit %s admits at once, whatever the rate: send smaller requests", id, what, burstLimit),
		}
	}
	if wait := res.DelayFrom(now); wait > 0 {
		res.CancelAt(now)
		return &tenantLimitError{
			reason: "rate_limited", unit: unit, n: n, retryAfter: wait,
			msg: fmt.Sprintf("tenant %q is over its ingestion rate limit %s, burst %s: the request's %s would fit in %s; nothing was stored",
				id, rateLimit, burstLimit, what, wait.Round(time.Millisecond)),
		}
	}
	return nil
}

// tenantLimitError is a request refused for its tenant's ingestion rate:
// 429 with Retry-After. Its n units of unit count as rejected for reason.
type tenantLimitError struct {
	reason     string
	unit       string
	n          int
	retryAfter time.Duration
	msg        string
}

func (e *tenantLimitError) Error() string { return e.msg }

// overLimit maps err to the status and self-metric reason of the limit it
// reports, for failWith: a *tenantLimitError becomes 429 with
// Retry-After, its units counted as rejected; a body over
// -ingest.max-request-bytes or -ingest.max-decoded-bytes (413) has reason
// "request_too_large". Other errors keep reason and status.
func (rc *Receiver) overLimit(w http.ResponseWriter, protocol, reason string, status int, err error) (string, int) {
	var le *tenantLimitError
	switch {
	case errors.As(err, &le):
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(max(le.retryAfter.Seconds(), 1)))))
		rc.count(le.unit, protocol, "rejected", le.reason, le.n)
		return le.reason, http.StatusTooManyRequests
	case status == http.StatusRequestEntityTooLarge:
		return "request_too_large", status
	}
	return reason, status
}
