#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Unplanned failover: the promoted node is powered off (cgroup.kill) while
# the client writes. The survivor fences it (fence_hatgt_lab, confirmed in
# its fencing history), is promoted, and the writer continues; every
# acknowledged write reads back, and the longest I/O gap stays within issue
# 5's goal, token + consensus + fencing + 1 s, plus LAB_GOAL_MARGIN
# (lab_timeline_check: the timeline of the run says where the time went).
#
#   client .50 --> portal .100 on node1 [promoted]  <- power-off
#                                  node2 fences node1, is promoted

. "$(dirname "$0")/lab.sh"
lab_scenario_begin 240
# A hung failover fails here; the goal is checked from the timeline below.
GAP_MAX_MS=${GAP_MAX_MS:-30000}

lab_hatgt_up
# LAB_VICTIM=dc: power off pacemaker's DC (the survivor first elects
# itself); LAB_VICTIM=peer: the survivor is the DC already. Default: the
# node the deployment promoted.
dc=$(lab_dc_node)
lab_log "pacemaker's DC is $dc"
case ${LAB_VICTIM:-any} in
dc) lab_promote_on "$dc" ;;
peer) lab_promote_on "$(lab_other "$dc")" ;;
esac
victim=$LAB_PROMOTED
survivor=$LAB_PEER

lab_writer_start 25
sleep 6
lab_event fault power-off of "$victim"
lab_node_kill "$victim"
lab_failover_wait "$survivor"
lab_fenced "$survivor" "$victim" || lab_fail "$survivor did not fence $victim"
lab_writer_check "power-off failover" "$GAP_MAX_MS"
# The timeline first (where the time went), then its verdict on issue 5's
# goal, token + consensus + fencing + 1 s, plus LAB_GOAL_MARGIN.
over=0
lab_timeline_check "$survivor" "$victim" >&2 || over=1
# docs/replication.md "Connection hints": the survivor knew the writer's
# connection and tickled it once the portal address was up.
lab_syslog_has "tickle ACKs sent to [1-9]" ||
	lab_fail "the promoted survivor sent no tickle ACK ($(grep -h 'tickle' "$LAB_DIR/syslog.log" | tail -n 2 | tr '\n' ' '))"
[ "$over" -eq 0 ] || lab_fail "longest I/O gap above the goal (see the check line)"

lab_node_start "$victim"
lab_wait_cluster 60 || lab_fail "$victim did not rejoin"
lab_wait 60 "$victim synced again" lab_role_is "$victim" unpromoted ||
	lab_fail "$victim did not come back unpromoted"
exit 0
