#!/bin/bash
# An initiator missing from the allow list is refused at login (status
# 0x0202 "authorization failure", RFC 7143 section 11.13.5).
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
need_tool iscsi-inq
it_setup
TGT=iqn.2026-11.org.hatgt.test:acl
add_target "$TGT" "allow = $INIT2"
daemon_start
login_refused "$(url "$TGT" 0)" 'Authorization failure(514)' "$INIT1"
