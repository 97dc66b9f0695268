#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Issue 5, docs/ha.md "Planned failover": connections parked by a demotion
# are the initiators' old ones; promoted again, hatgtd resets them (an RST
# once its portals listen), so that an initiator waiting for the answer to
# a command it sent after the park, and so sending nothing more, reconnects
# at once instead of waiting for its own timeout. One-node corosync,
# park_client.py on loopback: promote, log in, demote (parked, silent),
# promote again: the client, sending nothing, gets an RST within 5 s.

# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
# shellcheck source=corosync_lib.sh
. "${srcdir:-.}/corosync_lib.sh"
# shellcheck source=demote_lib.sh
. "${srcdir:-.}/demote_lib.sh"

TGT=iqn.2026-11.org.hatgt.test:park-promote

need_tool python3 ss
cs_reexec "$@"

demote_client_start "$TGT" park-reset
demote_park_check
cs_promote
touch "$CTL/stopped"
demote_client_done
grep -q "resetting the connections parked" "$DAEMON_LOG" ||
	fail "the daemon does not say it reset the parked connections"
exit 0
