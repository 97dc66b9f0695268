#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Issue 5, docs/ha.md "Planned failover": a demoted hatgtd that keeps
# running (`pcs resource move`) holds parked connections at most
# ISCSI_SERVER_PARK_HOLD_S (10 s), then forgets them without a FIN or RST.
# One-node corosync, park_client.py on loopback: promote, log in, demote
# (parked, silent), wait for the daemon's "held 10 s" line: no FIN or RST
# at the client, whose socket stays ESTABLISHED; its next segment is reset.

# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
# shellcheck source=corosync_lib.sh
. "${srcdir:-.}/corosync_lib.sh"
# shellcheck source=demote_lib.sh
. "${srcdir:-.}/demote_lib.sh"

TGT=iqn.2026-11.org.hatgt.test:park-hold

need_tool python3 ss
cs_reexec "$@"

demote_client_start "$TGT" park
demote_park_check
wait_for 15 grep -q "parked connections held 10 s" "$DAEMON_LOG" ||
	fail "the parked connection was not closed within 15 s of the demotion"
demote_park_closed_check
[ "$(cs_role)" = unpromoted ] || fail "role after the hold: $(cs_role)"
exit 0
