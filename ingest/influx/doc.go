// Package influx decodes InfluxDB line protocol, as Telegraf and other
// Influx clients write it, into Prometheus series.
//
// Each field of an entry becomes a series named <measurement>_<field>
// (characters outside [a-zA-Z0-9_:] become "_"), labelled with the entry's
// tags (keys sanitized to [a-zA-Z0-9_]; a key given twice keeps its last
// value; empty values are left out). Float, integer and unsigned fields
// keep their value, booleans become 0 or 1; string fields have no place in
// a time series and are counted and skipped. Timestamps are read in the
// request's precision (ns by default); an entry without one is stamped
// with the receiver's clock. An entry that cannot be parsed is skipped
// whole and counted, and the error names its line; the others are kept.
//
// Parsing is github.com/influxdata/line-protocol/v2's. Decode does not
// validate the series against Cairn's limits: ingest's receiver does, for
// every protocol alike.
//
// CreateDatabases parses the q parameter of InfluxDB 1.x's /query when
// it holds only CREATE DATABASE statements, which clients send before
// writing.
//
// influx imports store for the data model and nothing else of Cairn's;
// ingest's receiver is its only user.
package influx
