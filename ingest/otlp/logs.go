package otlp

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/cairn-dev/cairn/store"
)

// ErrDecodeLogs is wrapped by every error about a logs request's body,
// which the receiver answers with 400.
var ErrDecodeLogs = errors.New("cannot decode OTLP logs request")

// DecodeLogs unmarshals an uncompressed ExportLogsServiceRequest.
func DecodeLogs(body []byte, f Format) (plog.Logs, error) {
	req := plogotlp.NewExportRequest()
	var err error
	if f == JSON {
		err = req.UnmarshalJSON(body)
	} else {
		err = req.UnmarshalProto(body)
	}
	if err != nil {
		return plog.Logs{}, fmt.Errorf("%w: %s: %v", ErrDecodeLogs, f, err)
	}
	return req.Logs(), nil
}

// Names Loki gives the stream label of service.name and its value when a
// resource has none.
const (
	labelServiceName = "service_name"
	unknownService   = "unknown_service"
)

// logConverter holds the state of one ConvertLogs call.
type logConverter struct {
	tenant string
	now    int64 // ns, for records without any timestamp
	out    []store.LogEntry
	b      labels.ScratchBuilder
	attrs  attrList
	names  map[string]string

	stream    labels.Labels  // the current resource's stream labels
	resource  []labels.Label // the current resource's other attributes
	scope     []labels.Label // the current scope's metadata
	meta      []labels.Label // a record's metadata, raw
	streamBuf []labels.Label // the current resource's stream labels, raw
}

// ConvertLogs maps OTLP log records to log entries for tenant, one entry
// per record, as Loki's OTLP endpoint does by default; see the package
// documentation for the rules. now stamps records that carry neither
// time_unix_nano nor observed_time_unix_nano.
func ConvertLogs(ld plog.Logs, tenant string, now time.Time) []store.LogEntry {
	c := &logConverter{
		tenant: tenant,
		now:    now.UnixNano(),
		out:    make([]store.LogEntry, 0, ld.LogRecordCount()),
		b:      labels.NewScratchBuilder(16),
		names:  map[string]string{},
	}
	rls := ld.ResourceLogs()
	for i := range rls.Len() {
		rl := rls.At(i)
		c.setResource(rl.Resource())
		sls := rl.ScopeLogs()
		for j := range sls.Len() {
			c.setScope(sls.At(j).Scope())
			lrs := sls.At(j).LogRecords()
			for k := range lrs.Len() {
				c.record(lrs.At(k))
			}
		}
	}
	return c.out
}

// setResource splits a resource's attributes into stream labels (those
// Loki indexes by default) and metadata, and names the service.
func (c *logConverter) setResource(res pcommon.Resource) {
	c.attrs.reset()
	c.attrs.addMap(res.Attributes())
	c.resource, c.streamBuf = c.resource[:0], c.streamBuf[:0]
	for _, a := range c.attrs.list {
		name, ok := c.labelName(a.key)
		switch {
		case !ok:
		case isStreamAttribute(a.root):
			if !containsName(c.streamBuf, name) {
				c.streamBuf = append(c.streamBuf, labels.Label{Name: name, Value: a.value})
			}
		default:
			c.resource = append(c.resource, labels.Label{Name: name, Value: a.value})
		}
	}
	if !containsName(c.streamBuf, labelServiceName) {
		c.streamBuf = append(c.streamBuf, labels.Label{Name: labelServiceName, Value: discoverService(c.streamBuf)})
	}
	c.b.Reset()
	for _, l := range c.streamBuf {
		c.b.Add(l.Name, l.Value)
	}
	c.b.Sort()
	c.stream = c.b.Labels()
}

// discoverService names the service of a stream without service.name the
// way Loki does: the first of its usual service labels that the stream
// has, else unknown_service.
func discoverService(stream []labels.Label) string {
	for _, name := range []string{
		"service", "app", "application", "app_name", "name", "app_kubernetes_io_name",
		"container", "container_name", "k8s_container_name", "component", "workload", "job", "k8s_job_name",
	} {
		for _, l := range stream {
			if l.Name == name {
				return l.Value
			}
		}
	}
	return unknownService
}

