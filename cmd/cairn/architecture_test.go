package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const module = "github.com/cairn-dev/cairn/"

// TestArchitecture keeps the import graph following the data flow:
// store at the bottom, ingest and query beside each other on top of it,
// alerting and dashboards beside query, and cmd wiring them; test helper
// packages stay out of production code.
func TestArchitecture(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, module+"...").Output()
	require.NoError(t, err)
	// forbidden[p] lists the prefixes package p (and its subpackages) must not import.
	forbidden := map[string][]string{
		"store":      {"ingest", "query", "alerting", "dashboards", "cmd"},
		"ingest":     {"query", "alerting", "dashboards", "cmd", "store/devserver"},
		"query":      {"ingest", "alerting", "dashboards", "cmd", "store/devserver"},
		"alerting":   {"ingest", "dashboards", "cmd"},
		"dashboards": {"ingest", "alerting", "cmd"},
	}
	testOnly := []string{"store/storetest", "ingest/queue/queuetest"}
	checked := 0
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], module)
		for _, imp := range fields[1:] {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			imp = strings.TrimPrefix(imp, module)
			checked++
			for _, h := range testOnly {
				require.False(t, under(imp, h) && !under(pkg, h), "%s imports the test helper %s", pkg, imp)
			}
			for layer, bad := range forbidden {
				if !under(pkg, layer) {
					continue
				}
				for _, b := range bad {
					require.False(t, under(imp, b), "%s must not import %s (layer %s)", pkg, imp, layer)
				}
			}
		}
	}
	require.Greater(t, checked, 20, "go list returned the module's imports")
}

// under reports whether package path p is dir or below it.
func under(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }
