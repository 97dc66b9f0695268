#!/bin/bash
# hatgtadm targets lists every configured target.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
it_setup
TGT=iqn.2026-11.org.hatgt.test:disk
TGT2=iqn.2026-11.org.hatgt.test:other
add_target "$TGT"
add_target -n "$TGT2"
daemon_start

adm targets > "$T/adm.out" 2>&1 || fail "hatgtadm targets failed: $(cat "$T/adm.out")"
grep -q "$TGT\\b" "$T/adm.out" || fail "$TGT not listed: $(cat "$T/adm.out")"
grep -q "$TGT2" "$T/adm.out" || fail "$TGT2 not listed: $(cat "$T/adm.out")"
