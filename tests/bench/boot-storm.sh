#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# boot-storm.sh: N diskless clients booting at once from qcow2 overlays (issue 9).
#
#   tests/bench/boot-storm.sh [-n CLIENTS] [-g GOLDEN_MIB] [-F raw|qcow2] [-p boot|full] [-r SEQ_MIB] [-R SCATTERED] [-w WRITE_MIB] [-k KILL_SECS] [-d DIR] BUILDDIR
#
# Makes a golden image of GOLDEN_MIB (512) MiB of random data (raw, or
# converted to qcow2 with -F qcow2), starts hatgtd with every limit that
# would stop CLIENTS (64) logins from 127.0.0.1 raised, runs
# "hatgtadm clone" for CLIENTS overlays and targets, then tests/bench/boot-storm
# (one libiscsi session per client, all logging in at once): each client
# reads its boot set (-p boot: the first SEQ_MIB (64) MiB sequentially and
# SCATTERED (1024) 4 KiB reads; -p full: the whole image) and writes
# WRITE_MIB (4) MiB of its own data. Then hatgtd is stopped and qemu-img
# check runs on every overlay; the golden image's checksum must not change.
#
# -k KILL_SECS: SIGKILL hatgtd KILL_SECS seconds into the storm, run
# qemu-img check on every overlay as the killed daemon left it, restart it
# (the clients come back from the conf.d file), run the whole storm again
# (it must finish with no error), then stop and check as above.
#
# Prints the figures on stdout (one "boot-storm:" line per storm, then a
# summary line with the overlay storage as a percentage of full copies).
# qemu-img check must find no error on any overlay; leaked clusters (space
# allocated but not referenced, which a kill can leave) are counted apart.
# Exit: 0 no client error in the (final) storm and no check error, 1
# otherwise, 2 usage.

set -eu

CLIENTS=64
GOLDEN_MIB=512
FORMAT=raw
PATTERN=boot
SEQ_MIB=64
SCATTERED=1024
WRITE_MIB=4
KILL_SECS=
DIR=${TMPDIR:-/tmp}
IQN=iqn.2026-11.org.hatgt.bench

usage() {
	sed -n '6p' "$0" | sed 's/^# */usage: /' >&2
	exit 2
}

while getopts n:g:F:p:r:R:w:k:d:h o; do
	case $o in
	n) CLIENTS=$OPTARG ;;
	g) GOLDEN_MIB=$OPTARG ;;
	F) FORMAT=$OPTARG ;;
	p) PATTERN=$OPTARG ;;
	r) SEQ_MIB=$OPTARG ;;
	R) SCATTERED=$OPTARG ;;
	w) WRITE_MIB=$OPTARG ;;
	k) KILL_SECS=$OPTARG ;;
	d) DIR=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage
for v in "$CLIENTS" "$GOLDEN_MIB" "$SEQ_MIB" "$WRITE_MIB" "${KILL_SECS:-1}"; do
	case $v in '' | *[!0-9]* | 0) usage ;; esac
done
case $SCATTERED in '' | *[!0-9]*) usage ;; esac
case $FORMAT in raw | qcow2) ;; *) usage ;; esac
case $PATTERN in boot | full) ;; *) usage ;; esac
# The clients write at half the image: it must hold the write region.
[ $((GOLDEN_MIB / 2 + WRITE_MIB)) -le "$GOLDEN_MIB" ] || usage
BUILD=$(cd "$1" && pwd)
HATGTD=${HATGTD:-$BUILD/daemon/hatgtd}
HATGTADM=${HATGTADM:-$BUILD/daemon/admin/hatgtadm}
STORM=${BOOT_STORM:-$BUILD/tests/bench/boot-storm}

# shellcheck disable=SC2034 # read by bench-lib.sh
BENCH_NAME=boot-storm
# shellcheck source=bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
log() { bench_log "$@"; }
die() { bench_die "$@"; }

[ -x "$HATGTD" ] || die "no hatgtd at $HATGTD"
[ -x "$HATGTADM" ] || die "no hatgtadm at $HATGTADM"
[ -x "$STORM" ] || die "no boot-storm at $STORM (make -C tests/bench boot-storm)"
command -v qemu-img > /dev/null || die "qemu-img not found (apt-get install qemu-utils)"

T=$(mktemp -d "$DIR/hatgt-storm.XXXXXX")
DAEMON_PID=
STORM_PID=

