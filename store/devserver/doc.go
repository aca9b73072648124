// Package devserver runs a private ClickHouse server for `cairn dev`.
//
// Start writes a minimal configuration for Debian's clickhouse-server
// (18.16) under Config.Dir/clickhouse, starts the server on free loopback
// ports in its own process group, and returns once it answers; Stop shuts it
// down. Data lives in Config.Dir/clickhouse/data and survives restarts. The
// caller owns the lifecycle: a Ctrl-C in the terminal reaches cairn, not the
// server, so cairn can stop its components in order and the server last.
//
// In: a state directory and, optionally, the server binary. Out: the
// native-protocol address (Server.Addr) to hand to store.Config, and the
// HTTP address (Server.HTTPAddr). The server's own logs stay in
// Config.Dir/clickhouse/log; lifecycle events go to the injected logger.
//
// Only cmd/cairn and tests import this package; it imports nothing of
// Cairn's. It runs on Linux (and other Unix systems, without the
// parent-death signal); tests and CI use deploy/local instead, which runs
// long-lived servers on fixed ports.
package devserver
