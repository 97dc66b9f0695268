# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Helpers sourced by every integration test. A test is a bash script that:
#
#   # shellcheck source=lib.sh
#   . "${srcdir:-.}/lib.sh"
#   it_setup                      # temp dir, free port, [global] section in $CONF
#   add_target "$TGT" "allow = $INIT1"   # [target] with a 32M LUN 0, extra keys
#   daemon_start                  # hatgtd --foreground, waits until the port accepts
#   ...assertions, `fail "msg"` on a wrong answer...
#
# On exit a trap stops hatgtd with SIGTERM and asserts that it exited 0, kills
# helpers started with bg_start, prints the daemon log if the test failed and
# removes the temp dir. Every wait is bounded. Exit statuses follow automake's
# harness: 0 pass, 1 fail, 77 skip, 99 hard error (broken environment).
#
# Environment (set by tests/integration/Makefile.am; override by hand):
#   HATGTD, HATGTADM   the binaries under test
#   IT_KEEP=1          keep the temp dir after the test
#   IT_TOOL_TIMEOUT    seconds any single initiator command may take (30)
#   IT_NEED_HATGTD=0   it_setup does not require hatgtd (conformance.sh --no-hatgt)

set -eu

INIT1=iqn.2026-11.org.hatgt.test:init1
INIT2=iqn.2026-11.org.hatgt.test:init2
IT_HOST=127.0.0.1
IT_TOOL_TIMEOUT=${IT_TOOL_TIMEOUT:-30}
IT_LIBDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

T=
PORT=
CONF=
DAEMON_PID=
DAEMON_LOG=
ADMIN_NAME=
IT_BG_PIDS=
IT_NLUNFILES=0
CU_PASSED=0
CU_FAILED=0
CU_SKIPPED=0
IT_CU_TARGET=iqn.2026-11.org.hatgt.test:cu

it_log() {
	printf '%s: %s\n' "${0##*/}" "$*" >&2
}

# fail MSG: the test failed; the exit trap prints the daemon log.
fail() {
	it_log "FAIL: $*"
	exit 1
}

# skip MSG: the test cannot run here (exit 77, counted as SKIP).
skip() {
	it_log "SKIP: $*"
	exit 77
}

# hard_error MSG: the environment is broken (exit 99, counted as ERROR).
hard_error() {
	it_log "ERROR: $*"
	exit 99
}

# need_tool CMD...: skip unless every command exists.
need_tool() {
	local c
	for c in "$@"; do
		command -v "$c" > /dev/null 2>&1 ||
			skip "'$c' not found in PATH (Debian: apt-get install libiscsi-bin qemu-utils qemu-block-extra)"
	done
}

# bounded SECS CMD...: run CMD, killing it after SECS seconds (exit 124).
bounded() {
	local secs=$1
	shift
	timeout -k 5 "$secs" "$@"
}

# tool CMD...: an initiator command, bounded by IT_TOOL_TIMEOUT.
tool() {
	bounded "$IT_TOOL_TIMEOUT" "$@"
}

# url TARGET LUN [CREDENTIALS@]: an iscsi:// URL for libiscsi tools and qemu.
url() {
	printf 'iscsi://%s%s:%s/%s/%s' "${3:-}" "$IT_HOST" "$PORT" "$1" "$2"
}

portal_url() {
	printf 'iscsi://%s:%s' "$IT_HOST" "$PORT"
}

# port_in_use PORT: true if something accepts on it.
port_in_use() {
	bounded 2 bash -c "exec 3<>/dev/tcp/$IT_HOST/$1" 2> /dev/null
}

# it_pick_port: a port nobody listens on, random so parallel tests differ,
# below the kernel's ephemeral range (32768-60999) so that no outgoing
# connection of a parallel test can hold it.
it_pick_port() {
	local i p
	for i in $(seq 1 50); do
		p=$((20000 + (RANDOM * 32768 + RANDOM + $$ + i) % 12700))
		if ! port_in_use "$p"; then
			PORT=$p
			return 0
		fi
	done
	hard_error "no free TCP port found after 50 tries"
}

