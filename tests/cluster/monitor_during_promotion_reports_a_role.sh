#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The agent's monitor run while a promotion is in progress answers for the
# role the daemon is in (OCF_SUCCESS or OCF_RUNNING_PROMOTED), never "not
# running", and the promotion still completes. The promotion is held up by
# stopping the daemon (SIGSTOP) for a few seconds, less than the agent's
# admin_timeout (10 s), while pacemaker's promote waits for it.
#
#   node1 [promoted] --standby--> node2 [hatgtd stopped; promote waiting;
#                                        monitor by hand; SIGCONT]

. "$(dirname "$0")/lab.sh"
lab_scenario_begin 240

lab_hatgt_up
first=$LAB_PROMOTED
second=$LAB_PEER
pid=$(lab_hatgtd_pid "$second")
[ -n "$pid" ] || lab_fail "no hatgtd pid on $second"
agent=/usr/lib/ocf/resource.d/hatgt/hatgt
# shellcheck disable=SC2317 # called by lab_wait
promoting() {
	lab_on "$second" pgrep -f "$agent promote" > /dev/null
}
lab_on "$second" kill -STOP "$pid"
lab_pcs node standby "$first" > /dev/null || {
	lab_on "$second" kill -CONT "$pid"
	lab_fail "standby $first"
}
if ! lab_wait 7 "pacemaker's promote running on $second" promoting; then
	lab_on "$second" kill -CONT "$pid"
	lab_fail "no promote started on $second within 7 s"
fi
lab_on "$second" env OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE=target \
	OCF_RESKEY_config=/etc/hatgt/hatgt.conf "$agent" monitor > /dev/null 2>&1 &
mon=$!
sleep 1
lab_on "$second" kill -CONT "$pid"
wait "$mon"
rc=$?
lab_log "monitor during the promotion returned $rc"
case $rc in
0 | 8) ;;
*) lab_fail "monitor during the promotion returned $rc (want 0 or 8)" ;;
esac
lab_failover_wait "$second"
[ "$(lab_serving_count)" -le 1 ] || lab_fail "two daemons promoted"
f=$(lab_failed_actions "$second")
[ -z "$f" ] || lab_fail "failed actions after the promotion: $f"
exit 0
