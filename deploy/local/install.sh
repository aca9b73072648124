#!/usr/bin/env bash
#
# install.sh clickhouse|kafka|all installs what the local servers need and
# is missing; it does nothing when everything is already there.
#
#   clickhouse  Debian's clickhouse-server and clickhouse-client (18.16)
#   kafka       Java 17 and Maven (Debian), then Kafka's jars from Maven
#               Central into $CAIRN_CACHE_DIR/kafka-<version>/libs
set -euo pipefail

SERVICE=install
# shellcheck source=deploy/local/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

install_clickhouse() {
	if find_cmd clickhouse-server >/dev/null && find_cmd clickhouse-client >/dev/null; then
		return 0
	fi
	apt_install clickhouse-server clickhouse-client
	find_cmd clickhouse-server >/dev/null || die "clickhouse-server still missing after apt-get install"
}

# install_kafka resolves the jars into a temporary dir and renames it into
# place, so an interrupted run never leaves a half-filled libs dir. The
# stamp holds the pom's checksum: editing the pom resolves again.
install_kafka() {
	ensure_cmd java openjdk-17-jre-headless
	local pom=$CAIRN_DEPLOY_DIR/kafka/pom.xml stamp=$KAFKA_LIBS/.pom.sha256 sum
	sum=$(sha256sum "$pom" | cut -d' ' -f1)
	if [[ -r $stamp && $(<"$stamp") == "$sum" ]]; then
		return 0
	fi
	ensure_cmd mvn maven
	local parent tmp
	parent=$(dirname -- "$KAFKA_LIBS")
	mkdir -p "$parent"
	tmp=$(mktemp -d "$parent/libs.XXXXXX")
	chmod 755 "$tmp"
	say "resolving Kafka $KAFKA_VERSION jars from Maven Central into $KAFKA_LIBS"
	local log=$parent/mvn.log
	if ! mvn -B -q -f "$pom" -Dkafka.version="$KAFKA_VERSION" \
		dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" \
		</dev/null >"$log" 2>&1; then
		tail -n 40 "$log" >&2
		rm -rf "$tmp"
		die "mvn dependency:copy-dependencies failed (full output in $log)"
	fi
	printf '%s\n' "$sum" >"$tmp/.pom.sha256"
	rm -rf "$KAFKA_LIBS"
	mv "$tmp" "$KAFKA_LIBS"
	say "Kafka jars ready ($(find "$KAFKA_LIBS" -name '*.jar' | wc -l) jars)"
}

case ${1:-} in
clickhouse) install_clickhouse ;;
kafka) install_kafka ;;
all)
	install_clickhouse
	install_kafka
	;;
*)
	echo "usage: install.sh clickhouse|kafka|all" >&2
	exit 2
	;;
esac
