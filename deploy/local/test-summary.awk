#!/usr/bin/awk -f
# Condenses `go test -v` output: one line per top-level test, the reason of
# every skip, the full output of every failure, each package's result, and
# a closing "N passed, N failed, N skipped" line. The full log is kept by
# the caller (tee).

/^=== (RUN|PAUSE|CONT|NAME)/ { next }

# Top-level results are not indented.
/^--- PASS: / { passed++; print; detail = 0; next }
/^--- SKIP: / { skipped++; print; detail = 1; next }
/^--- FAIL: / { failed++; print; detail = 1; next }

# Subtest results are indented; show failing ones only.
/^ +--- FAIL: / { print; detail = 1; next }
/^ +--- (PASS|SKIP): / { detail = 0; next }

/^(ok|FAIL|panic:|fatal error:)/ || /^\?/ || /\[build failed\]/ || /\[setup failed\]/ { print; detail = 0; next }

# Lines under a skip or failure: its reason and log.
detail && /^ / { print; next }
{ detail = 0 }

END { printf "%d passed, %d failed, %d skipped\n", passed, failed, skipped }
