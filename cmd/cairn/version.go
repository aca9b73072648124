package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set at build time with -ldflags "-X main.version=… -X main.revision=…".
var (
	version  = "dev"
	revision = ""
)

// buildInfo describes this binary: the version, the VCS revision when
// known and the Go version.
type buildInfo struct {
	Version, Revision, Branch, GoVersion, BuildDate string
}

func currentBuild() buildInfo {
	b := buildInfo{Version: version, Revision: revision, GoVersion: runtime.Version()}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				if b.Revision == "" {
					b.Revision = s.Value
				}
			case "vcs.time":
				b.BuildDate = s.Value
			}
		}
	}
	return b
}

func runVersion(_ context.Context, args []string, e env) error {
	fs := newFlagSet("version", "Print the version of this binary.", e.stdout)
	if err := parse(fs, args, e); err != nil {
		return err
	}
	b := currentBuild()
	fmt.Fprintf(e.stdout, "cairn %s (revision %s, %s)\n", b.Version, orUnknown(b.Revision), b.GoVersion)
	return nil
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
