#!/bin/bash
# SIGHUP with a target deleted from the config: it leaves discovery, the
# other target stays.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
need_tool iscsi-ls
it_setup
KEEP=iqn.2026-11.org.hatgt.test:keep
GONE=iqn.2026-11.org.hatgt.test:gone
cp "$CONF" "$T/global.conf"
add_target "$KEEP"
cp "$CONF" "$T/after.conf"
add_target "$GONE"
daemon_start

discovered() {
	tool iscsi-ls -i "$INIT1" "$(portal_url)" > "$T/ls.out" 2>&1 || return 1
	grep -q "^Target:$1 " "$T/ls.out"
}
discovered "$GONE" || fail "$GONE not in discovery before reload: $(cat "$T/ls.out")"
cp "$T/after.conf" "$CONF"
daemon_reload
gone() {
	! discovered "$GONE" && grep -q "^Target:$KEEP " "$T/ls.out"
}
wait_for 10 gone || fail "after SIGHUP, discovery shows: $(cat "$T/ls.out")"
