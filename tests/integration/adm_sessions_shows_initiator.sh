#!/bin/bash
# hatgtadm sessions lists a connected session with its initiator name.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
TGT=iqn.2026-11.org.hatgt.test:disk
held_session_start "$TGT" "$INIT1" 5000
adm sessions > "$T/adm.out" 2>&1 || fail "hatgtadm sessions failed: $(cat "$T/adm.out")"
grep -q "$INIT1" "$T/adm.out" || fail "session of $INIT1 not shown: $(cat "$T/adm.out")"
