#!/bin/bash
# SendTargets (RFC 7143 section 11.10, Appendix C) lists a target the
# initiator may log in to, and hides one whose allow list excludes it.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
need_tool iscsi-ls
it_setup
OPEN=iqn.2026-11.org.hatgt.test:open
CLOSED=iqn.2026-11.org.hatgt.test:closed
add_target "$OPEN"
add_target "$CLOSED" "allow = $INIT2"
daemon_start

tool iscsi-ls -i "$INIT1" "$(portal_url)" > "$T/ls.out" 2>&1 || fail "iscsi-ls failed: $(cat "$T/ls.out")"
grep -q "^Target:$OPEN Portal:$IT_HOST:$PORT," "$T/ls.out" ||
	fail "discovery does not list $OPEN: $(cat "$T/ls.out")"
if grep -q "$CLOSED" "$T/ls.out"; then
	fail "discovery lists $CLOSED to $INIT1, which its allow list excludes"
fi
