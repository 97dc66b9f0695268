#!/bin/bash
# One-way CHAP (RFC 7143 section 12.1.3): the configured secret logs in.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
need_tool iscsi-inq
it_setup
TGT=iqn.2026-11.org.hatgt.test:chap
add_target "$TGT" "chap_user = alice" "chap_secret = alicesecret12"
daemon_start

login_ok "$(url "$TGT" 0 'alice%alicesecret12@')" ||
	fail "login with the right CHAP secret failed: $(cat "$T/inq.out")"
