#!/bin/bash
# hatgtadm sessions lists a connected session with its initiator name.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
it_setup
TGT=iqn.2026-11.org.hatgt.test:disk
add_target "$TGT"
daemon_start

session_hold "$TGT" 0 "$INIT1" 5000 "$T/hold.out"
session_hold_ready "$T/hold.out"
adm sessions > "$T/adm.out" 2>&1 || fail "hatgtadm sessions failed: $(cat "$T/adm.out")"
grep -q "$INIT1" "$T/adm.out" || fail "session of $INIT1 not shown: $(cat "$T/adm.out")"
