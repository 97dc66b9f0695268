#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Network partition: the promoted node's cable is cut (its switch port goes
# down) while the client writes. Both nodes lose each other and race to
# fence; fence_heuristics_ping in the fencing level makes the isolated node
# lose (it cannot reach the client). The survivor fences it and is promoted.
# At no sampled moment (every 0.3 s) do two daemons report "promoted",
# every acknowledged write reads back, and the longest I/O gap stays within
# issue 5's goal (lab_timeline_check).
#
#   client .50 --- switch --X-- node1 [promoted]   (cable cut)
#                         \---- node2              (wins the fence race)

. "$(dirname "$0")/lab.sh"
lab_scenario_begin 240

lab_hatgt_up
cut=$LAB_PROMOTED
survivor=$LAB_PEER

lab_writer_start 30
sleep 5
lab_event fault cable cut of "$cut"
ip -n "$LAB_SW" link set "v-$cut" down
lab_log "cable of $cut cut"
two=0
end=$(($(date +%s) + 30))
until lab_promoted_is "$survivor" && ! lab_node_powered "$cut"; do
	[ "$(date +%s)" -lt "$end" ] || lab_fail "no clean takeover by $survivor within 30 s"
	[ "$(lab_serving_count)" -le 1 ] || two=1
	sleep 0.3
done
[ "$two" -eq 0 ] || lab_fail "two daemons reported promoted at the same time"
lab_fenced "$survivor" "$cut" || lab_fail "$survivor did not fence $cut"
lab_writer_check partition 0
# The timeline first (where the time went), then its verdict on issue 5's
# goal, token + consensus + fencing + 1 s, plus LAB_GOAL_MARGIN.
over=0
lab_timeline_check "$survivor" "$cut" >&2 || over=1
# docs/replication.md "Connection hints": the survivor knew the writer's
# connection and tickled it once the portal address was up.
lab_syslog_has "tickle ACKs sent to [1-9]" ||
	lab_fail "the promoted survivor sent no tickle ACK ($(grep -h 'tickle' "$LAB_DIR/syslog.log" | tail -n 2 | tr '\n' ' '))"
[ "$over" -eq 0 ] || lab_fail "longest I/O gap above the goal (see the check line)"
exit 0
