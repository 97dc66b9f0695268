#!/bin/bash
# An initiator named on the target's allow list logs in.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
need_tool iscsi-inq
it_setup
TGT=iqn.2026-11.org.hatgt.test:acl
add_target "$TGT" "allow = $INIT2, $INIT1"
daemon_start

login_ok "$(url "$TGT" 0)" "$INIT1" || fail "listed initiator $INIT1 refused: $(cat "$T/inq.out")"
