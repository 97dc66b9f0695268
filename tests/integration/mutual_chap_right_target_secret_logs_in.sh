#!/bin/bash
# Mutual CHAP (RFC 7143 section 12.1.3): the target proves the mutual secret
# and the initiator accepts it.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
need_tool iscsi-inq
it_setup
TGT=iqn.2026-11.org.hatgt.test:mutual
add_target "$TGT" "chap_user = alice" "chap_secret = alicesecret12" "mutual_user = target1" "mutual_secret = targetsecret34"
daemon_start

login_ok "$(url "$TGT" 0 'alice%alicesecret12@')?target_user=target1&target_password=targetsecret34" ||
	fail "mutual CHAP login with the right target secret failed: $(cat "$T/inq.out")"
