#!/bin/bash
# VPD page 0x80 (SPC-4 section 7.8.15) carries the configured unit serial
# number.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
need_tool iscsi-inq
it_setup
TGT=iqn.2026-11.org.hatgt.test:disk
SERIAL=HATGTIT0123456789
add_target "$TGT" "lun0_serial = $SERIAL"
daemon_start

tool iscsi-inq -i "$INIT1" -e 1 -c 128 "$(url "$TGT" 0)" > "$T/vpd.out" 2>&1 ||
	fail "INQUIRY VPD 0x80 failed: $(cat "$T/vpd.out")"
grep -q "^Unit Serial Number:\[ *$SERIAL\]" "$T/vpd.out" ||
	fail "serial $SERIAL not reported: $(cat "$T/vpd.out")"
