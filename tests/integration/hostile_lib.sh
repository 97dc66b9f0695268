# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Helpers of the hostile_*.sh tests, sourced after lib.sh. A hostile test:
#
#   hostile_start                 # daemon with target $HTGT (+ CHAP target),
#                                 # reference data written with qemu-img
#   hostile_rounds 3 hostile SCENARIO [ARGS...]
#
# hostile_rounds runs the attack N times; after each round a well-behaved
# libiscsi initiator must still log in and read back the reference data
# byte for byte, and the daemon's resident memory (VmRSS) is recorded. The
# RSS growth from the first round to the last must stay under
# $HOSTILE_RSS_SLACK_KB (flat: per-connection state is freed; the slack
# absorbs glibc growing an arena once, which shows as a single 2 MiB step,
# while a leak of 1 KiB per connection in the flood test would add 1 MiB
# per round). Under
# AddressSanitizer RSS is not meaningful (quarantine); LeakSanitizer at exit
# checks leaks instead, so only the figures are reported.

HTGT=iqn.2026-11.org.hatgt.test:hostile
HCHAP_TGT=iqn.2026-11.org.hatgt.test:hostile-chap
HOSTILE_LOGIN_TIMEOUT=${HOSTILE_LOGIN_TIMEOUT:-4}
HOSTILE_RSS_SLACK_KB=${HOSTILE_RSS_SLACK_KB:-3072}
HOSTILE_PY=${IT_LIBDIR}/hostile.py

# hostile_start: it_setup, targets, daemon_start, reference data. Extra
# [global] lines ("key = value") may be put in the array HOSTILE_GLOBALS first.
hostile_start() {
	need_tool python3 iscsi-inq qemu-img cmp head
	it_setup
	global_set "login_timeout = $HOSTILE_LOGIN_TIMEOUT" ${HOSTILE_GLOBALS[@]+"${HOSTILE_GLOBALS[@]}"}
	add_target -s 16M "$HTGT"
	add_target -s 16M "$HCHAP_TGT" "chap_user = alice" "chap_secret = alicesecret12"
	daemon_start
	head -c $((4 * 1024 * 1024)) /dev/urandom > "$T/ref.raw"
	tool qemu-img convert -n -f raw --target-image-opts "$T/ref.raw" "$(hostile_opts)" ||
		fail "writing the reference data with qemu-img failed"
	hostile_served
	HOSTILE_RSS=("$(hostile_rss)")
}

hostile_opts() {
	printf 'driver=iscsi,transport=tcp,portal=%s:%s,target=%s,lun=0,initiator-name=%s' \
		"$IT_HOST" "$PORT" "$HTGT" "$INIT1"
}

# hostile ARGS...: run hostile.py against this test's daemon.
hostile() {
	bounded 300 python3 "$HOSTILE_PY" --host "$IT_HOST" --port "$PORT" --target "$HTGT" \
		--chap-target "$HCHAP_TGT" --login-timeout "$HOSTILE_LOGIN_TIMEOUT" "$@"
}

hostile_rss() {
	awk '$1 == "VmRSS:" { print $2 }' "/proc/$DAEMON_PID/status" 2> /dev/null ||
		fail "hatgtd is gone"
}

# hostile_served: a well-behaved initiator logs in and reads back the data.
hostile_served() {
	kill -0 "$DAEMON_PID" 2> /dev/null || fail "hatgtd died"
	login_ok "$(url "$HTGT" 0)" || fail "iscsi-inq no longer served: $(cat "$T/inq.out")"
	rm -f "$T/back.raw"
	tool qemu-img convert --image-opts "$(hostile_opts)" -O raw "$T/back.raw" ||
		fail "qemu-img could not read the LUN back"
	head -c $((4 * 1024 * 1024)) "$T/back.raw" | cmp - "$T/ref.raw" ||
		fail "data read back differs from the reference data"
}

# hostile_rounds N CMD...: run CMD N times, each followed by hostile_served
# and an RSS sample; then the flatness check.
hostile_rounds() {
	local n=$1 i grow
	shift
	for i in $(seq 1 "$n"); do
		"$@" || fail "round $i: $*"
		hostile_served
		HOSTILE_RSS+=("$(hostile_rss)")
	done
	grow=$((HOSTILE_RSS[n] - HOSTILE_RSS[1]))
	it_log "RSS (kB) after setup and each round: ${HOSTILE_RSS[*]}; growth after round 1: $grow kB"
	if grep -q __asan_init "$HATGTD" 2> /dev/null; then
		it_log "AddressSanitizer build: RSS not checked (LeakSanitizer checks at exit)"
		return 0
	fi
	[ "$grow" -le "$HOSTILE_RSS_SLACK_KB" ] ||
		fail "RSS grew by $grow kB from round 1 to round $n (slack $HOSTILE_RSS_SLACK_KB kB)"
}
