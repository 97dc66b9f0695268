#!/bin/bash
# Discovery sessions (RFC 7143 section 4.3) with discovery_chap_user set
# need CHAP; the right secret logs in and lists the targets.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
need_tool iscsi-ls
it_setup
TGT=iqn.2026-11.org.hatgt.test:disk
sed -i '/^\[global\]/a discovery_chap_user = finder\ndiscovery_chap_secret = findersecret12' "$CONF"
add_target "$TGT"
daemon_start

tool iscsi-ls -i "$INIT1" "iscsi://finder%findersecret12@$IT_HOST:$PORT" > "$T/ls.out" 2>&1 ||
	fail "discovery with the right CHAP secret failed: $(cat "$T/ls.out")"
grep -q "^Target:$TGT " "$T/ls.out" || fail "$TGT not listed: $(cat "$T/ls.out")"
