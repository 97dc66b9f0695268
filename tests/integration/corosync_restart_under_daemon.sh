#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Issue 5 "faults", docs/ha.md "Faults": corosync restarting under the
# daemon. A one-node corosync in private namespaces (corosync_lib.sh):
#   - a promoted hatgtd holds two registrations and a reservation;
#   - corosync is killed (SIGKILL): the daemon stops serving at once (its
#     portal closes within 2 s) and logs that it lost corosync;
#   - corosync starts again: the daemon reconnects by itself within a few
#     seconds and is unpromoted (synced) again, its PR state intact;
#   - it can be promoted again, serves, and replicates a new PR command.

# shellcheck source=pr_lib.sh
. "${srcdir:-.}/pr_lib.sh"
# shellcheck source=corosync_lib.sh
. "${srcdir:-.}/corosync_lib.sh"

if [ -z "${PR_CLIENT:-}" ] || [ ! -x "$PR_CLIENT" ]; then
	hard_error "pr_client not built: ${PR_CLIENT:-unset}"
fi
cs_reexec "$@"
port_closed() {
	! port_in_use "$PORT"
}
it_setup
cs_setup
add_target "$PR_TGT"
cs_daemon_start
cs_promote
pr_run before << 'EOF2'
A register 0 0xa1
B register 0 0xb2
A reserve 0xa1 5
A read-keys
A read-reservation
EOF2
pr_expect before "A read-keys: GOOD gen=2 keys=0xa1,0xb2" "A read-reservation: GOOD gen=2 key=0xa1 type=5"

kill -KILL "$CS_PID"
wait "$CS_PID" 2> /dev/null || true
CS_PID=
gone=$SECONDS
wait_for 2 port_closed ||
	fail "portal $IT_HOST:$PORT still accepts 2 s after corosync died"
it_log "portal closed within $((SECONDS - gone)) s of corosync's death"
wait_for 2 grep -q "lost the connection to corosync" "$DAEMON_LOG" ||
	fail "no log line saying corosync was lost"
grep -q "stopping service at once" "$DAEMON_LOG" || fail "no log line saying service stopped"
[ "$(cs_role)" != promoted ] || fail "still promoted without corosync"
adm promote > "$T/promote-nocs.out" 2>&1 && fail "promote succeeded without corosync"

corosync -f -c "$CS_CONF" >> "$CS_LOG" 2>&1 &
CS_PID=$!
back=$SECONDS
cs_wait_role unpromoted 10 || fail "not rejoined and synced within 10 s of corosync's restart (role: '$(cs_role)')"
it_log "rejoined and synced $((SECONDS - back)) s after corosync restarted"
[ "$(grep -c "joined CPG group" "$DAEMON_LOG")" -ge 2 ] || fail "no second 'joined CPG group' log line"

cs_promote
pr_run after << 'EOF2'
A read-keys
A read-reservation
B register 0xb2 0xb3
A read-keys
EOF2
pr_expect after "A read-keys: GOOD gen=2 keys=0xa1,0xb2" "A read-reservation: GOOD gen=2 key=0xa1 type=5" \
	"B register: GOOD" "A read-keys: GOOD gen=3 keys=0xa1,0xb3"
