#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Run libiscsi's whole compliance suite (iscsi-test-cu -t ALL: 230 tests in
# 51 suites with libiscsi 1.19) against hatgtd, and optionally against
# Debian's tgt too, and print a markdown table of passed/failed/skipped tests
# per suite, followed by the names of the failed tests. Not part of
# `make check`: it takes minutes and fails until the command set is complete.
#
# Usage: tests/integration/conformance.sh [--tgt] [--no-hatgt] [--out DIR] [--strict]
#   --tgt       also run against tgtd (its LUN 0 is a controller: the disk is LUN 1)
#   --no-hatgt  only tgt (to check this script or the suite itself)
#   --out DIR   keep the raw iscsi-test-cu output and the parsed results in DIR
#   --strict    exit 1 if any hatgt test failed
# Environment: HATGTD (default: ./daemon/hatgtd of the build directory you
# run it from), IT_TOOL_TIMEOUT (seconds one suite may take, default 120).
#
# A test that libiscsi skips ("[SKIPPED]", e.g. a command the target does not
# report as supported) counts as passed for CUnit; here it is a column of its own.
# Against hatgtd, tests that need a particular LU run against one: ReadOnly
# on a read-only LUN, PreventAllow/StartStopUnit/NoMedia on a removable one,
# the five LBPPB > 1 tests on 512-byte blocks over 4 KiB physical blocks.

set -eu
IT_TOOL_TIMEOUT=${IT_TOOL_TIMEOUT:-120}
srcdir=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$srcdir/lib.sh"

run_hatgt=1
run_tgt=0
strict=0
out=
while [ $# -gt 0 ]; do
	case $1 in
	--tgt) run_tgt=1 ;;
	--no-hatgt) run_hatgt=0 ;;
	--strict) strict=1 ;;
	--out)
		[ $# -ge 2 ] || hard_error "--out needs a directory"
		out=$2
		shift
		;;
	-h | --help)
		sed -n '4,22s/^# \{0,1\}//p' "$0"
		exit 0
		;;
	*) hard_error "unknown option $1 (see --help)" ;;
	esac
	shift
done
[ "$run_hatgt" = 1 ] || [ "$run_tgt" = 1 ] || hard_error "nothing to run"
need_tool iscsi-test-cu awk
if [ "$run_hatgt" = 1 ] && [ -z "${HATGTD:-}" ]; then
	HATGTD=$PWD/daemon/hatgtd
fi
if [ "$run_hatgt" = 0 ]; then
	IT_NEED_HATGTD=0
fi

TGTD_PID=
TGT_SOCK=

conf_tgt_stop() {
	[ -n "$TGTD_PID" ] || return 0
	TGT_IPC_SOCKET=$TGT_SOCK tgtadm --op delete --mode system --force > /dev/null 2>&1 ||
		kill -TERM "$TGTD_PID" 2> /dev/null || true
	wait_for 10 conf_tgt_gone || kill -KILL "$TGTD_PID" 2> /dev/null || true
	wait "$TGTD_PID" 2> /dev/null || true
	TGTD_PID=
}

# shellcheck disable=SC2317 # called through wait_for
conf_tgt_gone() {
	! kill -0 "$TGTD_PID" 2> /dev/null
}

# shellcheck disable=SC2317 # the EXIT trap
conf_cleanup() {
	conf_tgt_stop
	it_cleanup
}

# conf_tgt_start: tgtd on its own port and control socket, one 128 MiB disk
# as LUN 1 of iqn.2026-11.org.hatgt.test:tgt. Sets TGT_URL.
conf_tgt_start() {
	local tgt_port i name=iqn.2026-11.org.hatgt.test:tgt
	need_tool tgtd tgtadm
	tgt_port=$PORT
	while [ "$tgt_port" = "$PORT" ] || port_in_use "$tgt_port"; do
		tgt_port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
	done
	TGT_SOCK=$T/tgt.sock
	truncate -s 128M "$T/tgt.img"
	TGT_IPC_SOCKET=$TGT_SOCK tgtd -f --iscsi "portal=$IT_HOST:$tgt_port" > "$T/tgtd.log" 2>&1 &
	TGTD_PID=$!
	for i in $(seq 1 50); do
		TGT_IPC_SOCKET=$TGT_SOCK tgtadm --mode system --op show > /dev/null 2>&1 && break
		[ "$i" -lt 50 ] || fail "tgtd did not start: $(cat "$T/tgtd.log")"
		sleep 0.2
	done
	export TGT_IPC_SOCKET=$TGT_SOCK
	if ! { tgtadm --lld iscsi --mode target --op new --tid 1 --targetname "$name" &&
		tgtadm --lld iscsi --mode logicalunit --op new --tid 1 --lun 1 \
			--backing-store "$T/tgt.img" &&
		tgtadm --lld iscsi --mode target --op bind --tid 1 --initiator-address ALL; }; then
		fail "cannot configure tgtd"
	fi
	unset TGT_IPC_SOCKET
	wait_for 10 port_in_use "$tgt_port" || fail "tgtd does not accept on port $tgt_port"
	TGT_URL=iscsi://$IT_HOST:$tgt_port/$name/1
}

