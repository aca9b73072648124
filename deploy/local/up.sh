#!/usr/bin/env bash
#
# up.sh [--holder NAME] [--pid PID] starts the local ClickHouse and Kafka,
# reusing servers already running, and prints their addresses on stdout as
# export lines, so `eval "$(deploy/local/up.sh)"` sets up a shell. It also
# installs chdb's Python when missing (chdb.sh) and exports it as
# CAIRN_TEST_CHDB, for store's comparison with a current ClickHouse; and
# it starts ZooKeeper and the two-shard ClickHouse cluster (zookeeper.sh,
# cluster.sh) for store's cluster-mode tests, exported as
# CAIRN_TEST_CLICKHOUSE_CLUSTER (shard 1) and
# CAIRN_TEST_CLICKHOUSE_CLUSTER_NAME, unless CAIRN_LOCAL_CLUSTER=0.
#
# Each caller holds the servers under a NAME ("manual" by default); down.sh
# with the same NAME releases them and stops a server only when up.sh had
# started it and nobody else holds it. With --pid, the hold also lapses once
# PID has exited (make test uses this, so an interrupted run does not pin
# the servers forever).
set -euo pipefail

SERVICE=up
# shellcheck source=deploy/local/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=deploy/local/holders.sh
source "$CAIRN_DEPLOY_DIR/holders.sh"

holder=manual holder_pid=
while (($# > 0)); do
	case $1 in
	--holder) holder=${2:?--holder needs a name} && shift 2 ;;
	--pid) holder_pid=${2:?--pid needs a pid} && shift 2 ;;
	*)
		echo "usage: up.sh [--holder NAME] [--pid PID]" >&2
		exit 2
		;;
	esac
done
check_holder_name "$holder"

services=("${LOCAL_SERVICES[@]}")
if [[ ${CAIRN_LOCAL_CLUSTER:-1} != 0 ]]; then
	# After LOCAL_SERVICES, ZooKeeper before the cluster; down.sh stops them
	# first.
	services+=(zookeeper cluster)
fi

lock_holders
for svc in "${services[@]}"; do
	if "$CAIRN_DEPLOY_DIR/$svc.sh" status 2>/dev/null; then
		say "$svc is already running; reusing it"
	elif "$CAIRN_DEPLOY_DIR/$svc.sh" probe 2>/dev/null; then
		# Started from another work tree or by hand: used, never stopped here.
		say "$svc answers on its port but was not started from here; reusing it"
	else
		"$CAIRN_DEPLOY_DIR/$svc.sh" start
		mark_started "$svc"
	fi
	add_holder "$svc" "$holder" "$holder_pid"
done

chdb_python=$("$CAIRN_DEPLOY_DIR/chdb.sh" install)

cat <<EOF
export CAIRN_TEST_CHDB=$chdb_python
export CAIRN_TEST_CLICKHOUSE=$LOCAL_HOST:${CAIRN_CLICKHOUSE_PORT:-19000}
export CAIRN_TEST_CLICKHOUSE_HTTP=$LOCAL_HOST:${CAIRN_CLICKHOUSE_HTTP_PORT:-18123}
export CAIRN_TEST_KAFKA=$LOCAL_HOST:${CAIRN_KAFKA_PORT:-19092}
export CAIRN_TEST_PROMETHEUS=$LOCAL_HOST:${CAIRN_PROMETHEUS_PORT:-19090}
EOF
if [[ ${CAIRN_LOCAL_CLUSTER:-1} != 0 ]]; then
	cat <<EOF
export CAIRN_TEST_CLICKHOUSE_CLUSTER=$LOCAL_HOST:${CAIRN_CLUSTER_PORT:-19101}
export CAIRN_TEST_CLICKHOUSE_CLUSTER_NAME=${CAIRN_CLUSTER_NAME:-cairn}
EOF
fi
