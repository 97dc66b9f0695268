#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Fuzz each target for a while and report executions, coverage and crashes.
#
#   tests/fuzz/run.sh [-t SECONDS] [-j JOBS] [-b BUILDDIR] [-w WORKDIR] [TARGET...]
#
#   -t  seconds per target (default 30; $FUZZ_SECONDS)
#   -j  targets run at once (default 1)
#   -b  the build dir configured with --enable-fuzzing (default: the cwd);
#       the targets are BUILDDIR/tests/fuzz/fuzz_*
#   -w  where the growing corpora, logs and crash files go (default: a new
#       temp dir, kept); reuse one to continue a campaign
#   TARGET  fuzz_pdu ... (default: every fuzz_* program built)
#
# Each target starts from its seeds in tests/fuzz/corpus/<target>/ plus what
# earlier runs in WORKDIR found. Extra libFuzzer flags: $FUZZ_ARGS. Prints
# one line per target and exits 1 if any target crashed, leaked or hung
# (the input is in WORKDIR/crashes/; see docs/fuzzing.md for what to do).
set -u

here=$(cd "$(dirname "$0")" && pwd)
secs=${FUZZ_SECONDS:-30}
jobs=1
build=$PWD
work=
while getopts t:j:b:w:h opt; do
	case $opt in
	t) secs=$OPTARG ;;
	j) jobs=$OPTARG ;;
	b) build=$OPTARG ;;
	w) work=$OPTARG ;;
	*)
		sed -n '4,20p' "$0" | sed 's/^# \{0,1\}//'
		exit 2
		;;
	esac
done
shift $((OPTIND - 1))
case $secs$jobs in
*[!0-9]*)
	echo "run.sh: -t and -j take whole numbers" >&2
	exit 2
	;;
esac

bindir=$build/tests/fuzz
[ -d "$bindir" ] || bindir=$build
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
	for f in "$bindir"/fuzz_*; do
		[ -x "$f" ] && [ -f "$f" ] && targets+=("${f##*/}")
	done
fi
if [ "${#targets[@]}" -eq 0 ]; then
	echo "run.sh: no fuzz targets in $bindir (configure with --enable-fuzzing CC=clang, make check)" >&2
	exit 2
fi
[ -n "$work" ] || work=$(mktemp -d "${TMPDIR:-/tmp}/hatgt-fuzz.XXXXXX")
mkdir -p "$work/crashes"

# fuzz_one TARGET: one campaign; its summary line goes to WORK/TARGET.sum.
fuzz_one() {
	local t=$1 log=$work/$1.log corpus=$work/corpus/$1 seeds=$here/corpus/$1 st line
	[ -d "$seeds" ] || seeds=$here/corpus/${t#fuzz_}
	local -a extra
	read -r -a extra <<< "${FUZZ_ARGS:-}"
	mkdir -p "$corpus"
	[ -d "$seeds" ] || seeds=
	# -max_total_time bounds the run; timeout(1) catches a target that hangs
	# in its setup, before libFuzzer's own clock runs.
	timeout -k 10 $((secs + 60)) "$bindir/$t" -max_total_time="$secs" -timeout=25 \
		-print_final_stats=1 -artifact_prefix="$work/crashes/$t-" ${extra[@]+"${extra[@]}"} \
		"$corpus" ${seeds:+"$seeds"} > "$log" 2>&1
	st=$?
	line=$(grep -E '^#[0-9]+[[:space:]]+(DONE|INITED|pulse|NEW|REDUCE)' "$log" | tail -n 1)
	printf '%-14s %s execs=%s cov=%s ft=%s corpus=%s status=%s\n' "$t" \
		"$([ "$st" -eq 0 ] && echo ok || echo FAILED)" \
		"$(grep -E '^stat::number_of_executed_units' "$log" | awk '{ print $2 }')" \
		"$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<< "$line")" \
		"$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<< "$line")" \
		"$(sed -n 's/.* corp: \([0-9]*\/[0-9A-Za-z]*\).*/\1/p' <<< "$line")" \
		"$st" > "$work/$t.sum"
}

echo "fuzzing ${#targets[@]} target(s) for $secs s each, $jobs at a time; work dir $work"
running=0
for t in "${targets[@]}"; do
	if [ ! -x "$bindir/$t" ]; then
		echo "$t: not built in $bindir" > "$work/$t.sum"
		continue
	fi
	fuzz_one "$t" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait

rc=0
for t in "${targets[@]}"; do
	cat "$work/$t.sum"
	grep -q ' ok ' "$work/$t.sum" || {
		rc=1
		tail -n 30 "$work/$t.log" 2> /dev/null | sed "s/^/  $t: /"
	}
done
ls "$work/crashes"/* > /dev/null 2>&1 && echo "crash inputs: $work/crashes/"
exit "$rc"
