#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# cpu-per-io.sh: hatgtd's CPU time and syscalls per I/O, the measures that stay steady on a loaded machine.
#
#   tests/bench/cpu-per-io.sh [-d SECS] [-r REPS] [-s] [-l DIR] [-z MIB] BUILDDIR [WORKLOAD...]
#
# Starts one hatgtd (HATGTD=, default BUILDDIR/daemon/hatgtd) on a filled
# 256 MiB tmpfs LUN (-z: MIB MiB instead, e.g. 2048 to read more than the 1 GiB
# of zero-copy mapping windows; with -l, a file in DIR instead, e.g. on ext4,
# where reads come from the page cache) and runs each workload (default: the five of
# compare-tgt.sh) REPS (3) times for SECS (3) seconds with hatgt-load,
# sampling the daemon's utime + stime (all threads, /proc/PID/stat) around
# each run. Prints one line per workload: the median CPU us per I/O and the
# median IOPS. With -s, one more run per workload under `strace -c -f`
# prints syscalls per I/O by name (strace slows the daemon: only the counts
# mean anything). Used for the before/after table in docs/performance.md.
#
# Exit: 0 done, 1 a step failed, 2 usage.

set -eu

DUR=3
REPS=3
STRACE=0
IQN=iqn.2026-11.org.hatgt.bench:cpu

usage() {
	sed -n '6p' "$0" | sed 's/^# */usage: /' >&2
	exit 2
}

LUN_DIR=
LUN_MIB=256
while getopts d:r:sl:z:h o; do
	case $o in
	l) LUN_DIR=$OPTARG ;;
	z) LUN_MIB=$OPTARG ;;
	d) DUR=$OPTARG ;;
	r) REPS=$OPTARG ;;
	s) STRACE=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || usage
case $DUR in '' | *[!0-9]* | 0) usage ;; esac
case $REPS in '' | *[!0-9]* | 0) usage ;; esac
case $LUN_MIB in '' | *[!0-9]* | 0) usage ;; esac
BUILD=$(cd "$1" && pwd)
shift
WORKLOADS=${*:-4k-randread-qd1 4k-randread-qd32 4k-randwrite-qd32 1m-seqread-qd8 1m-seqwrite-qd8}
HATGTD=${HATGTD:-$BUILD/daemon/hatgtd}
HATGT_LOAD=${HATGT_LOAD:-$BUILD/tests/bench/hatgt-load}

BENCH_NAME=cpu-per-io
# shellcheck source=bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
die() { bench_die "$@"; }

[ -x "$HATGTD" ] || die "no hatgtd at $HATGTD"
[ -x "$HATGT_LOAD" ] || die "no hatgt-load at $HATGT_LOAD (make -C tests/bench)"
[ "$STRACE" = 0 ] || command -v strace > /dev/null || die "-s needs strace"

T=$(mktemp -d "${LUN_DIR:-$(bench_shm_dir)}/hatgt-cpu.XXXXXX")
mkdir -p "$T/state"
DAEMON_PID=

cleanup() {
	local rc=$?
	set +e
	[ -z "$DAEMON_PID" ] || bench_stop "$DAEMON_PID"
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

PORT=$(bench_pick_port)
timeout 60 dd if=/dev/zero of="$T/lun0.img" bs=1M count="$LUN_MIB" status=none || die "cannot fill the LUN"
bench_hatgtd_conf "$PORT" "$T" "hatgt-cpu-$$" "$IQN" > "$T/hatgt.conf"
"$HATGTD" -f -c "$T/hatgt.conf" > "$T/hatgtd.log" 2>&1 &
DAEMON_PID=$!
bench_wait_port "$PORT" "$DAEMON_PID" || die "hatgtd did not listen on $PORT"
URL=iscsi://127.0.0.1:$PORT/$IQN/0


# field NAME LINE: the value of NAME=... in a hatgt-load result line.
field() {
	printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# bench_run_load's settings: no warm-up, hatgt-load's own initiator name.
WARM=0
INIT=iqn.2026-11.org.hatgt:load
RAW=$T/raw.txt
: > "$RAW"

printf '%-18s %10s %10s  %s\n' workload cpu_us/io iops "runs (cpu_us/io)"
for w in $WORKLOADS; do
	opts=$(bench_workload_opts "$w") || die "unknown workload $w"
	for _ in $(seq 1 "$REPS"); do
		bench_run_load "$DAEMON_PID" "$RAW" "$T/last.err" hatgtd "$w" "$URL" "$opts"
	done
	printf '%-18s %10s %10s  %s\n' "$w" "$(bench_raw_median "$RAW" hatgtd "$w" cpu_us_per_io)" \
		"$(bench_raw_median "$RAW" hatgtd "$w" iops)" \
		"$(bench_raw_values "$RAW" hatgtd "$w" cpu_us_per_io | tr '\n' ' ')"
	if [ "$STRACE" = 1 ]; then
		timeout $((DUR + 30)) strace -c -f -q -p "$DAEMON_PID" -o "$T/strace.$w" &
		sp=$!
		sleep 0.5
		# shellcheck disable=SC2086
		line=$("$HATGT_LOAD" -t "$DUR" -w 0 -L "$w" $opts "$URL" 2> /dev/null) ||
			die "$w load failed under strace"
		kill -INT "$sp" 2> /dev/null || true
		wait "$sp" 2> /dev/null || true
		ios=$(field ios_total "$line")
		printf '  syscalls per I/O (strace, %s I/Os):' "$ios"
		# strace -c columns: % time, seconds, usecs/call, calls, [errors,] syscall.
		awk -v n="$ios" 'NF >= 5 && $4 ~ /^[0-9]+$/ && $NF != "total" {
			printf " %s=%.2f", $NF, $4 / n }' "$T/strace.$w"
		echo
	fi
done
