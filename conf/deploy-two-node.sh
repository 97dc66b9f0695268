#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Deploy hatgt on a two-node pacemaker cluster with pcs (docs/ha.md). Run on
# node 1 as root, once pcsd runs on both nodes and hatgt is installed on both
# with the same /etc/hatgt/hatgt.conf (conf/hatgt-cluster.conf.example).
# Shared-disk variant; for DRBD see conf/drbd/deploy-drbd.sh.
#
# Edit the variables below, then: sh deploy-two-node.sh
# Each step is a plain pcs command, so you can also run them by hand.

set -eu

CLUSTER=hatgt
NODE1=node1
NODE1_ADDR=192.0.2.11
NODE2=node2
NODE2_ADDR=192.0.2.12
PORTAL_IP=192.0.2.100
PORTAL_CIDR=24
# An address both nodes should always reach (router, core switch): a node
# that cannot reach it loses the fence race (fence_heuristics_ping).
PING_TARGET=192.0.2.1
# Fencing: IPMI/BMC of each node (docs/fencing.md for redfish, fence_scsi).
IPMI1=192.0.2.211
IPMI2=192.0.2.212
IPMI_USER=fence
IPMI_PASSWORD=change-me
CONFIG=/etc/hatgt/hatgt.conf

# 1. corosync.conf and the cluster (knet, two_node: 1). A short token makes
#    failover faster; keep it >= 1000 ms on a real network.
pcs host auth "$NODE1" addr="$NODE1_ADDR" "$NODE2" addr="$NODE2_ADDR" -u hacluster
pcs cluster setup "$CLUSTER" "$NODE1" addr="$NODE1_ADDR" "$NODE2" addr="$NODE2_ADDR" \
	totem token=3000
pcs cluster start --all --wait=120
pcs cluster enable --all

# Build the configuration offline and push it at once, so that pacemaker
# never runs a half-configured target.
CIB=$(mktemp)
trap 'rm -f "$CIB"' EXIT
pcs cluster cib "$CIB"

# 2. Properties. Fencing is mandatory: without it, a partition of a
#    two_node cluster runs the target on both sides (docs/fencing.md).
pcs -f "$CIB" property set stonith-enabled=true
pcs -f "$CIB" property set no-quorum-policy=stop
pcs -f "$CIB" resource defaults update resource-stickiness=100

# 3. Fencing: one IPMI device per node, each with a ping heuristic in the
#    same level (an isolated node cannot win). When both nodes still reach
#    PING_TARGET (only the corosync link failed), priority-fencing-delay
#    holds back the fencing of the node running the promoted target (meta
#    priority below), so the promoted node wins and nothing fails over. It
#    must exceed the winner's whole fencing (ping + IPMI power-off), and it
#    is paid on every unplanned loss of the promoted node (docs/fencing.md).
#    One ping: a reachable target answers in one round trip; a second ping
#    costs a whole second, and a lost ping only makes the fencing retry.
pcs -f "$CIB" property set priority-fencing-delay=5s
pcs -f "$CIB" stonith create fence-"$NODE1" fence_ipmilan ip="$IPMI1" \
	username="$IPMI_USER" password="$IPMI_PASSWORD" lanplus=1 \
	pcmk_host_list="$NODE1" op monitor interval=60s
pcs -f "$CIB" stonith create fence-"$NODE2" fence_ipmilan ip="$IPMI2" \
	username="$IPMI_USER" password="$IPMI_PASSWORD" lanplus=1 \
	pcmk_host_list="$NODE2" op monitor interval=60s
pcs -f "$CIB" stonith create fence-ping fence_heuristics_ping \
	ping_targets="$PING_TARGET" ping_count=1 ping_good_count=1 ping_timeout=1 \
	pcmk_host_list="$NODE1 $NODE2" op monitor interval=60s
pcs -f "$CIB" stonith level add 1 "$NODE1" fence-ping fence-"$NODE1"
pcs -f "$CIB" stonith level add 1 "$NODE2" fence-ping fence-"$NODE2"
# A fence device never runs on the node it fences.
pcs -f "$CIB" constraint location fence-"$NODE1" avoids "$NODE1"
pcs -f "$CIB" constraint location fence-"$NODE2" avoids "$NODE2"

# 4. The target: a promotable clone, promoted on one node at a time. Its
#    priority makes the promoted node the one priority-fencing-delay spares
#    (a promoted instance counts one more than an unpromoted one).
pcs -f "$CIB" resource create target ocf:hatgt:hatgt config="$CONFIG" \
	op monitor interval=10s role=Promoted timeout=20s \
	op monitor interval=11s role=Unpromoted timeout=20s \
	op start timeout=60s op stop timeout=60s \
	op promote timeout=60s op demote timeout=60s \
	meta priority=1 promotable notify=true promoted-max=1 clone-max=2

# 5. The portal IP follows the promoted instance, and comes up after it.
pcs -f "$CIB" resource create portal-ip ocf:heartbeat:IPaddr2 ip="$PORTAL_IP" \
	cidr_netmask="$PORTAL_CIDR" op monitor interval=10s
pcs -f "$CIB" constraint colocation add portal-ip with Promoted target-clone INFINITY
# Asymmetric orders: the portal IP arrives after promotion and leaves only
# after demotion, so the demoting hatgtd still reaches its initiators when it
# closes their sessions and they reconnect at once (docs/ha.md).
pcs -f "$CIB" constraint order promote target-clone 'then' start portal-ip symmetrical=false
pcs -f "$CIB" constraint order demote target-clone 'then' stop portal-ip symmetrical=false

pcs -f "$CIB" cluster verify
pcs cluster cib-push "$CIB" --config
echo "deployed; watch it with: pcs status --full"
