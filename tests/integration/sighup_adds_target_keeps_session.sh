#!/bin/bash
# SIGHUP reloads the config: a target added to the file becomes visible and
# usable, and a session connected to an existing target stays logged in
# (same session before and after, per hatgtadm sessions).
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
need_tool iscsi-ls iscsi-inq
it_setup
OLD=iqn.2026-11.org.hatgt.test:old
NEW=iqn.2026-11.org.hatgt.test:new
add_target "$OLD"
daemon_start

session_hold "$OLD" 0 "$INIT2" 6000 "$T/hold.out"
HOLDER=$BG_PID
session_hold_ready "$T/hold.out"
adm sessions > "$T/before.out" 2>&1 || fail "hatgtadm sessions failed: $(cat "$T/before.out")"
grep "$INIT2" "$T/before.out" > "$T/before.line" || fail "session of $INIT2 not shown: $(cat "$T/before.out")"

add_target "$NEW"
daemon_reload

discovery_lists() {
	tool iscsi-ls -i "$INIT1" "$(portal_url)" | grep -q "^Target:$1 "
}
wait_for 10 discovery_lists "$NEW" ||
	fail "$NEW not in discovery 10 s after SIGHUP"
login_ok "$(url "$NEW" 0)" || fail "cannot log in to $NEW after reload: $(cat "$T/inq.out")"

adm sessions > "$T/after.out" 2>&1 || fail "hatgtadm sessions failed: $(cat "$T/after.out")"
grep "$INIT2" "$T/after.out" > "$T/after.line" || fail "session of $INIT2 gone after reload: $(cat "$T/after.out")"
cmp -s "$T/before.line" "$T/after.line" ||
	fail "session of $INIT2 changed across reload: '$(cat "$T/before.line")' -> '$(cat "$T/after.line")'"

wait "$HOLDER" || fail "holding session failed: $(cat "$T/hold.out")"
grep -q 'read 4096/4096 bytes at offset 4096' "$T/hold.out" ||
	fail "holding session could not read after reload: $(cat "$T/hold.out")"
