#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The bare lab cluster with real fencing: a Dummy resource and the portal IP
# (IPaddr2) on one node; powering that node off makes the survivor fence it
# with fence_hatgt_lab and take the IP over, and the portal answers pings
# from the client again within token + consensus + fencing + 1 s.
#
#   client .50 --- switch --- node1 .11  [dummy, ip .100]   <- power-off
#                         \-- node2 .12  (fences node1, takes dummy + ip)

. "$(dirname "$0")/lab.sh"
lab_scenario_begin 150

lab_up
F=$LAB_DIR/cib-bare.xml
lab_cib_pull "$F"
lab_stonith_add "$F" || lab_fail "stonith configuration refused"
lab_cib_pcs "$F" resource create dummy ocf:pacemaker:Dummy op monitor interval=5s ||
	lab_fail "pcs resource create dummy"
lab_cib_pcs "$F" resource create ip ocf:heartbeat:IPaddr2 ip="$LAB_PORTAL_IP" \
	cidr_netmask=24 op monitor interval=5s || lab_fail "pcs resource create ip"
lab_cib_pcs "$F" constraint colocation add ip with dummy || lab_fail "colocation"
lab_cib_push "$F" || lab_fail "cib-push"
lab_wait 30 "portal IP answers" lab_client ping -c 1 -W 1 "$LAB_PORTAL_IP" ||
	lab_fail "the portal IP never came up"

victim=$(lab_resource_node ip)
[ -n "$victim" ] || lab_fail "ip is not running anywhere"
survivor=$(lab_other "$victim")
lab_log "ip runs on $victim; powering it off"
t0=$(date +%s%N)
lab_node_kill "$victim"
lab_wait 30 "portal IP answers after the power-off" \
	lab_client ping -c 1 -W 1 "$LAB_PORTAL_IP" || lab_fail "the IP did not move"
t1=$(date +%s%N)
lab_log "portal IP back after $(((t1 - t0) / 1000000)) ms"
lab_fenced "$survivor" "$victim" ||
	lab_fail "$survivor has no successful fencing of $victim in its history"
[ "$(lab_resource_node ip)" = "$survivor" ] || lab_fail "ip is not on $survivor"

lab_node_start "$victim"
lab_wait_cluster 60 || lab_fail "$victim did not rejoin"
exit 0
