#!/bin/bash
# Mutual CHAP (RFC 7143 section 12.1.3): the target proves the mutual secret
# and the initiator accepts it.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
chap_target_start mutual
login_ok "$(url "$CHAP_TGT" 0 "$CHAP_USER%$CHAP_SECRET@")?target_user=$MUTUAL_USER&target_password=$MUTUAL_SECRET" ||
	fail "mutual CHAP login with the right target secret failed: $(cat "$T/inq.out")"
