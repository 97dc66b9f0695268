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
# Defaults: 4 s measured + 1 s warm-up per run, 6 workloads x 2 targets x 3
# repetitions = 36 runs, about 4 minutes. Every step is bounded by timeout;
# the exit trap stops both daemons and removes the LUN files.
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

cleanup() {
	local rc=$?
	set +e
	if [ -n "$TGT_PID" ]; then
		TGT_IPC_SOCKET=$T/tgt.sock timeout 5 tgtadm --op delete --mode system \
			> /dev/null 2>&1
	fi
	# shellcheck disable=SC2086 # empty when not started
	bench_stop $HATGT_PID $TGT_PID
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

# cpu_ticks PID: utime + stime of the whole process, in clock ticks. The
# command name (field 2) may hold spaces, so count fields after its ')'.
cpu_ticks() {
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

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

URL_T=iscsi://127.0.0.1:$PORT_T/$IQN_T/1
URL_H=iscsi://127.0.0.1:$PORT_H/$IQN_H/0

# name|hatgt-load options
WORKLOADS='4k-randread-qd1|-b 4K -p rand -r 100 -q 1 -s 1
4k-randread-qd32|-b 4K -p rand -r 100 -q 32 -s 1
4k-randwrite-qd32|-b 4K -p rand -r 0 -q 32 -s 1
1m-seqread-qd8|-b 1M -p seq -r 100 -q 8 -s 1
1m-seqwrite-qd8|-b 1M -p seq -r 0 -q 8 -s 1
4x-4k-randread-qd32|-b 4K -p rand -r 100 -q 32 -s 4'

HZ=$(getconf CLK_TCK)
RAW=$RESULTS_DIR/raw.txt
: > "$RAW"
LOAD_BEFORE=$(uptime)
log "load before: $LOAD_BEFORE"

# run_one TARGET NAME OPTS: one run, appends "TARGET NAME key=value..." to RAW.
run_one() {
	local tgt=$1 name=$2 opts=$3 url pid c0 c1 line ios
	if [ "$tgt" = tgt ]; then
		url=$URL_T pid=$TGT_PID
	else
		url=$URL_H pid=$HATGT_PID
	fi
	kill -0 "$pid" 2> /dev/null || die "$tgt daemon is gone"
	c0=$(cpu_ticks "$pid")
	# shellcheck disable=SC2086 # opts is a word list on purpose
	line=$(timeout -k 5 $((${DUR%.*} + ${WARM%.*} + 30)) "$HATGT_LOAD" -i "$INIT" \
		-t "$DUR" -w "$WARM" -L "$tgt/$name" $opts "$url" 2> "$RESULTS_DIR/last.err") ||
		die "$tgt $name failed: $(cat "$RESULTS_DIR/last.err")"
	c1=$(cpu_ticks "$pid")
	ios=$(printf '%s\n' "$line" | sed -n 's/.* ios_total=\([0-9]*\).*/\1/p')
	if [ -z "$ios" ] || [ "$ios" -eq 0 ]; then
		die "$tgt $name: no I/O completed: $line"
	fi
	printf '%s %s cpu_us_per_io=%s %s\n' "$tgt" "$name" \
		"$(awk -v t=$((c1 - c0)) -v hz="$HZ" -v n="$ios" 'BEGIN { printf "%.2f", t * 1e6 / hz / n }')" \
		"$line" >> "$RAW"
	log "$(tail -n 1 "$RAW" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^(iops|mbps|lat_us_p99|cpu_us_per_io)=/) printf "%s ", $i; print "" }' | sed "s|^|$tgt $name: |")"
}

rep=1
while [ "$rep" -le "$REPS" ]; do
	while IFS='|' read -r name opts; do
		if [ $((rep % 2)) = 1 ]; then
			run_one tgt "$name" "$opts"
			run_one hatgt "$name" "$opts"
		else
			run_one hatgt "$name" "$opts"
			run_one tgt "$name" "$opts"
		fi
	done <<< "$WORKLOADS"
	rep=$((rep + 1))
done
LOAD_AFTER=$(uptime)

# median TARGET NAME KEY: the median of KEY over the repetitions.
median() {
	awk -v t="$1" -v n="$2" -v k="$3" '$1 == t && $2 == n {
		for (i = 3; i <= NF; i++) if (index($i, k "=") == 1) v[c++] = substr($i, length(k) + 2) + 0
	} END {
		if (c == 0) { print "n/a"; exit }
		for (i = 0; i < c; i++) for (j = i + 1; j < c; j++) if (v[j] < v[i]) { x = v[i]; v[i] = v[j]; v[j] = x }
		print (c % 2) ? v[int(c / 2)] : (v[c / 2 - 1] + v[c / 2]) / 2
	}' "$RAW"
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'
}

echo "| workload | tgt IOPS | hatgt IOPS | IOPS ratio | tgt MB/s | hatgt MB/s |" \
	"tgt p99 µs | hatgt p99 µs | tgt CPU µs/IO | hatgt CPU µs/IO | CPU ratio |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
while IFS='|' read -r name _; do
	ti=$(median tgt "$name" iops) hi=$(median hatgt "$name" iops)
	tm=$(median tgt "$name" mbps) hm=$(median hatgt "$name" mbps)
	tl=$(median tgt "$name" lat_us_p99) hl=$(median hatgt "$name" lat_us_p99)
	tc=$(median tgt "$name" cpu_us_per_io) hc=$(median hatgt "$name" cpu_us_per_io)
	printf '| %s | %.0f | %.0f | %s | %.1f | %.1f | %.0f | %.0f | %.1f | %.1f | %s |\n' \
		"$name" "$ti" "$hi" "$(ratio "$hi" "$ti")" "$tm" "$hm" "$tl" "$hl" "$tc" "$hc" \
		"$(ratio "$hc" "$tc")"
done <<< "$WORKLOADS"
echo
echo "Medians of $REPS runs of ${DUR} s (+${WARM} s warm-up) each, $(nproc) CPUs, LUN $SIZE on tmpfs,"
echo "tgt $(dpkg-query -W -f '${Version}' tgt 2> /dev/null || echo '?'), hatgt ${HATGT_REV:-$(git -C "$(dirname "$0")" rev-parse --short HEAD 2> /dev/null || echo '?')}."
echo "Load before: \`${LOAD_BEFORE#*load average: }\`, after: \`${LOAD_AFTER#*load average: }\` (uptime)."
