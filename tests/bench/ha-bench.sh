#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# ha-bench.sh: failover as the initiator sees it, and PR OUT latency with and
# without a peer (issue 5), in the two-node lab of tests/cluster (real
# corosync + pacemaker + pcs, root, network namespaces).
#
#   LAB_BUILD=BUILDDIR tests/bench/ha-bench.sh [N_PR_OPS]
#
# 1. PR OUT latency, peer up: N REGISTER/unREGISTER pairs from one initiator;
#    every one is multicast, applied by both daemons and acknowledged.
# 2. Planned failover (pcs node standby) under a writer: longest gap.
# 3. Power-off of the promoted node (fenced): longest gap.
# 4. PR OUT latency on the survivor alone (no peer to wait for).
# 5. The powered-off node back, synced; then the promoted node's cable cut
#    (network partition, fencing decides): longest gap.
# Prints a markdown table, then for 3 and 5 where the failover time went
# (tests/cluster/timeline.py: each step from the logs, and the goal token +
# consensus + fencing + 1 s against the gap). Bounded: the lab's watchdog
# ends it after 10 min.

. "$(dirname "$0")/../cluster/lab.sh"
lab_scenario_begin 600
N=${1:-200}
G1=iqn.2026-11.org.hatgt.lab:bench1

# pr_latency_us: mean microseconds per PR OUT over N register/unregister.
pr_latency_us() {
	local script t0 t1
	script=$(for _ in $(seq 1 "$N"); do printf 'A register 0 0xbe\nA register 0xbe 0\n'; done)
	t0=$(date +%s%N)
	echo "$script" | lab_pr "$G1" "$G1" > "$LAB_DIR/pr-bench.out" ||
		lab_fail "pr_client failed: $(tail -3 "$LAB_DIR/pr-bench.out")"
	t1=$(date +%s%N)
	grep -q -v ': GOOD' "$LAB_DIR/pr-bench.out" &&
		lab_fail "a PR OUT was not GOOD: $(grep -v ': GOOD' "$LAB_DIR/pr-bench.out" | head -3)"
	echo $(((t1 - t0) / 1000 / (2 * N)))
}

lab_hatgt_up
old=$LAB_PROMOTED
new=$LAB_PEER
pr_peer=$(pr_latency_us)
lab_log "PR OUT with a peer: $pr_peer us (mean of $((2 * N)), login included)"

lab_writer_start 20
sleep 5
lab_pcs node standby "$old" > /dev/null || lab_fail "standby $old"
lab_failover_wait "$new"
lab_writer_wait || lab_fail "the writer did not finish"
planned_gap=$(lab_writer_gap_ms)
planned_acks=$(lab_writer_acks)
lab_writer_verify || lab_fail "acknowledged writes lost in the planned failover"
lab_pcs node unstandby "$old" > /dev/null || lab_fail "unstandby $old"
lab_wait 60 "$old synced" lab_role_is "$old" unpromoted || lab_fail "$old not synced"

lab_writer_start 25
sleep 5
rm -f "$LAB_DIR/events.txt"
lab_event fault power-off of "$new"
lab_node_kill "$new"
lab_failover_wait "$old"
lab_writer_wait || lab_fail "the writer did not finish"
poweroff_gap=$(lab_writer_gap_ms)
poweroff_acks=$(lab_writer_acks)
lab_writer_verify || lab_fail "acknowledged writes lost in the power-off failover"
poweroff_timeline=$(lab_timeline "$old" "$new")

pr_alone=$(pr_latency_us)
lab_log "PR OUT without a peer: $pr_alone us"

# Partition: $new back and synced, then $old (promoted) cut off; $new wins.
lab_node_start "$new"
lab_wait_cluster 60 || lab_fail "$new did not rejoin"
lab_wait 60 "$new synced" lab_role_is "$new" unpromoted || lab_fail "$new not synced"
lab_writer_start 25
sleep 5
rm -f "$LAB_DIR/events.txt"
lab_event fault cable cut of "$old"
ip -n "$LAB_SW" link set "v-$old" down
lab_wait 30 "$new promoted, $old fenced" sh -c \
	"! grep -q '^populated 1' '$LAB_CG/$old/cgroup.events'" || lab_fail "$old not fenced"
lab_failover_wait "$new"
lab_writer_wait || lab_fail "the writer did not finish"
partition_gap=$(lab_writer_gap_ms)
partition_acks=$(lab_writer_acks)
lab_writer_verify || lab_fail "acknowledged writes lost in the partition"
partition_timeline=$(lab_timeline "$new" "$old")

cat << EOF2

| measure | value |
|---|---:|
| PR OUT latency, peer up (mean, $((2 * N)) commands) | ${pr_peer} µs |
| PR OUT latency, survivor alone | ${pr_alone} µs |
| planned failover (pcs node standby), longest I/O gap | ${planned_gap} ms ($planned_acks writes, 0 lost) |
| power-off of the promoted node, longest I/O gap | ${poweroff_gap} ms ($poweroff_acks writes, 0 lost) |
| network partition (promoted node cut off), longest I/O gap | ${partition_gap} ms ($partition_acks writes, 0 lost) |

corosync token $(lab_on "$new" corosync-cmapctl -g runtime.config.totem.token 2> /dev/null |
	awk '{print $NF}') ms; load: $(cut -d' ' -f1-3 /proc/loadavg)

Where the failover time goes (docs/ha.md), power-off:

$poweroff_timeline

Network partition:

$partition_timeline
EOF2
exit 0
