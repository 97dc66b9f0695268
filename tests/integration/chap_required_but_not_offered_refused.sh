#!/bin/bash
# A target that requires CHAP refuses an initiator that offers no
# credentials (RFC 7143 section 12: AuthMethod None is not acceptable).
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
need_tool iscsi-inq
it_setup
TGT=iqn.2026-11.org.hatgt.test:chap
add_target "$TGT" "chap_user = alice" "chap_secret = alicesecret12"
daemon_start

if login_ok "$(url "$TGT" 0)"; then
	fail "login without CHAP credentials succeeded on a CHAP target"
fi
grep -q 'Authentication failure(513)' "$T/inq.out" ||
	fail "refused, but not with status 0x0201: $(cat "$T/inq.out")"
