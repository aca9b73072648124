package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"golang.org/x/sync/errgroup"

	"github.com/cairn-dev/cairn/ingest"
	"github.com/cairn-dev/cairn/ingest/queue"
	"github.com/cairn-dev/cairn/query"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/head"
	"github.com/cairn-dev/cairn/store/tenant"
)

// Roles a process can run.
const (
	roleIngest = "ingest"
	roleWriter = "writer"
	roleQuery  = "query"
)

var allRoles = []string{roleIngest, roleWriter, roleQuery}

// serveConfig is the configuration of `cairn serve`, and the base of
// `cairn dev`.
type serveConfig struct {
	Listen     string
	Roles      string
	LogLevel   string
	LogFormat  string
	Kafka      queue.Config
	ClickHouse store.Config
	Receiver   ingest.ReceiverConfig
	Writer     ingest.WriterConfig
	Retention  store.RetentionConfig
	Bridge     ingest.BridgeConfig
	Query      query.Config
	Head       head.Config
	Loki       query.LokiConfig
	Limits     tenant.OverridesConfig
}

func (c *serveConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Listen, "listen", "127.0.0.1:9480", "Address of the HTTP server: receivers, query API, /metrics, /healthz, /readyz.")
	fs.StringVar(&c.Roles, "roles", "all", "Comma-separated roles to run: ingest, writer, query, or all.")
	fs.StringVar(&c.LogLevel, "log.level", "info", "Log level: debug, info, warn or error.")
	fs.StringVar(&c.LogFormat, "log.format", "logfmt", "Log format: logfmt or json.")
	c.Kafka.RegisterFlags(fs)
	c.ClickHouse.RegisterFlags(fs)
	c.Receiver.RegisterFlags(fs)
	c.Writer.RegisterFlags(fs)
	c.Retention.RegisterFlags(fs)
	c.Bridge.RegisterFlags(fs)
	c.Query.RegisterFlags(fs)
	c.Head.RegisterFlags(fs)
	c.Loki.RegisterFlags(fs)
	c.Limits.RegisterFlags(fs)
}

func (c *serveConfig) Validate() error {
	var errs []error
	if _, err := c.roles(); err != nil {
		errs = append(errs, err)
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	if c.LogFormat != "logfmt" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("-log.format: %q, want logfmt or json", c.LogFormat))
	}
	roles, _ := c.roles()
	if roles[roleIngest] || roles[roleWriter] || (roles[roleQuery] && c.Head.Window > 0) {
		errs = append(errs, c.Kafka.Validate())
	}
	if roles[roleWriter] || roles[roleQuery] {
		errs = append(errs, c.ClickHouse.Validate())
	}
	if roles[roleIngest] {
		errs = append(errs, c.Receiver.Validate(), c.Bridge.Validate())
	}
	if roles[roleWriter] {
		errs = append(errs, c.Writer.Validate(), c.Retention.Validate())
	}
	if roles[roleQuery] {
		errs = append(errs, c.Query.Validate(), c.Head.Validate(), c.Loki.Validate())
	}
	if roles[roleIngest] || roles[roleQuery] {
		errs = append(errs, c.Limits.Validate())
	}
	return errors.Join(errs...)
}

func (c *serveConfig) roles() (map[string]bool, error) {
	out := map[string]bool{}
	for r := range strings.SplitSeq(c.Roles, ",") {
		r = strings.TrimSpace(r)
		switch {
		case r == "all":
			for _, a := range allRoles {
				out[a] = true
			}
		case slices.Contains(allRoles, r):
			out[r] = true
		default:
			return nil, fmt.Errorf("-roles: unknown role %q (want %s or all)", r, strings.Join(allRoles, ", "))
		}
	}
	return out, nil
}

func runServe(ctx context.Context, args []string, e env) error {
	var cfg serveConfig
	fs := newFlagSet("serve", "Run Cairn's roles (ingest, writer, query) against existing Kafka and ClickHouse.", e.stdout)
	cfg.RegisterFlags(fs)
	if err := parse(fs, args, e); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err}
	}
	logger, err := newLogger(e.stderr, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	p, err := newPipeline(ctx, cfg, logger)
	if err != nil {
		_ = ln.Close()
		return err
	}
	logger.Info("serving", "addr", ln.Addr().String(), "roles", cfg.Roles)
	return p.Run(ctx, ln)
}

