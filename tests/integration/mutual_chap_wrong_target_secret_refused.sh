#!/bin/bash
# Mutual CHAP (RFC 7143 section 12.1.3): when the initiator expects another
# target secret, the target's CHAP_R does not verify and the login fails.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
chap_target_start mutual
login_refused "$(url "$CHAP_TGT" 0 "$CHAP_USER%$CHAP_SECRET@")?target_user=$MUTUAL_USER&target_password=wrongsecret56" \
	'Invalid CHAP_R response from the target'
