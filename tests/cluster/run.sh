#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Run lab scenarios one after the other, the whole run bounded to
# LAB_TOTAL_SECS (default 900 = 15 minutes). Each scenario tears its lab down
# on exit; a scenario still running when the budget is spent is stopped
# (SIGTERM, then SIGKILL) and the lab torn down here.
#
# Usage: tests/cluster/run.sh [SCENARIO.sh...]   (default: all of them)
# Exit: 0 when every scenario passed or skipped, 1 otherwise.

set -u

here=$(cd "$(dirname "$0")" && pwd)
total=${LAB_TOTAL_SECS:-900}
end=$(($(date +%s) + total))
pass=0
fail=0
skip=0
failed=

if [ $# -eq 0 ]; then
	# Scenario names are behaviours with underscores; lab.sh, run.sh and
	# node-init.sh have none.
	for f in "$here"/*_*.sh; do
		[ -e "$f" ] && set -- "$@" "$f"
	done
fi

for s in "$@"; do
	s=${s##*/}
	left=$((end - $(date +%s)))
	if [ "$left" -le 10 ]; then
		echo "run: time budget spent; not running $s" >&2
		fail=$((fail + 1))
		failed="$failed $s(not-run)"
		continue
	fi
	echo "=== $s (at most ${left}s left)" >&2
	timeout -k 10 "$left" bash "$here/$s"
	rc=$?
	case $rc in
	0) pass=$((pass + 1)) ;;
	77) skip=$((skip + 1)) ;;
	*)
		fail=$((fail + 1))
		failed="$failed $s"
		;;
	esac
	[ "$rc" -eq 124 ] && LAB_KEEP=1 bash "$here/lab.sh" down
done

echo "run: $pass passed, $skip skipped, $fail failed${failed:+:$failed}" >&2
[ "$fail" -eq 0 ]
