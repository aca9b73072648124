package logql

import (
	"testing"

	"github.com/prometheus/prometheus/model/labels"
)

// FuzzPipeline feeds arbitrary lines to every parser and to templates:
// nothing may panic, and what is kept has valid label names.
func FuzzPipeline(f *testing.F) {
	for _, s := range []string{
		`{"a":{"b":[1,{"c":2}]},"d":"e","f":null,"g":true,"h":1.5e3}`,
		`level=info msg="a \"b\" c" k= =v "x`,
		`1.2.3.4 - - [10/Oct/2023] "GET /a HTTP/1.1" 200 5`,
		"\x1b[31mred\x1b[0m \xff\xfe",
	} {
		f.Add(s)
	}
	var pipelines []*Pipeline
	for _, q := range []string{
		`{a="b"} | json | line_format "{{.d}} {{__line__}}"`,
		`{a="b"} | json x="a.b[1].c", y="[\"d\"]"`,
		`{a="b"} | logfmt | label_format z="{{.level | upper}}", w=msg`,
		`{a="b"} | logfmt | x > 5 or y < 1s or z >= 1KB`,
		`{a="b"} | regexp "(?P<ip>\\S+) (?P<rest>.*)"`,
		`{a="b"} | pattern "<ip> - - [<_>] \"<method> <path> <_>\" <status> <size>"`,
		`{a="b"} | decolorize | drop __error__ | keep a`,
	} {
		e, err := Parse(q)
		if err != nil {
			f.Fatal(err)
		}
		pipelines = append(pipelines, NewPipeline(e.(*LogExpr).Stages))
	}
	stream := labels.FromStrings("a", "b")
	f.Fuzz(func(t *testing.T, line string) {
		for _, p := range pipelines {
			if !p.Process(1, line, stream, labels.EmptyLabels()) {
				continue
			}
			p.Labels().Range(func(l labels.Label) {
				if !validLabelName(l.Name) {
					t.Fatalf("invalid label name %q from line %q", l.Name, line)
				}
			})
		}
	})
}

func BenchmarkPipeline(b *testing.B) {
	e, err := Parse(`{app="api"} | json | status >= 500 or level="error" | line_format "{{.level}} {{.msg}}"`)
	if err != nil {
		b.Fatal(err)
	}
	p := NewPipeline(e.(*LogExpr).Stages)
	stream := labels.FromStrings("app", "api", "env", "prod")
	line := `{"level":"error","msg":"GET /users","status":500,"latency_ms":12,"user":{"id":7,"name":"ann"}}`
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		p.Process(1, line, stream, labels.EmptyLabels())
	}
}

func BenchmarkParse(b *testing.B) {
	q := `sum by (level) (count_over_time({app="api", env=~"prod|dev"} |= "GET" | json | status >= 500 | drop __error__ [5m]))`
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(q); err != nil {
			b.Fatal(err)
		}
	}
}
