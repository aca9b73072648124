// Package dashboards will generate Grafana dashboards per service, host,
// pipeline and SLO with typed builders, and provision them through
// Grafana's HTTP API.
//
// It is not built yet. Generated dashboards will use Grafana's built-in
// Prometheus datasource pointed at Cairn's query API, so they need nothing
// Cairn-specific on the Grafana side.
package dashboards
