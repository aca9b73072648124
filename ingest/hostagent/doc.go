// Package hostagent collects a machine's metrics and pushes them to
// Cairn with Prometheus remote write.
//
// It is what `cairn agent` runs on each host: every -agent.interval it
// reads CPU, memory, load, filesystem, disk and network counters through
// gopsutil, names them as node_exporter does (node_cpu_seconds_total,
// node_memory_MemAvailable_bytes, …) so that dashboards and rules written
// for node_exporter work unchanged, and posts them to a receiver. A push
// that fails is retried at the next interval with fresh values; nothing
// is spooled.
//
// hostagent imports store (data model) and ingest/remotewrite (encoding).
// Only cmd/cairn imports it.
package hostagent
