#!/bin/bash
# One-way CHAP (RFC 7143 section 12.1.3): a wrong secret is refused with an
# authentication failure (status 0x0201, section 11.13.5).
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
need_tool iscsi-inq
it_setup
TGT=iqn.2026-11.org.hatgt.test:chap
add_target "$TGT" "chap_user = alice" "chap_secret = alicesecret12"
daemon_start

if login_ok "$(url "$TGT" 0 'alice%wrongsecret12@')"; then
	fail "login with a wrong CHAP secret succeeded"
fi
grep -q 'Authentication failure(513)' "$T/inq.out" ||
	fail "refused, but not with status 0x0201: $(cat "$T/inq.out")"
