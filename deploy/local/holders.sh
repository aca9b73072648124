# shellcheck shell=bash disable=SC2034 # LOCAL_SERVICES is for the scripts that source this file.
#
# holders.sh keeps the bookkeeping that lets up.sh and down.sh share
# servers between callers (a terminal, several `make test` runs). Source it
# after lib.sh. Under $CAIRN_LOCAL_DIR/up:
#
#   <svc>.started        pid of the server when up.sh started it
#   <svc>.holders/<name> one file per holder; holds a pid when the hold
#                        lapses with that process, else is empty

LOCAL_SERVICES=(clickhouse kafka prometheus)
UP_DIR=$CAIRN_LOCAL_DIR/up

check_holder_name() {
	[[ $1 =~ ^[A-Za-z0-9._-]+$ ]] || die "bad holder name '$1' (letters, digits, . _ -)"
}

# lock_holders serialises up.sh and down.sh runs for the rest of the script.
lock_holders() {
	mkdir -p "$UP_DIR"
	exec 9>"$UP_DIR/.lock"
	flock 9
}

service_pid() { cat "$CAIRN_LOCAL_DIR/$1/$1.pid" 2>/dev/null; }

mark_started() { service_pid "$1" >"$UP_DIR/$1.started"; }

# started_by_up succeeds when the server now running is the one up.sh
# started (not one restarted by hand since).
started_by_up() {
	local want
	want=$(cat "$UP_DIR/$1.started" 2>/dev/null) || return 1
	[[ -n $want && $want == "$(service_pid "$1")" ]]
}

add_holder() {
	mkdir -p "$UP_DIR/$1.holders"
	printf '%s\n' "$3" >"$UP_DIR/$1.holders/$2"
}

remove_holder() { rm -f "$UP_DIR/$1.holders/$2"; }

# live_holders prints the holders of a service, dropping those whose
# process has exited.
live_holders() {
	local f pid names=()
	for f in "$UP_DIR/$1.holders"/*; do
		[[ -e $f ]] || continue
		pid=$(<"$f")
		if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
			rm -f "$f"
			continue
		fi
		names+=("$(basename -- "$f")")
	done
	printf '%s' "${names[*]}"
}

clear_holds() { rm -rf "$UP_DIR/$1.started" "$UP_DIR/$1.holders"; }
