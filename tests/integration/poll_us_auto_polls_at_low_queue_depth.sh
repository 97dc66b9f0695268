#!/bin/bash
# poll_us = auto: the loop polls while an initiator waits for each command
# (queue depth 1: hatgtadm status shows time spent polling, most of the
# run), not while commands queue up deeply (queue depth 32: next to
# nothing), and not while idle; data stays intact throughout.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
LOAD=${HATGT_LOAD:-${HATGTD%/daemon/hatgtd}/tests/bench/hatgt-load}
[ -x "$LOAD" ] || skip "hatgt-load not built: $LOAD (make -C tests/bench)"
it_setup
TGT=iqn.2026-11.org.hatgt.test:pollauto
global_set "poll_us = auto"
add_target -s 64M "$TGT"
daemon_start

# polled_ms: the daemon's time spent polling so far.
polled_ms() {
	adm --json status | sed -n 's/.*"polled_ms":\([0-9]*\).*/\1/p'
}
adm status | grep -q '^poll_us: *auto ' || fail "status does not show poll_us auto: $(adm status)"

# load SECS ARGS...: hatgt-load with data verification; fails the test on
# an error or a mismatch.
load() {
	local secs=$1 out
	shift
	out=$(tool "$LOAD" -i "$INIT1" -V -t "$secs" -w 0 -b 4K -p rand "$@" "$(url "$TGT" 0)" 2>&1) ||
		fail "hatgt-load $*: $out"
	case " $out " in
	*" mismatches=0 "*" errors=0 "* | *" errors=0 "*" mismatches=0 "*) ;;
	*) fail "hatgt-load $*: errors or data mismatches: $out" ;;
	esac
}

p0=$(polled_ms)
[ -n "$p0" ] || fail "no polled_ms in hatgtadm --json status"
load 3 -q 1 -r 50
p1=$(polled_ms)
qd1=$((p1 - p0))
it_log "queue depth 1 for 3 s: polled $qd1 ms"
# Polling covers the gaps between commands: most of the 3 s (2.8 s on a
# quiet machine, 1.7-2.0 s with two CPU hogs running). A gap longer than the
# window (an initiator descheduled on a loaded CI machine) ends the polling
# until the next command, so ask for a sixth: far from "not polling" (0).
[ "$qd1" -ge 500 ] || fail "polled only $qd1 ms during 3 s at queue depth 1"

load 3 -q 32 -r 50
p2=$(polled_ms)
qd32=$((p2 - p1))
it_log "queue depth 32 for 3 s: polled $qd32 ms"
# Only the ramp-down at the end (the last commands drain to depth 1) may poll.
[ "$qd32" -le 300 ] || fail "polled $qd32 ms during 3 s at queue depth 32"

sleep 1
p3=$(polled_ms)
sleep 2
p4=$(polled_ms)
[ "$p4" -eq "$p3" ] || fail "polled $((p4 - p3)) ms while idle"
