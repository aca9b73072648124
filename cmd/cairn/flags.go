package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// envName is the environment variable that can set a flag:
// -kafka.brokers ↔ CAIRN_KAFKA_BROKERS.
func envName(flagName string) string {
	r := strings.NewReplacer(".", "_", "-", "_")
	return "CAIRN_" + strings.ToUpper(r.Replace(flagName))
}

// parseFlags applies environment variables, then args, to fs. A flag on
// the command line wins over its environment variable. It returns
// flag.ErrHelp when help was asked for (and printed).
func parseFlags(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if v := getenv(envName(f.Name)); v != "" {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("environment variable %s: %w", envName(f.Name), err))
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: %s takes flags only", fs.Arg(0), fs.Name())
	}
	return nil
}

// newFlagSet returns a flag set whose usage lists every flag with its
// default and its environment variable.
func newFlagSet(name, summary string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: cairn %s [flags]\n\n%s\n\nFlags (each can also be set by the environment variable in brackets):\n", name, summary)
		printFlags(out, fs)
	}
	return fs
}

func printFlags(out io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		kind, usage := flag.UnquoteUsage(f)
		line := "  -" + f.Name
		if kind != "" {
			line += " " + kind
		}
		fmt.Fprintf(out, "%s\n    \t%s", line, strings.ReplaceAll(usage, "\n", "\n    \t"))
		switch {
		case f.DefValue == "" || f.DefValue == "false" || f.DefValue == "0" || f.DefValue == "0s":
		case kind == "string":
			fmt.Fprintf(out, " (default %q)", f.DefValue)
		default:
			fmt.Fprintf(out, " (default %s)", f.DefValue)
		}
		fmt.Fprintf(out, " [%s]\n", envName(f.Name))
	})
}
