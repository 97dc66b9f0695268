#!/bin/bash
# A zero-copy READ whose LUN file shrank under it (truncated behind the
# daemon's back, no resize) must not send wrong bytes: the Data-In header
# is out before sendfile finds the end of the file, so hatgtd drops the
# connection (logged) and the initiator sees an error, never other data.
[ -d /dev/shm ] && [ -w /dev/shm ] || { echo "SKIP: no writable /dev/shm" >&2; exit 77; }
export TMPDIR=/dev/shm # tmpfs: every READ of 128 KiB or more is sent from the file
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
LOAD=${HATGT_LOAD:-${HATGTD%/daemon/hatgtd}/tests/bench/hatgt-load}
[ -x "$LOAD" ] || skip "hatgt-load not built: $LOAD (make -C tests/bench)"
need_tool truncate
it_setup
TGT=iqn.2026-11.org.hatgt.test:shrink
add_target -s 64M "$TGT"
daemon_start
truncate -s 1M "$T/lun-1.img" || hard_error "cannot truncate the LUN file"
# One session reads 1 MiB blocks from LBA 0 on: the second one is past the end.
out=$(tool "$LOAD" -i "$INIT1" -V -q 1 -b 1M -p seq -r 100 -n 4 "$(url "$TGT" 0)" 2>&1) &&
	fail "reads past the end of the shrunk file succeeded: $out"
case " $out " in
*" mismatches="[1-9]*) fail "wrong data reached the initiator: $out" ;;
esac
wait_for 5 grep -q 'LUN file ended inside a Data-In' "$DAEMON_LOG" ||
	fail "no log line about the short file"
kill -0 "$DAEMON_PID" || fail "hatgtd died"