// pipeline is the set of roles one process runs, sharing one HTTP server.
type pipeline struct {
	cfg      serveConfig
	logger   *slog.Logger
	metrics  *metrics.Set
	store    *store.Client
	producer *queue.Producer
	consumer *queue.Consumer
	writer   *ingest.Writer
	retainer *store.Retainer
	bridge   *ingest.Bridge
	bridged  *queue.Consumer // the bridge's source topics
	limits   *tenant.Overrides
	head     *head.Head   // nil unless -query.head.window
	tail     *ingest.Tail // fills head
	router   chi.Router
}

// newPipeline connects to ClickHouse (migrating the schema) and Kafka
// (creating the topics) as the roles need, and builds every component.
func newPipeline(ctx context.Context, cfg serveConfig, logger *slog.Logger) (*pipeline, error) {
	roles, _ := cfg.roles()
	p := &pipeline{cfg: cfg, logger: logger, metrics: metrics.NewSet(), router: chi.NewRouter()}
	topics := ingest.TopicsFor(cfg.Kafka)
	limits, err := tenant.NewOverrides(cfg.Limits, cfg.Query.TenantDefaults(cfg.Limits.Defaults()), logger, p.metrics)
	if err != nil {
		return nil, err
	}
	p.limits = limits
	if roles[roleWriter] || roles[roleQuery] {
		st, err := store.Open(ctx, cfg.ClickHouse, logger)
		if err != nil {
			return nil, err
		}
		p.store = st
		if err := st.Migrate(ctx); err != nil {
			_ = st.Close()
			return nil, err
		}
	}
	if roles[roleIngest] || roles[roleWriter] {
		tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		err := queue.EnsureTopics(tctx, cfg.Kafka, topics.All()...)
		cancel()
		if err != nil {
			p.close()
			return nil, err
		}
		prod, err := queue.NewProducer(cfg.Kafka, logger.With("component", "kafka"), p.metrics)
		if err != nil {
			p.close()
			return nil, err
		}
		p.producer = prod
	}
	if roles[roleIngest] {
		rcfg := cfg.Receiver
		rcfg.TenantLimits = p.limits
		rc := ingest.NewReceiver(rcfg, topics, p.producer, logger.With("component", "receiver"), p.metrics)
		rc.Register(p.router)
		if cfg.Bridge.Enabled() {
			blog := logger.With("component", "bridge")
			p.bridged = queue.NewConsumer(cfg.Bridge.Queue(cfg.Kafka), cfg.Bridge.Group, cfg.Bridge.Topics(), blog)
			p.bridge = ingest.NewBridge(cfg.Bridge, rc, p.bridged, p.producer, blog, p.metrics)
		}
	}
	if roles[roleWriter] {
		p.consumer = queue.NewConsumer(cfg.Kafka, cfg.Writer.Group, topics.Data(), logger.With("component", "writer"))
		p.writer = ingest.NewWriter(cfg.Writer, p.consumer, p.store, p.producer, topics.DeadLetter, logger.With("component", "writer"), p.metrics)
		// Retention runs with the writers: every writer may run it, since
		// dropping a partition twice is harmless.
		p.retainer = store.NewRetainer(p.store, cfg.Retention, logger)
	}
	if roles[roleQuery] {
		qcfg := cfg.Query
		b := currentBuild()
		qcfg.BuildInfo = query.BuildInfo{Version: b.Version, Revision: b.Revision, GoVersion: b.GoVersion, BuildDate: b.BuildDate}
		qcfg.TenantLimits = p.limits
		api, err := query.New(qcfg, p.store, logger, p.metrics)
		if err != nil {
			p.close()
			return nil, err
		}
		if cfg.Head.Window > 0 {
			hlog := logger.With("component", "head")
			hcfg := cfg.Head
			hcfg.FutureSkew = cfg.Receiver.Limits.MaxFutureSkew
			hcfg.LabelsInterval = cfg.Receiver.LabelsInterval
			h, err := head.New(hcfg, hlog, p.metrics)
			if err != nil {
				p.close()
				return nil, err
			}
			p.head = h
			p.tail = ingest.NewTail(cfg.Kafka, topics.Metrics, h, cfg.Receiver.Limits.MaxFutureSkew, cfg.Receiver.LabelsInterval, hlog, p.metrics)
			api.UseHead(h)
		}
		api.Register(p.router)
		loki, err := query.NewLokiAPI(cfg.Loki, p.store, logger, p.metrics)
		if err != nil {
			p.close()
			return nil, err
		}
		loki.Register(p.router)
		query.NewBuildsAPI(p.store, logger, p.metrics).Register(p.router)
	}
	p.router.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	p.router.Get("/readyz", p.handleReady)
	p.router.Get("/metrics", p.handleMetrics)
	p.router.Mount("/debug", middleware.Profiler())
	return p, nil
}