it_cleanup() {
	local rc=$? p st
	set +e
	for p in $IT_BG_PIDS; do
		kill -TERM "$p" 2> /dev/null
	done
	for p in $IT_BG_PIDS; do
		wait "$p" 2> /dev/null
	done
	if [ -n "$DAEMON_PID" ]; then
		daemon_stop
		st=$?
		if [ "$st" -ne 0 ] && { [ "$rc" -eq 0 ] || [ "$rc" -eq 77 ]; }; then
			rc=1
		fi
	fi
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -n "$DAEMON_LOG" ] && [ -f "$DAEMON_LOG" ]; then
		it_log "---- hatgtd log ($DAEMON_LOG, last 200 lines) ----"
		tail -n 200 "$DAEMON_LOG" >&2
		it_log "---- end of hatgtd log ----"
	fi
	if [ -n "$T" ] && [ -d "$T" ]; then
		if [ "${IT_KEEP:-0}" = 1 ]; then
			it_log "kept $T"
		else
			rm -rf "$T"
		fi
	fi
	exit "$rc"
}

# it_setup: check the binaries, make $T, pick $PORT, write the [global]
# section of $CONF and install the exit trap.
it_setup() {
	need_tool timeout
	if [ "${IT_NEED_HATGTD:-1}" = 1 ]; then
		[ -n "${HATGTD:-}" ] || hard_error "HATGTD is not set (run through 'make check')"
		[ -x "$HATGTD" ] || hard_error "hatgtd not built: $HATGTD"
	fi
	T=$(mktemp -d "${TMPDIR:-/tmp}/hatgt-it.XXXXXX")
	trap it_cleanup EXIT
	trap 'exit 1' INT TERM
	it_pick_port
	CONF=$T/hatgt.conf
	DAEMON_LOG=$T/hatgtd.log
	ADMIN_NAME=hatgt-it-$$-$PORT
	cat > "$CONF" << EOF
[global]
listen = $IT_HOST:$PORT
state_dir = $T/state
pid_file = $T/hatgtd.pid
admin_name = $ADMIN_NAME
log_level = debug

EOF
	mkdir -p "$T/state"
}

# add_target [-s SIZE] [-n] IQN [LINE...]: append a [target IQN] section to
# $CONF with LUN 0 on a new sparse file of SIZE (32M), or no LUN with -n,
# then each LINE ("key = value") as given.
add_target() {
	local size=32M lun=1
	while [ $# -gt 0 ]; do
		case $1 in
		-s) size=$2 && shift 2 ;;
		-n) lun=0 && shift ;;
		*) break ;;
		esac
	done
	IT_NLUNFILES=$((IT_NLUNFILES + 1))
	{
		printf '\n[target %s]\n' "$1"
		[ "$lun" = 0 ] || printf 'lun0 = %s\nlun0_size = %s\n' "$T/lun-$IT_NLUNFILES.img" "$size"
		shift
		[ $# -eq 0 ] || printf '%s\n' "$@"
	} >> "$CONF"
}

# global_set LINE...: add "key = value" lines to the [global] section.
global_set() {
	local l
	for l in "$@"; do
		sed -i "/^\[global\]\$/a $l" "$CONF"
	done
}

# discovery_chap_start: it_setup, discovery sessions requiring CHAP
# ($DISC_USER/$DISC_SECRET), one target $DISC_TGT, daemon_start.
DISC_TGT=iqn.2026-11.org.hatgt.test:disk
DISC_USER=finder
DISC_SECRET=findersecret12
discovery_chap_start() {
	need_tool iscsi-ls
	it_setup
	global_set "discovery_chap_user = $DISC_USER" "discovery_chap_secret = $DISC_SECRET"
	add_target "$DISC_TGT"
	daemon_start
}

# cu_suite_test SUITE: a whole test: one target, iscsi-test-cu ALL.SUITE.
cu_suite_test() {
	it_setup
	add_target -s 64M "$IT_CU_TARGET"
	daemon_start
	cu_run "ALL.$1" "$IT_CU_TARGET" 0
}

# daemon_start: start hatgtd on $CONF in the foreground (in the background of
# this shell) and wait up to 10 s for the port to accept. If the port was
# taken meanwhile by a parallel test, retry on another one.
daemon_start() {
	local try i
	for try in 1 2 3; do
		"$HATGTD" --config "$CONF" --foreground >> "$DAEMON_LOG" 2>&1 &
		DAEMON_PID=$!
		for i in $(seq 1 100); do
			if ! kill -0 "$DAEMON_PID" 2> /dev/null; then
				break
			fi
			if port_in_use "$PORT"; then
				return 0
			fi
			sleep 0.1
		done
		if kill -0 "$DAEMON_PID" 2> /dev/null; then
			fail "hatgtd did not accept on $IT_HOST:$PORT within 10 s"
		fi
		wait "$DAEMON_PID" && i=0 || i=$?
		DAEMON_PID=
		if grep -qi 'in use' "$DAEMON_LOG" && [ "$try" -lt 3 ]; then
			it_log "port $PORT taken, retrying"
			i=$PORT
			it_pick_port
			sed -i "s/^listen = $IT_HOST:$i\b/listen = $IT_HOST:$PORT/" "$CONF"
			continue
		fi
		fail "hatgtd exited with status $i during start-up"
	done
}

