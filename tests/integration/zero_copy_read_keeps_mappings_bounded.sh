#!/bin/bash
# Zero-copy READs keep hatgtd's mappings of a LUN bounded: the store is mapped
# in 64 MiB windows, at most 16 at a time (docs/performance.md, step 7), so
# reading a 2 GiB tmpfs LUN three times over in 1 MiB sequential reads (6 GiB,
# 6x the 1 GiB cap, every READ sent from a mapping) leaves at most ~1 GiB of
# it in hatgtd's RSS (RssShmem on tmpfs, RssFile on other file systems) and
# ~2 MiB in its page tables (VmPTE). One mapping of the whole LUN grew both
# with every byte read: 2 GiB and 4 MiB here, 8 GiB of page tables for a
# 4 TiB LUN. The reads verify (hatgt-load -V).
if [ ! -d /dev/shm ] || [ ! -w /dev/shm ]; then
	echo "SKIP: no writable /dev/shm" >&2
	exit 77
fi
# 2 GiB of tmpfs for the LUN.
avail=$(df -k --output=avail /dev/shm 2> /dev/null | tail -n 1)
if [ -z "$avail" ] || [ "$avail" -lt $((3 * 1024 * 1024)) ]; then
	echo "SKIP: less than 3 GiB free in /dev/shm" >&2
	exit 77
fi
export TMPDIR=/dev/shm
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
LOAD=${HATGT_LOAD:-${HATGTD%/daemon/hatgtd}/tests/bench/hatgt-load}
[ -x "$LOAD" ] || skip "hatgt-load not built: $LOAD (make -C tests/bench)"
IT_TOOL_TIMEOUT=120
it_setup
TGT=iqn.2026-11.org.hatgt.test:bounded
add_target -s 2G "$TGT"
daemon_start

# status_kb FIELD: FIELD of /proc/$DAEMON_PID/status, in KiB.
status_kb() {
	awk -v f="$1:" '$1 == f { print $2 }' "/proc/$DAEMON_PID/status"
}
rss_kb() {
	echo $(($(status_kb RssFile) + $(status_kb RssShmem)))
}

# Write the whole LUN (tmpfs pages present: the READs below are zero-copy).
tool "$LOAD" -i "$INIT1" -V -q 8 -b 1M -p seq -r 0 -n 2048 "$(url "$TGT" 0)" > /dev/null 2>&1 ||
	fail "writing the LUN failed"
rss0=$(rss_kb)
pte0=$(status_kb VmPTE)
out=$(tool "$LOAD" -i "$INIT1" -V -q 8 -b 1M -p seq -r 100 -n 6144 "$(url "$TGT" 0)" 2>&1) ||
	fail "reading the LUN failed: $out"
case " $out " in
*" mismatches=0 "*) ;;
*) fail "data did not verify: $out" ;;
esac
case " $out " in
*" unwritten_blocks=0 "*) ;;
*) fail "blocks read back unwritten: $out" ;;
esac
rss1=$(rss_kb)
pte1=$(status_kb VmPTE)
it_log "RssFile+RssShmem ${rss0} -> ${rss1} KiB, VmPTE ${pte0} -> ${pte1} KiB"
# The cap: 16 windows of 64 MiB = 1 GiB of pages and 2 MiB of page tables
# (8 bytes per 4 KiB page), plus 64 MiB and 512 KiB of slack; counted from
# before the reads (a sanitizer build starts with ~2 MiB of page tables).
[ $((rss1 - rss0)) -le $((1024 * 1024 + 64 * 1024)) ] ||
	fail "RssFile+RssShmem grew by $((rss1 - rss0)) KiB reading 6 GiB: over 1 GiB + 64 MiB"
[ $((pte1 - pte0)) -le $((2048 + 512)) ] ||
	fail "VmPTE grew by $((pte1 - pte0)) KiB reading 6 GiB: over 2.5 MiB"
