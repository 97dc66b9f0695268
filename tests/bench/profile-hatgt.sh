#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# profile-hatgt.sh: where hatgtd spends its CPU under the benchmark loads.
#
#   tests/bench/profile-hatgt.sh [-d SECS] [-t callgrind] BUILDDIR [WORKLOAD...]
#
# Starts hatgtd on a filled 1 GiB tmpfs LUN and, for each workload
# (default: 4k-randread-qd32 1m-seqread-qd8 1m-seqwrite-qd8), drives it with
# hatgt-load while `perf record --call-graph dwarf` samples the daemon for
# SECS (5) seconds. Prints, per workload, the load result, the top self-time
# symbols and the top inclusive (children) symbols; the perf.data files stay
# in OUT_DIR (a temp dir unless OUT_DIR is set). With -t callgrind (or when
# perf cannot sample) hatgtd runs under valgrind --tool=callgrind instead,
# much slower, so the load is short and only the ranking means anything.
#
# Exit: 0 profiles printed, 1 a step failed, 2 usage.

set -eu

DUR=5
TOOL=perf
IQN=iqn.2026-11.org.hatgt.bench:prof

usage() {
	sed -n '6p' "$0" | sed 's/^# */usage: /' >&2
	exit 2
}

while getopts d:t:h o; do
	case $o in
	d) DUR=$OPTARG ;;
	t) TOOL=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || usage
case $DUR in '' | *[!0-9]* | 0) usage ;; esac
case $TOOL in perf | callgrind) ;; *) usage ;; esac
BUILD=$(cd "$1" && pwd)
shift
WORKLOADS=${*:-4k-randread-qd32 1m-seqread-qd8 1m-seqwrite-qd8}
HATGTD=${HATGTD:-$BUILD/daemon/hatgtd}
HATGT_LOAD=${HATGT_LOAD:-$BUILD/tests/bench/hatgt-load}

BENCH_NAME=profile-hatgt
# shellcheck source=bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
log() { bench_log "$@"; }
die() { bench_die "$@"; }

[ -x "$HATGTD" ] || die "no hatgtd at $HATGTD"
[ -x "$HATGT_LOAD" ] || die "no hatgt-load at $HATGT_LOAD (make -C tests/bench)"
if [ "$TOOL" = perf ] && ! perf record -q -o /dev/null -- true > /dev/null 2>&1; then
	log "perf cannot record here, using callgrind"
	TOOL=callgrind
fi
[ "$TOOL" = perf ] || command -v valgrind > /dev/null || die "neither perf nor valgrind works"

T=$(mktemp -d "$(bench_shm_dir)/hatgt-prof.XXXXXX")
OUT_DIR=${OUT_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/hatgt-prof-out.XXXXXX")}
mkdir -p "$OUT_DIR" "$T/state"
DAEMON_PID=

cleanup() {
	local rc=$?
	set +e
	[ -z "$DAEMON_PID" ] || bench_stop "$DAEMON_PID"
	rm -rf "$T"
	log "profiles in $OUT_DIR"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

PORT=$(bench_pick_port)
timeout 60 dd if=/dev/zero of="$T/lun0.img" bs=1M count=1024 status=none || die "cannot fill the LUN"
bench_hatgtd_conf "$PORT" "$T" "hatgt-prof-$$" "$IQN" > "$T/hatgt.conf"

if [ "$TOOL" = callgrind ]; then
	valgrind --tool=callgrind --callgrind-out-file="$OUT_DIR/callgrind.out" \
		"$HATGTD" -f -c "$T/hatgt.conf" > "$OUT_DIR/hatgtd.log" 2>&1 &
else
	"$HATGTD" -f -c "$T/hatgt.conf" > "$OUT_DIR/hatgtd.log" 2>&1 &
fi
DAEMON_PID=$!
# valgrind starts slowly: 30 s.
bench_wait_port "$PORT" "$DAEMON_PID" 300 || die "hatgtd did not listen on $PORT"
URL=iscsi://127.0.0.1:$PORT/$IQN/0


for w in $WORKLOADS; do
	opts=$(bench_workload_opts "$w") || die "unknown workload $w"
	echo "## $w ($opts, $DUR s, $TOOL)"
	if [ "$TOOL" = perf ]; then
		# shellcheck disable=SC2086 # opts is a word list on purpose
		"$HATGT_LOAD" -t $((DUR + 2)) -w 0 -L "$w" $opts "$URL" > "$OUT_DIR/$w.load" 2>&1 &
		lp=$!
		sleep 0.5
		timeout $((DUR + 30)) perf record -q --call-graph dwarf,16384 -F 999 -p "$DAEMON_PID" \
			-o "$OUT_DIR/$w.perf.data" -- sleep "$DUR" > /dev/null 2>&1 ||
			die "perf record failed"
		wait "$lp" || die "$w load failed: $(cat "$OUT_DIR/$w.load")"
		grep '^hatgt-load:' "$OUT_DIR/$w.load"
		echo '### self'
		perf report -i "$OUT_DIR/$w.perf.data" --no-children --stdio --sort symbol \
			-g none --percent-limit 1 2> /dev/null | grep -v '^#' | grep -v '^$' | head -n 30
		echo '### inclusive (children)'
		perf report -i "$OUT_DIR/$w.perf.data" --children --stdio --sort symbol \
			-g none --percent-limit 4 2> /dev/null | grep -v '^#' | grep -v '^$' | head -n 40
	else
		# shellcheck disable=SC2086 # opts is a word list on purpose
		"$HATGT_LOAD" -t "$DUR" -w 0 -L "$w" $opts "$URL" > "$OUT_DIR/$w.load" 2>&1 ||
			die "$w load failed: $(cat "$OUT_DIR/$w.load")"
		grep '^hatgt-load:' "$OUT_DIR/$w.load"
	fi
done
if [ "$TOOL" = callgrind ]; then
	kill -TERM "$DAEMON_PID"
	bench_wait_pid "$DAEMON_PID" 60 || die "hatgtd did not stop"
	wait "$DAEMON_PID" || true
	DAEMON_PID=
	echo "## callgrind, all workloads together (inclusive)"
	callgrind_annotate --inclusive=yes "$OUT_DIR"/callgrind.out* 2> /dev/null | head -n 60
fi
