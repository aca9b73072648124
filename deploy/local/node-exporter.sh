#!/usr/bin/env bash
#
# node-exporter.sh start|stop|status|probe runs Debian's Prometheus node
# exporter (the prometheus-node-exporter package, 1.5) on 127.0.0.1, not as
# the system service: its textfile directory and log live under
# $CAIRN_LOCAL_DIR/node-exporter. A scrape target for the Debian Prometheus
# (prometheus-debian.sh) in cmd/cairn's TestDebianPrometheusRemoteWrite.
#
# node-exporter.sh probe succeeds when some node exporter serves /metrics on
# the port.
#
#   CAIRN_NODE_EXPORTER_PORT  HTTP listener (default 19100)
set -euo pipefail

SERVICE=node-exporter
# shellcheck source=deploy/local/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

PORT=${CAIRN_NODE_EXPORTER_PORT:-19100}
ADDR=$LOCAL_HOST:$PORT
BIN=/usr/bin/prometheus-node-exporter
DIR=$CAIRN_LOCAL_DIR/node-exporter
PIDFILE=$DIR/node-exporter.pid
# The textfile directory is on the command line, so it tells our process
# apart from any other node exporter (running_pid matches on it).
TEXTFILE_DIR=$DIR/textfile
READY_TIMEOUT=30

install() {
	[[ -x $BIN ]] && return 0
	apt_install prometheus-node-exporter
	[[ -x $BIN ]] || die "$BIN still missing after installing prometheus-node-exporter"
}

pid() { running_pid "$PIDFILE" "$TEXTFILE_DIR"; }

# Not grep -q: /metrics is long, and under pipefail an early exit would fail
# the pipeline with the writer's SIGPIPE.
ready() { http_get "$LOCAL_HOST" "$PORT" /metrics | grep '^node_exporter_build_info' >/dev/null; }

start() {
	local p started=false
	if p=$(pid); then
		if ready; then
			say "already running (pid $p) on $ADDR"
			return 0
		fi
		say "pid $p is up but not ready yet; waiting"
	else
		install
		check_port_free "$PORT" CAIRN_NODE_EXPORTER_PORT
		mkdir -p "$TEXTFILE_DIR" "$DIR/log"
		say "starting on $ADDR, state in $DIR"
		start_daemon "$PIDFILE" "$DIR/log/node-exporter.log" \
			"$BIN" --web.listen-address="$ADDR" \
			--collector.textfile.directory="$TEXTFILE_DIR"
		started=true
	fi
	await_ready "$PIDFILE" "$TEXTFILE_DIR" "$started" ready -- "$DIR/log/node-exporter.log"
	say "ready (pid $(pid)) on $ADDR"
}

status() {
	local p
	if p=$(pid) && ready; then
		say "running (pid $p) on $ADDR"
		return 0
	fi
	if [[ -n ${p:-} ]]; then
		say "pid $p alive but not ready on $PORT"
	else
		say "stopped"
	fi
	return 3
}

case ${1:-} in
start) start ;;
stop) stop_pidfile "$PIDFILE" "$TEXTFILE_DIR" 10 ;;
status) status ;;
probe) ready ;;
*) usage ;;
esac
