#!/bin/bash
# libiscsi's compliance suite ALL.MultipathIO, over two sessions to the
# same LU (two URLs), passes with no failure and no skip.
# shellcheck source=pr_lib.sh
. "${srcdir:-.}/pr_lib.sh"
need_tool iscsi-test-cu awk
it_setup
add_target -s 64M "$IT_CU_TARGET"
daemon_start
out=$T/cu.out
tool iscsi-test-cu -d -S -i "$INIT1" -I "$INIT2" -t ALL.MultipathIO \
	"$(url "$IT_CU_TARGET" 0)" "$(url "$IT_CU_TARGET" 0)" > "$out" 2>&1 || true
counts=$(awk -f "$IT_LIBDIR/cu-parse.awk" "$out" |
	awk -F'\t' '{ n[$3]++ } END { printf "%d %d %d", n["passed"], n["failed"], n["skipped"] }')
read -r passed failed skipped <<< "$counts"
it_log "ALL.MultipathIO: $passed passed, $failed failed, $skipped skipped"
if [ "$failed" -ne 0 ] || [ "$skipped" -ne 0 ] || [ "$passed" -eq 0 ]; then
	cat "$out" >&2
	fail "ALL.MultipathIO: $failed failed, $skipped skipped, $passed passed"
fi
