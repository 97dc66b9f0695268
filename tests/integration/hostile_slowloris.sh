#!/bin/bash
# 300 half-open logins (partial BHS, or a first Login Request and then
# silence): while they are held, a libiscsi initiator is still served; the
# target closes all of them after login_timeout; RSS stays flat. The
# attacker shares 127.0.0.1 with the good initiator, so the per-address
# limit is raised: this test is about the login timeout.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
# shellcheck source=hostile_lib.sh
. "${srcdir:-.}/hostile_lib.sh"

slowloris_round() {
	local out=$T/slowloris.out
	bg_start "$out" hostile --count 300 slowloris
	wait_for 60 grep -q holding "$out" || fail "slowloris did not get its connections open: $(cat "$out")"
	hostile_served
	wait "$BG_PID" || fail "slowloris: $(cat "$out")"
	cat "$out" >&2
}

HOSTILE_GLOBALS=("max_connections_per_address = 1000")
hostile_start
hostile_rounds 3 slowloris_round
