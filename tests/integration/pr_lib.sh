# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Helpers of the persistent reservation tests (pr_*.sh), on top of lib.sh.
#   pr_cu_suite SUITE        iscsi-test-cu ALL.SUITE: no failure, no [SKIPPED]
#   pr_start                 it_setup, one target $PR_TGT with LUN 0, daemon_start
#   pr_run NAME < SCRIPT     replay SCRIPT with pr_client (nodes A, B, C are
#                            $PR_A, $PR_B, $PR_C); output in $T/NAME.out
#   pr_expect NAME LINE...   each LINE is a whole line of $T/NAME.out, in this order

# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"

PR_TGT=iqn.2026-11.org.hatgt.test:pr
PR_A=iqn.2026-11.org.hatgt.test:node-a
PR_B=iqn.2026-11.org.hatgt.test:node-b
PR_C=iqn.2026-11.org.hatgt.test:node-c

pr_cu_suite() {
	cu_suite_test "$1"
	pr_cu_no_skip "$1"
}

# pr_cu_no_skip SUITE: no test of $T/cu.out was skipped (cu-parse.awk's
# verdict; a "[SKIPPED]" line of the suite's set-up is not a test).
pr_cu_no_skip() {
	if awk -f "$IT_LIBDIR/cu-parse.awk" "$T/cu.out" | grep -q "$(printf '\tskipped$')"; then
		cat "$T/cu.out" >&2
		fail "iscsi-test-cu skipped a test of $1"
	fi
}

pr_start() {
	if [ -z "${PR_CLIENT:-}" ] || [ ! -x "$PR_CLIENT" ]; then
		hard_error "pr_client not built: ${PR_CLIENT:-unset}"
	fi
	it_setup
	add_target "$PR_TGT"
	daemon_start
}

pr_run() {
	tool "$PR_CLIENT" "$IT_HOST:$PORT" "$PR_TGT" 0 "$PR_A" "$PR_B" "$PR_C" > "$T/$1.out" 2>&1 ||
		{
			cat "$T/$1.out" >&2
			fail "pr_client $1 did not run to the end"
		}
}

pr_expect() {
	local name=$1 want i=0
	local -a got
	shift
	mapfile -t got < "$T/$name.out"
	for want in "$@"; do
		while [ "$i" -lt "${#got[@]}" ] && [ "${got[$i]}" != "$want" ]; do
			i=$((i + 1))
		done
		if [ "$i" -ge "${#got[@]}" ]; then
			cat "$T/$name.out" >&2
			fail "$name: expected the line '$want' (lines in order)"
		fi
		i=$((i + 1))
	done
}
