# shellcheck shell=bash disable=SC2034 # the variables are for the scripts that source this file.
#
# lib.sh holds what the deploy/local scripts share: where state lives,
# installing missing Debian packages, pid files, and waiting for readiness.
# Source it after setting SERVICE (the name used in messages); do not run it.
#
# Messages go to stderr so that a script's stdout stays machine-readable
# (up.sh prints export lines there).

CAIRN_ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)
CAIRN_LOCAL_DIR=${CAIRN_LOCAL_DIR:-$CAIRN_ROOT/.cache/local}
CAIRN_CACHE_DIR=${CAIRN_CACHE_DIR:-$HOME/.cache/cairn}
CAIRN_DEPLOY_DIR=$CAIRN_ROOT/deploy/local
# Every server started here listens on loopback only.
LOCAL_HOST=127.0.0.1
# Kafka's jars, resolved from Maven Central once (install.sh kafka) and
# shared by every work tree of the machine.
KAFKA_VERSION=3.9.1
KAFKA_LIBS=$CAIRN_CACHE_DIR/kafka-$KAFKA_VERSION/libs

say() { printf '%s: %s\n' "${SERVICE:-local}" "$*" >&2; }
die() {
	say "error: $*"
	exit 1
}

# as_root runs a command as root, through sudo when we are not root.
as_root() {
	if ((EUID == 0)); then
		"$@"
	elif command -v sudo >/dev/null; then
		sudo "$@"
	else
		die "need root to run: $*"
	fi
}

_apt_updated=false

# apt_install installs Debian packages non-interactively, running
# `apt-get update` once per script run first (a fresh machine has no lists).
apt_install() {
	if [[ $_apt_updated == false ]]; then
		say "apt-get update"
		as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
		_apt_updated=true
	fi
	say "apt-get install $*"
	as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends "$@" >&2
}

# find_cmd prints the path of a command, also looking in the sbin
# directories that a non-root PATH lacks.
find_cmd() {
	local dir
	if command -v "$1" 2>/dev/null; then
		return 0
	fi
	for dir in /usr/sbin /sbin /usr/local/sbin; do
		if [[ -x $dir/$1 ]]; then
			printf '%s\n' "$dir/$1"
			return 0
		fi
	done
	return 1
}

# ensure_cmd CMD PACKAGE... installs the packages when CMD is missing.
ensure_cmd() {
	local cmd=$1
	shift
	find_cmd "$cmd" >/dev/null && return 0
	apt_install "$@"
	find_cmd "$cmd" >/dev/null || die "$cmd still missing after installing $*"
}

# running_pid PIDFILE MATCH prints the pid recorded in PIDFILE if that
# process is alive and its command line contains MATCH (so a recycled pid
# is never mistaken for our server).
running_pid() {
	local pidfile=$1 match=$2 pid
	[[ -r $pidfile ]] || return 1
	pid=$(<"$pidfile")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$match" || return 1
	printf '%s\n' "$pid"
}

# start_daemon PIDFILE OUTFILE CMD... starts CMD in the background in a new
# session (its own process group, so a Ctrl-C in the terminal does not reach
# it), with stdin closed and output appended to OUTFILE, and records its pid.
# Every descriptor is redirected so callers reading our stdout (make, CI)
# never wait on the server, and fd 9 (the up.sh/down.sh lock) is closed so
# the server does not hold that lock for its lifetime.
start_daemon() {
	local pidfile=$1 outfile=$2
	shift 2
	rm -f "$pidfile"
	# The wrapper writes its own pid, then execs the server under that pid.
	# shellcheck disable=SC2016 # $$ and $@ expand in the wrapper.
	setsid bash -c 'echo "$$" >"$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' \
		"$pidfile" "$@" </dev/null >>"$outfile" 2>&1 9>&- &
	local i
	for ((i = 0; i < 50; i++)); do
		[[ -s $pidfile ]] && return 0
		sleep 0.1
	done
	die "no pid file $pidfile after starting $1"
}

# wait_pid_exit PID SECONDS waits for a process to exit.
wait_pid_exit() {
	local pid=$1 deadline=$((SECONDS + $2))
	while kill -0 "$pid" 2>/dev/null; do
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

# stop_pidfile PIDFILE MATCH [SECONDS] sends SIGTERM, waits (30s by
# default), then SIGKILL, and removes the pid file.
stop_pidfile() {
	local pidfile=$1 match=$2 timeout=${3:-30} pid
	if ! pid=$(running_pid "$pidfile" "$match"); then
		rm -f "$pidfile"
		say "not running"
		return 0
	fi
	say "stopping (pid $pid)"
	kill -TERM "$pid" 2>/dev/null || true
	if ! wait_pid_exit "$pid" "$timeout"; then
		say "still running after ${timeout}s, sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		wait_pid_exit "$pid" 10 || die "pid $pid survived SIGKILL"
	fi
	rm -f "$pidfile"
	say "stopped"
}

# port_open HOST PORT succeeds when something accepts TCP connections there.
port_open() {
	# shellcheck disable=SC2016 # expanded by the inner bash.
	timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null
}

# http_get HOST PORT PATH prints the body of an HTTP/1.0 GET, with no
# dependency on curl.
http_get() {
	# shellcheck disable=SC2016 # expanded by the inner bash.
	timeout 5 bash -c 'exec 3<>"/dev/tcp/$0/$1" &&
		printf "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" "$2" "$0" >&3 &&
		cat <&3' "$@" 2>/dev/null | tr -d '\r' | sed '1,/^$/d'
}

# wait_until SECONDS PIDFILE MATCH CMD... retries CMD until it succeeds,
# failing early when the server behind PIDFILE has exited.
wait_until() {
	local deadline=$((SECONDS + $1)) pidfile=$2 match=$3
	shift 3
	until "$@"; do
		running_pid "$pidfile" "$match" >/dev/null || return 2
		((SECONDS < deadline)) || return 1
		sleep 0.25
	done
}

# await_ready PIDFILE MATCH STARTED CMD... -- LOG... waits up to
# $READY_TIMEOUT seconds for CMD to succeed. When it does not, it says
# whether the server exited or is merely slow, shows the tail of the LOGs,
# stops the server if this start launched it (STARTED=true) so that a rerun
# starts afresh, and exits 1.
await_ready() {
	local pidfile=$1 match=$2 started=$3 rc=0
	shift 3
	local cmd=()
	while (($# > 0)) && [[ $1 != -- ]]; do
		cmd+=("$1")
		shift
	done
	shift # --; the rest are log files
	wait_until "$READY_TIMEOUT" "$pidfile" "$match" "${cmd[@]}" || rc=$?
	((rc == 0)) && return 0
	if ((rc == 2)); then
		say "exited during startup"
	else
		say "not ready after ${READY_TIMEOUT}s"
	fi
	tail -n 30 "$@" >&2 2>/dev/null || true
	[[ $started == false ]] || stop_pidfile "$pidfile" "$match" 10
	exit 1
}

# check_port_free PORT VAR fails with a hint when another process already
# listens on PORT (the server would exit with a less obvious error).
check_port_free() {
	if port_open "$LOCAL_HOST" "$1"; then
		die "port $1 on $LOCAL_HOST is already in use by another process; set $2 to another port"
	fi
}

# usage prints the standard usage line and exits 2.
usage() {
	printf 'usage: %s start|stop|status|probe\n' "$(basename -- "$0")" >&2
	exit 2
}
