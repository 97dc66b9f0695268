#!/bin/bash
# poll_us: with the loop polling after socket activity, data stays intact,
# and once the initiator stops the daemon goes back to sleep (no CPU spent
# while idle).
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
need_tool awk getconf
it_setup
TGT=iqn.2026-11.org.hatgt.test:poll
global_set "poll_us = 1000"
add_target "$TGT"
daemon_start
roundtrip_check "$TGT"

# CPU ticks (utime + stime) of hatgtd.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$DAEMON_PID/stat"
}
hz=$(getconf CLK_TCK)
sleep 0.5
t0=$(cpu_ticks)
sleep 2
t1=$(cpu_ticks)
idle=$((t1 - t0))
it_log "idle for 2 s after the load: $idle ticks of CPU ($hz per second)"
# Polling would be 2 s of CPU; a sleeping loop wakes only for NOP timers.
[ "$idle" -le $((hz / 10)) ] || fail "hatgtd spent $idle ticks in 2 s while idle: still polling"
