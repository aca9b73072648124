#!/usr/bin/env bash
#
# chdb.sh install|python|check gives the tests a Python with chdb (PyPI), a
# current ClickHouse engine embedded in-process, in which store's
# TestModernServerAgrees and the footprint benchmark run the modern schema.
#
# install  creates the venv $CAIRN_CACHE_DIR/chdb-venv with the pinned
#          packages below, only when it is missing or its pins differ
#          (python3 -m venv, then pip from PyPI; Debian's python3-venv is
#          installed when venv fails), and prints its python on stdout:
#              export CAIRN_TEST_CHDB=$(deploy/local/chdb.sh install)
#          Cold: about a minute and ~900 MB (pyarrow, pandas, numpy come
#          with chdb).
# python   prints the venv's python, failing when it is not installed.
# check    imports chdb and runs a query in the venv.
set -euo pipefail

SERVICE=chdb
# shellcheck source=deploy/local/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

VENV=$CAIRN_CACHE_DIR/chdb-venv
PY=$VENV/bin/python
# chdb and every package it pulls in, pinned: a new chdb is a new engine,
# and the comparison should change only when this list does.
PINS=(
	chdb==4.4.0
	chdb-core==26.9.0
	numpy==2.4.6
	pandas==3.1.1
	pyarrow==26.0.1
	python-dateutil==4.0.0
	tzdata==2026.6
)
STAMP=$VENV/.cairn-pins

installed() {
	[[ -x $PY && -r $STAMP && $(<"$STAMP") == "${PINS[*]}" ]]
}

# make_venv DIR creates a venv, installing Debian's python3-venv (and
# python3) when the interpreter lacks the venv or ensurepip module.
make_venv() {
	if ! command -v python3 >/dev/null; then
		apt_install python3 python3-venv
	fi
	if python3 -m venv "$1" 2>/dev/null; then
		return 0
	fi
	rm -rf "$1"
	apt_install python3-venv
	python3 -m venv "$1" >&2 || die "python3 -m venv $1 fails even with python3-venv installed"
}

install() {
	mkdir -p "$CAIRN_CACHE_DIR"
	# One installer at a time per machine: concurrent test runs share the
	# cache directory.
	exec 8>"$CAIRN_CACHE_DIR/chdb-venv.lock"
	flock 8
	if installed; then
		printf '%s\n' "$PY"
		return 0
	fi
	local start=$SECONDS log=$CAIRN_CACHE_DIR/chdb-pip.log
	say "creating $VENV with ${PINS[*]}"
	rm -rf "$VENV"
	make_venv "$VENV"
	if ! "$PY" -m pip install -q --no-input "${PINS[@]}" </dev/null >"$log" 2>&1; then
		tail -n 30 "$log" >&2
		rm -rf "$VENV"
		die "pip install failed (full output in $log)"
	fi
	check >/dev/null || {
		rm -rf "$VENV"
		die "chdb installed but does not run"
	}
	# Written last: an interrupted install is redone from scratch.
	printf '%s\n' "${PINS[*]}" >"$STAMP"
	say "ready in $((SECONDS - start))s: $PY"
	printf '%s\n' "$PY"
}

check() {
	[[ -x $PY ]] || die "$VENV is not installed; run $0 install"
	"$PY" -c 'import chdb; print(chdb.__version__, chdb.query("SELECT version()", "TSV").data().strip())'
}

case ${1:-} in
install) install ;;
python)
	installed || die "$VENV is missing or not at the pinned versions; run $0 install"
	printf '%s\n' "$PY"
	;;
check) check ;;
*)
	echo "usage: chdb.sh install|python|check" >&2
	exit 2
	;;
esac
