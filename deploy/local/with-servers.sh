#!/usr/bin/env bash
#
# with-servers.sh CMD ARGS... runs a command with the local ClickHouse and
# Kafka up and CAIRN_TEST_* pointing at them (and at chdb's Python: see
# up.sh), then stops whatever it started
# (also on failure or Ctrl-C), and exits with the command's status.
# `make test` runs the test suite this way.
set -euo pipefail

SERVICE=with-servers
# shellcheck source=deploy/local/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

(($# > 0)) || {
	echo "usage: with-servers.sh CMD [ARGS...]" >&2
	exit 2
}

holder=run-$$
# shellcheck disable=SC2317 # called from the EXIT trap.
release() { "$CAIRN_DEPLOY_DIR/down.sh" --holder "$holder" || say "down.sh failed"; }
trap release EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

exports=$("$CAIRN_DEPLOY_DIR/up.sh" --holder "$holder" --pid $$)
eval "$exports"
printf '%s\n' "$exports" | sed 's/^/+ /' >&2

rc=0
"$@" || rc=$?
exit "$rc"
