#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# compare-tgt.sh: hatgtd against Debian's tgtd on the same machine, over
# loopback, with same-size LUNs on tmpfs (issue 6).
#
#   tests/bench/compare-tgt.sh [-d SECS] [-w SECS] [-r REPS] [-s SIZE] [-k] BUILDDIR
#
# BUILDDIR is an out-of-tree build holding daemon/hatgtd and
# tests/bench/hatgt-load (HATGTD / HATGT_LOAD override each; HATGT_POLL_US
# sets hatgtd's poll_us, docs/tuning.md; HATGT_REV names
# the commit hatgtd was built from in the notes). Both targets
# run at once on two ports; each workload runs REPS times (3) on each target,
# alternating which target goes first. For every run the target's CPU time
# (utime + stime of all its threads, /proc/PID/stat) is sampled around the
# load and divided by the I/Os completed (warm-up included). The markdown
# table on stdout holds the medians and the hatgt/tgt ratio per row; the raw
# hatgt-load lines go to RESULTS_DIR/raw.txt (a temp dir, kept with -k or
# when RESULTS_DIR is set).
#
# When BUILDDIR also holds tests/bench/floor-target (FLOOR_TARGET overrides),
# it runs too, polling, at 4k-randread-qd1 only, and a line after the table
# gives its CPU per I/O: what a target that does no work at all costs with
# this client on this machine (floor.sh has the details), next to 0.4 x
# tgt's figure.
#
# Defaults: 4 s measured + 1 s warm-up per run, 6 workloads x 2 targets x 3
# repetitions = 36 runs (+3 floor runs), about 4 minutes. Every step is
# bounded by timeout; the exit trap stops the daemons and removes the LUN
# files.
#
# Exit: 0 table printed, 1 a run failed, 2 usage, 77 tgtd/tgtadm missing.

set -eu

DUR=4
WARM=1
REPS=3
SIZE=1G
KEEP=0
IQN_H=iqn.2026-11.org.hatgt.bench:disk
IQN_T=iqn.2026-11.org.tgt.bench:disk
INIT=iqn.2026-11.org.hatgt.bench:load

usage() {
	sed -n '7p' "$0" | sed 's/^# */usage: /' >&2
	exit 2
}

while getopts d:w:r:s:kh o; do
	case $o in
	d) DUR=$OPTARG ;;
	w) WARM=$OPTARG ;;
	r) REPS=$OPTARG ;;
	s) SIZE=$OPTARG ;;
	k) KEEP=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage
case $REPS in '' | *[!0-9]* | 0) usage ;; esac
BUILD=$(cd "$1" && pwd)
HATGTD=${HATGTD:-$BUILD/daemon/hatgtd}
HATGT_LOAD=${HATGT_LOAD:-$BUILD/tests/bench/hatgt-load}
FLOOR_TARGET=${FLOOR_TARGET:-$BUILD/tests/bench/floor-target}

BENCH_NAME=compare-tgt
# shellcheck source=bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
log() { bench_log "$@"; }
die() { bench_die "$@"; }

for c in tgtd tgtadm timeout awk; do
	command -v "$c" > /dev/null 2>&1 || {
		log "SKIP: $c not found (Debian: apt-get install tgt)"
		exit 77
	}
done
[ -x "$HATGTD" ] || die "no hatgtd at $HATGTD"
[ -x "$HATGT_LOAD" ] || die "no hatgt-load at $HATGT_LOAD (make -C tests/bench)"

T=$(mktemp -d "$(bench_shm_dir)/hatgt-bench.XXXXXX")
RESULTS_DIR=${RESULTS_DIR:-}
[ -n "$RESULTS_DIR" ] && KEEP=1
RESULTS_DIR=${RESULTS_DIR:-$T/results}
mkdir -p "$RESULTS_DIR" "$T/state"
TGT_PID=
HATGT_PID=
FLOOR_PID=

