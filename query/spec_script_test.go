package query

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// specCase is one eval command of a PromQL test script: one case of the
// pass rate, and one subtest (`line <N>/<expr>`) when promqltest runs it.
type specCase struct {
	script string // file name without ".test"
	line   int    // 1-based line of the eval command
	cmd    string // the eval command line
	// startTimestamps: the data loaded since the last clear has start
	// timestamps (`metric@st` lines).
	startTimestamps bool
}

func (c specCase) key() string { return c.script + ":" + strconv.Itoa(c.line) }

// parseSpecScript lists the eval cases of a script, reading it the way
// promqltest does: comments and blank lines end a command's block, `load`
// and `eval` blocks run until the next blank line, `clear` starts afresh.
func parseSpecScript(script, text string) []specCase {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "#") {
			l = ""
		}
		lines[i] = l
	}
	var (
		cases []specCase
		st    bool // of the data loaded since the last clear
	)
	for i := 0; i < len(lines); i++ {
		word := strings.ToLower(strings.Fields(lines[i] + " x")[0])
		start := i
		body := func() (hasST bool) {
			for i+1 < len(lines) && lines[i+1] != "" {
				i++
				hasST = hasST || strings.Contains(lines[i], "@st ")
			}
			return hasST
		}
		switch {
		case lines[i] == "":
		case word == "clear":
			st = false
		case strings.HasPrefix(word, "load"):
			st = body() || st
		case strings.HasPrefix(word, "eval"):
			body()
			cases = append(cases, specCase{script: script, line: start + 1, cmd: lines[start], startTimestamps: st})
		}
	}
	return cases
}

// specResult is the outcome of one subtest of the child process.
type specResult struct {
	passed bool
	output string
}

// specEvent is the part of a `go tool test2json` event that we read.
type specEvent struct {
	Action string
	Test   string
	Output string
}

// caseTest matches the name of a case's subtest,
// TestPromQLScripts/<script>/line_<N>/<expr>, or the same under
// TestPromQLScriptsReference.
var caseTest = regexp.MustCompile(`^TestPromQLScripts(Reference)?/([^/]+)/line_(\d+)/`)

// specRun is what the child process reported.
type specRun struct {
	store, reference map[string]specResult // by case key
	scripts          map[string]string     // output of failed store scripts
}

// parseSpecEvents reads test2json events and returns the results of the
// case subtests by case key, and the output of failed scripts (a script
// fails as a whole when a load does) by script name.
func parseSpecEvents(r io.Reader) (*specRun, error) {
	run := &specRun{store: map[string]specResult{}, reference: map[string]specResult{}, scripts: map[string]string{}}
	outputs := make(map[string]*strings.Builder)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for sc.Scan() {
		if !bytes.HasPrefix(sc.Bytes(), []byte("{")) {
			continue
		}
		var ev specEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return nil, fmt.Errorf("decode test2json event %q: %w", sc.Text(), err)
		}
		if ev.Test == "" {
			continue
		}
		switch ev.Action {
		case "output":
			b := outputs[ev.Test]
			if b == nil {
				b = &strings.Builder{}
				outputs[ev.Test] = b
			}
			b.WriteString(ev.Output)
		case "pass", "fail":
			out := ""
			if b := outputs[ev.Test]; b != nil {
				out = b.String()
			}
			if m := caseTest.FindStringSubmatch(ev.Test); m != nil {
				res := run.store
				if m[1] != "" {
					res = run.reference
				}
				res[m[2]+":"+m[3]] = specResult{passed: ev.Action == "pass", output: out}
			} else if script, ok := strings.CutPrefix(ev.Test, "TestPromQLScripts/"); ok && ev.Action == "fail" && !strings.Contains(script, "/") {
				run.scripts[script] = out
			}
		}
	}
	return run, sc.Err()
}

// knownFailure is one line of the checked-in list of failing cases.
type knownFailure struct {
	key, reason, cmd string
}

const failuresHeader = `# Eval cases of Prometheus' own PromQL test scripts (promql/promqltest/testdata
# of the github.com/prometheus/prometheus version go.mod pins) that fail when
# the data is loaded through Cairn's store into ClickHouse and read back
# through query.Queryable. TestPromQLSpec (make test) fails when a case not
# listed here fails and when a listed case passes; after a fix, rewrite the
# list with
#
#   go test ./query -run 'TestPromQLSpec$' -update
#
# which keeps the reasons of cases still listed. Every reason must explain
# the failure; an UNEXPLAINED one fails the test.
#
# <script>:<line>	<reason>	<eval command>
`

func readFailures(path string) (map[string]knownFailure, error) {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return map[string]knownFailure{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := make(map[string]knownFailure)
	for n, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.SplitN(line, "\t", 3)
		if len(parts) != 3 {
			return nil, fmt.Errorf("%s:%d: want <case>\\t<reason>\\t<command>, got %q", path, n+1, line)
		}
		out[parts[0]] = knownFailure{key: parts[0], reason: parts[1], cmd: parts[2]}
	}
	return out, nil
}

func writeFailures(path string, fs []knownFailure) error {
	var b strings.Builder
	b.WriteString(failuresHeader)
	for _, f := range fs {
		fmt.Fprintf(&b, "%s\t%s\t%s\n", f.key, f.reason, f.cmd)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// firstErrorLine picks the most telling line of a failed subtest's output:
// the line after testify's "Error:" header, else the first non-empty one.
func firstErrorLine(out string) string {
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		l = strings.TrimSpace(l)
		if rest, ok := strings.CutPrefix(l, "Error:"); ok {
			rest = strings.TrimSpace(rest)
			if (rest == "" || rest == "Received unexpected error:") && i+1 < len(lines) {
				rest = strings.TrimSpace(lines[i+1])
			}
			return rest
		}
	}
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "===") {
			return l
		}
	}
	return "no output"
}

// sortCases orders case keys by script, then line.
func sortCases(cs []specCase) {
	slices.SortFunc(cs, func(a, b specCase) int {
		if c := strings.Compare(a.script, b.script); c != 0 {
			return c
		}
		return a.line - b.line
	})
}
