package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/cairn-dev/cairn/store"
)

func runMigrate(ctx context.Context, args []string, e env) error {
	var (
		cfg           store.Config
		dryRun        bool
		targetVersion string
		logLevel      string
	)
	fs := newFlagSet("migrate", "Create or upgrade the ClickHouse schema, or print its DDL for a server version.", e.stdout)
	cfg.RegisterFlags(fs)
	fs.BoolVar(&dryRun, "dry-run", false, "Print the DDL instead of applying it. Without -target-version it connects to learn the server version.")
	fs.StringVar(&targetVersion, "target-version", "", "With -dry-run: the ClickHouse version (X.Y or X.Y.Z) to print the DDL for, without connecting.")
	fs.StringVar(&logLevel, "log.level", "info", "Log level: debug, info, warn or error.")
	if err := parse(fs, args, e); err != nil {
		return err
	}
	if targetVersion != "" && !dryRun {
		return usageError{fmt.Errorf("-target-version works with -dry-run only")}
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
	return nil
}

func printDDL(e env, stmts []string) {
	for _, s := range stmts {
		fmt.Fprintf(e.stdout, "%s;\n\n", strings.TrimSpace(s))
	}
}
