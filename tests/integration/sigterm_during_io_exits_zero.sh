#!/bin/bash
# SIGTERM while an initiator is writing: hatgtd finishes the commands in
# flight and exits 0 within 10 s (the exit trap asserts both).
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
need_tool qemu-img head
it_setup
TGT=iqn.2026-11.org.hatgt.test:busy
add_target -s 64M "$TGT"
daemon_start

head -c $((64 * 1024 * 1024)) /dev/urandom > "$T/src.raw"
bg_start "$T/writer.out" tool qemu-img convert -n -f raw -O raw "$T/src.raw" "$(url "$TGT" 0)"
wait_for 10 grep -q 'logged in' "$DAEMON_LOG" || fail "the writer did not log in"
sleep 0.2
daemon_stop || fail "hatgtd did not exit 0 on SIGTERM during I/O"
