#!/bin/bash
# Discovery sessions with discovery_chap_user set refuse a wrong secret
# (status 0x0201, RFC 7143 section 11.13.5) and reveal no target.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
discovery_chap_start
if tool iscsi-ls -i "$INIT1" "iscsi://$DISC_USER%wrongsecret12@$IT_HOST:$PORT" > "$T/ls.out" 2>&1; then
	fail "discovery with a wrong CHAP secret succeeded: $(cat "$T/ls.out")"
fi
grep -q 'Authentication failure(513)' "$T/ls.out" ||
	fail "refused, but not with status 0x0201: $(cat "$T/ls.out")"
if grep -q "$DISC_TGT" "$T/ls.out"; then
	fail "target name leaked to an unauthenticated discovery session"
fi
