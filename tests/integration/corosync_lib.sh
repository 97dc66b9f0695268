# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Helpers for integration tests that need a real corosync: a one-node
# cluster (knet on 127.0.0.1) and a hatgtd with cluster = corosync, both in
# private network, mount and PID namespaces so that neither the host's
# corosync nor a parallel test is touched. Source it after lib.sh:
#
#   . "${srcdir:-.}/lib.sh"
#   # shellcheck source=corosync_lib.sh
#   . "${srcdir:-.}/corosync_lib.sh"
#   cs_reexec "$@"              # re-runs this script inside the namespaces
#   it_setup                    # as usual: $T, $PORT, $CONF, $ADMIN_NAME
#   cs_setup                    # tmpfs mounts, corosync up, cluster = corosync in $CONF
#   add_target "$TGT"
#   cs_daemon_start             # hatgtd up, role "unpromoted" (portals closed)
#   adm promote                 # hatgtadm on this test's private socket name
#   cs_wait_role unpromoted 5   # e.g. after "adm demote"
#
# The exit trap stops hatgtd first (SIGTERM, must exit 0), then corosync,
# then runs lib.sh's it_cleanup. When the script ends, the PID namespace ends
# and the kernel kills anything left in it; the mounts go with the mount
# namespace.
#
# Skips (exit 77) only when corosync is not installed. Needs root, or user
# namespaces (then run with --map-root-user); a failing unshare is exit 99.

CS_PID=
CS_LOG=
CS_CONF=

# cs_reexec ARGS...: unless already inside, exec this test script again in
# new network, mount and PID namespaces (with /proc of the new PID namespace).
cs_reexec() {
	local script=${BASH_SOURCE[-1]} extra=()
	command -v corosync > /dev/null 2>&1 ||
		skip "corosync not installed (Debian: apt-get install corosync)"
	need_tool unshare ip corosync-cfgtool timeout
	[ "${CS_IN_NS:-0}" = 1 ] && return 0
	[ "$(id -u)" = 0 ] || extra=(--user --map-root-user)
	# Probe first: an exec that fails would end the test with 126/127.
	unshare ${extra[@]+"${extra[@]}"} --net --mount --pid --fork --mount-proc true \
		> /dev/null 2>&1 || hard_error "unshare --net --mount --pid failed (not root?)"
	CS_IN_NS=1 exec unshare ${extra[@]+"${extra[@]}"} --net --mount --pid --fork --mount-proc \
		bash "$script" "$@"
}

# cs_setup: after it_setup, inside the namespaces: private /run, /dev/shm and
# /var/lib/corosync, loopback up, start a one-node corosync (log in
# $T/corosync.log) and add "cluster = corosync" to [global] in $CONF.
cs_setup() {
	local _
	[ "${CS_IN_NS:-0}" = 1 ] || hard_error "cs_setup called outside cs_reexec's namespaces"
	trap cs_cleanup EXIT
	mount -t tmpfs tmpfs /run || hard_error "cannot mount tmpfs on /run"
	mount -t tmpfs tmpfs /dev/shm || hard_error "cannot mount tmpfs on /dev/shm"
	mkdir -p /run/corosync "$T/cs-varlib"
	mount --bind "$T/cs-varlib" /var/lib/corosync ||
		hard_error "cannot bind a private /var/lib/corosync"
	ip link set lo up || hard_error "cannot bring up lo"
	CS_CONF=$T/corosync.conf
	CS_LOG=$T/corosync.log
	cat > "$CS_CONF" << EOF
totem {
	version: 2
	cluster_name: hatgt-it
	transport: knet
	crypto_cipher: none
	crypto_hash: none
	token: 1000
}
nodelist {
	node {
		ring0_addr: 127.0.0.1
		name: n1
		nodeid: 1
	}
}
quorum {
	provider: corosync_votequorum
}
logging {
	to_stderr: yes
	to_syslog: no
	to_logfile: no
}
EOF
	corosync -f -c "$CS_CONF" > "$CS_LOG" 2>&1 &
	CS_PID=$!
	for _ in $(seq 1 50); do
		kill -0 "$CS_PID" 2> /dev/null || break
		if corosync-cfgtool -s > /dev/null 2>&1; then
			global_set "cluster = corosync"
			return 0
		fi
		sleep 0.2
	done
	cat "$CS_LOG" >&2
	hard_error "corosync did not come up within 10 s"
}

# cs_corosync_stop: SIGTERM corosync, wait up to 5 s, then KILL.
cs_corosync_stop() {
	local _
	[ -n "$CS_PID" ] || return 0
	kill -TERM "$CS_PID" 2> /dev/null
	for _ in $(seq 1 50); do
		kill -0 "$CS_PID" 2> /dev/null || break
		sleep 0.1
	done
	kill -KILL "$CS_PID" 2> /dev/null
	wait "$CS_PID" 2> /dev/null
	CS_PID=
}

# Exit trap: hatgtd before corosync (a daemon that loses corosync stops
# serving and says so), then lib.sh's cleanup with the test's exit status.
cs_cleanup() {
	local rc=$? st
	set +e
	if [ -n "$DAEMON_PID" ]; then
		daemon_stop
		st=$?
		if [ "$st" -ne 0 ] && { [ "$rc" -eq 0 ] || [ "$rc" -eq 77 ]; }; then
			rc=1
		fi
	fi
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -n "$CS_LOG" ] && [ -f "$CS_LOG" ]; then
		it_log "---- corosync log (last 30 lines) ----"
		tail -n 30 "$CS_LOG" >&2
	fi
	cs_corosync_stop
	(exit "$rc")
	it_cleanup
}

# cs_role: print the daemon's role (empty if it does not answer).
cs_role() {
	adm role 2> /dev/null || true
}

# cs_wait_role ROLE SECS: wait until "hatgtadm role" prints ROLE.
cs_wait_role() {
	local end=$((SECONDS + $2))
	while [ "$(cs_role)" != "$1" ]; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.1
	done
}

# cs_daemon_start: start hatgtd on $CONF (cluster = corosync) and wait up to
# 10 s until it has joined and is unpromoted. Its portals stay closed, so
# lib.sh's daemon_start (which waits for the port) does not apply.
cs_daemon_start() {
	"$HATGTD" --config "$CONF" --foreground >> "$DAEMON_LOG" 2>&1 &
	DAEMON_PID=$!
	if ! cs_wait_role unpromoted 10; then
		kill -0 "$DAEMON_PID" 2> /dev/null ||
			fail "hatgtd exited during start-up in cluster mode"
		fail "hatgtd not unpromoted within 10 s (role: '$(cs_role)')"
	fi
}

# cs_promote: "hatgtadm promote" must succeed and the portal accept.
cs_promote() {
	adm promote > "$T/promote.out" 2>&1 || fail "promote failed: $(cat "$T/promote.out")"
	wait_for 5 port_in_use "$PORT" || fail "promoted, but $IT_HOST:$PORT does not accept"
}

# cs_demote SECS: "hatgtadm demote", then wait up to SECS for "unpromoted".
cs_demote() {
	adm demote > "$T/demote.out" 2>&1 || fail "demote failed: $(cat "$T/demote.out")"
	cs_wait_role unpromoted "$1" || fail "not unpromoted within $1 s of demote (role: '$(cs_role)')"
}

# fd_open PID FILE: true if process PID has FILE open (/proc/PID/fd).
fd_open() {
	local f want
	want=$(readlink -f "$2")
	for f in /proc/"$1"/fd/*; do
		[ "$(readlink "$f" 2> /dev/null)" != "$want" ] || return 0
	done
	return 1
}
