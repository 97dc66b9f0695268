#!/bin/bash
# hatgtadm targets lists every configured target.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
it_setup
TGT=iqn.2026-11.org.hatgt.test:disk
TGT2=iqn.2026-11.org.hatgt.test:other
cat >> "$CONF" << EOF2
[target $TGT]
lun0 = $T/lun0.img
lun0_size = 32M

[target $TGT2]
EOF2
daemon_start

adm targets > "$T/adm.out" 2>&1 || fail "hatgtadm targets failed: $(cat "$T/adm.out")"
grep -q "$TGT\\b" "$T/adm.out" || fail "$TGT not listed: $(cat "$T/adm.out")"
grep -q "$TGT2" "$T/adm.out" || fail "$TGT2 not listed: $(cat "$T/adm.out")"
