#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# libiscsi's whole compliance suite (iscsi-test-cu -t ALL, with two initiator
# names, two paths for MultipathIO, -d and -S) passes against hatgtd with no
# failure; then ALL.ReadOnly against a write-protected LUN, which the main
# run skips because its LUN is writable. Prints pass/fail/skip counts.
#
# The LUN is 1 GiB (sparse): SANITIZE OVERWRITE writes it through, which
# takes long enough for Sanitize.Reset to see the sanitize in progress
# (NOT READY 04/1B) after its 3 s sleep. The run takes about two minutes,
# most of it Sanitize.Reset waiting 60 s for the sanitize to end.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
need_tool iscsi-test-cu awk truncate
IT_TOOL_TIMEOUT=${IT_TOOL_TIMEOUT:-600}
it_setup
RW=iqn.2026-11.org.hatgt.test:all
RO=iqn.2026-11.org.hatgt.test:readonly
add_target -s 1G "$RW"
truncate -s 64M "$T/ro.img"
add_target -n "$RO" "lun0 = $T/ro.img" "lun0_readonly = yes"
daemon_start

# all_run SELECTOR URL...: one iscsi-test-cu run; its per-test lines appended to $T/all.tsv.
all_run() {
	local sel=$1 out
	shift
	out=$T/cu-${sel//./_}.out
	tool iscsi-test-cu -d -S -i "$INIT1" -I "$INIT2" -t "$sel" "$@" > "$out" 2>&1 || true
	awk -f "$IT_LIBDIR/cu-parse.awk" "$out" >> "$T/all.tsv"
	grep -q . "$out" || fail "iscsi-test-cu printed nothing for $sel"
	if awk -F'\t' '$3 == "failed" { bad = 1 } END { exit !bad }' "$T/all.tsv"; then
		cat "$out" >&2
	fi
}

: > "$T/all.tsv"
all_run ALL "$(url "$RW" 0)" "$(url "$RW" 0)"
# The main run's ReadOnly test skipped (writable LUN): drop it, run it on RO.
awk -F'\t' '!($1 == "ReadOnly")' "$T/all.tsv" > "$T/all.tmp" && mv "$T/all.tmp" "$T/all.tsv"
all_run ALL.ReadOnly "$(url "$RO" 0)"

read -r passed failed skipped <<< "$(awk -F'\t' '{ n[$3]++ }
	END { printf "%d %d %d", n["passed"], n["failed"], n["skipped"] }' "$T/all.tsv")"
it_log "ALL: $passed passed, $failed failed, $skipped skipped (CUnit counts skipped as passed)"
awk -F'\t' '$3 == "skipped" { printf "  skipped: %s.%s\n", $1, $2 }' "$T/all.tsv" >&2
[ $((passed + failed + skipped)) -gt 200 ] || fail "only $((passed + failed + skipped)) tests ran"
if [ "$failed" -ne 0 ]; then
	awk -F'\t' '$3 == "failed" { printf "  FAILED: %s.%s\n", $1, $2 }' "$T/all.tsv" >&2
	fail "$failed test(s) failed"
fi