// Run serves on ln until ctx ends, then shuts down in order: stop
// accepting requests (in-flight ones finish producing), flush the Kafka
// producer, let the writer drain and commit, close the store.
func (p *pipeline) Run(ctx context.Context, ln net.Listener) error {
	defer p.close()
	srv := &http.Server{Handler: p.router, ReadHeaderTimeout: 10 * time.Second}
	g, gctx := errgroup.WithContext(ctx)
	httpDone := make(chan struct{})
	g.Go(func() error {
		defer close(httpDone)
		errc := make(chan error, 1)
		go func() { errc <- srv.Serve(ln) }()
		select {
		case err := <-errc:
			return fmt.Errorf("http server: %w", err)
		case <-gctx.Done():
		}
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			return fmt.Errorf("shut down http server: %w", err)
		}
		p.logger.Info("http_server_stopped")
		return nil
	})
	if p.retainer != nil {
		g.Go(func() error { return p.retainer.Run(gctx) })
	}
	g.Go(func() error { return p.limits.Run(gctx) })
	if p.head != nil {
		tailDone := make(chan struct{})
		g.Go(func() error {
			defer close(tailDone)
			return p.tail.Run(gctx)
		})
		g.Go(func() error {
			<-httpDone // queries in flight may still read the head
			<-tailDone
			err := p.head.Close()
			p.head = nil
			if err != nil {
				return fmt.Errorf("close head: %w", err)
			}
			return nil
		})
	}
	if p.bridge != nil {
		g.Go(func() error {
			if err := p.bridge.Run(gctx); err != nil {
				return fmt.Errorf("bridge: %w", err)
			}
			return nil
		})
	}
	if p.writer != nil {
		wctx, cancelWriter := context.WithCancel(context.Background())
		g.Go(func() error {
			<-httpDone // the writer drains only once nothing more can arrive
			cancelWriter()
			return nil
		})
		g.Go(func() error {
			defer cancelWriter()
			if err := p.writer.Run(wctx); err != nil {
				return fmt.Errorf("writer: %w", err)
			}
			p.logger.Info("writer_stopped")
			return nil
		})
	}
	return g.Wait()
}

// close releases connections in shutdown order. It is safe on a pipeline
// that was only partly built.
func (p *pipeline) close() {
	if p.head != nil { // only when Run did not start
		if err := p.head.Close(); err != nil {
			p.logger.Warn("close_head", "err", err)
		}
		p.head = nil
	}
	if p.bridged != nil {
		if err := p.bridged.Close(); err != nil {
			p.logger.Warn("close_bridge_consumer", "err", err)
		}
		p.bridged = nil
	}
	if p.consumer != nil {
		if err := p.consumer.Close(); err != nil {
			p.logger.Warn("close_consumer", "err", err)
		}
		p.consumer = nil
	}
	if p.producer != nil {
		if err := p.producer.Close(); err != nil {
			p.logger.Warn("close_producer", "err", err)
		}
		p.producer = nil
	}
	if p.store != nil {
		if err := p.store.Close(); err != nil {
			p.logger.Warn("close_store", "err", err)
		}
		p.store = nil
	}
}

// handleReady answers 200 when every dependency the roles use answers.
func (p *pipeline) handleReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	var errs []error
	if p.store != nil {
		if err := p.store.Ping(ctx); err != nil {
			errs = append(errs, fmt.Errorf("clickhouse: %w", err))
		}
	}
	if p.producer != nil {
		if err := p.producer.Ping(ctx); err != nil {
			errs = append(errs, fmt.Errorf("kafka: %w", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	_, _ = io.WriteString(w, "ready\n")
}

func (p *pipeline) handleMetrics(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	p.metrics.WritePrometheus(w)
	metrics.WriteProcessMetrics(w)
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("-log.level: %q, want debug, info, warn or error", s)
	}
	return l, nil
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	l, err := parseLevel(level)
	if err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{Level: l}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}