# conf_one NAME SELECTION URL...: one iscsi-test-cu run (-d and -S allow
# destructive tests), its results appended to $T/NAME.tsv, except those of
# the tests in $CONF_SKIP (a suite run leaves them to their own run).
conf_one() {
	local name=$1 sel=$2 st=0
	shift 2
	tool iscsi-test-cu -d -S -i "$INIT1" -I "$INIT2" -t "$sel" "$@" > "$T/suite.out" 2>&1 ||
		st=$?
	cat "$T/suite.out" >> "$T/$name.out"
	awk -f "$srcdir/cu-parse.awk" "$T/suite.out" |
		awk -F'\t' -v skip=" $CONF_SKIP " 'index(skip, " " $1 "." $2 " ") == 0' \
			>> "$T/$name.tsv"
	if [ "$st" -eq 124 ] || [ "$st" -eq 137 ]; then
		it_log "$name: $sel timed out after $IT_TOOL_TIMEOUT s"
		echo "${sel#ALL.}" >> "$T/$name.timeouts"
	fi
}

# conf_run NAME URL [RO_URL RM_URL PB_URL]: every suite of ALL, one
# iscsi-test-cu run each, so a test that hangs costs only its suite (stopped
# after IT_TOOL_TIMEOUT s; the test it was in counts as failed, the rest of
# the suite is missing). With the optional URLs, ReadOnly runs against a
# read-only LU, PreventAllow, StartStopUnit and NoMedia against a removable
# one, and the tests needing LBPPB > 1 ($PB_TESTS) against one with 4 KiB
# physical blocks. Results in $T/NAME.tsv, raw output in $T/NAME.out.
conf_run() {
	local name=$1 url=$2 ro=${3:-} rm=${4:-} pb=${5:-} enc=${6:-} sanr=${7:-} suite t
	it_log "running iscsi-test-cu ALL against $name ($url), suite by suite"
	: > "$T/$name.out"
	: > "$T/$name.tsv"
	CONF_SKIP=
	[ -z "$pb" ] || CONF_SKIP=$PB_TESTS
	for suite in $CONF_SUITES; do
		case $suite in
		ALL.ReadOnly) conf_one "$name" "$suite" "${ro:-$url}" ;;
		ALL.PreventAllow | ALL.StartStopUnit | ALL.NoMedia)
			conf_one "$name" "$suite" "${rm:-$url}"
			;;
		# One test per run with one URL, on encrypted LUNs (docs/conformance.md).
		ALL.Sanitize)
			if [ -z "$enc" ]; then
				conf_one "$name" "$suite" "$url" "$url"
				continue
			fi
			for t in $(iscsi-test-cu -l | grep -E '^ALL\.Sanitize\.'); do
				case $t in
				ALL.Sanitize.Reset) conf_one "$name" "$t" "${sanr:-$enc}" ;;
				*) conf_one "$name" "$t" "$enc" ;;
				esac
			done
			;;
		# MultipathIO needs the URL twice.
		*) conf_one "$name" "$suite" "$url" "$url" ;;
		esac
	done
	CONF_SKIP=
	if [ -n "$pb" ]; then
		for t in $PB_TESTS; do
			conf_one "$name" "ALL.$t" "$pb"
		done
	fi
	[ -s "$T/$name.tsv" ] || fail "no test result from iscsi-test-cu against $name: $(tail -20 "$T/$name.out")"
}

