#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Summarise automake test results of one or more build directories.
#
# Usage: tests/run-summary.sh [--stage-failed NAME]... BUILD_DIR...
#
# For every test that failed (FAIL, ERROR or XPASS in its .trs file) prints
# its .log; then one count line per test-suite.log; then, alone on the last
# line, the total over all of them:
#
#   N passed, N failed, N skipped
#
# PASS and XFAIL count as passed, FAIL, XPASS and ERROR as failed, SKIP as
# skipped. Each --stage-failed NAME (a build or lint step that failed, so
# its tests may not even have run) adds one failure. Exit status: 0 if
# nothing failed, 1 otherwise, 2 on bad usage.

set -eu

stages=()
dirs=()
while [ $# -gt 0 ]; do
	case $1 in
	--stage-failed)
		[ $# -ge 2 ] || {
			echo "run-summary: --stage-failed needs a name" >&2
			exit 2
		}
		stages+=("$2")
		shift
		;;
	-*)
		echo "usage: $0 [--stage-failed NAME]... BUILD_DIR..." >&2
		exit 2
		;;
	*) dirs+=("$1") ;;
	esac
	shift
done

passed=0
failed=0
skipped=0

# Print the log of every test whose result is not a pass or skip.
for d in ${dirs[@]+"${dirs[@]}"}; do
	[ -d "$d" ] || continue
	while IFS= read -r trs; do
		if grep -Eq '^:test-result: (FAIL|ERROR|XPASS)' "$trs"; then
			echo "======== $(grep -m1 '^:test-result:' "$trs" | cut -d' ' -f2): ${trs%.trs} ========"
			cat "${trs%.trs}.log" 2> /dev/null || echo "(no log file)"
			echo "======== end of ${trs%.trs}.log ========"
		fi
	done < <(find "$d" -name '*.trs' | sort)
done

# Counts from the header of each test-suite.log (the part before the logs).
for d in ${dirs[@]+"${dirs[@]}"}; do
	[ -d "$d" ] || continue
	while IFS= read -r log; do
		read -r p f s < <(awk '
			/^# (PASS|XFAIL):/ { p += $3 }
			/^# (FAIL|XPASS):/ { f += $3 }
			/^# SKIP:/ { s += $3 }
			/^# ERROR:/ { f += $3; exit }
			END { printf "%d %d %d\n", p, f, s }' "$log")
		echo "$log: $p passed, $f failed, $s skipped"
		passed=$((passed + p))
		failed=$((failed + f))
		skipped=$((skipped + s))
	done < <(find "$d" -name test-suite.log | sort)
done

for s in ${stages[@]+"${stages[@]}"}; do
	echo "stage failed: $s"
	failed=$((failed + 1))
done

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
