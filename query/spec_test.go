package query

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/teststorage"
	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store/storetest"
)

const (
	// specChildEnv makes TestPromQLScripts run: TestPromQLSpec sets it for
	// its child process.
	specChildEnv = "CAIRN_PROMQLTEST_CHILD"
	// specFailuresFile lists the cases known to fail, with their reasons.
	specFailuresFile = "testdata/promqltest-failures.txt"
	// specMinPassRate is the acceptance bar, over every case and over the
	// cases whose data the store can hold: start timestamps it cannot.
	specMinPassRate = 0.97
)

// The reasons that -update assigns by themselves, from what a case loads.
const (
	reasonStartTimestamps = "start timestamps: the store keeps no start timestamps; the case fails on a TSDB that drops them too"
	reasonUnexplained     = "UNEXPLAINED: "
)

// promqltestDir returns the directory of Prometheus' PromQL test scripts
// in the module cache, for the prometheus version go.mod pins.
func promqltestDir(t *testing.T) string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/prometheus/prometheus").Output()
	require.NoError(t, err, "locate the prometheus module")
	return filepath.Join(strings.TrimSpace(string(out)), "promql", "promqltest", "testdata")
}

// specScripts returns the scripts' names (without ".test") and texts.
func specScripts(t *testing.T) (names []string, texts map[string]string) {
	files, err := filepath.Glob(filepath.Join(promqltestDir(t), "*.test"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no PromQL test scripts in the prometheus module")
	texts = make(map[string]string, len(files))
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		name := strings.TrimSuffix(filepath.Base(f), ".test")
		names = append(names, name)
		texts[name] = string(data)
	}
	return names, texts
}

// TestPromQLScripts runs every PromQL test script of the pinned prometheus
// module with its data loaded through the store into a fresh ClickHouse
// database and every query read back through Queryable. Each eval is a
// subtest, `line <N>/<expr>`. It runs only as TestPromQLSpec's child
// process, which counts the subtests' results: known failures would
// otherwise fail every run. To run one script alone:
//
//	CAIRN_PROMQLTEST_CHILD=1 go test ./query -run 'TestPromQLScripts/functions$' -v
func TestPromQLScripts(t *testing.T) {
	if os.Getenv(specChildEnv) == "" {
		t.Skip("runs as TestPromQLSpec's child process; set " + specChildEnv + "=1 to run it alone")
	}
	names, texts := specScripts(t)
	engine := promqltest.NewTestEngine(t, false, 0, promqltest.DefaultMaxSamplesPerQuery)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			client := storetest.OpenTest(t)
			promqltest.RunTestWithStorage(t, texts[name], engine, specStorages(client))
		})
	}
}

// TestPromQLScriptsReference runs the same scripts, in the same child
// process, on a Prometheus test TSDB that drops what the store cannot
// keep (startlessTSDB): the cases that fail here too fail for that reason.
func TestPromQLScriptsReference(t *testing.T) {
	if os.Getenv(specChildEnv) == "" {
		t.Skip("runs as TestPromQLSpec's child process; set " + specChildEnv + "=1 to run it alone")
	}
	names, texts := specScripts(t)
	engine := promqltest.NewTestEngine(t, false, 0, promqltest.DefaultMaxSamplesPerQuery)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			promqltest.RunTestWithStorage(t, texts[name], engine, func(tb testing.TB) storage.Storage {
				return startlessTSDB{teststorage.New(tb)}
			})
		})
	}
}

// TestPromQLSpec is the acceptance test of PromQL over the store: it runs
// TestPromQLScripts and TestPromQLScriptsReference in a child process,
// counts the eval cases, and fails when a case fails that
// testdata/promqltest-failures.txt does not list, when a listed case
// passes, or when the pass rate of all cases, or of the cases whose data
// the store can hold (those passing on the reference), drops below
// specMinPassRate. With
// -update it rewrites the list.
func TestPromQLSpec(t *testing.T) {
	storetest.Addr(t)
	names, texts := specScripts(t)
	var cases []specCase
	for _, name := range names {
		cases = append(cases, parseSpecScript(name, texts[name])...)
	}
	sortCases(cases)
	run := runSpecChild(t)
	known, err := readFailures(specFailuresFile)
	require.NoError(t, err)
	tally, failures, unexpected, fixed := judgeSpec(cases, run, known)
	t.Logf("PromQL test scripts against the store: %s; %d failures by reason:\n%s",
		tally, len(failures), reasonCounts(failures))

	if *update {
		require.NoError(t, writeFailures(specFailuresFile, failures))
		t.Logf("wrote %d failing cases to %s", len(failures), specFailuresFile)
	} else {
		for _, u := range unexpected {
			t.Errorf("case fails and is not listed in %s:\n%s", specFailuresFile, u)
		}
		for _, f := range fixed {
			t.Errorf("case listed in %s passes now; remove it (go test ./query -run 'TestPromQLSpec$' -update):\n%s", specFailuresFile, f)
		}
	}
	for _, f := range failures {
		if strings.HasPrefix(f.reason, reasonUnexplained) {
			t.Errorf("%s lists %s without a reason: %s", specFailuresFile, f.key, f.reason)
		}
	}
	if r := tally.representableRate(); r < specMinPassRate {
		t.Errorf("pass rate of the cases whose data the store can hold is %.2f%%, below %.0f%%", 100*r, 100*specMinPassRate)
	}
	if r := tally.passRate(); r < specMinPassRate {
		t.Errorf("pass rate of all cases is %.2f%%, below %.0f%%", 100*r, 100*specMinPassRate)
	}
}

