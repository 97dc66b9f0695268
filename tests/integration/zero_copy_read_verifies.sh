#!/bin/bash
# Zero-copy READs (Data-In sent with sendmsg straight from a mapping of the LUN file,
# docs/performance.md step 7) return the right data: hatgt-load -V writes a
# pattern that names each block's LBA and checks every block read, at 1 MiB,
# 128 KiB and 4 KiB (random, reads and writes mixed, so that reads race with
# writes to other blocks) and in 1 MiB sequential reads: 0 mismatches.
# The LUN lives in TMPDIR (/tmp: page cache; zero_copy_read_tmpfs_verifies.sh
# runs this on tmpfs).
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
LOAD=${HATGT_LOAD:-${HATGTD%/daemon/hatgtd}/tests/bench/hatgt-load}
[ -x "$LOAD" ] || skip "hatgt-load not built: $LOAD (make -C tests/bench)"
it_setup
TGT=iqn.2026-11.org.hatgt.test:zc
add_target -s 64M "$TGT"
daemon_start
for opts in "-b 1M -p rand -r 50 -q 8" "-b 128K -p rand -r 70 -q 16" \
	"-b 4K -p rand -r 50 -q 32" "-b 1M -p seq -r 100 -q 8"; do
	# shellcheck disable=SC2086 # a word list on purpose
	out=$(tool "$LOAD" -i "$INIT1" -V -t 2 -w 0 $opts "$(url "$TGT" 0)" 2>&1) ||
		fail "hatgt-load $opts failed: $out"
	case " $out " in
	*" mismatches=0 "*) ;;
	*) fail "hatgt-load $opts: data did not verify: $out" ;;
	esac
	printf '%s\n' "$out" | grep -q ' errors=0 ' || fail "hatgt-load $opts: I/O errors: $out"
	printf '%s\n' "$out" | grep -Eq ' reads=[1-9]' || fail "hatgt-load $opts: no reads: $out"
done
