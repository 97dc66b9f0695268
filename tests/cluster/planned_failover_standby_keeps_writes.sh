#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Planned failover: `pcs node standby` on the promoted node while the client
# writes continuously. The peer is promoted, the portal IP follows, the
# writer logs in again; every acknowledged write reads back, the longest gap
# between acknowledgements is at most 2 s (issue 5 goal), and at no sampled
# moment do two daemons serve.
#
#   client .50 (hatgt-writer) --> portal .100 on node1 [promoted] --standby--> node2

. "$(dirname "$0")/lab.sh"
lab_scenario_begin 240
GAP_MAX_MS=${GAP_MAX_MS:-2000}

lab_up
lab_hatgt_deploy || lab_fail "deployment did not come up"
old=$(lab_promoted_node)
new=$(lab_other "$old")
lab_log "promoted on $old"

lab_writer_start 25
sleep 6
lab_pcs node standby "$old" || lab_fail "pcs node standby $old"
lab_wait 30 "target promoted on $new" lab_promoted_is "$new" || lab_fail "no failover to $new"
two=0
for _ in 1 2 3 4 5 6 7 8 9 10; do
	[ "$(lab_serving_count)" -le 1 ] || two=1
	sleep 0.5
done
lab_writer_wait || lab_fail "writer"
[ "$(lab_promoted_node)" = "$new" ] || lab_fail "target not promoted on $new"
[ "$two" -eq 0 ] || lab_fail "two daemons said promoted at the same time"
acks=$(lab_writer_acks)
gap=$(lab_writer_gap_ms)
lab_log "planned failover: $acks acknowledged writes, longest gap ${gap} ms"
lab_writer_verify || lab_fail "acknowledged writes lost"
[ "$gap" -le "$GAP_MAX_MS" ] || lab_fail "longest gap ${gap} ms > ${GAP_MAX_MS} ms"
lab_pcs node unstandby "$old" > /dev/null || true
exit 0
