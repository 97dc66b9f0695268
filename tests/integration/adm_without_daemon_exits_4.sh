#!/bin/bash
# hatgtadm exits 4 (HATGT_ADMIN_NO_DAEMON, daemon/admin/admin.h) when no
# daemon serves its IPC name.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
it_setup

st=0
adm status > "$T/adm.out" 2>&1 || st=$?
[ "$st" -eq 4 ] || fail "expected exit 4 without a daemon, got $st: $(cat "$T/adm.out")"
