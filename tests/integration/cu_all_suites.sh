#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# libiscsi's whole compliance suite (every suite of iscsi-test-cu -t ALL, one
# run per suite so each starts on fresh sessions, with two initiator names,
# two paths for MultipathIO, -d and -S) passes against hatgtd with no
# failure; ReadOnly runs against a write-protected LUN, since on a writable
# one it skips. Prints pass/fail/skip counts.
#
# One known failure is allowed, and reported: Sanitize.Reset (libiscsi 1.19)
# needs a SANITIZE still running 3 s after it was sent, and it runs after
# Sanitize.Reservations, which leaves a RESERVE(6) of the second initiator in
# place, so on a target that implements both the SANITIZE gets RESERVATION
# CONFLICT (see docs/conformance.md). The run takes about 15 s.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
need_tool iscsi-test-cu awk truncate
IT_TOOL_TIMEOUT=${IT_TOOL_TIMEOUT:-300}
it_setup
RW=iqn.2026-11.org.hatgt.test:all
RO=iqn.2026-11.org.hatgt.test:readonly
add_target -s 128M "$RW"
truncate -s 64M "$T/ro.img"
add_target -n "$RO" "lun0 = $T/ro.img" "lun0_readonly = yes"
daemon_start

# all_run SUITE URL...: one iscsi-test-cu run; its per-test lines appended to $T/all.tsv.
all_run() {
	local sel=$1 out st=0
	shift
	out=$T/cu-${sel//./_}.out
	tool iscsi-test-cu -d -S -i "$INIT1" -I "$INIT2" -t "$sel" "$@" > "$out" 2>&1 || st=$?
	if [ "$st" -eq 124 ] || [ "$st" -eq 137 ]; then
		fail "$sel timed out after $IT_TOOL_TIMEOUT s"
	fi
	awk -f "$IT_LIBDIR/cu-parse.awk" "$out" > "$T/one.tsv"
	[ -s "$T/one.tsv" ] || fail "no test result for $sel: $(tail -20 "$out")"
	cat "$T/one.tsv" >> "$T/all.tsv"
	if grep -q $'\tfailed$' "$T/one.tsv"; then
		cat "$out" >&2
	fi
}

: > "$T/all.tsv"
for suite in $(iscsi-test-cu -l | grep -E '^ALL\.[^.]+$'); do
	if [ "$suite" = ALL.ReadOnly ]; then
		all_run "$suite" "$(url "$RO" 0)"
	else
		all_run "$suite" "$(url "$RW" 0)" "$(url "$RW" 0)"
	fi
done

read -r passed failed skipped <<< "$(awk -F'\t' '{ n[$3]++ }
	END { printf "%d %d %d", n["passed"], n["failed"], n["skipped"] }' "$T/all.tsv")"
it_log "ALL: $passed passed, $failed failed, $skipped skipped (CUnit counts skipped as passed)"
awk -F'\t' '$3 == "skipped" { printf "  skipped: %s.%s\n", $1, $2 }' "$T/all.tsv" >&2
[ $((passed + failed + skipped)) -ge 230 ] || fail "only $((passed + failed + skipped)) tests ran"
KNOWN_FAILURES=" Sanitize.Reset "
unexpected=$(awk -F'\t' -v known="$KNOWN_FAILURES" \
	'$3 == "failed" && index(known, " " $1 "." $2 " ") == 0 { printf "%s.%s ", $1, $2 }' \
	"$T/all.tsv")
for t in $KNOWN_FAILURES; do
	if grep -q "^${t%%.*}"$'\t'"${t#*.}"$'\t'"failed\$" "$T/all.tsv"; then
		it_log "known failure: $t (docs/conformance.md)"
	else
		it_log "note: known failure $t did not fail this time"
	fi
done
[ -z "$unexpected" ] || fail "failed: $unexpected"

