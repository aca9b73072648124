package hostagent

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/cairn-dev/cairn/ingest/remotewrite"
	"github.com/cairn-dev/cairn/store/tenant"
)

// Config configures the agent.
type Config struct {
	URL      string
	Interval time.Duration
	Timeout  time.Duration
	Job      string
	Instance string
	Tenant   string
}

// RegisterFlags registers the agent's flags on fs.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.URL, "agent.url", "http://127.0.0.1:9480/api/v1/write", "Remote write endpoint of a Cairn receiver.")
	fs.DurationVar(&c.Interval, "agent.interval", 15*time.Second, "How often to collect and push.")
	fs.DurationVar(&c.Timeout, "agent.timeout", 10*time.Second, "Timeout of one push.")
	fs.StringVar(&c.Job, "agent.job", "node", "Value of the job label.")
	fs.StringVar(&c.Instance, "agent.instance", "", "Value of the instance label. Empty: the host name.")
	fs.StringVar(&c.Tenant, "agent.tenant", "", "Tenant to push as (X-Scope-OrgID). Empty: the receiver's default tenant.")
}

// Validate checks the configuration and fills in the host name.
func (c *Config) Validate() error {
	var errs []error
	if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("-agent.url: %q is not an http(s) URL", c.URL))
	}
	if c.Interval < time.Second {
		errs = append(errs, fmt.Errorf("-agent.interval: %s, must be at least 1s", c.Interval))
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("-agent.timeout: %s, must be positive", c.Timeout))
	}
	if c.Tenant != "" {
		if err := tenant.Validate(c.Tenant); err != nil {
			errs = append(errs, fmt.Errorf("-agent.tenant: %w", err))
		}
	}
	if c.Instance == "" {
		h, err := os.Hostname()
		if err != nil {
			errs = append(errs, fmt.Errorf("-agent.instance: empty and the host name is unknown: %w", err))
		}
		c.Instance = h
	}
	return errors.Join(errs...)
}

// Agent collects and pushes on a fixed interval.
type Agent struct {
	cfg    Config
	client *http.Client
	logger *slog.Logger
}

// New returns an agent; it starts nothing.
func New(cfg Config, logger *slog.Logger) *Agent {
	return &Agent{cfg: cfg, client: &http.Client{Timeout: cfg.Timeout}, logger: logger}
}

// Run collects and pushes at once and then every interval until ctx ends.
// A failed push is logged and not retried: the next one carries fresh
// counters, which is all rate() needs.
func (a *Agent) Run(ctx context.Context) error {
	t := time.NewTicker(a.cfg.Interval)
	defer t.Stop()
	for {
		if err := a.PushOnce(ctx); err != nil && ctx.Err() == nil {
			a.logger.Warn("push_failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// PushOnce collects the host's metrics and pushes them.
func (a *Agent) PushOnce(ctx context.Context) error {
	series, cerr := Collect(ctx, a.cfg.Job, a.cfg.Instance, time.Now())
	if cerr != nil {
		a.logger.Warn("collect_partial", "err", cerr)
	}
	body, err := remotewrite.EncodeV1(series)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build push request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	if a.cfg.Tenant != "" {
		req.Header.Set(tenant.Header, a.cfg.Tenant)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return fmt.Errorf("push %d series to %s: %w", len(series), a.cfg.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("push %d series to %s: %s: %s", len(series), a.cfg.URL, resp.Status, bytes.TrimSpace(msg))
	}
	a.logger.Debug("pushed", "series", len(series))
	return nil
}
