#!/bin/bash
# READ CAPACITY(16) (SBC-3 section 5.16) reports the lun0_size of the config.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
need_tool iscsi-readcapacity16
it_setup
TGT=iqn.2026-11.org.hatgt.test:disk
add_target -s 48M "$TGT"
daemon_start

tool iscsi-readcapacity16 -i "$INIT1" "$(url "$TGT" 0)" > "$T/rc.out" 2>&1 ||
	fail "iscsi-readcapacity16 failed: $(cat "$T/rc.out")"
grep -q "^Total size:$((48 * 1024 * 1024))\$" "$T/rc.out" || fail "wrong size: $(cat "$T/rc.out")"
grep -q '^LOGICAL BLOCK LENGTH IN BYTES:512$' "$T/rc.out" || fail "wrong block size: $(cat "$T/rc.out")"
