package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv})
	stop()
	os.Exit(code)
}

// env is what a command may touch outside its flags.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, e env) error
}

func commands() []command {
	return []command{
		{"serve", "Run Cairn's roles (ingest, writer, query) against existing Kafka and ClickHouse.", runServe},
		{"dev", "Run every role in one process with an in-process Kafka and a ClickHouse server it starts itself.", runDev},
		{"migrate", "Create or upgrade the ClickHouse schema, or print its DDL for a server version.", runMigrate},
		{"agent", "Collect this host's metrics and push them to Cairn with Prometheus remote write.", runAgent},
		{"version", "Print the version of this binary.", runVersion},
	}
}

// run executes the command named by args[0] and returns the exit code:
// 0 on success, 1 on failure, 2 on bad usage.
func run(ctx context.Context, args []string, e env) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		usage(e.stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], e)
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, new(usageError)):
			fmt.Fprintf(e.stderr, "cairn %s: %v\n", c.name, err)
			return 2
		}
		fmt.Fprintf(e.stderr, "cairn %s: %v\n", c.name, err)
		return 1
	}
	fmt.Fprintf(e.stderr, "cairn: unknown command %q\n\n", args[0])
	usage(e.stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprint(w, "Cairn: host, service, log and build telemetry in, Prometheus and Loki APIs out.\n\nUsage: cairn <command> [flags]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun 'cairn <command> -h' for the flags of a command.\n")
}

// usageError is a mistake in flags or arguments: exit code 2.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

// parse parses a command's flags; errors other than help are usage errors.
func parse(fs *flag.FlagSet, args []string, e env) error {
	if err := parseFlags(fs, args, e.getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	return nil
}
