// Package tenant names the tenant a request belongs to.
//
// Every key Cairn stores starts with a tenant ID. Receivers and query
// handlers take it from the X-Scope-OrgID header, as Mimir and Loki do; a
// request without one belongs to Default. This package is a
// leaf: ingest and query import it, it imports nothing of Cairn's.
package tenant
