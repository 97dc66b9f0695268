#!/bin/bash
# SIGHUP reloads the config: a target added to the file becomes visible and
# usable, and a session connected to an existing target stays logged in
# (same TSIH and ISID before and after, per hatgtadm sessions).
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
need_tool iscsi-ls iscsi-inq
OLD=iqn.2026-11.org.hatgt.test:old
NEW=iqn.2026-11.org.hatgt.test:new
held_session_start "$OLD" "$INIT2" 6000
HOLDER=$BG_PID
adm sessions > "$T/before.out" 2>&1 || fail "hatgtadm sessions failed: $(cat "$T/before.out")"
# TSIH, initiator and ISID identify the session; the counters may move.
session_id() {
	awk -v i="$INIT2" '$2 == i { print $1, $2, $3 }' "$1"
}
session_id "$T/before.out" > "$T/before.line"
[ -s "$T/before.line" ] || fail "session of $INIT2 not shown: $(cat "$T/before.out")"

add_target "$NEW"
daemon_reload

discovery_lists() {
	tool iscsi-ls -i "$INIT1" "$(portal_url)" | grep -q "^Target:$1 "
}
wait_for 10 discovery_lists "$NEW" ||
	fail "$NEW not in discovery 10 s after SIGHUP"
login_ok "$(url "$NEW" 0)" || fail "cannot log in to $NEW after reload: $(cat "$T/inq.out")"

adm sessions > "$T/after.out" 2>&1 || fail "hatgtadm sessions failed: $(cat "$T/after.out")"
session_id "$T/after.out" > "$T/after.line"
[ -s "$T/after.line" ] || fail "session of $INIT2 gone after reload: $(cat "$T/after.out")"
cmp -s "$T/before.line" "$T/after.line" ||
	fail "session of $INIT2 changed across reload: '$(cat "$T/before.line")' -> '$(cat "$T/after.line")'"

wait "$HOLDER" || fail "holding session failed: $(cat "$T/hold.out")"
grep -q 'read 4096/4096 bytes at offset 4096' "$T/hold.out" ||
	fail "holding session could not read after reload: $(cat "$T/hold.out")"
