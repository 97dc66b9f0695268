#!/bin/bash
# Standard INQUIRY (SPC-4 section 6.6.2) answers for a disk with the
# configured vendor and product identification.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
need_tool iscsi-inq
it_setup
TGT=iqn.2026-11.org.hatgt.test:disk
global_set "vendor = HATGTIT" "product = INTEGRATION"
add_target "$TGT"
daemon_start

login_ok "$(url "$TGT" 0)" || fail "iscsi-inq failed: $(cat "$T/inq.out")"
grep -q '^Peripheral Device Type:DIRECT_ACCESS' "$T/inq.out" || fail "not a disk: $(cat "$T/inq.out")"
grep -q '^Vendor:HATGTIT *$' "$T/inq.out" || fail "wrong vendor: $(grep Vendor "$T/inq.out")"
grep -q '^Product:INTEGRATION *$' "$T/inq.out" || fail "wrong product: $(grep Product "$T/inq.out")"
