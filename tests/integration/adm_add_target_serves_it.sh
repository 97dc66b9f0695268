#!/bin/bash
# hatgtadm add-target and add-lun create a target at run time that
# initiators can discover and use at once.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
need_tool iscsi-ls iscsi-readcapacity16
it_setup
TGT=iqn.2026-11.org.hatgt.test:runtime
daemon_start

adm add-target "$TGT" > "$T/adm.out" 2>&1 || fail "add-target failed: $(cat "$T/adm.out")"
adm add-lun "$TGT" 0 "$T/rt.img" size=16M > "$T/adm.out" 2>&1 || fail "add-lun failed: $(cat "$T/adm.out")"
tool iscsi-ls -i "$INIT1" "$(portal_url)" > "$T/ls.out" 2>&1 || fail "iscsi-ls failed: $(cat "$T/ls.out")"
grep -q "^Target:$TGT " "$T/ls.out" || fail "$TGT not discovered: $(cat "$T/ls.out")"
tool iscsi-readcapacity16 -i "$INIT1" "$(url "$TGT" 0)" > "$T/rc.out" 2>&1 ||
	fail "READ CAPACITY(16) failed: $(cat "$T/rc.out")"
grep -q "^Total size:$((16 * 1024 * 1024))\$" "$T/rc.out" || fail "wrong size: $(cat "$T/rc.out")"
