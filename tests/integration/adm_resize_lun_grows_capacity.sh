#!/bin/bash
# hatgtadm resize-lun grows a file LUN at run time: READ CAPACITY reports the
# new size, data written before is intact, and shrinking needs "shrink".
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
need_tool iscsi-readcapacity16 qemu-io
it_setup
TGT=iqn.2026-11.org.hatgt.test:resize
add_target -s 16M "$TGT"
daemon_start

U=$(url "$TGT" 0)
tool qemu-io -f raw -c 'write -P 0x5a 1M 1M' "$U" > "$T/w.out" 2>&1 ||
	fail "write failed: $(cat "$T/w.out")"
adm resize-lun "$TGT" 0 64M > "$T/adm.out" 2>&1 || fail "resize-lun failed: $(cat "$T/adm.out")"
grep -q "67108864 bytes" "$T/adm.out" || fail "unexpected answer: $(cat "$T/adm.out")"
tool iscsi-readcapacity16 -i "$INIT1" "$U" > "$T/rc.out" 2>&1 ||
	fail "READ CAPACITY(16) failed: $(cat "$T/rc.out")"
grep -q "^Total size:$((64 * 1024 * 1024))\$" "$T/rc.out" || fail "wrong size: $(cat "$T/rc.out")"
tool qemu-io -f raw -c 'read -P 0x5a 1M 1M' "$U" > "$T/r.out" 2>&1 ||
	fail "data written before the resize is gone: $(cat "$T/r.out")"
if adm resize-lun "$TGT" 0 8M > "$T/adm.out" 2>&1; then
	fail "shrinking without 'shrink' was accepted"
fi
grep -q "refusing to shrink" "$T/adm.out" || fail "unclear refusal: $(cat "$T/adm.out")"
