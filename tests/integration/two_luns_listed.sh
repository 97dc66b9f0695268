#!/bin/bash
# A target with two LUNs reports both (REPORT LUNS, SPC-4 section 6.33) as
# disks of their configured sizes.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
need_tool iscsi-ls
it_setup
TGT=iqn.2026-11.org.hatgt.test:two
add_target "$TGT" "lun1 = $T/lun1.img" "lun1_size = 64M"
daemon_start

tool iscsi-ls -s -i "$INIT1" "$(portal_url)" > "$T/ls.out" 2>&1 || fail "iscsi-ls -s failed: $(cat "$T/ls.out")"
grep -q '^Lun:0 *Type:DIRECT_ACCESS (Size:3[12]M)' "$T/ls.out" || fail "LUN 0 missing: $(cat "$T/ls.out")"
grep -q '^Lun:1 *Type:DIRECT_ACCESS (Size:6[34]M)' "$T/ls.out" || fail "LUN 1 missing: $(cat "$T/ls.out")"
[ "$(grep -c '^Lun:' "$T/ls.out")" -eq 2 ] || fail "expected exactly two LUNs: $(cat "$T/ls.out")"
