#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A joiner whose config differs in a LUN identity (here the serial) is
# refused (docs/ha.md "Faults"): its hatgtd logs the config digest
# mismatch and leaves the replication group, the agent's monitor fails it
# with OCF_ERR_ARGS (a hard error on that node only: pacemaker stops it
# there and does not retry), it is never promoted, and the promoted node
# keeps serving with its PR state, completing PR commands without it.
#
#   node1 [promoted, config X]   node2 [restarted with config X', refused]

. "$(dirname "$0")/lab.sh"
lab_scenario_begin 240

lab_hatgt_up
lab_pr_guests 'A register 0 0xa1\nB register 0 0xb2\nA reserve 0xa1 5\n'
before=$(lab_pr_state) || lab_fail "cannot read the PR state"

first=$LAB_PROMOTED
second=$LAB_PEER
echo "lun0_serial = mismatch0001" >> "$LAB_DIR/$second/etc-hatgt/hatgt.conf"
pid=$(lab_hatgtd_pid "$second")
[ -n "$pid" ] || lab_fail "no hatgtd pid on $second"
# Pacemaker's monitor finds it gone and starts it again: with the new config.
lab_on "$second" kill -KILL "$pid"
lab_log "hatgtd on $second killed; pacemaker restarts it with a different serial"

refused() {
	lab_failed_actions "$first" | grep "node=\"$second\"" | grep -q 'exitstatus="invalid parameter"\|exitreason="[^"]*config digest mismatch'
}
i=0
while ! refused; do
	i=$((i + 1))
	[ "$i" -le 90 ] || lab_fail "pacemaker did not record a hard failure of $second: $(lab_failed_actions "$first")"
	[ "$(lab_serving_count)" -le 1 ] || lab_fail "two daemons promoted"
	[ "$(lab_hatgt_role "$second")" != promoted ] || lab_fail "$second was promoted"
	sleep 1
done
lab_log "failed action: $(lab_failed_actions "$first" | grep "node=\"$second\"" | head -n 1)"
lab_syslog_has "config digest mismatch" || lab_fail "no 'config digest mismatch' log line"
lab_log "log: $(grep -E 'config digest mismatch' "$LAB_DIR/syslog.log" | head -n 1)"

# Not retried on that node, never promoted; the other keeps serving.
for i in 1 2 3 4 5 6 7 8 9 10; do
	[ "$(lab_hatgt_role "$second")" != promoted ] || lab_fail "$second was promoted"
	lab_promoted_is "$first" || lab_fail "$first stopped being promoted"
	sleep 1
done
lab_role_is "$second" down || lab_fail "$second's hatgtd still runs: $(lab_hatgt_role "$second")"
after=$(lab_pr_state) || lab_fail "cannot read the PR state"
[ "$after" = "$before" ] || lab_fail "PR state changed:
before: $before
after:  $after"
# The refused member owes no acknowledgement: a PR command completes.
out=$(printf 'B register 0xb2 0xb3\nA read-keys\n' | lab_pr "$LAB_G1" "$LAB_G2")
echo "$out" | grep -q 'B register: GOOD' || lab_fail "PR command on $first: $out"
exit 0