// setScope collects a scope's metadata: its attributes, name, version and
// dropped attributes count, named as Loki names them.
func (c *logConverter) setScope(s pcommon.InstrumentationScope) {
	c.attrs.reset()
	c.attrs.addMap(s.Attributes())
	c.scope = c.sanitized(c.scope[:0])
	if s.Name() != "" {
		c.scope = append(c.scope, labels.Label{Name: "scope_name", Value: s.Name()})
	}
	if s.Version() != "" {
		c.scope = append(c.scope, labels.Label{Name: "scope_version", Value: s.Version()})
	}
	if n := s.DroppedAttributesCount(); n != 0 {
		c.scope = append(c.scope, labels.Label{Name: "scope_dropped_attributes_count", Value: strconv.FormatUint(uint64(n), 10)})
	}
}

// record converts one log record. Its metadata is, by precedence when
// names collide: the record's fields (level, severity, trace context),
// its attributes, its scope's, then its resource's.
func (c *logConverter) record(lr plog.LogRecord) {
	c.attrs.reset()
	c.attrs.addFields(lr)
	c.attrs.addMap(lr.Attributes())
	meta := c.sanitized(c.meta[:0])
	meta = append(meta, c.scope...)
	meta = append(meta, c.resource...)
	c.out = append(c.out, store.LogEntry{
		Tenant:   c.tenant,
		Stream:   c.stream,
		T:        c.timestamp(lr),
		Line:     lr.Body().AsString(),
		Metadata: c.metadata(meta),
	})
	c.meta = meta
}

// timestamp is a record's time, else its observed time, else now.
func (c *logConverter) timestamp(lr plog.LogRecord) int64 {
	if t := lr.Timestamp(); t != 0 {
		return int64(t)
	}
	if t := lr.ObservedTimestamp(); t != 0 {
		return int64(t)
	}
	return c.now
}

// metadata builds labels from ls in order of precedence: the first of a
// name wins.
func (c *logConverter) metadata(ls []labels.Label) labels.Labels {
	c.b.Reset()
	for i, l := range ls {
		if !containsName(ls[:i], l.Name) {
			c.b.Add(l.Name, l.Value)
		}
	}
	c.b.Sort()
	return c.b.Labels()
}

func containsName(ls []labels.Label, name string) bool {
	for _, l := range ls {
		if l.Name == name {
			return true
		}
	}
	return false
}

// sanitized appends c.attrs to dst as labels, their keys sanitized.
func (c *logConverter) sanitized(dst []labels.Label) []labels.Label {
	for _, a := range c.attrs.list {
		if name, ok := c.labelName(a.key); ok {
			dst = append(dst, labels.Label{Name: name, Value: a.value})
		}
	}
	return dst
}

// labelName sanitizes an attribute key as Loki does (the same rules as
// for metrics), remembered for the request. Keys with nothing usable are
// left out.
func (c *logConverter) labelName(key string) (string, bool) {
	if name, ok := c.names[key]; ok {
		return name, name != ""
	}
	name, err := labelName(key)
	if err != nil {
		name = ""
	}
	c.names[key] = name
	return name, name != ""
}

// addFields adds a record's fields, as Loki stores them in structured
// metadata, and the level Cairn derives from its severity.
func (a *attrList) addFields(lr plog.LogRecord) {
	if lvl := Level(lr.SeverityText(), lr.SeverityNumber()); lvl != "" {
		a.add(labelLevel, lvl)
	}
	if lr.SeverityText() != "" {
		a.add("severity_text", lr.SeverityText())
	}
	if n := lr.SeverityNumber(); n != plog.SeverityNumberUnspecified {
		a.add("severity_number", strconv.Itoa(int(n)))
	}
	if tid := lr.TraceID(); !tid.IsEmpty() {
		a.add("trace_id", hex.EncodeToString(tid[:]))
	}
	if sid := lr.SpanID(); !sid.IsEmpty() {
		a.add("span_id", hex.EncodeToString(sid[:]))
	}
	if f := lr.Flags(); f != 0 {
		a.add("flags", strconv.FormatUint(uint64(f), 10))
	}
	if lr.Timestamp() != 0 && lr.ObservedTimestamp() != 0 {
		a.add("observed_timestamp", strconv.FormatUint(uint64(lr.ObservedTimestamp()), 10))
	}
	if n := lr.DroppedAttributesCount(); n != 0 {
		a.add("dropped_attributes_count", strconv.FormatUint(uint64(n), 10))
	}
}
