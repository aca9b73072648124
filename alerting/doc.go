// Package alerting will evaluate Prometheus-format rule files and SLO
// burn-rate rules against the query API's engine and deliver alerts to
// Alertmanager.
//
// It is not built yet. By design it depends on a query function with the
// shape of query.API.InstantQuery (ctx, tenant, expr, time) → vector, never
// on the query package's internals, and every rule group belongs to one
// tenant.
package alerting
