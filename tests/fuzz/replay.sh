#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# `make check` in tests/fuzz: run one fuzz target once over each file of its
# seed corpus, a regression test of a few seconds. Reproducers of crashes
# not fixed yet wait in crashes/NAME/ (replay them by hand: ./fuzz_NAME
# FILE); once fixed, a reproducer moves into corpus/NAME/ and is replayed
# here from then on. Called by automake's test driver as: replay.sh ./fuzz_NAME
set -u
prog=$1
name=${prog##*/}
src=${FUZZ_SRCDIR:-$(dirname "$0")}
inputs=()
# Seeds live in corpus/NAME or corpus/NAME-without-fuzz_ (pr_out, repl).
for d in "$src/corpus/$name" "$src/corpus/${name#fuzz_}"; do
	[ -d "$d" ] || continue
	for f in "$d"/*; do
		[ -f "$f" ] && inputs+=("$f")
	done
done
if [ "${#inputs[@]}" -eq 0 ]; then
	echo "$name: no seed inputs in $src/corpus/$name" >&2
	exit 99
fi
echo "$name: replaying ${#inputs[@]} input(s)"
# libFuzzer exits 77 on a crash by default, which automake counts as SKIP.
exec "$prog" -timeout=25 -error_exitcode=1 "${inputs[@]}"
