#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# boot-storm-latency.sh: what allocating qcow2 writes cost the other
# targets of the daemon (issue 9).
#
#   tests/bench/boot-storm-latency.sh [-t SECS] [-q WRITER_QD] [-d DIR] BUILDDIR
#
# One hatgtd, two targets on DIR (/tmp; a real file system, since fdatasync
# on tmpfs costs nothing): :raw, a 256 MiB raw file, and :ovl, a qcow2
# overlay over an empty 8 GiB golden image. tests/bench/hatgt-load reads
# :raw (4 KiB random, QD1) for SECS (10) seconds alone, then again while a
# second hatgt-load writes :ovl (64 KiB random, WRITER_QD (8) outstanding,
# over all 8 GiB, so nearly every write allocates a new cluster). Prints
# the reader's latency (p50/p99/p99.9/max) in both runs and the writer's
# IOPS, one "boot-storm-latency:" line each, then `qemu-img check` of the
# overlay (after hatgtd stops) must find no error.
# Exit: 0 done, 1 a run or the check failed, 2 usage.

set -eu

SECS=10
WQD=8
DIR=${TMPDIR:-/tmp}
IQN=iqn.2026-11.org.hatgt.bench

usage() {
	sed -n '7p' "$0" | sed 's/^# */usage: /' >&2
	exit 2
}

while getopts t:q:d:h o; do
	case $o in
	t) SECS=$OPTARG ;;
	q) WQD=$OPTARG ;;
	d) DIR=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage
for v in "$SECS" "$WQD"; do
	case $v in '' | *[!0-9]* | 0) usage ;; esac
done
BUILD=$(cd "$1" && pwd)
HATGTD=${HATGTD:-$BUILD/daemon/hatgtd}
LOAD=${HATGT_LOAD:-$BUILD/tests/bench/hatgt-load}

# shellcheck disable=SC2034 # read by bench-lib.sh
BENCH_NAME=boot-storm-latency
# shellcheck source=bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"

[ -x "$HATGTD" ] || bench_die "no hatgtd at $HATGTD"
[ -x "$LOAD" ] || bench_die "no hatgt-load at $LOAD (make -C tests/bench hatgt-load)"
command -v qemu-img > /dev/null || bench_die "qemu-img not found (apt-get install qemu-utils)"

T=$(mktemp -d "$DIR/hatgt-lat.XXXXXX")
DAEMON_PID=
WRITER_PID=

cleanup() {
	local rc=$?
	set +e
	# shellcheck disable=SC2086 # empty when not started
	bench_stop $WRITER_PID $DAEMON_PID
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

PORT=$(bench_pick_port)
mkdir -p "$T/state"
head -c $((256 << 20)) /dev/urandom > "$T/raw.img"
qemu-img create -q -f qcow2 "$T/golden.qcow2" 8G
qemu-img create -q -f qcow2 -b golden.qcow2 -F qcow2 "$T/ovl.qcow2"
cat > "$T/hatgt.conf" << EOF
[global]
listen = 127.0.0.1:$PORT
state_dir = $T/state
admin_name = hatgt-lat-$$
log_level = warning

[target $IQN:raw]
lun0 = $T/raw.img

[target $IQN:ovl]
lun0 = $T/ovl.qcow2
EOF
"$HATGTD" -f -c "$T/hatgt.conf" >> "$T/hatgtd.log" 2>&1 &
DAEMON_PID=$!
bench_wait_port "$PORT" "$DAEMON_PID" 60 || bench_die "hatgtd did not listen on $PORT"

# reader LABEL: the reader's hatgt-load line, relabelled.
reader() {
	timeout $((SECS + 60)) "$LOAD" -L "$1" -i "$IQN:reader" -b 4K -p rand -r 100 -q 1 \
		-t "$SECS" -w 1 "iscsi://127.0.0.1:$PORT/$IQN:raw/0" 2> /dev/null
}

line() {
	local l=$1 k label=${1#*label=}
	printf 'boot-storm-latency: %s' "${label%% *}"
	for k in iops lat_us_p50 lat_us_p99 lat_us_p999 lat_us_max; do
		printf ' %s=%s' "$k" "$(sed -n "s/.* $k=\([^ ]*\).*/\1/p" <<< "$l")"
	done
	printf '\n'
}

line "$(reader read-alone)"
timeout $((SECS + 60)) "$LOAD" -L writer -i "$IQN:writer" -b 64K -p rand -r 0 -q "$WQD" \
	-t $((SECS + 2)) -w 0 "iscsi://127.0.0.1:$PORT/$IQN:ovl/0" > "$T/writer.out" 2> /dev/null &
WRITER_PID=$!
sleep 1
line "$(reader read-with-allocating-writer)"
wait "$WRITER_PID" || bench_die "the writer failed"
WRITER_PID=
line "$(cat "$T/writer.out")"
bench_stop "$DAEMON_PID"
DAEMON_PID=
st=0
qemu-img check -q "$T/ovl.qcow2" > "$T/check.out" 2>&1 || st=$?
case $st in
0) echo "boot-storm-latency: qemu-img check clean" ;;
3) echo "boot-storm-latency: qemu-img check: leaked clusters only" ;;
*) bench_die "qemu-img check (exit $st): $(cat "$T/check.out")" ;;
esac
