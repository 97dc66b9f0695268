#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A PR change made while the peer is down reaches the peer when it rejoins
# (design.md section 3 rule 3): the unpromoted node is powered off (and
# fenced), a guest registers a new key and takes the reservation, the node
# is powered on again; it reports "syncing" or "unpromoted" (never promoted
# before it has the state), and a failover to it keeps the change.
#
#   node1 [promoted]        node2 [unpromoted] <- power-off, change, power-on
#   then standby node1: node2 must serve the changed state

. "$(dirname "$0")/lab.sh"
lab_scenario_begin 300

lab_hatgt_up
prom=$LAB_PROMOTED
peer=$LAB_PEER
printf 'A register 0 0xa1\n' | lab_pr "$LAB_G1" "$LAB_G2" | grep -q GOOD || lab_fail "register"

lab_node_kill "$peer"
lab_wait 30 "$prom fenced $peer" lab_fenced "$prom" "$peer" || lab_fail "$peer was not fenced"
out=$(printf 'B register 0 0xb2\nB reserve 0xb2 5\n' | lab_pr "$LAB_G1" "$LAB_G2")
echo "$out" | grep -vq ': GOOD' && lab_fail "PR change with the peer down: $out"
changed=$(lab_pr_state) || lab_fail "cannot read the PR state"
lab_log "changed state: $(echo "$changed" | tr '\n' ' ')"

lab_node_start "$peer"
lab_wait_cluster 60 || lab_fail "$peer did not rejoin"
# Sample the rejoining daemon until it is synced: never promoted before,
# and a promotion score of 0 (or none) while it is syncing.
end=$(($(date +%s) + 60))
until lab_role_is "$peer" unpromoted; do
	[ "$(date +%s)" -lt "$end" ] || lab_fail "$peer did not sync within 60 s"
	case $(lab_hatgt_role "$peer") in
	promoted) lab_fail "$peer was promoted before it was synced" ;;
	syncing)
		score=$(lab_promotion_score "$peer")
		[ "${score:-0}" -le 0 ] || lab_fail "$peer has promotion score $score while syncing"
		;;
	esac
	sleep 0.3
done
[ "$(lab_promoted_node)" = "$prom" ] || lab_fail "the promotion moved during the rejoin"

lab_pcs node standby "$prom" > /dev/null || lab_fail "standby"
lab_failover_wait "$peer"
after=$(lab_pr_state) || lab_fail "cannot read the PR state after failover"
[ "$after" = "$changed" ] || lab_fail "the change made while $peer was down is missing:
expected: $changed
got:      $after"
exit 0
