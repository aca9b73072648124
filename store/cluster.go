package store

import "strings"

// schema renders the DDL of one database for one server flavour, on one
// server or, in cluster mode, on every server of a ClickHouse cluster.
//
// In cluster mode each table of the single-server schema becomes two: a
// Replicated*MergeTree table <name>_local on every server (ON CLUSTER),
// which holds its shard's rows, and a Distributed table <name> over the
// local tables of all shards, through which the store reads and writes.
// Queries keep their single-server SQL, since the Distributed tables have
// the single-server names; the Distributed engine sends each query to one
// replica of every shard and merges the answers. See doc.go ("Cluster
// mode").
type schema struct {
	features
	db      string // the database as an identifier, quoted if need be
	name    string // the database's name, unquoted, for ZooKeeper paths
	cluster string // remote_servers cluster; "" on a single server
}

func newSchema(f features, database, cluster string) schema {
	return schema{features: f, db: quoteIdent(database), name: database, cluster: cluster}
}

// localSuffix ends the name of each shard-local table in cluster mode.
const localSuffix = "_local"

// onCluster is the ON CLUSTER clause that runs DDL on every server of the
// cluster, "" on a single server.
func (s schema) onCluster() string {
	if s.cluster == "" {
		return ""
	}
	return " ON CLUSTER " + s.cluster
}

// local is the name of the table that stores table's rows: table itself
// on a single server, table_local in cluster mode.
func (s schema) local(table string) string {
	if s.cluster == "" {
		return table
	}
	return table + localSuffix
}

// createTable returns the statements that create table with the given
// column list, a MergeTree-family engine (its name and its own
// arguments, such as a version column) and the clauses after ENGINE. In
// cluster mode the engine becomes Replicated, the table table_local on
// every server, and a second statement creates the Distributed table
// over them, which sends each row to the shard shardKey picks: rows with
// equal keys stay on one shard.
func (s schema) createTable(table, columns, engine, args, clauses, shardKey string) []string {
	create := "CREATE TABLE IF NOT EXISTS " + s.db + "." + s.local(table) + s.onCluster() + "\n" + columns +
		"\nENGINE = " + s.engine(table, engine, args) + "\n" + clauses
	if s.cluster == "" {
		return []string{create}
	}
	return []string{create, "CREATE TABLE IF NOT EXISTS " + s.db + "." + table + s.onCluster() +
		" AS " + s.db + "." + s.local(table) +
		"\nENGINE = Distributed(" + s.cluster + ", " + s.db + ", " + s.local(table) + ", " + shardKey + ")"}
}

// engine renders a table's engine clause. Replicated engines keep their
// replicas' state in ZooKeeper under a path that names the cluster, the
// shard (the server's {shard} macro), the database and the table; the
// server's {replica} macro names the replica within its shard.
func (s schema) engine(table, engine, args string) string {
	if s.cluster == "" {
		if args == "" {
			return engine
		}
		return engine + "(" + args + ")"
	}
	path := "/clickhouse/tables/" + s.cluster + "/{shard}/" + s.name + "/" + s.local(table)
	a := quoteString(path) + ", '{replica}'"
	if args != "" {
		a += ", " + args
	}
	return "Replicated" + engine + "(" + a + ")"
}

// tableSettings ends a MergeTree definition. Tables remember the last
// 1000 inserts (their tokens on modern servers, else their blocks'
// checksums), so that a repeated insert is dropped on arrival: modern
// servers do that on single servers too, and Replicated tables of every
// version do it by default (for 100 inserts).
func (s schema) tableSettings() string {
	b := "SETTINGS index_granularity = 8192"
	switch {
	case s.cluster != "":
		b += ", replicated_deduplication_window = 1000"
	case s.modern:
		b += ", non_replicated_deduplication_window = 1000"
	}
	return b
}

// bulkTableSettings ends the definition of samples and rollups_1m. On
// modern servers their compressed blocks hold at least 256 KiB of
// uncompressed data (four granules of an 8-byte column) instead of 64 KiB:
// ZSTD then sees the timestamps of neighbouring series, which mostly
// repeat, and a day of samples takes ~6% less (docs/benchmarks.md), while
// a read of one granule decompresses at most four. Log lines gain nothing
// from it: a granule of them already fills the largest block.
func (s schema) bulkTableSettings() string {
	if s.modern {
		return s.tableSettings() + ", min_compress_block_size = 262144"
	}
	return s.tableSettings()
}

// localTable is the fully qualified name of the table that stores a
// table's rows on the server a query runs on: in cluster mode the
// shard-local table. Queries name it in IN subqueries, which each shard
// then evaluates on its own rows: correct because every table is sharded
// by the same key as the table it is joined with (a series' label index
// rows live on its shard), and cheaper than GLOBAL IN, which would ship
// the subquery's result to every shard. ALTER statements name it too,
// since only the local tables have partitions.
func (c *Client) localTable(name string) string { return c.db + "." + c.schema().local(name) }

func (c *Client) schema() schema { return newSchema(c.feat, c.db, c.cluster) }

// systemTable names a system table of the server, or in cluster mode the
// union of its rows on one replica of every shard (the cluster table
// function, which 18.16 has).
func (c *Client) systemTable(name string) string {
	if c.cluster == "" {
		return "system." + name
	}
	return "cluster(" + c.cluster + ", system, " + name + ")"
}

// fromLocal maps a shard-local table's name back to its table's.
func (c *Client) fromLocal(name string) string {
	if c.cluster == "" {
		return name
	}
	return strings.TrimSuffix(name, localSuffix)
}
