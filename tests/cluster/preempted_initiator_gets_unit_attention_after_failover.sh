#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A unit attention raised by a PR change reaches its initiator after a
# failover (SAM-5 5.14: it belongs to the I_T nexus, initiator port name +
# relative target port id, the same on both nodes). Guest B is preempted
# by guest A while B is logged in to the promoted node; B logs out without
# having sent another command, the target fails over, B logs in to the
# new promoted node and its first commands report POWER ON OCCURRED, then
# REGISTRATIONS PREEMPTED (2A/05, SPC-4 5.12.11.2.4), then GOOD.
#
#   guest1 (A, key 0xa1)   guest2 (B, key 0xb2, preempted)
#        \___ portal .100 ___/   node1 [promoted] -> node2

. "$(dirname "$0")/lab.sh"
lab_scenario_begin 240

lab_hatgt_up
lab_pr_guests 'A register 0 0xa1\nB register 0 0xb2\nA reserve 0xa1 5\nA preempt 0xa1 0xb2 5\n'
lab_log "B preempted while connected to $LAB_PROMOTED"

lab_pcs node standby "$LAB_PROMOTED" > /dev/null || lab_fail "standby $LAB_PROMOTED"
lab_failover_wait "$LAB_PEER"
out=$(printf 'B uas\n' | lab_pr "$LAB_G1" "$LAB_G2") || lab_fail "pr_client failed: $out"
lab_log "B's first commands on $LAB_PEER: $out"
case $out in
*"B uas:"*" 6/2a05"*" GOOD"*) ;;
*) lab_fail "B did not get REGISTRATIONS PREEMPTED (6/2a05) after the failover: $out" ;;
esac
lab_syslog_has "unit attention\\(s\\) kept for .*guest2" ||
	lab_fail "no log line for the kept unit attention"
# Delivered once on this node: a new login gets POWER ON only.
out=$(printf 'B uas\n' | lab_pr "$LAB_G1" "$LAB_G2") || lab_fail "pr_client failed: $out"
case $out in
*2a05*) lab_fail "REGISTRATIONS PREEMPTED reported twice on $LAB_PEER: $out" ;;
esac
exit 0