# daemon_stop: SIGTERM, wait up to 10 s, return its exit status (KILL and
# return 1 if it hangs).
daemon_stop() {
	local i st
	[ -n "$DAEMON_PID" ] || return 0
	# An exited child stays a zombie (state Z) until waited for.
	if [ "$(awk '{ print $3 }' "/proc/$DAEMON_PID/stat" 2> /dev/null)" = Z ] ||
		! kill -TERM "$DAEMON_PID" 2> /dev/null; then
		wait "$DAEMON_PID" && st=0 || st=$?
		DAEMON_PID=
		it_log "FAIL: hatgtd died during the test (exit status $st)"
		return 1
	fi
	for i in $(seq 1 100); do
		kill -0 "$DAEMON_PID" 2> /dev/null || break
		sleep 0.1
	done
	if kill -0 "$DAEMON_PID" 2> /dev/null; then
		it_log "FAIL: hatgtd did not exit within 10 s of SIGTERM"
		kill -KILL "$DAEMON_PID" 2> /dev/null
		wait "$DAEMON_PID" 2> /dev/null
		DAEMON_PID=
		return 1
	fi
	wait "$DAEMON_PID" && st=0 || st=$?
	DAEMON_PID=
	if [ "$st" -ne 0 ]; then
		it_log "FAIL: hatgtd exited with status $st after SIGTERM (expected 0)"
		return 1
	fi
	return 0
}

# daemon_reload: SIGHUP.
daemon_reload() {
	kill -HUP "$DAEMON_PID" || fail "hatgtd is not running"
}

# bg_start OUTFILE CMD...: run CMD in the background (killed at exit);
# sets BG_PID.
bg_start() {
	local out=$1
	shift
	"$@" > "$out" 2>&1 &
	BG_PID=$!
	IT_BG_PIDS="$IT_BG_PIDS $BG_PID"
}

# wait_for SECS CMD...: retry CMD every 0.2 s until it succeeds or SECS pass.
wait_for() {
	local secs=$1 end
	shift
	end=$((SECONDS + secs))
	while ! "$@" > /dev/null 2>&1; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.2
	done
}

# adm ARGS...: hatgtadm against this test's daemon, bounded.
adm() {
	if [ -z "${HATGTADM:-}" ] || [ ! -x "$HATGTADM" ]; then
		hard_error "hatgtadm not built: ${HATGTADM:-unset}"
	fi
	bounded 10 "$HATGTADM" -s "$ADMIN_NAME" "$@"
}

# session_hold TARGET LUN INITIATOR MS OUTFILE: keep a session logged in for
# MS milliseconds with qemu-io (read, sleep, read); sets BG_PID. Wait for
# "read 4096/4096" in OUTFILE to know the login is done.
session_hold() {
	need_tool qemu-io stdbuf
	bg_start "$5" bounded $(($4 / 1000 + 30)) stdbuf -oL qemu-io --image-opts \
		-c 'read 0 4k' -c "sleep $4" -c 'read 4k 4k' \
		"driver=iscsi,transport=tcp,portal=$IT_HOST:$PORT,target=$1,lun=$2,initiator-name=$3"
}

# session_hold_ready OUTFILE: wait (10 s) until the holder's first read is done.
session_hold_ready() {
	wait_for 10 grep -q 'read 4096/4096 bytes at offset 0' "$1" ||
		fail "holding session did not log in: $(cat "$1")"
}

# held_session_start TARGET INITIATOR MS: it_setup, TARGET with one LUN,
# daemon_start, then a session of INITIATOR held for MS ms (BG_PID), logged in.
held_session_start() {
	it_setup
	add_target "$1"
	daemon_start
	session_hold "$1" 0 "$2" "$3" "$T/hold.out"
	session_hold_ready "$T/hold.out"
}

