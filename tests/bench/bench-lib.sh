# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Helpers sourced by the benchmark scripts in tests/bench/. The sourcing
# script sets BENCH_NAME (for messages) before sourcing. Every wait is
# bounded.

bench_log() {
	printf '%s: %s\n' "$BENCH_NAME" "$*" >&2
}

bench_die() {
	bench_log "ERROR: $*"
	exit 1
}

# bench_shm_dir: tmpfs for LUN files when writable, else $TMPDIR or /tmp.
bench_shm_dir() {
	if [ -d /dev/shm ] && [ -w /dev/shm ]; then
		echo /dev/shm
	else
		echo "${TMPDIR:-/tmp}"
	fi
}

# bench_port_free PORT: true if nothing accepts on 127.0.0.1:PORT.
bench_port_free() {
	! timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2> /dev/null
}

# bench_pick_port: print a random free port (50 tries).
bench_pick_port() {
	local i p
	for i in $(seq 1 50); do
		p=$((20000 + (RANDOM * 32768 + RANDOM + i) % 40000))
		if bench_port_free "$p"; then
			echo "$p"
			return 0
		fi
	done
	bench_die "no free TCP port"
}

# bench_wait_port PORT PID [TENTHS]: wait until PORT accepts (TENTHS of a
# second, 100); false if PID exits first or time runs out.
bench_wait_port() {
	local i
	for i in $(seq 1 "${3:-100}"); do
		kill -0 "$2" 2> /dev/null || return 1
		bench_port_free "$1" || return 0
		sleep 0.1
	done
	return 1
}

# bench_wait_pid PID SECS: wait up to SECS for PID (not necessarily our
# child) to exit; false on timeout.
bench_wait_pid() {
	timeout "$2" tail --pid="$1" -f /dev/null 2> /dev/null
}

# bench_stop PID...: SIGTERM, 10 s grace, then SIGKILL; reaps our children.
bench_stop() {
	local p
	for p in "$@"; do
		kill -TERM "$p" 2> /dev/null
	done
	for p in "$@"; do
		bench_wait_pid "$p" 10 || kill -KILL "$p" 2> /dev/null
		wait "$p" 2> /dev/null
	done
	return 0
}

# compare-tgt.sh's six workloads (issue 6), names for bench_workload_opts.
BENCH_SIX='4k-randread-qd1 4k-randread-qd32 4k-randwrite-qd32 1m-seqread-qd8 1m-seqwrite-qd8 4x-4k-randread-qd32'
export BENCH_SIX

# The target name floor-target (floor.sh) answers to.
BENCH_FLOOR_IQN=iqn.2026-11.org.hatgt.floor:disk
export BENCH_FLOOR_IQN

# bench_workload_opts NAME: the hatgt-load options of a named workload;
# false for an unknown name.
bench_workload_opts() {
	case $1 in
	4k-randread-qd1) echo "-b 4K -p rand -r 100 -q 1" ;;
	4k-randread-qd32) echo "-b 4K -p rand -r 100 -q 32" ;;
	4k-randwrite-qd1) echo "-b 4K -p rand -r 0 -q 1" ;;
	4k-randwrite-qd32) echo "-b 4K -p rand -r 0 -q 32" ;;
	4x-4k-randread-qd32) echo "-s 4 -b 4K -p rand -r 100 -q 32" ;;
	1m-seqread-qd8) echo "-b 1M -p seq -r 100 -q 8" ;;
	1m-seqwrite-qd8) echo "-b 1M -p seq -r 0 -q 8" ;;
	64k-seqread-qd8) echo "-b 64K -p seq -r 100 -q 8" ;;
	128k-seqread-qd8) echo "-b 128K -p seq -r 100 -q 8" ;;
	*) return 1 ;;
	esac
}

# bench_hatgtd_conf PORT DIR ADMIN IQN: a hatgtd configuration on stdout
# with one target IQN whose lun0 is DIR/lun0.img (state in DIR/state).
bench_hatgtd_conf() {
	cat << EOF
[global]
listen = 127.0.0.1:$1
state_dir = $2/state
admin_name = $3
log_level = warning
${HATGT_POLL_US:+poll_us = $HATGT_POLL_US}

[target $4]
lun0 = $2/lun0.img
EOF
}

# bench_cpu_ticks PID: utime + stime of the whole process (all threads), in
# clock ticks (/proc/PID/stat; the command name, field 2, may hold spaces,
# so the fields are counted after its ')'). The kernel scales both to the
# scheduler's exact runtime, so differences are precise.
bench_cpu_ticks() {
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

# bench_cpu_us_per_io TICKS IOS: CPU microseconds per I/O, two decimals.
bench_cpu_us_per_io() {
	awk -v t="$1" -v hz="$(getconf CLK_TCK)" -v n="$2" 'BEGIN { printf "%.2f", t * 1e6 / hz / n }'
}

# bench_median: the median of the numbers on stdin, one per line ("n/a" for
# none).
bench_median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2
	}'
}

# bench_raw_values RAW TAG NAME KEY: the values of KEY=value, one per line,
# on the lines of RAW that start with "TAG NAME" (bench_run_load's lines).
bench_raw_values() {
	awk -v t="$2" -v n="$3" -v k="$4=" '$1 == t && $2 == n {
		for (i = 3; i <= NF; i++) if (index($i, k) == 1) print substr($i, length(k) + 1)
	}' "$1"
}

# bench_raw_median RAW TAG NAME KEY: the median of those values.
bench_raw_median() {
	bench_raw_values "$@" | bench_median
}

# bench_run_load PID RAW ERRFILE TAG NAME URL OPTS: one hatgt-load run
# ($HATGT_LOAD as initiator $INIT, $DUR s measured after $WARM s warm-up,
# options OPTS) against URL, with the CPU time of the server process PID
# sampled around it (warm-up and login included, divided by every I/O
# completed). Appends "TAG NAME cpu_us_per_io=X <hatgt-load's line>" to
# RAW and logs the main figures; dies when the run fails or completes no I/O.
bench_run_load() {
	local pid=$1 raw=$2 err=$3 tag=$4 name=$5 url=$6 opts=$7 c0 c1 line ios
	kill -0 "$pid" 2> /dev/null || bench_die "$tag is gone"
	c0=$(bench_cpu_ticks "$pid")
	# shellcheck disable=SC2086 # opts is a word list on purpose
	line=$(timeout -k 5 $((${DUR%.*} + ${WARM%.*} + 30)) "$HATGT_LOAD" -i "$INIT" \
		-t "$DUR" -w "$WARM" -L "$tag/$name" $opts "$url" 2> "$err") ||
		bench_die "$tag $name failed: $(cat "$err")"
	c1=$(bench_cpu_ticks "$pid")
	ios=$(printf '%s\n' "$line" | sed -n 's/.* ios_total=\([0-9]*\).*/\1/p')
	if [ -z "$ios" ] || [ "$ios" -eq 0 ]; then
		bench_die "$tag $name: no I/O completed: $line"
	fi
	printf '%s %s cpu_us_per_io=%s %s\n' "$tag" "$name" \
		"$(bench_cpu_us_per_io $((c1 - c0)) "$ios")" "$line" >> "$raw"
	bench_log "$tag $name: $(tail -n 1 "$raw" | grep -o -E '(iops|mbps|lat_us_p99|cpu_us_per_io)=[0-9.]+' | tr '\n' ' ')"
}
