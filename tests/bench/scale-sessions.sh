#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# scale-sessions.sh: 1,024 concurrent sessions on one hatgtd (issue 6).
#
#   tests/bench/scale-sessions.sh [-n SESSIONS] [-p PROCS] [-H SECS] BUILDDIR
#
# Starts hatgtd with one small tmpfs LUN, then PROCS (8) hatgt-load processes
# that each log in SESSIONS/PROCS sessions (one libiscsi context and TCP
# connection per session) and keep them idle, answering NOP-Ins, for SECS (6)
# after the last one is up. It samples the daemon's VmRSS before the logins
# and with every session idle, then lets each session issue one READ(16) and
# checks that all of them completed with GOOD. Prints the memory per idle
# session on stdout.
#
# Exit: 0 all sessions logged in and read, 1 otherwise, 2 usage.

set -eu

NSESS=1024
PROCS=8
HOLD=6
IQN=iqn.2026-11.org.hatgt.bench:scale

usage() {
	sed -n '6p' "$0" | sed 's/^# */usage: /' >&2
	exit 2
}

while getopts n:p:H:h o; do
	case $o in
	n) NSESS=$OPTARG ;;
	p) PROCS=$OPTARG ;;
	H) HOLD=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage
for v in "$NSESS" "$PROCS" "$HOLD"; do
	case $v in '' | *[!0-9]* | 0) usage ;; esac
done
[ $((NSESS % PROCS)) -eq 0 ] || {
	echo "scale-sessions: SESSIONS must be a multiple of PROCS" >&2
	exit 2
}
PER=$((NSESS / PROCS))
BUILD=$(cd "$1" && pwd)
HATGTD=${HATGTD:-$BUILD/daemon/hatgtd}
HATGT_LOAD=${HATGT_LOAD:-$BUILD/tests/bench/hatgt-load}

BENCH_NAME=scale-sessions
# shellcheck source=bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
log() { bench_log "$@"; }
die() { bench_die "$@"; }

[ -x "$HATGTD" ] || die "no hatgtd at $HATGTD"
[ -x "$HATGT_LOAD" ] || die "no hatgt-load at $HATGT_LOAD (make -C tests/bench)"

T=$(mktemp -d "${TMPDIR:-/tmp}/hatgt-scale.XXXXXX")
DAEMON_PID=
LOAD_PIDS=

cleanup() {
	local rc=$?
	set +e
	# shellcheck disable=SC2086 # empty when not started
	bench_stop $LOAD_PIDS $DAEMON_PID
	if [ "$rc" -ne 0 ] && [ -f "$T/hatgtd.log" ]; then
		log "---- hatgtd log (last 40 lines) ----"
		tail -n 40 "$T/hatgtd.log" >&2
	fi
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

rss_kib() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# Every session is a socket in the daemon and in a load process.
ulimit -n $((NSESS + 256)) 2> /dev/null || ulimit -n "$(ulimit -Hn)"

PORT=$(bench_pick_port)
mkdir -p "$T/state"
# write_conf [LIMIT_KEYS...]: the config, with every limit that would stop
# SESSIONS logins from one address raised to SESSIONS + 16 (docs/limits.md).
write_conf() {
	local k
	{
		printf '[global]\nlisten = 127.0.0.1:%s\nstate_dir = %s\n' "$PORT" "$T/state"
		printf 'admin_name = hatgt-scale-%s\nlog_level = warning\n' "$$"
		for k in "$@"; do
			printf '%s = %s\n' "$k" $((NSESS + 16))
		done
		printf '\n[target %s]\nlun0 = %s\nlun0_size = 16M\n' "$IQN" "$T/lun0.img"
	} > "$T/hatgt.conf"
}
write_conf max_sessions max_connections max_connections_per_address max_sessions_per_target
# Older daemons know only max_sessions.
"$HATGTD" -t -c "$T/hatgt.conf" > /dev/null 2>&1 || write_conf max_sessions
"$HATGTD" -f -c "$T/hatgt.conf" > "$T/hatgtd.log" 2>&1 &
DAEMON_PID=$!
bench_wait_port "$PORT" "$DAEMON_PID" || die "hatgtd did not listen on $PORT"
sleep 0.5
RSS0=$(rss_kib "$DAEMON_PID")
T0=$(date +%s.%N)

URL=iscsi://127.0.0.1:$PORT/$IQN/0
for p in $(seq 1 "$PROCS"); do
	"$HATGT_LOAD" -W -s "$PER" -q 1 -n 1 -b 4K -S "$p" \
		-i "iqn.2026-11.org.hatgt.bench:scale$p" -L "proc$p" "$URL" \
		> "$T/load$p.out" 2> "$T/load$p.err" &
	LOAD_PIDS="$LOAD_PIDS $!"
done

# All processes report "ready" once every one of their sessions is logged in.
for i in $(seq 1 1200); do
	ready=$(cat "$T"/load*.out 2> /dev/null | grep -c '^hatgt-load: ready' || true)
	[ "$ready" -eq "$PROCS" ] && break
	for p in $LOAD_PIDS; do
		kill -0 "$p" 2> /dev/null || die "a load process exited before login completed: $(cat "$T"/load*.err)"
	done
	[ "$i" -lt 1200 ] || die "only $ready of $PROCS processes logged in within 120 s"
	sleep 0.1
done
T1=$(date +%s.%N)
kill -0 "$DAEMON_PID" 2> /dev/null || die "hatgtd died during the logins"
sleep "$HOLD"
kill -0 "$DAEMON_PID" 2> /dev/null || die "hatgtd died with $NSESS idle sessions"
RSS1=$(rss_kib "$DAEMON_PID")

for p in $LOAD_PIDS; do
	kill -USR1 "$p"
done
fails=0
for p in $LOAD_PIDS; do
	bench_wait_pid "$p" 60 || fails=$((fails + 1))
	wait "$p" || fails=$((fails + 1))
done
LOAD_PIDS=
ok=$(cat "$T"/load*.out | sed -n 's/^hatgt-load: label=.* sessions_ok=\([0-9]*\) .*/\1/p' |
	awk '{ s += $1 } END { print s + 0 }')
reads=$(cat "$T"/load*.out | sed -n 's/^hatgt-load: label=.* reads=\([0-9]*\) .*/\1/p' |
	awk '{ s += $1 } END { print s + 0 }')
kill -0 "$DAEMON_PID" 2> /dev/null || die "hatgtd died during the reads"

awk -v n="$NSESS" -v p="$PROCS" -v r0="$RSS0" -v r1="$RSS1" -v t0="$T0" -v t1="$T1" \
	-v ok="$ok" -v rd="$reads" -v h="$HOLD" 'BEGIN {
	printf "sessions=%d processes=%d login_secs=%.1f rss_before_kib=%d rss_idle_kib=%d" \
		" kib_per_idle_session=%.1f sessions_read_ok=%d reads=%d idle_secs=%d\n",
		n, p, t1 - t0, r0, r1, (r1 - r0) / n, ok, rd, h
}'
if [ "$ok" -ne "$NSESS" ] || [ "$reads" -ne "$NSESS" ] || [ "$fails" -ne 0 ]; then
	log "FAIL: $ok of $NSESS sessions read ($reads reads, $fails load processes failed)"
	grep -h . "$T"/load*.err | head -n 20 >&2
	exit 1
fi
log "all $NSESS sessions logged in, stayed up ${HOLD} s idle and completed a READ"
