#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A guest cluster's persistent reservations survive failover bit for bit
# (design.md section 3 rule 5): two initiators registered, one holding a
# type 5 (Write Exclusive - Registrants Only) reservation. After a planned
# failover (standby) and then an unplanned one (power-off), READ FULL STATUS,
# READ RESERVATION and READ KEYS answer exactly as before: keys, holder,
# type, PRgeneration. Then a PREEMPT AND ABORT by the other guest (the way
# a guest cluster fences its peer) works on the new promoted node.
#
#   guest1 (A, key 0xa1, holder)   guest2 (B, key 0xb2)
#        \___ portal .100 ___/  node1 [promoted] -> node2 -> node1

. "$(dirname "$0")/lab.sh"
lab_scenario_begin 300

lab_hatgt_up
lab_pr_guests 'A register 0 0xa1\nB register 0 0xb2\nA reserve 0xa1 5\n'
before=$(lab_pr_state) || lab_fail "cannot read the PR state"
lab_log "PR state before failover: $(echo "$before" | tr '\n' ' ')"
echo "$before" | grep -q 'type=5' || lab_fail "no type 5 reservation in: $before"

first=$LAB_PROMOTED
second=$LAB_PEER
lab_pcs node standby "$first" > /dev/null || lab_fail "standby $first"
lab_failover_wait "$second"
after=$(lab_pr_state) || lab_fail "cannot read the PR state after standby"
[ "$after" = "$before" ] || lab_fail "PR state changed by the planned failover:
before: $before
after:  $after"

lab_pcs node unstandby "$first" > /dev/null || lab_fail "unstandby $first"
lab_wait 60 "$first synced" lab_role_is "$first" unpromoted || lab_fail "$first not synced"
lab_node_kill "$second"
lab_failover_wait "$first"
after=$(lab_pr_state) || lab_fail "cannot read the PR state after power-off"
[ "$after" = "$before" ] || lab_fail "PR state changed by the power-off failover:
before: $before
after:  $after"

out=$(printf 'B preempt-abort 0xb2 0xa1 5\nB read-reservation\n' | lab_pr "$LAB_G1" "$LAB_G2")
echo "$out" | grep -q 'preempt-abort: GOOD' || lab_fail "preempt-abort after failover: $out"
echo "$out" | grep -q 'key=0xb2\|key=178' || lab_fail "guest2 does not hold the reservation: $out"
exit 0
