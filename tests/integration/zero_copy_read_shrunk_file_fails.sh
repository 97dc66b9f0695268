#!/bin/bash
# A READ past the end of a LUN file that shrank behind the daemon's back (no
# resize) fails with an error, never with other bytes, and the daemon goes
# on: on tmpfs, reads are sent from a mapping of the file only while every
# page of the range is resident (docs/performance.md, step 7), so these
# take the buffered path, whose short read is a MEDIUM ERROR. (A file that
# shrinks after that check, while the Data-In waits in the socket, makes
# sendmsg fail with EFAULT and the connection drop: iscsi_txq_test.)
if [ ! -d /dev/shm ] || [ ! -w /dev/shm ]; then
	echo "SKIP: no writable /dev/shm" >&2
	exit 77
fi
export TMPDIR=/dev/shm
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
LOAD=${HATGT_LOAD:-${HATGTD%/daemon/hatgtd}/tests/bench/hatgt-load}
[ -x "$LOAD" ] || skip "hatgt-load not built: $LOAD (make -C tests/bench)"
need_tool truncate
it_setup
TGT=iqn.2026-11.org.hatgt.test:shrink
add_target -s 64M "$TGT"
daemon_start
# Data in the first 2 MiB (resident tmpfs pages), then cut the file to 1 MiB.
tool "$LOAD" -i "$INIT1" -V -q 1 -b 1M -p seq -r 0 -n 2 "$(url "$TGT" 0)" > /dev/null 2>&1 ||
	fail "writing the first 2 MiB failed"
truncate -s 1M "$T/lun-1.img" || hard_error "cannot truncate the LUN file"
# One session reads 1 MiB blocks from LBA 0 on: the second is past the end.
out=$(tool "$LOAD" -i "$INIT1" -V -q 1 -b 1M -p seq -r 100 -n 2 "$(url "$TGT" 0)" 2>&1) &&
	fail "a read past the end of the shrunk file succeeded: $out"
case " $out " in
*" mismatches="[1-9]*) fail "wrong data reached the initiator: $out" ;;
esac
wait_for 5 grep -q 'I/O error at offset 1048576' "$DAEMON_LOG" ||
	fail "no I/O error logged for the read past the end"
login_ok "$(url "$TGT" 0)" || fail "hatgtd no longer serves: $(cat "$T/inq.out")"