cleanup() {
	local rc=$?
	set +e
	# shellcheck disable=SC2086 # empty when not started
	bench_stop $STORM_PID $DAEMON_PID
	if [ "$rc" -ne 0 ] && [ -f "$T/hatgtd.log" ]; then
		log "---- hatgtd log (last 40 lines) ----"
		tail -n 40 "$T/hatgtd.log" >&2
	fi
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Every client is a socket in the daemon and in boot-storm.
ulimit -n $((CLIENTS * 2 + 256)) 2> /dev/null || ulimit -n "$(ulimit -Hn)"

PORT=$(bench_pick_port)
ADMIN=hatgt-storm-$$
mkdir -p "$T/state" "$T/conf.d" "$T/ovl"
{
	printf '[global]\nlisten = 127.0.0.1:%s\nstate_dir = %s\n' "$PORT" "$T/state"
	printf 'admin_name = %s\nlog_level = warning\ninclude = %s\n' "$ADMIN" "$T/conf.d"
	# docs/limits.md: every client comes from 127.0.0.1.
	for k in max_sessions max_connections max_connections_per_address; do
		printf '%s = %s\n' "$k" $((CLIENTS + 16))
	done
} > "$T/hatgt.conf"

log "golden image: $GOLDEN_MIB MiB $FORMAT"
head -c $((GOLDEN_MIB * 1024 * 1024)) /dev/urandom > "$T/golden.raw"
GOLDEN=$T/golden.raw
if [ "$FORMAT" = qcow2 ]; then
	qemu-img convert -f raw -O qcow2 "$T/golden.raw" "$T/golden.qcow2"
	rm -f "$T/golden.raw"
	GOLDEN=$T/golden.qcow2
fi
SUM0=$(sha256sum "$GOLDEN" | cut -d' ' -f1)

daemon_start() {
	"$HATGTD" -f -c "$T/hatgt.conf" >> "$T/hatgtd.log" 2>&1 &
	DAEMON_PID=$!
	bench_wait_port "$PORT" "$DAEMON_PID" 600 || die "hatgtd did not listen on $PORT"
}

daemon_start
t0=$(date +%s.%N)
"$HATGTADM" -s "$ADMIN" -t 600000 clone "$GOLDEN" "$CLIENTS" prefix=boot dir="$T/ovl" \
	iqn="$IQN" initiator="$IQN:boot-{n}-host" > "$T/clone.out" 2>&1 ||
	die "hatgtadm clone failed: $(cat "$T/clone.out")"
t1=$(date +%s.%N)
CLONE_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
log "cloned $CLIENTS clients in $CLONE_S s"

# storm OUT: one boot-storm run; its exit status.
storm() {
	"$STORM" --portal "127.0.0.1:$PORT" --target "$IQN:boot-{n}" \
		--initiator "$IQN:boot-{n}-host" --clients "$CLIENTS" --pattern "$PATTERN" \
		--seq-mib "$SEQ_MIB" --scattered "$SCATTERED" --write-mib "$WRITE_MIB" \
		--write-offset-mib $((GOLDEN_MIB / 2)) > "$1" 2> "$1.err"
}

# qemu-img check exits 0 clean, 3 leaked clusters only (allocated but
# unused: space lost, no data harmed; what a crash between the refcount
# update and the L2 update leaves), 2 corruption, 1 check failed.
# check_overlays: sets bad and leaky, adds to BAD_TOTAL.
BAD_TOTAL=0
check_overlays() {
	local f cst
	bad=0
	leaky=0
	for f in "$T"/ovl/*.qcow2; do
		cst=0
		qemu-img check -q "$f" > "$T/check.out" 2>&1 || cst=$?
		case $cst in
		0) ;;
		3) leaky=$((leaky + 1)) ;;
		*)
			bad=$((bad + 1))
			[ "$bad" -gt 5 ] || log "qemu-img check $f (exit $cst): $(cat "$T/check.out")"
			;;
		esac
	done
	BAD_TOTAL=$((BAD_TOTAL + bad))
}

KILLED=
if [ -n "$KILL_SECS" ]; then
	storm "$T/storm1.out" &
	STORM_PID=$!
	sleep "$KILL_SECS"
	kill -0 "$STORM_PID" 2> /dev/null || log "the storm ended before the kill"
	kill -KILL "$DAEMON_PID"
	wait "$DAEMON_PID" 2> /dev/null || true
	DAEMON_PID=
	KILLED="sigkill_at_s=$KILL_SECS"
	wait "$STORM_PID" || true
	STORM_PID=
	sed 's/^boot-storm:/boot-storm: (interrupted by SIGKILL)/' "$T/storm1.out"
	sed -n '1,3p' "$T/storm1.out.err" >&2
	# The files as the killed daemon left them.
	check_overlays
	echo "boot-storm: after SIGKILL qemu_img_check_errors=$bad overlays_with_leaks=$leaky"
	daemon_start
	log "hatgtd restarted after SIGKILL; running the storm again"
fi
st=0
storm "$T/storm.out" || st=$?
cat "$T/storm.out"
sed -n '1,12p' "$T/storm.out.err" >&2
bench_stop "$DAEMON_PID"
DAEMON_PID=

check_overlays
SUM1=$(sha256sum "$GOLDEN" | cut -d' ' -f1)
OVL_KIB=$(du -sk "$T/ovl" | cut -f1)
GOLDEN_KIB=$(du -k --apparent-size "$GOLDEN" | cut -f1)
[ "$FORMAT" = raw ] || GOLDEN_KIB=$((GOLDEN_MIB * 1024))
awk -v n="$CLIENTS" -v o="$OVL_KIB" -v g="$GOLDEN_KIB" -v bad="$bad" -v c="$CLONE_S" -v lk="$leaky" \
	-v f="$FORMAT" -v p="$PATTERN" -v k="${KILLED:-sigkill=no}" -v same="$([ "$SUM0" = "$SUM1" ] && echo yes || echo NO)" \
	'BEGIN {
	printf "boot-storm: summary clients=%d golden=%s/%d_MiB pattern=%s clone_s=%s %s" \
		" overlays_mib=%.1f full_copies_mib=%.0f overlay_pct=%.2f qemu_img_check_errors=%d" \
		" overlays_with_leaks=%d golden_unchanged=%s\n", n, f, g / 1024, p, c, k, o / 1024,
		n * g / 1024, 100 * o / (n * g), bad, lk, same
}'
[ "$SUM0" = "$SUM1" ] || die "the golden image changed"
[ "$BAD_TOTAL" -eq 0 ] || die "$BAD_TOTAL qemu-img checks found errors"
[ "$st" -eq 0 ] || die "the storm had client errors"
