#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Issue 5, docs/ha.md "Backing stores and roles": in a cluster only the
# promoted node has the backing store open. A one-node corosync in private
# namespaces (corosync_lib.sh):
#   - unpromoted: the backing file is not open (/proc/PID/fd), and one that
#     does not exist yet does not stop hatgtd from starting;
#   - promote opens it and serves I/O (iscsi-inq, qemu-img);
#   - demote (demote_connections = logout; the default park mode has its
#     own test, demote_parks_connection_silently.sh) asks the initiator to
#     log out (RFC 7143 AsyncEvent 1): the session ends by a Logout, before
#     the 1 s hard close, and the file is closed;
#   - a promote whose backing file is missing fails (non-zero exit, a log
#     line naming the LUN) and leaves the node unpromoted.

# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
# shellcheck source=corosync_lib.sh
. "${srcdir:-.}/corosync_lib.sh"

TGT=iqn.2026-11.org.hatgt.test:cs-store

need_tool iscsi-inq qemu-img qemu-io stdbuf
cs_reexec "$@"
it_setup
cs_setup
global_set "demote_connections = logout"
add_target "$TGT"
LUN_FILE=$T/lun-1.img

cs_daemon_start
[ ! -e "$LUN_FILE" ] || fail "unpromoted hatgtd created $LUN_FILE"
fd_open "$DAEMON_PID" "$LUN_FILE" && fail "unpromoted hatgtd has $LUN_FILE open"
adm luns "$TGT" | grep -q " detached $LUN_FILE\$" || fail "luns does not say detached: $(adm luns)"

cs_promote
fd_open "$DAEMON_PID" "$LUN_FILE" || fail "promoted hatgtd does not have $LUN_FILE open"
adm --json luns | grep -q '"attached":true' || fail "luns --json does not say attached: $(adm --json luns)"
login_ok "$(url "$TGT" 0)" || fail "INQUIRY on the promoted node failed: $(cat "$T/inq.out")"
roundtrip_check "$TGT"

# A session held open across the demotion: it must log out when asked.
session_hold "$TGT" 0 "$INIT1" 20000 "$T/hold.out"
session_hold_ready "$T/hold.out"
t0=$(date +%s%N)
cs_demote 5
ms=$((($(date +%s%N) - t0) / 1000000))
it_log "demote took $ms ms"
grep -q "asked 1 connection(s) to log out" "$DAEMON_LOG" || fail "no logout request was sent"
grep -q "logout of $INIT1" "$DAEMON_LOG" || fail "the initiator did not log out when asked"
grep -q "did not log out in time" "$DAEMON_LOG" && fail "connections were closed by the timeout"
[ "$ms" -lt 1000 ] || fail "demote took $ms ms: the session outlived the logout request"
fd_open "$DAEMON_PID" "$LUN_FILE" && fail "demoted hatgtd still has $LUN_FILE open"
adm luns "$TGT" | grep -q " detached $LUN_FILE\$" || fail "luns does not say detached after demote"
port_in_use "$PORT" && fail "demoted hatgtd still accepts on $PORT"

# A LUN whose file is missing (and no size to create it): promote fails.
MISSING=$T/missing.img
sed -i "s|^lun0 = .*|lun0 = $MISSING|; /^lun0_size = /d" "$CONF"
adm reload > "$T/reload.out" 2>&1 || fail "reload on the unpromoted node failed: $(cat "$T/reload.out")"
if adm promote > "$T/promote2.out" 2>&1; then
	fail "promote with a missing backing file succeeded: $(cat "$T/promote2.out")"
fi
grep -q "LUN 0: cannot open $MISSING" "$T/promote2.out" ||
	fail "hatgtadm promote does not name the LUN: $(cat "$T/promote2.out")"
grep -q "promotion failed.*$TGT LUN 0: cannot open $MISSING" "$DAEMON_LOG" ||
	fail "no log line names the LUN that failed the promotion"
[ "$(cs_role)" = unpromoted ] || fail "role after a failed promote: $(cs_role)"
port_in_use "$PORT" && fail "portal open after a failed promote"
exit 0
