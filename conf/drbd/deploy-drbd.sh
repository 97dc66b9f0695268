#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The DRBD variant of conf/deploy-two-node.sh: hatgt's LUN is /dev/drbd0
# (conf/drbd/hatgt0.res), replicated by DRBD instead of a shared disk. Run
# deploy-two-node.sh first (cluster, fencing, target, portal IP), then this;
# it adds the DRBD promotable clone and ties the target to DRBD's Promoted
# role. In hatgt.conf set: lun0 = /dev/drbd/by-res/hatgt0/0
#
# Prerequisites on both nodes: drbd-utils and the DRBD 9 kernel module,
# /etc/drbd.d/hatgt0.res, `drbdadm create-md hatgt0 && drbdadm up hatgt0`,
# and once, on one node only, `drbdadm primary --force hatgt0` to start the
# initial sync (then `drbdadm secondary hatgt0`: pacemaker takes over).

set -eu

CIB=$(mktemp)
trap 'rm -f "$CIB"' EXIT
pcs cluster cib "$CIB"

pcs -f "$CIB" resource create drbd-hatgt0 ocf:linbit:drbd drbd_resource=hatgt0 \
	op monitor interval=29s role=Promoted timeout=20s \
	op monitor interval=31s role=Unpromoted timeout=20s \
	promotable promoted-max=1 promoted-node-max=1 clone-max=2 clone-node-max=1 notify=true

# hatgt is promoted only where DRBD is Primary, and only after it.
pcs -f "$CIB" constraint colocation add Promoted target-clone with Promoted drbd-hatgt0-clone INFINITY
pcs -f "$CIB" constraint order promote drbd-hatgt0-clone 'then' promote target-clone
# Demote hatgt (close the sessions, flush) before DRBD is demoted: that
# order follows from the one above (pacemaker reverses it when stopping).

pcs -f "$CIB" cluster verify
pcs cluster cib-push "$CIB" --config
echo "DRBD variant deployed; check: pcs status --full; drbdadm status hatgt0"
