#!/bin/bash
# A portal on the IPv6 loopback ("listen = ..., [::1]:PORT") accepts logins.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
need_tool iscsi-inq
grep -qs '^0\{31\}1 ' /proc/net/if_inet6 || skip "no IPv6 loopback (::1)"
it_setup
PORT4=$PORT
it_pick_port
PORT6=$PORT
PORT=$PORT4
sed -i "s/^listen = .*/&, [::1]:$PORT6/" "$CONF"
TGT=iqn.2026-11.org.hatgt.test:v6
add_target "$TGT"
daemon_start

tool iscsi-inq -i "$INIT1" "iscsi://[::1]:$PORT6/$TGT/0" > "$T/inq.out" 2>&1 ||
	fail "login through [::1]:$PORT6 failed: $(cat "$T/inq.out")"
