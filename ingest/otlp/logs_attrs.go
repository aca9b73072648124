package otlp

import (
	"slices"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// labelLevel is the metadata name of a record's level.
const labelLevel = "level"

// isStreamAttribute reports whether a resource attribute becomes a stream
// label: the attributes Loki indexes by default
// (-distributor.otlp.default_resource_attributes_as_index_labels).
func isStreamAttribute(key string) bool {
	switch key {
	case "service.name", "service.namespace", "service.instance.id",
		"deployment.environment", "deployment.environment.name",
		"cloud.region", "cloud.availability_zone",
		"k8s.cluster.name", "k8s.namespace.name", "k8s.pod.name", "k8s.container.name", "container.name",
		"k8s.replicaset.name", "k8s.deployment.name", "k8s.statefulset.name", "k8s.daemonset.name",
		"k8s.cronjob.name", "k8s.job.name":
		return true
	}
	return false
}

// attr is one attribute, flattened: key is the raw key, prefixed with its
// parents' keys for values nested in maps; root is the top-level key.
type attr struct {
	root, key, value string
}

// attrList collects attributes in order of precedence.
type attrList struct {
	list []attr
}

func (a *attrList) reset() { a.list = a.list[:0] }

// add appends a field; empty values are left out, as Prometheus and Loki
// have no empty labels.
func (a *attrList) add(key, value string) {
	if value != "" {
		a.list = append(a.list, attr{root: key, key: key, value: value})
	}
}

// maxAttrDepth bounds how deep maps nested in attribute values are
// flattened; deeper maps are kept as JSON.
const maxAttrDepth = 8

// addMap appends the attributes of m, sorted by key so that the first of
// keys colliding once sanitized is always the same. A map value is
// flattened as Loki flattens it: {"http": {"method": "GET"}} becomes
// http_method="GET". Other values are rendered as OTLP's AsString does:
// strings as they are, arrays and deep maps as JSON, bytes as base64.
func (a *attrList) addMap(m pcommon.Map) {
	start := len(a.list)
	a.flatten(m, "", "", 0)
	slices.SortStableFunc(a.list[start:], func(x, y attr) int { return strings.Compare(x.key, y.key) })
}

func (a *attrList) flatten(m pcommon.Map, root, prefix string, depth int) {
	m.Range(func(k string, v pcommon.Value) bool {
		r, key := root, prefix+"_"+k
		if depth == 0 {
			r, key = k, k
		}
		if v.Type() == pcommon.ValueTypeMap && depth < maxAttrDepth {
			a.flatten(v.Map(), r, key, depth+1)
		} else if s := v.AsString(); s != "" {
			a.list = append(a.list, attr{root: r, key: key, value: s})
		}
		return true
	})
}

// Level names a log record's level, for the "level" metadata that log
// queries and Grafana group by: severity_text when set, in one of the
// canonical lowercase names trace, debug, info, warn, error, critical and
// fatal when it is a known spelling of one ("WARNING" → "warn", "Info2" →
// "info"), lowercased otherwise; else severity_number mapped to its range
// as Loki maps it to detected_level (9–12 → "info", 21–24 → "fatal");
// else "" for a record that has neither.
func Level(text string, n plog.SeverityNumber) string {
	if text != "" {
		lower := strings.ToLower(text)
		if lvl := canonicalLevel(lower); lvl != "" {
			return lvl
		}
		if len(lower) > 1 && lower[len(lower)-1] >= '1' && lower[len(lower)-1] <= '4' {
			if lvl := canonicalLevel(lower[:len(lower)-1]); lvl != "" {
				return lvl
			}
		}
		return lower
	}
	switch {
	case n <= plog.SeverityNumberUnspecified:
		return ""
	case n <= plog.SeverityNumberTrace4:
		return "trace"
	case n <= plog.SeverityNumberDebug4:
		return "debug"
	case n <= plog.SeverityNumberInfo4:
		return "info"
	case n <= plog.SeverityNumberWarn4:
		return "warn"
	case n <= plog.SeverityNumberError4:
		return "error"
	case n <= plog.SeverityNumberFatal4:
		return "fatal"
	}
	return ""
}

// canonicalLevel maps the spellings of a level that Loki recognizes to
// its canonical name; "" for others.
func canonicalLevel(lower string) string {
	switch lower {
	case "trace", "trc":
		return "trace"
	case "debug", "dbg":
		return "debug"
	case "info", "inf", "information", "informational":
		return "info"
	case "warn", "wrn", "warning":
		return "warn"
	case "error", "err":
		return "error"
	case "critical", "crit":
		return "critical"
	case "fatal":
		return "fatal"
	}
	return ""
}
