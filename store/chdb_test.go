package store_test

import (
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store/storetest"
)

// envCHDB names a Python interpreter that has the chdb package (PyPI),
// an embedded current ClickHouse engine.
const envCHDB = "CAIRN_TEST_CHDB"

// TestModernServerAgrees creates the modern schema in chdb and the
// baseline schema on the test server, loads the same rows into both and
// checks that every query shape of testdata/queries.sql answers the same
// on both (testdata/chdb/compare.py). It needs CAIRN_TEST_CLICKHOUSE,
// CAIRN_TEST_CHDB and clickhouse-client on the PATH; make test sets both
// (deploy/local/chdb.sh installs the Python). With CAIRN_TEST_CHDB set,
// an interpreter that cannot import chdb fails the test.
func TestModernServerAgrees(t *testing.T) {
	addr := storetest.Addr(t)
	python := chdbPython(t)
	host, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	out, err := exec.Command(python, "testdata/chdb/compare.py", "testdata", host, port).CombinedOutput()
	t.Logf("compare.py:\n%s", out)
	require.NoError(t, err, "the modern schema on chdb and the baseline on %s disagree, or the comparison failed", addr)
}

// chdbPython returns the interpreter CAIRN_TEST_CHDB names, skipping t
// when it is unset and failing it when that interpreter cannot run chdb.
func chdbPython(t testing.TB) string {
	t.Helper()
	python := os.Getenv(envCHDB)
	if python == "" {
		t.Skip(envCHDB + " not set: name a Python interpreter with the chdb package (deploy/local/chdb.sh install)")
	}
	out, err := exec.Command(python, "-c", "import chdb; print(chdb.__version__)").CombinedOutput()
	require.NoError(t, err, "%s=%s is set but cannot import chdb: %s", envCHDB, python, out)
	t.Logf("chdb %s", strings.TrimSpace(string(out)))
	return python
}
