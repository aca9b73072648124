package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cairn-dev/cairn/store"
)

func runMigrate(ctx context.Context, args []string, e env) error {
	var (
		cfg           store.Config
		dryRun        bool
		targetVersion string
		recomputeDays int
		logLevel      string
	)
	fs := newFlagSet("migrate", "Create or upgrade the ClickHouse schema, or print its DDL for a server version.", e.stdout)
	cfg.RegisterFlags(fs)
	fs.BoolVar(&dryRun, "dry-run", false, "Print the DDL instead of applying it. Without -target-version it connects to learn the server version.")
	fs.StringVar(&targetVersion, "target-version", "", "With -dry-run: the ClickHouse version (X.Y or X.Y.Z) to print the DDL for, without connecting.")
	fs.IntVar(&recomputeDays, "recompute-rollups-days", 0, "After migrating, rebuild the minute rollups of this many UTC days, today and those before it, from samples: migration 7 starts them afresh, and a day written before it has none.")
	fs.StringVar(&logLevel, "log.level", "info", "Log level: debug, info, warn or error.")
	if err := parse(fs, args, e); err != nil {
		return err
	}
	if targetVersion != "" && !dryRun {
		return usageError{fmt.Errorf("-target-version works with -dry-run only")}
	}
	if recomputeDays < 0 || recomputeDays > 0 && dryRun {
		return usageError{fmt.Errorf("-recompute-rollups-days %d: want 0 or more, and no -dry-run", recomputeDays)}
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err}
	}
	if dryRun && targetVersion != "" {
		v, err := store.ParseVersion(targetVersion)
		if err != nil {
			return usageError{fmt.Errorf("-target-version: %w", err)}
		}
		printDDL(e, cfg.DDL(v))
		return nil
	}
	logger, err := newLogger(e.stderr, logLevel, "logfmt")
	if err != nil {
		return usageError{err}
	}
	st, err := store.Open(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer st.Close()
	if dryRun {
		printDDL(e, cfg.DDL(st.ServerVersion()))
		return nil
	}
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	v, err := st.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "schema of database %s is at migration %d (ClickHouse %s)\n", cfg.Database, v, st.ServerVersion())
	if recomputeDays == 0 {
		return nil
	}
	today := time.Now().UTC()
	for d := recomputeDays - 1; d >= 0; d-- {
		if err := st.RecomputeRollups(ctx, today.AddDate(0, 0, -d)); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "rollups of %s to %s rebuilt from samples\n",
		today.AddDate(0, 0, 1-recomputeDays).Format(time.DateOnly), today.Format(time.DateOnly))
	return nil
}

func printDDL(e env, stmts []string) {
	for _, s := range stmts {
		fmt.Fprintf(e.stdout, "%s;\n\n", strings.TrimSpace(s))
	}
}
