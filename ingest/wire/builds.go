package wire

import (
	"encoding/binary"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/cairn-dev/cairn/store"
)

// AppendBuilds appends a builds message holding events, all of which
// belong to tenant, to dst.
//
// Layout after the header: event count, then for each event its ID,
// Version (uvarint), Service, Pipeline, Kind, Status, Commit, Branch,
// Environment, StartedAt, FinishedAt and CommitTime (varints, ms), URL,
// Trigger and Labels. Strings are length-prefixed. Events are few and
// small (a CI run reports a handful of times), so the layout favours
// simplicity over the delta tricks of metrics and logs.
func AppendBuilds(dst []byte, tenant string, events []store.BuildEvent) []byte {
	dst = appendHeader(dst, v1, KindBuilds, tenant)
	dst = binary.AppendUvarint(dst, uint64(len(events)))
	for _, e := range events {
		dst = appendString(dst, e.ID)
		dst = binary.AppendUvarint(dst, e.Version)
		for _, s := range [...]string{e.Service, e.Pipeline, e.Kind, e.Status, e.Commit, e.Branch, e.Environment} {
			dst = appendString(dst, s)
		}
		dst = binary.AppendVarint(dst, e.StartedAt)
		dst = binary.AppendVarint(dst, e.FinishedAt)
		dst = binary.AppendVarint(dst, e.CommitTime)
		dst = appendString(dst, e.URL)
		dst = appendString(dst, e.Trigger)
		dst = appendLabels(dst, e.Labels)
	}
	return dst
}

// minBuildEventBytes is the smallest encoded event: ten empty strings,
// a version, three timestamps and an empty label set, a byte each.
const minBuildEventBytes = 15

// DecodeBuilds decodes a builds message and appends its events to dst.
// Each event carries the message's tenant.
func DecodeBuilds(dst []store.BuildEvent, b []byte) ([]store.BuildEvent, error) {
	d, tenant, err := body(b, KindBuilds)
	if err != nil {
		return dst, err
	}
	var lb labels.ScratchBuilder
	n := d.count(minBuildEventBytes)
	for i := 0; i < n && d.err == nil; i++ {
		e := store.BuildEvent{Tenant: tenant, ID: d.string(), Version: d.uvarint()}
		e.Service, e.Pipeline, e.Kind, e.Status = d.string(), d.string(), d.string(), d.string()
		e.Commit, e.Branch, e.Environment = d.string(), d.string(), d.string()
		e.StartedAt, e.FinishedAt, e.CommitTime = d.varint(), d.varint(), d.varint()
		e.URL, e.Trigger = d.string(), d.string()
		e.Labels = d.labels(&lb)
		if d.err == nil {
			dst = append(dst, e)
		}
	}
	return dst, d.end()
}
