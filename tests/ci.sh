#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build hatgt and run every check, as CI does. Run from anywhere in a clone:
#
#   ./tests/ci.sh [-j N]
#
# 1. autoreconf -fi
# 2. build/: configure (-Werror), make, make check (unit + integration)
# 3. build-san/: the same with --enable-sanitizers (ASan + UBSan)
# 4. build-fuzz/: libFuzzer targets (clang), corpus replay, 20 s each
# 5. shellcheck on every shell script, cppcheck on the C sources
# 6. clang-format --dry-run: reported, not (yet) fatal; CI_STRICT_FORMAT=1
#    makes it fatal
# Then the logs of failed tests, per-directory counts and, alone on the last
# line, "N passed, N failed, N skipped" over both builds (a failed stage
# counts as one failure). Exits non-zero if anything failed.
#
# Needs the packages of scripts/install-deps.sh. Takes about 5-10 minutes.

set -u

top=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc 2> /dev/null || echo 2)
while [ $# -gt 0 ]; do
	case $1 in
	-j)
		[ $# -ge 2 ] || {
			echo "usage: $0 [-j N]" >&2
			exit 2
		}
		jobs=$2
		shift
		;;
	-j*) jobs=${1#-j} ;;
	*)
		echo "usage: $0 [-j N]" >&2
		exit 2
		;;
	esac
	shift
done
cd "$top" || exit 2

failed_stages=()
# Longest a `make check` may take before it is stopped (seconds).
check_timeout=${CI_CHECK_TIMEOUT:-600}

# Each stage's output also goes to ci-logs/NAME.log; the summary repeats the
# end of a failed stage's log, so a CI that keeps only the last lines of the
# output still shows why it failed.
logdir=$top/ci-logs
rm -rf "$logdir" && mkdir -p "$logdir"

ci_stage() {
	local name=$1 start=$SECONDS st
	shift
	echo "==== $name: $*"
	"$@" 2>&1 | tee "$logdir/$name.log"
	st=${PIPESTATUS[0]}
	if [ "$st" -eq 0 ]; then
		echo "==== $name: ok ($((SECONDS - start)) s)"
		return 0
	fi
	echo "==== $name: FAILED ($((SECONDS - start)) s)"
	failed_stages+=("$name")
	return 1
}

# ci_build DIR CONFIGURE_ARGS...: a fresh out-of-tree build.
ci_build() {
	local dir=$1
	shift
	rm -rf "$dir" && mkdir -p "$dir" &&
		(cd "$dir" && "$top/configure" -q --enable-werror "$@") &&
		make -C "$dir" -j"$jobs"
}

# ci_check DIR: make check, bounded in time; -k to run every directory's tests.
ci_check() {
	timeout -k 10 "$check_timeout" make -C "$1" -k -j"$jobs" check > "$1/check.out" 2>&1
	local st=$?
	grep -E '^(PASS|FAIL|SKIP|ERROR|XPASS|XFAIL):' "$1/check.out"
	[ "$st" -eq 0 ] || tail -n 40 "$1/check.out"
	return "$st"
}

# Shell scripts: *.sh, .ci/run and files whose first line names a shell.
ci_shell_scripts() {
	local f
	git ls-files 2> /dev/null | while IFS= read -r f; do
		[ -f "$f" ] || continue
		case $f in
		build-aux/* | configure) continue ;;
		*.sh | .ci/run) echo "$f" ;;
		*)
			head -n1 "$f" 2> /dev/null | grep -Eq '^#!.*/(env +)?(ba|da)?sh\b' && echo "$f"
			;;
		esac
	done
}

ci_shellcheck() {
	local files
	mapfile -t files < <(ci_shell_scripts)
	[ "${#files[@]}" -gt 0 ] || return 0
	# SC1091: sourced files outside the tree (ocf-shellfuncs) are not followed.
	shellcheck -x -P SCRIPTDIR -e SC1091 "${files[@]}"
}

