package logql

import (
	"slices"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
)

// The labels a pipeline sets on errors, as Loki names them.
const (
	ErrorLabel        = "__error__"
	ErrorDetailsLabel = "__error_details__"
)

// The values of ErrorLabel.
const (
	errJSON             = "JSONParserErr"
	errLogfmt           = "LogfmtParserErr"
	errLabelFilter      = "LabelFilterErr"
	errTemplateFormat   = "TemplateFormatErr"
	errSampleExtraction = "SampleExtractionErr"
)

// category is where a label of a log line comes from.
type category uint8

const (
	catStream   category = iota // the stream's labels
	catMetadata                 // the entry's structured metadata
	catParsed                   // set by a pipeline stage
)

type catLabel struct {
	name, value string
	cat         category
}

// labelSet is the labels of one log line as a pipeline rewrites them. It
// is a small unsorted slice: lines have few labels, and a linear scan
// beats a map that would be allocated for every line.
type labelSet struct {
	ls   []catLabel
	base labels.Labels // the stream's labels, for _extracted suffixes
}

// reset starts the labels of a new line.
func (s *labelSet) reset(stream, metadata labels.Labels) {
	s.ls = s.ls[:0]
	s.base = stream
	stream.Range(func(l labels.Label) { s.ls = append(s.ls, catLabel{l.Name, l.Value, catStream}) })
	metadata.Range(func(l labels.Label) { s.set(l.Name, l.Value, catMetadata) })
}

func (s *labelSet) index(name string) int {
	for i := range s.ls {
		if s.ls[i].name == name {
			return i
		}
	}
	return -1
}

// get returns the value of label name; "" and false when it is absent.
func (s *labelSet) get(name string) (string, bool) {
	if i := s.index(name); i >= 0 {
		return s.ls[i].value, true
	}
	return "", false
}

// set sets label name, keeping its position and taking cat.
func (s *labelSet) set(name, value string, cat category) {
	if i := s.index(name); i >= 0 {
		s.ls[i].value, s.ls[i].cat = value, cat
		return
	}
	s.ls = append(s.ls, catLabel{name, value, cat})
}

func (s *labelSet) del(name string) {
	if i := s.index(name); i >= 0 {
		s.ls = slices.Delete(s.ls, i, i+1)
	}
}

// parsedName is the name a parser gives a field: the field's, with
// "_extracted" appended when a stream label has it.
func (s *labelSet) parsedName(name string) string {
	if s.base.Has(name) {
		return name + "_extracted"
	}
	return name
}

// setErr records a pipeline error; as in Loki, a later error replaces
// an earlier one.
func (s *labelSet) setErr(kind, details string) {
	s.set(ErrorLabel, kind, catParsed)
	s.set(ErrorDetailsLabel, details, catParsed)
}

func (s *labelSet) hasErr() bool {
	v, _ := s.get(ErrorLabel)
	return v != ""
}

// labels returns the labels of the categories in cats, sorted; labels
// with empty values are absent, as in Prometheus.
func (s *labelSet) labels(cats ...category) labels.Labels {
	b := labels.NewScratchBuilder(len(s.ls))
	for _, l := range s.ls {
		if l.value != "" && (len(cats) == 0 || slices.Contains(cats, l.cat)) {
			b.Add(l.name, l.value)
		}
	}
	b.Sort()
	return b.Labels()
}

// templateData is the labels as a map for templates.
func (s *labelSet) templateData() map[string]string {
	m := make(map[string]string, len(s.ls))
	for _, l := range s.ls {
		m[l.name] = l.value
	}
	return m
}

// sanitizeLabelName makes a field name a valid label name as Loki does:
// trimmed, invalid characters replaced by "_", and "_" before a leading
// digit.
func sanitizeLabelName(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	var b strings.Builder
	if isDigit(s[0]) {
		b.WriteByte('_')
	}
	for _, r := range s {
		if r < 128 && isAlnum(byte(r)) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}
