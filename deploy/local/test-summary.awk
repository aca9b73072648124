#!/usr/bin/awk -f
# Condenses `go test -v` output: one line per top-level test, the reason of
# every skip, the whole output of every failing test, each package's
# result, and a closing "N passed, N failed, N skipped" line. The full log
# is kept by the caller (tee).
#
# In -v output a test's log lines come before its result line, so the
# lines of each top-level test are buffered until its result is known.

function top(name) { sub(/\/.*/, "", name); return name }

/^=== (RUN|PAUSE|CONT|NAME) / { cur = top($3); next }

/^--- PASS: / { passed++; print; delete buf[$3]; next }
/^--- SKIP: / { skipped++; print; printf "%s", buf[$3]; delete buf[$3]; next }
/^--- FAIL: / { failed++; printf "%s", buf[$3]; print; delete buf[$3]; next }

# Subtest results are indented: kept with their test's output.
/^ +--- (PASS|SKIP): / { next }
/^ +--- FAIL: / { buf[cur] = buf[cur] $0 "\n"; next }

/^(ok|FAIL|panic:|fatal error:)/ || /^\?/ || /\[build failed\]/ || /\[setup failed\]/ { print; next }

# A package's build errors and the like start unindented.
/^#/ || /\.go:[0-9]+:[0-9]+: / { print; next }

/^ / && cur != "" { buf[cur] = buf[cur] $0 "\n"; next }

END { printf "%d passed, %d failed, %d skipped\n", passed, failed, skipped }