ci_cppcheck() {
	local files
	mapfile -t files < <(git ls-files '*.c' '*.h')
	[ "${#files[@]}" -gt 0 ] || return 0
	cppcheck -q --error-exitcode=1 --std=c11 --enable=warning,portability --inline-suppr \
		--suppress=missingIncludeSystem -I daemon -I . "${files[@]}"
}

ci_format() {
	local f bad=()
	while IFS= read -r f; do
		clang-format --dry-run --Werror "$f" > /dev/null 2>&1 || bad+=("$f")
	done < <(git ls-files '*.c' '*.h')
	[ "${#bad[@]}" -eq 0 ] && return 0
	echo "not clang-formatted: ${#bad[@]} file(s):"
	printf '  %s\n' "${bad[@]}"
	[ "${CI_STRICT_FORMAT:-1}" = 1 ] && return 1
	echo "(not fatal with CI_STRICT_FORMAT=0)"
	return 0
}

# ---- the two-node lab (issue 5, tests/cluster; docs/ha.md) -------------
# Real corosync + pacemaker + pcs in network namespaces: agent and fence
# agent checks, planned failover, power-off, partition, PR state across
# failovers. run.sh bounds the whole run (LAB_TOTAL_SECS, 900 s).
ci_cluster() {
	[ "$(id -u)" -eq 0 ] || {
		echo "not root: the cluster lab is skipped"
		return 0
	}
	make -C build -j"$jobs" && make -C build/tests/integration pr_client &&
		make -C build/tests/cluster check-cluster
}

# ---- fuzzing (issue 7, tests/fuzz; docs/fuzzing.md) ---------------------
# build-fuzz/: clang with libFuzzer, ASan and UBSan; replay the seed corpora
# (make check in tests/fuzz), then fuzz each target for CI_FUZZ_SECONDS (20).
# Without clang the stage is skipped with a note.
ci_fuzz() {
	command -v clang > /dev/null 2>&1 || {
		echo "clang not found: fuzzing skipped"
		return 0
	}
	# libFuzzer's runtime is in libclang-rt-14-dev (only recommended by clang).
	printf 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }\n' |
		clang -x c -fsanitize=fuzzer -o /dev/null - > /dev/null 2>&1 || {
		echo "clang cannot link -fsanitize=fuzzer (install libclang-rt-14-dev): fuzzing skipped"
		return 0
	}
	ci_build build-fuzz --enable-fuzzing --enable-sanitizers CC=clang \
		CFLAGS="-g -O1 -fsanitize=fuzzer-no-link" &&
		make -C build-fuzz/tests/fuzz check &&
		tests/fuzz/run.sh -t "${CI_FUZZ_SECONDS:-20}" -j "$jobs" -b build-fuzz \
			-w "$top/build-fuzz/fuzz-work"
}
# ---- end of fuzzing ------------------------------------------------------

export MALLOC_PERTURB_=165
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

if ci_stage autoreconf autoreconf -fi; then
	ci_stage build ci_build build && ci_stage check ci_check build
	ci_stage build-san ci_build build-san --enable-sanitizers &&
		ci_stage check-san ci_check build-san
	ci_stage fuzz ci_fuzz
	ci_stage cluster ci_cluster
fi
ci_stage shellcheck ci_shellcheck
ci_stage cppcheck ci_cppcheck
ci_stage clang-format ci_format

args=()
for s in ${failed_stages[@]+"${failed_stages[@]}"}; do
	args+=(--stage-failed "$s")
done
for s in ${failed_stages[@]+"${failed_stages[@]}"}; do
	echo "==== failed stage $s: the last lines of ci-logs/$s.log"
	tail -n "${CI_FAILED_TAIL:-60}" "$logdir/$s.log"
done
echo "==== summary"
exec "$top/tests/run-summary.sh" ${args[@]+"${args[@]}"} build build-san
