#!/bin/bash
# CHAP logins with the right and a wrong secret, at log_level debug: no line
# of the daemon's log contains either secret (RFC 7143 12.1.3 keeps secrets
# off the wire; we keep them out of the log too).
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
# shellcheck source=hostile_lib.sh
. "${srcdir:-.}/hostile_lib.sh"
hostile_start
login_ok "$(url "$HCHAP_TGT" 0 "alice%alicesecret12@")" || fail "CHAP login with the right secret failed: $(cat "$T/inq.out")"
login_ok "$(url "$HCHAP_TGT" 0 "alice%wrongsecret99@")" && fail "CHAP login with a wrong secret succeeded"
login_ok "$(url "$HCHAP_TGT" 0)" && fail "login without CHAP succeeded"
daemon_reload
sleep 1
for s in alicesecret12 wrongsecret99; do
	! grep -n -F "$s" "$DAEMON_LOG" || fail "the log contains the secret $s"
done
grep -q "CHAP" "$DAEMON_LOG" || fail "no CHAP failure logged at all (is the test looking at the right log?)"
