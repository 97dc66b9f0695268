#!/bin/bash
# Data written before SIGTERM is there after a restart (the backing file is
# the store; SIGTERM loses nothing acknowledged).
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
need_tool qemu-io
it_setup
TGT=iqn.2026-11.org.hatgt.test:keep
add_target "$TGT"
daemon_start

tool qemu-io -f raw -c 'write -P 0xa5 1M 1M' "$(url "$TGT" 0)" > "$T/w.out" 2>&1 ||
	fail "write failed: $(cat "$T/w.out")"
daemon_stop || fail "hatgtd did not exit 0 on SIGTERM"
daemon_start
tool qemu-io -r -f raw -c 'read -P 0xa5 1M 1M' "$(url "$TGT" 0)" > "$T/r.out" 2>&1 ||
	fail "read failed: $(cat "$T/r.out")"
if grep -q 'Pattern verification failed' "$T/r.out"; then
	fail "data written before the restart is gone: $(cat "$T/r.out")"
fi
