#!/bin/bash
# hatgtadm status reaches the running daemon and answers with exit 0.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
it_setup
daemon_start

adm status > "$T/adm.out" 2>&1 || fail "hatgtadm status failed: $(cat "$T/adm.out")"
[ -s "$T/adm.out" ] || fail "hatgtadm status printed nothing"
