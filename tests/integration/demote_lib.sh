# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Helpers for the demote_*.sh tests (docs/ha.md "Planned failover"). Source
# after lib.sh and corosync_lib.sh; call cs_reexec first.

# demote_client_start TARGET MODE [LINE...]: inside cs_reexec's namespaces,
# it_setup, cs_setup, TARGET with LUN 0, the [global] LINEs, then start
# hatgtd, promote it, log park_client.py in to TARGET in MODE (park or
# logout) and wait until it has read a block. Sets CTL (the client's control
# directory) and CLIENT (its PID); its output goes to $T/client.out.
demote_client_start() {
	local tgt=$1 mode=$2
	shift 2
	it_setup
	cs_setup
	add_target "$tgt"
	[ $# -eq 0 ] || global_set "$@"
	CTL=$T/ctl
	mkdir -p "$CTL"
	cs_daemon_start
	cs_promote
	bg_start "$T/client.out" python3 "${srcdir:-.}/park_client.py" --port "$PORT" \
		--target "$tgt" --initiator "$INIT1" --ctl "$CTL" "$mode"
	CLIENT=$BG_PID
	wait_for 10 test -e "$CTL/ready" || fail "the client did not log in: $(cat "$T/client.out")"
}

# demote_client_done: wait for the client's verdict; log what it saw.
demote_client_done() {
	wait "$CLIENT" || fail "client: $(cat "$T/client.out")"
	it_log "$(cat "$T/client.out")"
}

# demote_park_check: demote; the daemon must say it parked 1 connection and
# asked for no logout, and the client must find it silent (its WRITE sent
# after the park unanswered).
demote_park_check() {
	cs_demote 5
	touch "$CTL/demoted"
	grep -q "parked 1 connection(s)" "$DAEMON_LOG" || fail "the daemon does not say it parked 1"
	grep -q "asked .* to log out" "$DAEMON_LOG" && fail "park mode asked for a logout"
	wait_for 10 test -e "$CTL/silent" || fail "parked connection not silent: $(cat "$T/client.out")"
}

# demote_park_closed_check: the target has closed the parked socket; the
# client's side must still be ESTABLISHED (no FIN or RST came), and the
# client must see nothing more, and an RST for its next segment.
demote_park_closed_check() {
	ss -tn state established "( dport = :$PORT )" | grep -q ":$PORT" ||
		fail "the client's connection is no longer established"
	touch "$CTL/stopped"
	demote_client_done
}