// judgeSpec compares the cases' results with the known failures. It
// returns the counts, every failing case (with its listed reason, or one
// of autoReason's), and the unlisted failures and listed passes, described.
func judgeSpec(cases []specCase, run *specRun, known map[string]knownFailure) (tally specTally, failures []knownFailure, unexpected, fixed []string) {
	for _, c := range cases {
		r, ran := run.store[c.key()]
		if !ran {
			r.output = "not run: the script failed before this case: " + firstErrorLine(run.scripts[c.script])
		}
		ref := run.reference[c.key()]
		tally.add(r.passed, ref.passed)
		k, listed := known[c.key()]
		if r.passed {
			if listed {
				fixed = append(fixed, fmt.Sprintf("%s\t%s", c.key(), c.cmd))
			}
			continue
		}
		if !listed {
			unexpected = append(unexpected, fmt.Sprintf("%s\t%s\n%s", c.key(), c.cmd, strings.TrimSpace(r.output)))
			k = knownFailure{key: c.key(), reason: autoReason(c, r, ref)}
		}
		k.cmd = c.cmd
		failures = append(failures, k)
	}
	return tally, failures, unexpected, fixed
}

// specTally counts eval cases.
type specTally struct {
	total, passed int
	// representable cases pass on the reference, which keeps only what
	// the store keeps; representablePassed of them pass on the store.
	representable, representablePassed int
}

func (s *specTally) add(passed, refPassed bool) {
	s.total++
	if passed {
		s.passed++
	}
	if refPassed {
		s.representable++
		if passed {
			s.representablePassed++
		}
	}
}

func (s specTally) passRate() float64 {
	return float64(s.passed) / float64(max(s.total, 1))
}

func (s specTally) representableRate() float64 {
	return float64(s.representablePassed) / float64(max(s.representable, 1))
}

func (s specTally) String() string {
	return fmt.Sprintf("%d of %d eval cases pass (%.2f%%); of the %d cases whose data the store can hold "+
		"(they pass on a TSDB without start timestamps), %d pass (%.2f%%)",
		s.passed, s.total, 100*s.passRate(),
		s.representable, s.representablePassed, 100*s.representableRate())
}

// autoReason is the reason -update records for a newly failing case: what
// the store cannot hold when the reference fails too, else UNEXPLAINED
// with the error, for a human to replace.
func autoReason(c specCase, r, ref specResult) string {
	// The reference's error may name another series of the result: which
	// one promqltest reports first depends on map order.
	got, want := firstErrorLine(r.output), firstErrorLine(ref.output)
	switch {
	case ref.passed:
	case c.startTimestamps:
		return reasonStartTimestamps
	default:
		return reasonUnexplained + "fails on the reference TSDB too: " + strings.ReplaceAll(want, "\t", " ")
	}
	return reasonUnexplained + strings.ReplaceAll(got, "\t", " ")
}

// reasonCounts summarises failures by reason, most frequent first.
func reasonCounts(fs []knownFailure) string {
	counts := make(map[string]int)
	for _, f := range fs {
		counts[f.reason]++
	}
	reasons := make([]string, 0, len(counts))
	for r := range counts {
		reasons = append(reasons, r)
	}
	sort.Slice(reasons, func(i, j int) bool {
		if counts[reasons[i]] != counts[reasons[j]] {
			return counts[reasons[i]] > counts[reasons[j]]
		}
		return reasons[i] < reasons[j]
	})
	var b strings.Builder
	for _, r := range reasons {
		fmt.Fprintf(&b, "%5d  %s\n", counts[r], r)
	}
	return b.String()
}

// runSpecChild runs TestPromQLScripts in a child process of this test
// binary through `go tool test2json` and returns its results.
func runSpecChild(t *testing.T) *specRun {
	timeout := 15 * time.Minute
	if d, ok := t.Deadline(); ok {
		timeout = time.Until(d) - 30*time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "tool", "test2json", "-t", os.Args[0],
		"-test.run=^TestPromQLScripts(Reference)?$", "-test.v=test2json", "-test.count=1",
		"-test.parallel=4", fmt.Sprintf("-test.timeout=%s", timeout-10*time.Second))
	cmd.Env = append(os.Environ(), specChildEnv+"=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	runErr := cmd.Run() // fails whenever a case does; the results tell
	t.Logf("child process ran the scripts in %s", time.Since(start).Round(time.Second))
	run, err := parseSpecEvents(&stdout)
	require.NoError(t, err)
	if len(run.store) == 0 || len(run.reference) == 0 {
		t.Fatalf("child process reported no cases (%v): %s\n%s", runErr, stderr.String(), tail(stdout.String(), 4000))
	}
	return run
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
