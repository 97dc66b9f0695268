#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# libiscsi's whole compliance suite (every suite of iscsi-test-cu -t ALL, one
# run per suite so each starts on fresh sessions, with two initiator names,
# two paths for MultipathIO, -d and -S) passes against hatgtd. Tests that
# only run on a suitably configured LU run
# against one: ReadOnly against a write-protected LUN; PreventAllow,
# StartStopUnit and NoMedia against a removable one (lunN_removable); the
# five tests that need more than one logical block per physical block
# against 512-byte blocks over 4096-byte physical blocks
# (lunN_physical_block_size); the Sanitize tests against a LUN encrypted at
# rest (lunN_encryption_key_file), so CRYPTOGRAPHIC ERASE is offered and
# tested, one test per run with one URL (so Sanitize.Reservations takes its
# own second I_T nexus, and its RESERVE(6) goes when that nexus does), and
# Sanitize.Reset against a fresh 4 GiB sparse encrypted LUN, since it needs
# the SANITIZE OVERWRITE still running about 5 s after it was sent (the
# overwrite really writes every block, so it takes that long). Prints
# pass/fail/skip counts and fails on any failure or skip. The run takes
# about 2 minutes, 60 s of them iscsi-test-cu's own sleep at the end of
# Sanitize.Reset, and writes 4 GiB to $TMPDIR.
# Before lib.sh, which defaults it to 30 s: Sanitize.Reset alone takes 70 s.
IT_TOOL_TIMEOUT=${IT_TOOL_TIMEOUT:-300}
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
need_tool iscsi-test-cu awk truncate head
it_setup
RW=iqn.2026-11.org.hatgt.test:all
RO=iqn.2026-11.org.hatgt.test:readonly
RM=iqn.2026-11.org.hatgt.test:removable
PB=iqn.2026-11.org.hatgt.test:physical4k
ENC=iqn.2026-11.org.hatgt.test:encrypted
SANR=iqn.2026-11.org.hatgt.test:sanitize-reset
# iscsi-test-cu is single-threaded: Sanitize.Reset sleeps 60 s without
# reading its socket, so it cannot answer a NOP-In ping within the default 30 s.
global_set "nop_timeout = 90"
add_target -s 128M "$RW"
truncate -s 64M "$T/ro.img"
add_target -n "$RO" "lun0 = $T/ro.img" "lun0_readonly = yes"
add_target -n "$RM" "lun0 = $T/rm.img" "lun0_size = 64M" "lun0_removable = yes"
add_target -n "$PB" "lun0 = $T/pb.img" "lun0_size = 64M" "lun0_physical_block_size = 4096"
(umask 077 && head -c 32 /dev/urandom > "$T/enc.key")
add_target -n "$ENC" "lun0 = $T/enc.img" "lun0_size = 128M" "lun0_encryption_key_file = $T/enc.key"
add_target -n "$SANR" "lun0 = $T/sanr.img" "lun0_size = 4G" "lun0_encryption_key_file = $T/enc.key"
daemon_start
# Tests that run only when LBPPB > 1 (READ CAPACITY(16)); GetLBAStatus.UnmapSingle
# stays on the default LUN (docs/conformance.md).
PB_TESTS="CompareAndWrite.InvalidDataOutSize WriteSame10.UnmapUnaligned"
PB_TESTS+=" WriteSame10.InvalidDataOutSize WriteSame16.UnmapUnaligned WriteSame16.InvalidDataOutSize"

# all_run SUITE URL...: one iscsi-test-cu run; its per-test lines appended to $T/all.tsv.
all_run() {
	local sel=$1 out st=0
	shift
	out=$T/cu-${sel//./_}.out
	tool iscsi-test-cu -d -S -i "$INIT1" -I "$INIT2" -t "$sel" "$@" > "$out" 2>&1 || st=$?
	if [ "$st" -eq 124 ] || [ "$st" -eq 137 ]; then
		fail "$sel timed out after $IT_TOOL_TIMEOUT s"
	fi
	# A test that runs on another LU below is left out of the suite's run here.
	awk -f "$IT_LIBDIR/cu-parse.awk" "$out" |
		awk -F'\t' -v other=" $PB_TESTS " -v sel="$sel" \
			'sel ~ /^ALL\.[^.]+$/ && index(other, " " $1 "." $2 " ") { next } { print }' \
			> "$T/one.tsv"
	[ -s "$T/one.tsv" ] || fail "no test result for $sel: $(tail -20 "$out")"
	cat "$T/one.tsv" >> "$T/all.tsv"
	if grep -q $'\tfailed$' "$T/one.tsv"; then
		cat "$out" >&2
	fi
}

: > "$T/all.tsv"
for suite in $(iscsi-test-cu -l | grep -E '^ALL\.[^.]+$'); do
	case $suite in
	ALL.ReadOnly) all_run "$suite" "$(url "$RO" 0)" ;;
	ALL.PreventAllow | ALL.StartStopUnit | ALL.NoMedia) all_run "$suite" "$(url "$RM" 0)" ;;
	ALL.Sanitize)
		for t in $(iscsi-test-cu -l | grep -E '^ALL\.Sanitize\.'); do
			case $t in
			ALL.Sanitize.Reset) all_run "$t" "$(url "$SANR" 0)" ;;
			*) all_run "$t" "$(url "$ENC" 0)" ;;
			esac
		done
		;;
	*) all_run "$suite" "$(url "$RW" 0)" "$(url "$RW" 0)" ;;
	esac
done
for t in $PB_TESTS; do
	all_run "ALL.$t" "$(url "$PB" 0)"
done

read -r passed failed skipped <<< "$(awk -F'\t' '{ n[$3]++ }
	END { printf "%d %d %d", n["passed"], n["failed"], n["skipped"] }' "$T/all.tsv")"
it_log "ALL: $passed passed, $failed failed, $skipped skipped (CUnit counts skipped as passed)"
awk -F'\t' '$3 == "skipped" { printf "  skipped: %s.%s\n", $1, $2 }' "$T/all.tsv" >&2
[ $((passed + failed + skipped)) -ge 230 ] || fail "only $((passed + failed + skipped)) tests ran"
unexpected=$(awk -F'\t' '$3 == "failed" { printf "%s.%s ", $1, $2 }' "$T/all.tsv")
[ -z "$unexpected" ] || fail "failed: $unexpected"
unexpected=$(awk -F'\t' '$3 == "skipped" { printf "%s.%s ", $1, $2 }' "$T/all.tsv")
[ -z "$unexpected" ] || fail "skipped: $unexpected"
