package store

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -run %s -update to create it", t.Name())
	require.Equal(t, string(want), got, "run go test -run %s -update to accept the change", t.Name())
}

func TestDDL(t *testing.T) {
	for _, tc := range []struct {
		version string
		file    string
		modern  bool
	}{
		{"18.16.1", "ddl_baseline.sql", false},
		{"23.3", "ddl_baseline.sql", false},
		{"23.8", "ddl_modern.sql", true},
		{"24.8.4.13", "ddl_modern.sql", true},
	} {
		t.Run(tc.version, func(t *testing.T) {
			v, err := ParseVersion(tc.version)
			require.NoError(t, err)
			require.Equal(t, tc.modern, featuresOf(v).modern)
			stmts := DDL(v, "cairn")
			golden(t, tc.file, strings.Join(stmts, ";\n\n")+";\n")
			for _, s := range stmts {
				require.True(t, strings.Contains(s, "IF NOT EXISTS") || strings.HasPrefix(s, "DROP TABLE IF EXISTS "),
					"migrations must be idempotent: %s", s)
			}
		})
	}
}

// TestClusterDDL golden-tests cluster mode's DDL, both flavours.
func TestClusterDDL(t *testing.T) {
	for _, tc := range []struct{ version, file string }{
		{"18.16.1", "ddl_cluster_baseline.sql"},
		{"23.8", "ddl_cluster_modern.sql"},
	} {
		t.Run(tc.version, func(t *testing.T) {
			v, err := ParseVersion(tc.version)
			require.NoError(t, err)
			cfg := Config{Database: "cairn", Cluster: "obs"}
			stmts := cfg.DDL(v)
			golden(t, tc.file, strings.Join(stmts, ";\n\n")+";\n")
			single := DDL(v, "cairn")
			var local, distributed int
			for _, s := range stmts {
				require.True(t, strings.Contains(s, "IF NOT EXISTS") || strings.HasPrefix(s, "DROP TABLE IF EXISTS "),
					"migrations must be idempotent: %s", s)
				require.Contains(t, s, " ON CLUSTER obs", "every statement runs on every server")
				require.NotContains(t, s, "ENGINE = MergeTree", "every table is replicated")
				require.NotContains(t, s, "ENGINE = ReplacingMergeTree")
				require.NotContains(t, s, "ENGINE = AggregatingMergeTree")
				if strings.Contains(s, "ENGINE = Replicated") {
					local++
				}
				if strings.Contains(s, "ENGINE = Distributed(obs, cairn, ") {
					distributed++
				}
			}
			tables := 0
			for _, s := range single {
				if _, ok := createdTable(s); ok {
					tables++
				}
			}
			require.Equal(t, tables, local, "one local table per table")
			require.Equal(t, local, distributed, "a Distributed table over every local one")
		})
	}
}

func TestDDLQuotesDatabase(t *testing.T) {
	for _, s := range DDL(Version{Major: 18, Minor: 16}, "my-db") {
		require.Contains(t, s, "`my-db`")
	}
}

func TestMigrationsNumbered(t *testing.T) {
	for i, m := range migrations() {
		require.Equal(t, i+1, m.version, "migrations are numbered 1, 2, 3, … in order")
		require.NotEmpty(t, m.name)
		for _, f := range []features{{modern: false}, {modern: true}} {
			require.NotEmpty(t, m.ddl(newSchema(f, "db", "")))
		}
	}
}

// createdTable is the table a CREATE TABLE statement creates, without
// its database.
func createdTable(stmt string) (string, bool) { return tableAfter(stmt, "CREATE TABLE IF NOT EXISTS ") }

// droppedTable is the table a DROP TABLE statement drops, without its
// database.
func droppedTable(stmt string) (string, bool) { return tableAfter(stmt, "DROP TABLE IF EXISTS ") }

// tableAfter is the table named after prefix in stmt, when stmt starts
// with prefix.
func tableAfter(stmt, prefix string) (string, bool) {
	if !strings.HasPrefix(stmt, prefix) {
		return "", false
	}
	name := strings.Fields(stmt[len(prefix):])[0]
	return name[strings.LastIndex(name, ".")+1:], true
}
