#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Issue 5, docs/ha.md "Planned failover": connections parked by a demotion
# are the initiators' old ones; promoted again, hatgtd forgets them without
# a FIN or RST, so that an initiator's next segment gets an RST from the
# kernel (and it reconnects) instead of an ACK and no answer. One-node
# corosync, park_client.py on loopback: promote, log in, demote (parked,
# silent), promote again: still no FIN or RST at the client, whose socket
# stays ESTABLISHED; its next segment is reset.

# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
# shellcheck source=corosync_lib.sh
. "${srcdir:-.}/corosync_lib.sh"
# shellcheck source=demote_lib.sh
. "${srcdir:-.}/demote_lib.sh"

TGT=iqn.2026-11.org.hatgt.test:park-promote

need_tool python3 ss
cs_reexec "$@"

demote_client_start "$TGT" park
demote_park_check
cs_promote
demote_park_closed_check
exit 0
