#!/usr/bin/env bash
#
# down.sh [--holder NAME] releases the servers that up.sh --holder NAME
# ("manual" by default) holds, and stops each one that up.sh started and no
# other holder still uses. Servers started by hand (clickhouse.sh start) are
# left alone.
#
# down.sh --all stops every local server, whoever started or holds it.
set -euo pipefail

SERVICE=down
# shellcheck source=deploy/local/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=deploy/local/holders.sh
source "$CAIRN_DEPLOY_DIR/holders.sh"

holder=manual all=false
while (($# > 0)); do
	case $1 in
	--holder) holder=${2:?--holder needs a name} && shift 2 ;;
	--all) all=true && shift ;;
	*)
		echo "usage: down.sh [--holder NAME] | --all" >&2
		exit 2
		;;
	esac
done
check_holder_name "$holder"

# What up.sh may start: LOCAL_SERVICES, then ZooKeeper and the cluster.
services=("${LOCAL_SERVICES[@]}" zookeeper cluster)

lock_holders
# Stop in reverse start order.
for ((i = ${#services[@]} - 1; i >= 0; i--)); do
	svc=${services[i]}
	if [[ $all == true ]]; then
		"$CAIRN_DEPLOY_DIR/$svc.sh" stop
		clear_holds "$svc"
		continue
	fi
	remove_holder "$svc" "$holder"
	if others=$(live_holders "$svc") && [[ -n $others ]]; then
		say "$svc is still held by: $others; leaving it running"
		continue
	fi
	if started_by_up "$svc"; then
		"$CAIRN_DEPLOY_DIR/$svc.sh" stop
	elif "$CAIRN_DEPLOY_DIR/$svc.sh" probe >/dev/null 2>&1; then
		say "$svc was not started by up.sh; leaving it running"
	else
		say "$svc is not running"
	fi
	clear_holds "$svc"
done
