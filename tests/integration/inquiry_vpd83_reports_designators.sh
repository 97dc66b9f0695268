#!/bin/bash
# VPD page 0x83 (SPC-4 section 7.8.6) identifies the LU by an NAA designator
# and the target port by a SCSI name string "<target>,t,0x<tpgt>"
# (SPC-4 7.8.6.11, iSCSI: RFC 7143 section 13.2 naming).
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
need_tool iscsi-inq
it_setup
TGT=iqn.2026-11.org.hatgt.test:disk
add_target "$TGT"
daemon_start

tool iscsi-inq -i "$INIT1" -e 1 -c 131 "$(url "$TGT" 0)" > "$T/vpd.out" 2>&1 ||
	fail "INQUIRY VPD 0x83 failed: $(cat "$T/vpd.out")"
grep -q '^Designator Type:(3) NAA' "$T/vpd.out" || fail "no NAA designator: $(cat "$T/vpd.out")"
grep -qi "^Designator:\[$TGT,t,0x0*1\]" "$T/vpd.out" ||
	fail "no SCSI name string for the target port: $(cat "$T/vpd.out")"
