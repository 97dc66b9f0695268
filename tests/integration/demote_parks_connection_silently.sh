#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Issue 5, docs/ha.md "Planned failover": with demote_connections = park
# (the default) a demotion keeps the initiator's connection open and
# silent, so that it reconnects only when the next promoted node tickles it
# (no logout, no FIN while no node serves the portal, no reconnect
# back-off). One-node corosync (corosync_lib.sh), one initiator on
# loopback (park_client.py):
#
#   park_client.py --127.0.0.1:PORT--> hatgtd (promoted, LUN 0 on lun-1.img)
#
#   - promote, log in, READ; demote: no PDU, FIN or RST reaches the client,
#     the daemon logs "parked 1 connection(s)" and closes the LUN file;
#   - a WRITE the client sends after the park gets no answer and is not
#     executed (LBA 8 of the file stays zero);
#   - SIGTERM: hatgtd exits 0 and still no FIN or RST reaches the client
#     (TCP_REPAIR), its socket stays ESTABLISHED; a NOP-Out it sends then is
#     reset by the kernel: the target's side is gone.

# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
# shellcheck source=corosync_lib.sh
. "${srcdir:-.}/corosync_lib.sh"
# shellcheck source=demote_lib.sh
. "${srcdir:-.}/demote_lib.sh"

TGT=iqn.2026-11.org.hatgt.test:park

need_tool python3 ss od
cs_reexec "$@"

demote_client_start "$TGT" park
LUN_FILE=$T/lun-1.img
demote_park_check
fd_open "$DAEMON_PID" "$LUN_FILE" && fail "demoted hatgtd still has $LUN_FILE open"
daemon_stop || fail "hatgtd did not exit 0 on SIGTERM with a parked connection"
demote_park_closed_check

# The WRITE sent after the park was never executed.
[ "$(od -An -v -tx1 -j 4096 -N 512 "$LUN_FILE" | tr -d ' \n' | tr -d 0)" = "" ] ||
	fail "the WRITE sent to the parked connection was executed"
exit 0
