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
