#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Unplanned failover: the promoted node is powered off (cgroup.kill) while
# the client writes. The survivor fences it (fence_hatgt_lab, confirmed in
# its fencing history), is promoted, and the writer continues; every
# acknowledged write reads back and the longest gap is at most token +
# consensus + fencing + 1 s (GAP_MAX_MS, default 6000 with token 1000 ms).
#
#   client .50 --> portal .100 on node1 [promoted]  <- power-off
#                                  node2 fences node1, is promoted

. "$(dirname "$0")/lab.sh"
lab_scenario_begin 240
GAP_MAX_MS=${GAP_MAX_MS:-6000}

lab_up
lab_hatgt_deploy || lab_fail "deployment did not come up"
victim=$(lab_promoted_node)
survivor=$(lab_other "$victim")
lab_wait 30 "$survivor unpromoted" lab_role_is "$survivor" unpromoted ||
	lab_fail "$survivor is not an unpromoted, synced instance"

lab_writer_start 25
sleep 6
lab_node_kill "$victim"
lab_wait 40 "target promoted on $survivor" lab_promoted_is "$survivor" ||
	lab_fail "no failover to $survivor"
lab_writer_wait || lab_fail "writer"
[ "$(lab_fence_count "$survivor" "$victim")" -ge 1 ] ||
	lab_fail "$survivor did not fence $victim"
acks=$(lab_writer_acks)
gap=$(lab_writer_gap_ms)
lab_log "power-off failover: $acks acknowledged writes, longest gap ${gap} ms"
lab_writer_verify || lab_fail "acknowledged writes lost"
[ "$gap" -le "$GAP_MAX_MS" ] || lab_fail "longest gap ${gap} ms > ${GAP_MAX_MS} ms"

lab_node_start "$victim"
lab_wait_cluster 60 || lab_fail "$victim did not rejoin"
lab_wait 60 "$victim synced again" lab_role_is "$victim" unpromoted ||
	lab_fail "$victim did not come back unpromoted"
exit 0
