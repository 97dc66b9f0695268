#!/bin/bash
# hatgtadm --json sessions lists a connected session as a JSON object with
# its initiator name and target.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
TGT=iqn.2026-11.org.hatgt.test:disk
held_session_start "$TGT" "$INIT1" 5000
adm --json sessions > "$T/adm.out" 2>&1 || fail "hatgtadm --json sessions failed: $(cat "$T/adm.out")"
grep -q "\"initiator\": *\"$INIT1\"" "$T/adm.out" || fail "no \"initiator\": \"$INIT1\": $(cat "$T/adm.out")"
grep -q "\"target\": *\"$TGT\"" "$T/adm.out" || fail "no \"target\": \"$TGT\": $(cat "$T/adm.out")"
