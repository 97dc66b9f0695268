#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Issue 5, docs/ha.md "Planned failover": with demote_connections = logout
# a demotion asks each logged-in connection to log out (RFC 7143 11.9.1,
# AsyncEvent 1), as before parking became the default. One-node corosync
# (corosync_lib.sh), one initiator on loopback (park_client.py): promote,
# log in, READ, demote: the client gets the Async Message, the daemon logs
# the request and parks nothing.

# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
# shellcheck source=corosync_lib.sh
. "${srcdir:-.}/corosync_lib.sh"
# shellcheck source=demote_lib.sh
. "${srcdir:-.}/demote_lib.sh"

TGT=iqn.2026-11.org.hatgt.test:logout

need_tool python3
cs_reexec "$@"

demote_client_start "$TGT" logout "demote_connections = logout"

cs_demote 5
touch "$CTL/demoted"
demote_client_done
grep -q "asked 1 connection(s) to log out" "$DAEMON_LOG" || fail "no logout request was logged"
grep -q "parked [1-9]" "$DAEMON_LOG" && fail "logout mode parked a connection"
exit 0
