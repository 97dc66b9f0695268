#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Differencing disks (issue 9), checked with qemu's own tools as the
# independent reader:
#
#   golden.qcow2 (128 MiB, 0x5a over the first 24 MiB, read-only, shared)
#      ^                ^
#   a.qcow2          b.qcow2          <- LUN 0 of target :a and of target :b
#
# A client writes different patterns to each LUN (full clusters, a partial
# cluster that must be copied from the golden image, an unaligned range).
# After hatgtd stops: `qemu-img check` is clean on both overlays, `qemu-io
# read -P` finds each overlay's writes and the golden data everywhere else,
# and the golden image is byte-for-byte unchanged. Then hatgtd is killed
# with SIGKILL in the middle of a write load: qemu-img check must report no
# errors (leaked clusters are allowed: exit status 3).
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
need_tool qemu-img qemu-io md5sum head
it_setup
TA=iqn.2026-11.org.hatgt.test:a
TB=iqn.2026-11.org.hatgt.test:b
G=$T/golden.qcow2

qemu-img create -q -f qcow2 "$G" 128M || hard_error "qemu-img create failed"
qemu-io -c 'write -P 0x5a 0 24M' "$G" > /dev/null || hard_error "qemu-io write failed"
for o in a b; do
	qemu-img create -q -f qcow2 -b golden.qcow2 -F qcow2 "$T/$o.qcow2" ||
		hard_error "qemu-img create of the overlay failed"
done
GOLDEN_SUM=$(md5sum < "$G")
add_target -n "$TA" "lun0 = $T/a.qcow2"
add_target -n "$TB" "lun0 = $T/b.qcow2"

# qio WHAT QEMU-IO-ARGS... -- COMMANDS...: qemu-io with one -c per command.
qio() {
	local what=$1 args=() c
	shift
	while [ "$1" != -- ]; do
		args+=("$1")
		shift
	done
	shift
	for c in "$@"; do
		args+=(-c "$c")
	done
	tool qemu-io "${args[@]}" "$what" > "$T/qemu-io.out" 2>&1 ||
		fail "qemu-io on $what: $(cat "$T/qemu-io.out")"
}

# lun_io TARGET COMMANDS...: through the target, LUN 0.
lun_io() {
	local tgt=$1
	shift
	qio "driver=iscsi,transport=tcp,portal=$IT_HOST:$PORT,target=$tgt,lun=0,initiator-name=$INIT1" \
		--image-opts -- "$@"
}

# file_io IMAGE COMMANDS...: the image file itself, read-only.
file_io() {
	local img=$1
	shift
	qio "$img" -r -- "$@"
}

daemon_start
lun_io "$TA" 'write -P 0xa1 1M 1M' 'write -P 0xa2 5000k 3k' 'read -P 0x5a 0 1M'
lun_io "$TB" 'write -P 0xb1 2M 512k' 'write -P 0xb2 30M 100k' 'read -P 0x5a 5000k 3k'
# Through the target too: each LUN sees its own writes only.
lun_io "$TA" 'read -P 0xa1 1M 1M' 'read -P 0x5a 2M 512k' 'read -P 0 24M 6M'
lun_io "$TB" 'read -P 0x5a 1M 1M' 'read -P 0xb1 2M 512k' 'read -P 0xb2 30M 100k'
daemon_stop || fail "hatgtd did not stop cleanly"

for o in a b; do
	qemu-img check -q "$T/$o.qcow2" || fail "qemu-img check of $o.qcow2 found problems"
done
file_io "$T/a.qcow2" 'read -P 0x5a 0 1M' 'read -P 0xa1 1M 1M' 'read -P 0x5a 2M 2952k' \
	'read -P 0xa2 5000k 3k' 'read -P 0x5a 5003k 19573k' 'read -P 0 24M 104M'
file_io "$T/b.qcow2" 'read -P 0x5a 0 2M' 'read -P 0xb1 2M 512k' 'read -P 0x5a 2560k 22016k' \
	'read -P 0 24M 6M' 'read -P 0xb2 30M 100k' 'read -P 0 30820k 100252k'
[ "$(md5sum < "$G")" = "$GOLDEN_SUM" ] || fail "the golden image changed"

# SIGKILL in the middle of a write load: leaks allowed, errors not. The load
# is 1,536 separate 64 KiB writes (96 MiB, each allocating a cluster); the
# kill comes once the overlay has grown by 16 MiB.
SIZE0=$(stat -c %s "$T/a.qcow2")
LOAD=()
for i in $(seq 0 1535); do
	LOAD+=(-c "write -P $((i % 251)) $((i * 64))k 64k")
done
daemon_start
bg_start "$T/load.out" tool qemu-io --image-opts "${LOAD[@]}" \
	"driver=iscsi,transport=tcp,portal=$IT_HOST:$PORT,target=$TA,lun=0,initiator-name=$INIT1"
LOAD_PID=$BG_PID
end=$((SECONDS + 30))
while [ "$(stat -c %s "$T/a.qcow2")" -lt $((SIZE0 + 16 * 1024 * 1024)) ]; do
	[ "$SECONDS" -lt "$end" ] || fail "the write load did not start within 30 s"
done
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2> /dev/null || true
DAEMON_PID=
wait "$LOAD_PID" 2> /dev/null || true
grep -q 'wrote 65536/65536 bytes at offset 100597760' "$T/load.out" &&
	fail "the write load finished before hatgtd was killed: nothing was tested"
st=0
qemu-img check "$T/a.qcow2" > "$T/check.out" 2>&1 || st=$?
case $st in
0 | 3) ;; # clean, or leaked clusters only
*) fail "qemu-img check after SIGKILL (status $st): $(cat "$T/check.out")" ;;
esac
[ "$(md5sum < "$G")" = "$GOLDEN_SUM" ] || fail "the golden image changed"
file_io "$T/b.qcow2" 'read -P 0xb1 2M 512k'
exit 0
