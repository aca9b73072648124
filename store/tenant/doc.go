// Package tenant names the tenant a request belongs to, and holds each
// tenant's limits.
//
// Every key Cairn stores starts with a tenant ID. Receivers and query
// handlers take it from the X-Scope-OrgID header, as Mimir and Loki do; a
// request without one belongs to Default.
//
// Limits are one tenant's ingestion rate and query limits. Their defaults
// come from flags (-limits.ingestion-*, -query.*); Overrides replaces
// some of them for some tenants from a YAML file in the shape of Mimir's
// runtime configuration (-limits.overrides-file), reloaded every
// -limits.overrides-period. Limits.Source says whether a limit came from
// its flag or from the file, so that errors name the right one.
//
// This package is a leaf: ingest and query import it, it imports nothing
// of Cairn's.
package tenant
