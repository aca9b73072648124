#!/usr/bin/env bash
#
# victoriametrics.sh build|start|stop|status|probe|addr runs VictoriaMetrics
# single-node, the peer Cairn's ingest benchmark measures itself against
# (docs/benchmarks.md).
#
# build   compiles app/victoria-metrics once from the Go module proxy, in a
#         throwaway module outside the repo, into
#         $CAIRN_CACHE_DIR/victoriametrics-<version>/victoria-metrics
#         (cold: about a minute on two cores).
# start   builds if needed, then serves on 127.0.0.1 (remote write at
#         /api/v1/write), state under $CAIRN_LOCAL_DIR/victoriametrics.
# addr    prints the HTTP address.
#
#   CAIRN_VM_PORT     HTTP listener (default 18428)
#   CAIRN_VM_VERSION  module version (default v1.143.0)
set -euo pipefail

SERVICE=victoriametrics
# shellcheck source=deploy/local/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

PORT=${CAIRN_VM_PORT:-18428}
ADDR=$LOCAL_HOST:$PORT
MODULE=github.com/VictoriaMetrics/VictoriaMetrics
VERSION=${CAIRN_VM_VERSION:-v1.143.0}
BUILD_DIR=$CAIRN_CACHE_DIR/victoriametrics-$VERSION
BIN=$BUILD_DIR/victoria-metrics
DIR=$CAIRN_LOCAL_DIR/victoriametrics
PIDFILE=$DIR/victoriametrics.pid
# running_pid matches the process' command line against this marker.
MARKER=$DIR/data
READY_TIMEOUT=60

build() {
	if [[ -x $BIN ]]; then
		say "$BIN already built"
		return 0
	fi
	command -v go >/dev/null || die "go is not on PATH"
	local src=$BUILD_DIR/src
	mkdir -p "$src"
	say "building $MODULE/app/victoria-metrics@$VERSION in $src (cold: ~1 min)"
	(
		cd "$src"
		export GOWORK=off GOFLAGS=-mod=mod
		[[ -f go.mod ]] || go mod init cairn.local/victoriametrics-build >&2
		go get "$MODULE@$VERSION" >&2
		nice go build -o "$BIN.tmp" "$MODULE/app/victoria-metrics" >&2
	)
	mv "$BIN.tmp" "$BIN"
	say "built $BIN"
}

pid() { running_pid "$PIDFILE" "$MARKER"; }

ready() { http_get "$LOCAL_HOST" "$PORT" /health | grep -q 'OK'; }

start() {
	if pid >/dev/null && ready; then
		say "already running (pid $(pid)) on $ADDR"
		return 0
	fi
	build
	check_port_free "$PORT" CAIRN_VM_PORT
	mkdir -p "$DIR/data" "$DIR/log"
	say "starting on $ADDR, state in $DIR"
	start_daemon "$PIDFILE" "$DIR/log/victoria-metrics.log" \
		"$BIN" -storageDataPath="$MARKER" -httpListenAddr="$ADDR" -retentionPeriod=3d
	local rc=0
	wait_until "$READY_TIMEOUT" "$PIDFILE" "$MARKER" ready || rc=$?
	if ((rc != 0)); then
		say "not ready (rc $rc)"
		tail -n 30 "$DIR/log/victoria-metrics.log" >&2 2>/dev/null || true
		stop_pidfile "$PIDFILE" "$MARKER" 10
		exit 1
	fi
	say "ready (pid $(pid)) on $ADDR"
}

case ${1:-} in
build) build ;;
start) start ;;
stop) stop_pidfile "$PIDFILE" "$MARKER" 30 ;;
status) if pid >/dev/null && ready; then say "running on $ADDR"; else say "stopped"; exit 3; fi ;;
probe) ready ;;
addr) printf '%s\n' "$ADDR" ;;
*)
	printf 'usage: %s build|start|stop|status|probe|addr\n' "$(basename -- "$0")" >&2
	exit 2
	;;
esac