# conf_table NAME...: the markdown table, one column group per NAME.
conf_table() {
	local files=() n
	for n in "$@"; do
		files+=("$T/$n.tsv")
	done
	awk -F'\t' -v names="$*" '
	BEGIN { nn = split(names, name, " ") }
	FNR == 1 { f++ }
	{
		if (!($1 in seen)) { seen[$1] = 1; order[++ns] = $1 }
		c[f, $1, $3]++; tot[f, $3]++
	}
	END {
		hdr = "| Suite |"; sep = "|---|"
		for (i = 1; i <= nn; i++) {
			hdr = hdr sprintf(" %s pass | %s fail | %s skip |", name[i], name[i], name[i])
			sep = sep "---:|---:|---:|"
		}
		print hdr; print sep
		for (s = 1; s <= ns; s++) {
			line = "| " order[s] " |"
			for (i = 1; i <= nn; i++)
				line = line sprintf(" %d | %d | %d |", c[i, order[s], "passed"],
						    c[i, order[s], "failed"], c[i, order[s], "skipped"])
			print line
		}
		line = "| **total** |"
		for (i = 1; i <= nn; i++)
			line = line sprintf(" **%d** | **%d** | **%d** |", tot[i, "passed"],
					    tot[i, "failed"], tot[i, "skipped"])
		print line
	}' "${files[@]}"
}

# Tests that run only when READ CAPACITY(16) reports LBPPB > 1.
PB_TESTS="CompareAndWrite.InvalidDataOutSize WriteSame10.UnmapUnaligned"
PB_TESTS+=" WriteSame10.InvalidDataOutSize WriteSame16.UnmapUnaligned"
PB_TESTS+=" WriteSame16.InvalidDataOutSize"
CONF_SKIP=
# The suites of ALL (ALL.<Suite>), in the tool's order.
CONF_SUITES=$(iscsi-test-cu --list | grep -E '^ALL\.[^.]+$') || true
[ -n "$CONF_SUITES" ] || hard_error "iscsi-test-cu --list shows no ALL.<Suite>"
it_setup
trap conf_cleanup EXIT
names=()
if [ "$run_hatgt" = 1 ]; then
	add_target -s 128M iqn.2026-11.org.hatgt.test:conformance
	add_target -n iqn.2026-11.org.hatgt.test:readonly "lun0 = $T/ro.img" "lun0_readonly = yes"
	truncate -s 64M "$T/ro.img"
	add_target -n iqn.2026-11.org.hatgt.test:removable "lun0 = $T/rm.img" "lun0_size = 64M" \
		"lun0_removable = yes"
	add_target -n iqn.2026-11.org.hatgt.test:physical4k "lun0 = $T/pb.img" "lun0_size = 64M" \
		"lun0_physical_block_size = 4096"
	(umask 077 && head -c 32 /dev/urandom > "$T/enc.key")
	add_target -n iqn.2026-11.org.hatgt.test:encrypted "lun0 = $T/enc.img" \
		"lun0_size = 128M" "lun0_encryption_key_file = $T/enc.key"
	add_target -n iqn.2026-11.org.hatgt.test:sanitize-reset "lun0 = $T/sanr.img" \
		"lun0_size = 4G" "lun0_encryption_key_file = $T/enc.key"
	# Sanitize.Reset sleeps 60 s without reading its socket (cu_all_suites.sh).
	global_set "nop_timeout = 90"
	daemon_start
	conf_run hatgt "$(url iqn.2026-11.org.hatgt.test:conformance 0)" \
		"$(url iqn.2026-11.org.hatgt.test:readonly 0)" \
		"$(url iqn.2026-11.org.hatgt.test:removable 0)" \
		"$(url iqn.2026-11.org.hatgt.test:physical4k 0)" \
		"$(url iqn.2026-11.org.hatgt.test:encrypted 0)" \
		"$(url iqn.2026-11.org.hatgt.test:sanitize-reset 0)"
	names+=(hatgt)
fi
if [ "$run_tgt" = 1 ]; then
	conf_tgt_start
	conf_run tgt "$TGT_URL"
	conf_tgt_stop
	names+=(tgt)
fi

echo
conf_table "${names[@]}"
for n in "${names[@]}"; do
	echo
	echo "Failed against $n:"
	awk -F'\t' '$3 == "failed" { printf "- %s.%s\n", $1, $2; n++ } END { if (!n) print "- none" }' "$T/$n.tsv"
	if [ -s "$T/$n.timeouts" ]; then
		echo
		echo "Suites stopped after $IT_TOOL_TIMEOUT s against $n (their later tests are missing):"
		sed 's/^/- /' "$T/$n.timeouts"
	fi
done
if [ -n "$out" ]; then
	mkdir -p "$out"
	for n in "${names[@]}"; do
		cp "$T/$n.out" "$T/$n.tsv" "$out/"
		[ ! -f "$T/$n.timeouts" ] || cp "$T/$n.timeouts" "$out/"
	done
fi
if [ "$strict" = 1 ] && [ "$run_hatgt" = 1 ] && grep -q $'\tfailed$' "$T/hatgt.tsv"; then
	exit 1
fi
exit 0
