#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# floor.sh: hatgtd against floor-target, an iSCSI target that does no work,
# with the same client and message sizes: the lowest target CPU per I/O
# this machine allows (issue 6).
#
#   tests/bench/floor.sh [-d SECS] [-w SECS] [-r REPS] BUILDDIR [WORKLOAD...]
#
# BUILDDIR is an out-of-tree build holding daemon/hatgtd,
# tests/bench/floor-target and tests/bench/hatgt-load (HATGTD, FLOOR_TARGET
# and HATGT_LOAD override each; HATGT_POLL_US sets hatgtd's poll_us).
# Three servers run at once on three ports: floor-target -m spin (a polling
# target), floor-target -m block (a sleeping target) and hatgtd with a filled
# 1 GiB LUN on tmpfs. WORKLOAD is a name bench_workload_opts knows
# (bench-lib.sh; compare-tgt.sh's six: 4k-randread-qd1 4k-randread-qd32
# 4k-randwrite-qd32 1m-seqread-qd8 1m-seqwrite-qd8 4x-4k-randread-qd32) or
# "all" for those six; default 4k-randread-qd1. Each runs REPS (3) times on
# every server, alternating the order; each server's CPU time (utime + stime,
# /proc/PID/stat) is sampled around the run and divided by the I/Os
# completed (warm-up included). The markdown table on stdout holds medians.
#
# Exit: 0 table printed, 1 a run failed, 2 usage.

set -eu

DUR=4
WARM=1
REPS=3
SIZE=1G
IQN_H=iqn.2026-11.org.hatgt.bench:disk
INIT=iqn.2026-11.org.hatgt.bench:load

usage() {
	sed -n '8p' "$0" | sed 's/^# */usage: /' >&2
	exit 2
}

while getopts d:w:r:h o; do
	case $o in
	d) DUR=$OPTARG ;;
	w) WARM=$OPTARG ;;
	r) REPS=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || usage
case $REPS in '' | *[!0-9]* | 0) usage ;; esac
BUILD=$(cd "$1" && pwd)
shift
HATGTD=${HATGTD:-$BUILD/daemon/hatgtd}
FLOOR_TARGET=${FLOOR_TARGET:-$BUILD/tests/bench/floor-target}
HATGT_LOAD=${HATGT_LOAD:-$BUILD/tests/bench/hatgt-load}

BENCH_NAME=floor
# shellcheck source=bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
log() { bench_log "$@"; }
die() { bench_die "$@"; }

WORKLOADS=${*:-4k-randread-qd1}
[ "$WORKLOADS" = all ] && WORKLOADS=$BENCH_SIX
for w in $WORKLOADS; do
	bench_workload_opts "$w" > /dev/null || die "unknown workload $w"
done
for f in "$HATGTD" "$FLOOR_TARGET" "$HATGT_LOAD"; do
	[ -x "$f" ] || die "no $f (build daemon/ and tests/bench/ in $BUILD)"
done

T=$(mktemp -d "$(bench_shm_dir)/hatgt-floor.XXXXXX")
mkdir -p "$T/state"
PIDS=

cleanup() {
	local rc=$?
	set +e
	# shellcheck disable=SC2086 # empty when none started
	bench_stop $PIDS
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# server_start NAME PORT CMD...: start a server, wait for its port, record
# its pid in PID_<NAME>.
server_start() {
	local name=$1 port=$2 pid
	shift 2
	"$@" > "$T/$name.log" 2>&1 &
	pid=$!
	PIDS="$PIDS $pid"
	bench_wait_port "$port" "$pid" || die "$name did not listen on $port: $(cat "$T/$name.log")"
	eval "PID_$name=$pid"
}


# A filled LUN, so that hatgtd never reads tmpfs holes (as compare-tgt.sh).
BYTES=$(numfmt --from=iec "$SIZE")
timeout 60 dd if=/dev/zero of="$T/lun0.img" bs=1M count=$((BYTES >> 20)) status=none ||
	die "cannot write $T/lun0.img"
# Each port is picked once the servers before it listen, so it differs.
PORT_spin=$(bench_pick_port)
server_start spin "$PORT_spin" "$FLOOR_TARGET" -p "$PORT_spin" -s "$SIZE" -m spin
PORT_block=$(bench_pick_port)
server_start block "$PORT_block" "$FLOOR_TARGET" -p "$PORT_block" -s "$SIZE" -m block
PORT_hatgtd=$(bench_pick_port)
bench_hatgtd_conf "$PORT_hatgtd" "$T" "hatgt-floor-$$" "$IQN_H" > "$T/hatgt.conf"
server_start hatgtd "$PORT_hatgtd" "$HATGTD" -f -c "$T/hatgt.conf"

RAW=$T/raw.txt
: > "$RAW"
LOAD_BEFORE=$(uptime)
log "load before: $LOAD_BEFORE"

# run_one SERVER WORKLOAD: one run; appends "SERVER WORKLOAD cpu_us_per_io=..
# hatgt-load's key=value line" to RAW.
run_one() {
	local srv=$1 name=$2 port pid iqn=$BENCH_FLOOR_IQN
	eval "port=\$PORT_$srv pid=\$PID_$srv"
	[ "$srv" = hatgtd ] && iqn=$IQN_H
	kill -0 "$pid" 2> /dev/null || die "$srv is gone: $(cat "$T/$srv.log")"
	bench_run_load "$pid" "$RAW" "$T/last.err" "$srv" "$name" \
		"iscsi://127.0.0.1:$port/$iqn/0" "$(bench_workload_opts "$name")"
}

for rep in $(seq 1 "$REPS"); do
	for name in $WORKLOADS; do
		if [ $((rep % 2)) = 1 ]; then
			order='spin block hatgtd'
		else
			order='hatgtd block spin'
		fi
		for srv in $order; do
			run_one "$srv" "$name"
		done
	done
done
LOAD_AFTER=$(uptime)

# median SERVER WORKLOAD KEY: the median of KEY over the repetitions.
median() { bench_raw_median "$RAW" "$@"; }

echo "| workload | floor-spin IOPS | floor-spin CPU µs/IO | floor-block IOPS |" \
	"floor-block CPU µs/IO | hatgtd IOPS | hatgtd CPU µs/IO | hatgtd minus floor-spin µs/IO |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for name in $WORKLOADS; do
	si=$(median spin "$name" iops) sc=$(median spin "$name" cpu_us_per_io)
	bi=$(median block "$name" iops) bc=$(median block "$name" cpu_us_per_io)
	hi=$(median hatgtd "$name" iops) hc=$(median hatgtd "$name" cpu_us_per_io)
	printf '| %s | %.0f | %.1f | %.0f | %.1f | %.0f | %.1f | %.1f |\n' \
		"$name" "$si" "$sc" "$bi" "$bc" "$hi" "$hc" "$(awk -v a="$hc" -v b="$sc" 'BEGIN { print a - b }')"
done
echo
echo "Medians of $REPS runs of ${DUR} s (+${WARM} s warm-up) each, $(nproc) CPUs, LUN $SIZE on tmpfs,"
echo "hatgt ${HATGT_REV:-$(git -C "$(dirname "$0")" rev-parse --short HEAD 2> /dev/null || echo '?')}, hatgtd poll_us ${HATGT_POLL_US:-default}."
echo "Load before: \`${LOAD_BEFORE#*load average: }\`, after: \`${LOAD_AFTER#*load average: }\` (uptime)."
