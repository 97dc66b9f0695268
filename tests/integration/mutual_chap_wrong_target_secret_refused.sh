#!/bin/bash
# Mutual CHAP (RFC 7143 section 12.1.3): when the initiator expects another
# target secret, the target's CHAP_R does not verify and the login fails.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
need_tool iscsi-inq
it_setup
TGT=iqn.2026-11.org.hatgt.test:mutual
add_target "$TGT" "chap_user = alice" "chap_secret = alicesecret12" "mutual_user = target1" "mutual_secret = targetsecret34"
daemon_start

if login_ok "$(url "$TGT" 0 'alice%alicesecret12@')?target_user=target1&target_password=wrongsecret56"; then
	fail "mutual CHAP login succeeded although the target secret is wrong"
fi
grep -q 'Invalid CHAP_R response from the target' "$T/inq.out" ||
	fail "login failed, but not on the target's CHAP_R: $(cat "$T/inq.out")"
