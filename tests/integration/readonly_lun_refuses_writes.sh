#!/bin/bash
# A LUN configured with lun0_readonly = yes refuses writes (SBC-3 section
# 4.11: DATA PROTECT, WRITE PROTECTED) and its data stays as it was.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
need_tool qemu-io iscsi-test-cu tr truncate
it_setup
TGT=iqn.2026-11.org.hatgt.test:ro
# hatgtd does not create a read-only LUN's file: make it, 4 KiB of 0x11 first.
head -c 4096 /dev/zero | tr '\0' '\021' > "$T/ro.img"
truncate -s 32M "$T/ro.img"
add_target -n "$TGT" "lun0 = $T/ro.img" "lun0_readonly = yes"
daemon_start

# libiscsi's ReadOnly suite sends WRITE(10/12/16) and friends and expects
# DATA PROTECT/WRITE PROTECTED; commands we lack are skipped, not failed.
cu_run ALL.ReadOnly "$TGT" 0
tool qemu-io -r -f raw -c 'read -P 0x11 0 4k' "$(url "$TGT" 0)" > "$T/r.out" 2>&1 ||
	fail "read of the read-only LUN failed: $(cat "$T/r.out")"
if grep -q 'Pattern verification failed' "$T/r.out"; then
	fail "the read-only LUN's data changed"
fi
