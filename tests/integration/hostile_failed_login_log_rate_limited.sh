#!/bin/bash
# 300 failed logins in a few seconds: each is answered, but at most 20 log
# lines per 10 s say so, and the next period logs how many were suppressed
# (so a flood of bad logins cannot fill the disk).
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
# shellcheck source=hostile_lib.sh
. "${srcdir:-.}/hostile_lib.sh"
hostile_start
hostile --count 300 bad-logins || fail "bad logins not answered"
n=$(grep -c "login of .* failed" "$DAEMON_LOG" || true)
[ "$n" -le 40 ] || fail "$n log lines for 300 failed logins (at most 40 expected)"
sleep 10
hostile --count 1 bad-logins || fail "bad login not answered"
grep -q "suppressed in 10 s" "$DAEMON_LOG" || fail "no line saying how many lines were suppressed"
hostile_served
it_log "300 failed logins: $n log lines, then: $(grep -o "[0-9]* log lines about failed logins.*" "$DAEMON_LOG" | head -n 1)"
