package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestHelpGolden is the golden test of `cairn -h` and `cairn <command> -h`,
// whose golden file is the configuration reference, docs/configuration.md:
// the reference is generated, never edited by hand
// (go test ./cmd/cairn -run TestHelpGolden -args -update).
func TestHelpGolden(t *testing.T) {
	var b strings.Builder
	b.WriteString("# Configuration reference\n\n" +
		"Generated from `cairn -h` and `cairn <command> -h` by `go test ./cmd/cairn -run TestHelpGolden -args -update`; do not edit.\n\n" +
		"Every flag can also be set by the environment variable shown in brackets: `-kafka.brokers` is `CAIRN_KAFKA_BROKERS`. " +
		"A flag on the command line wins over its variable.\n")
	code, out, _ := runCLI(t, nil, "-h")
	require.Equal(t, 0, code)
	fmt.Fprintf(&b, "\n## cairn\n\n```\n%s```\n", out)
	for _, c := range commands() {
		code, out, _ := runCLI(t, nil, c.name, "-h")
		require.Equal(t, 0, code)
		fmt.Fprintf(&b, "\n## cairn %s\n\n```\n%s```\n", c.name, out)
	}
	path := filepath.Join("..", "..", "docs", "configuration.md")
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, string(want), b.String(), "docs/configuration.md differs from the help output; run go test ./cmd/cairn -run TestHelpGolden -args -update if the change is intended")
}
