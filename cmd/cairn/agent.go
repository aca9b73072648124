package main

import (
	"context"

	"github.com/cairn-dev/cairn/ingest/hostagent"
)

func runAgent(ctx context.Context, args []string, e env) error {
	var cfg hostagent.Config
	var logLevel string
	fs := newFlagSet("agent", "Collect this host's metrics (node_exporter names) and push them to Cairn with Prometheus remote write.", e.stdout)
	cfg.RegisterFlags(fs)
	fs.StringVar(&logLevel, "log.level", "info", "Log level: debug, info, warn or error.")
	if err := parse(fs, args, e); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err}
	}
	logger, err := newLogger(e.stderr, logLevel, "logfmt")
	if err != nil {
		return usageError{err}
	}
	logger.Info("agent_started", "url", cfg.URL, "interval", cfg.Interval, "instance", cfg.Instance)
	return hostagent.New(cfg, logger.With("component", "agent")).Run(ctx)
}
