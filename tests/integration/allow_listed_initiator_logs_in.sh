#!/bin/bash
# An initiator named on the target's allow list logs in.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
need_tool iscsi-inq
it_setup
TGT=iqn.2026-11.org.hatgt.test:acl
cat >> "$CONF" << EOF2
[target $TGT]
lun0 = $T/lun0.img
lun0_size = 32M
allow = $INIT2, $INIT1
EOF2
daemon_start

login_ok "$(url "$TGT" 0)" "$INIT1" || fail "listed initiator $INIT1 refused: $(cat "$T/inq.out")"