# roundtrip_check TARGET [IMAGE_OPTS]: write 32 MiB of random data to LUN 0
# of TARGET with qemu-img, read it back into a file, compare byte for byte.
# IMAGE_OPTS are extra options of qemu's iscsi driver (",header-digest=crc32c").
# qemu's --image-opts form, not a URL: qemu-img 7.2 crashes (SIGSEGV) on an
# iscsi:// URL with "?header_digest=", whatever the target.
roundtrip_check() {
	local opts
	need_tool qemu-img cmp head
	opts="driver=iscsi,transport=tcp,portal=$IT_HOST:$PORT,target=$1,lun=0"
	opts="$opts,initiator-name=$INIT1${2:-}"
	head -c $((32 * 1024 * 1024)) /dev/urandom > "$T/src.raw"
	tool qemu-img convert -n -f raw --target-image-opts "$T/src.raw" "$opts" ||
		fail "qemu-img convert to $opts failed"
	tool qemu-img convert --image-opts "$opts" -O raw "$T/back.raw" ||
		fail "qemu-img convert from $opts failed"
	cmp "$T/src.raw" "$T/back.raw" || fail "data read back differs from data written ($opts)"
}

# login_ok URL [INITIATOR]: true if a standard INQUIRY through URL succeeds.
login_ok() {
	tool iscsi-inq -i "${2:-$INIT1}" "$1" > "$T/inq.out" 2>&1
}

# login_refused URL TEXT [INITIATOR]: a login through URL must fail, and
# libiscsi's message must contain TEXT (e.g. "Authentication failure(513)").
login_refused() {
	if login_ok "$1" "${3:-$INIT1}"; then
		fail "login through $1 as ${3:-$INIT1} succeeded"
	fi
	grep -qF "$2" "$T/inq.out" || fail "login refused, but not with '$2': $(cat "$T/inq.out")"
}

# chap_target_start one-way|mutual: it_setup, then target $CHAP_TGT requiring
# CHAP ($CHAP_USER/$CHAP_SECRET; mutual: the target answers as
# $MUTUAL_USER/$MUTUAL_SECRET), then daemon_start.
CHAP_TGT=iqn.2026-11.org.hatgt.test:chap
CHAP_USER=alice
CHAP_SECRET=alicesecret12
MUTUAL_USER=target1
MUTUAL_SECRET=targetsecret34
chap_target_start() {
	local extra=()
	need_tool iscsi-inq
	it_setup
	[ "$1" != mutual ] || extra=("mutual_user = $MUTUAL_USER" "mutual_secret = $MUTUAL_SECRET")
	add_target "$CHAP_TGT" "chap_user = $CHAP_USER" "chap_secret = $CHAP_SECRET" ${extra[@]+"${extra[@]}"}
	daemon_start
}

# cu_run SELECTOR TARGET LUN: run iscsi-test-cu tests SELECTOR against LUN of
# TARGET; print the counts; fail if any test failed or none ran. Leaves the
# counts in CU_PASSED, CU_FAILED, CU_SKIPPED (skips per cu-parse.awk, which
# ignores "[SKIPPED]" lines printed outside a test, e.g. by the set-up), the
# raw output in $T/cu.out and one line per test in $T/cu.tsv.
cu_run() {
	local out=$T/cu.out counts total cunit_failed
	need_tool iscsi-test-cu awk
	tool iscsi-test-cu -d -S -i "$INIT1" -I "$INIT2" -t "$1" "$(url "$2" "$3")" > "$out" 2>&1 || true
	awk -f "$IT_LIBDIR/cu-parse.awk" "$out" > "$T/cu.tsv"
	counts=$(awk -F'\t' '{ n[$3]++ } END { printf "%d %d %d", n["passed"], n["failed"], n["skipped"] }' \
		"$T/cu.tsv")
	read -r CU_PASSED CU_FAILED CU_SKIPPED <<< "$counts"
	total=$((CU_PASSED + CU_FAILED + CU_SKIPPED))
	it_log "$1: $CU_PASSED passed, $CU_FAILED failed, $CU_SKIPPED skipped (CUnit counts skipped as passed)"
	# Cross-check with CUnit's own count (its "tests" row: Total Ran Passed Failed).
	cunit_failed=$(awk '$1 == "tests" && NF >= 5 { print $5 }' "$out")
	if [ -n "$cunit_failed" ] && [ "$cunit_failed" != "$CU_FAILED" ]; then
		cat "$out" >&2
		hard_error "cu-parse.awk counted $CU_FAILED failures, CUnit $cunit_failed"
	fi
	if [ "$CU_FAILED" -ne 0 ] || [ "$total" -eq 0 ]; then
		cat "$out" >&2
		[ "$total" -ne 0 ] || fail "iscsi-test-cu ran no test for $1"
		fail "iscsi-test-cu: $CU_FAILED test(s) failed in $1"
	fi
}
