#!/bin/bash
# Discovery sessions (RFC 7143 section 4.3) with discovery_chap_user set
# need CHAP; the right secret logs in and lists the targets.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
discovery_chap_start
tool iscsi-ls -i "$INIT1" "iscsi://$DISC_USER%$DISC_SECRET@$IT_HOST:$PORT" > "$T/ls.out" 2>&1 ||
	fail "discovery with the right CHAP secret failed: $(cat "$T/ls.out")"
grep -q "^Target:$DISC_TGT " "$T/ls.out" || fail "$DISC_TGT not listed: $(cat "$T/ls.out")"
