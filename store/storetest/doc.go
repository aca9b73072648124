// Package storetest gives integration tests a fresh, migrated Cairn
// database on a real ClickHouse server, or on a real ClickHouse cluster in
// cluster mode.
//
// The server is named by the environment variable CAIRN_TEST_CLICKHOUSE
// (host:port of the native protocol), the cluster by
// CAIRN_TEST_CLICKHOUSE_CLUSTER (one of its servers) and
// CAIRN_TEST_CLICKHOUSE_CLUSTER_NAME; `make test` sets all three. Without
// them, or with -short, the test is skipped; with them set and the server
// unreachable, the test fails: integration tests never pass by skipping. Any package's tests may
// import this one; production code must not.
package storetest