cleanup() {
	local rc=$?
	set +e
	if [ -n "$TGT_PID" ]; then
		TGT_IPC_SOCKET=$T/tgt.sock timeout 5 tgtadm --op delete --mode system \
			> /dev/null 2>&1
	fi
	# shellcheck disable=SC2086 # empty when not started
	bench_stop $HATGT_PID $TGT_PID $FLOOR_PID
	rm -f "$T"/*.img
	if [ "$KEEP" = 1 ]; then
		log "results kept in $RESULTS_DIR"
		[ "$RESULTS_DIR" = "$T/results" ] || rm -rf "$T"
	else
		rm -rf "$T"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# LUNs of the same size, filled so that neither target reads tmpfs holes.
BYTES=$(numfmt --from=iec "$SIZE") || usage
for f in hatgt tgt; do
	timeout 60 dd if=/dev/zero of="$T/$f.img" bs=1M count=$((BYTES >> 20)) status=none ||
		die "cannot write $T/$f.img"
done

PORT_T=$(bench_pick_port)
export TGT_IPC_SOCKET=$T/tgt.sock
tgtd -f --iscsi portal=127.0.0.1:"$PORT_T" > "$RESULTS_DIR/tgtd.log" 2>&1 &
TGT_PID=$!
bench_wait_port "$PORT_T" "$TGT_PID" || die "tgtd did not listen on $PORT_T (log: $RESULTS_DIR/tgtd.log)"
# tgtd accepts before its IPC socket is up: retry the first tgtadm briefly.
for i in $(seq 1 50); do
	timeout 5 tgtadm --lld iscsi --mode target --op new --tid 1 -T "$IQN_T" 2> /dev/null && break
	[ "$i" -lt 50 ] || die "tgtadm cannot create the target"
	sleep 0.1
done
timeout 5 tgtadm --lld iscsi --mode logicalunit --op new --tid 1 --lun 1 -b "$T/tgt.img" ||
	die "tgtadm cannot add LUN 1"
timeout 5 tgtadm --lld iscsi --mode target --op bind --tid 1 -I ALL || die "tgtadm bind failed"

PORT_H=$(bench_pick_port)
[ "$PORT_H" != "$PORT_T" ] || PORT_H=$(bench_pick_port)
cat > "$T/hatgt.conf" << EOF
[global]
listen = 127.0.0.1:$PORT_H
state_dir = $T/state
admin_name = hatgt-bench-$$
log_level = warning
${HATGT_POLL_US:+poll_us = $HATGT_POLL_US}

[target $IQN_H]
lun0 = $T/hatgt.img
lun0_size = $SIZE
EOF
"$HATGTD" -f -c "$T/hatgt.conf" > "$RESULTS_DIR/hatgtd.log" 2>&1 &
HATGT_PID=$!
bench_wait_port "$PORT_H" "$HATGT_PID" || die "hatgtd did not listen on $PORT_H (log: $RESULTS_DIR/hatgtd.log)"

# floor-target (floor.sh): a target that does no work, polling like hatgtd;
# its QD1 figure is the lowest CPU per I/O any target can reach here.
URL_F=
if [ -x "$FLOOR_TARGET" ]; then
	PORT_F=$(bench_pick_port) # tgtd and hatgtd listen already: another port
	"$FLOOR_TARGET" -p "$PORT_F" -s "$SIZE" -m spin > "$RESULTS_DIR/floor.log" 2>&1 &
	FLOOR_PID=$!
	bench_wait_port "$PORT_F" "$FLOOR_PID" || die "floor-target did not listen on $PORT_F"
	URL_F=iscsi://127.0.0.1:$PORT_F/$BENCH_FLOOR_IQN/0
fi

URL_T=iscsi://127.0.0.1:$PORT_T/$IQN_T/1
URL_H=iscsi://127.0.0.1:$PORT_H/$IQN_H/0

WORKLOADS=$BENCH_SIX

RAW=$RESULTS_DIR/raw.txt
: > "$RAW"
LOAD_BEFORE=$(uptime)
log "load before: $LOAD_BEFORE"

# run_one TARGET NAME: one run, appends "TARGET NAME key=value..." to RAW.
run_one() {
	local pid url
	case $1 in
	tgt) pid=$TGT_PID url=$URL_T ;;
	hatgt) pid=$HATGT_PID url=$URL_H ;;
	floor) pid=$FLOOR_PID url=$URL_F ;;
	esac
	bench_run_load "$pid" "$RAW" "$RESULTS_DIR/last.err" "$1" "$2" "$url" \
		"$(bench_workload_opts "$2")"
}

rep=1
while [ "$rep" -le "$REPS" ]; do
	for name in $WORKLOADS; do
		if [ $((rep % 2)) = 1 ]; then
			run_one tgt "$name"
			run_one hatgt "$name"
		else
			run_one hatgt "$name"
			run_one tgt "$name"
		fi
		if [ -n "$URL_F" ] && [ "$name" = 4k-randread-qd1 ]; then
			run_one floor "$name"
		fi
	done
	rep=$((rep + 1))
done
LOAD_AFTER=$(uptime)

# median TARGET NAME KEY: the median of KEY over the repetitions.
median() { bench_raw_median "$RAW" "$@"; }

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'
}

echo "| workload | tgt IOPS | hatgt IOPS | IOPS ratio | tgt MB/s | hatgt MB/s |" \
	"tgt p99 µs | hatgt p99 µs | tgt CPU µs/IO | hatgt CPU µs/IO | CPU ratio |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for name in $WORKLOADS; do
	ti=$(median tgt "$name" iops) hi=$(median hatgt "$name" iops)
	tm=$(median tgt "$name" mbps) hm=$(median hatgt "$name" mbps)
	tl=$(median tgt "$name" lat_us_p99) hl=$(median hatgt "$name" lat_us_p99)
	tc=$(median tgt "$name" cpu_us_per_io) hc=$(median hatgt "$name" cpu_us_per_io)
	printf '| %s | %.0f | %.0f | %s | %.1f | %.1f | %.0f | %.0f | %.1f | %.1f | %s |\n' \
		"$name" "$ti" "$hi" "$(ratio "$hi" "$ti")" "$tm" "$hm" "$tl" "$hl" "$tc" "$hc" \
		"$(ratio "$hc" "$tc")"
done
echo
echo "Medians of $REPS runs of ${DUR} s (+${WARM} s warm-up) each, $(nproc) CPUs, LUN $SIZE on tmpfs,"
echo "tgt $(dpkg-query -W -f '${Version}' tgt 2> /dev/null || echo '?'), hatgt ${HATGT_REV:-$(git -C "$(dirname "$0")" rev-parse --short HEAD 2> /dev/null || echo '?')}."
echo "Load before: \`${LOAD_BEFORE#*load average: }\`, after: \`${LOAD_AFTER#*load average: }\` (uptime)."
if [ -n "$URL_F" ]; then
	fc=$(median floor 4k-randread-qd1 cpu_us_per_io)
	tc=$(median tgt 4k-randread-qd1 cpu_us_per_io)
	echo
	printf 'Floor at 4k-randread-qd1: floor-target (no work, polling) %.1f µs/IO at %.0f IOPS,' \
		"$fc" "$(median floor 4k-randread-qd1 iops)"
	printf ' %s x tgt; 0.4 x tgt = %.1f µs/IO.\n' "$(ratio "$fc" "$tc")" \
		"$(awk -v t="$tc" 'BEGIN { print 0.4 * t }')"
fi
