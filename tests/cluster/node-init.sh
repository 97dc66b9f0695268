#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# PID 1 of a lab node (started by lab.sh through unshare). Gives the node its
# own view of the cluster stack's state directories, /run, /dev/shm, /sys
# and cgroup2, waits for the harness to plug its veth in, then runs corosync
# and pacemaker and reaps children until the node is killed (cgroup.kill).
#
# Usage (from lab.sh only): node-init.sh NAME ADDR NODE_DIR LAB_DIR

set -eu

name=$1
addr=$2
nd=$3
lab=$4

say() {
	printf '%s node-init[%s]: %s\n' "$(date +%T.%N | cut -c1-12)" "$name" "$*"
}

# Per-node state over the system paths (lab.md: "A node").
mount --bind "$nd/etc-corosync" /etc/corosync
mount --bind "$nd/var-lib-corosync" /var/lib/corosync
mount --bind "$nd/var-lib-pacemaker" /var/lib/pacemaker
mount --bind "$nd/var-lib-pcsd" /var/lib/pcsd
mount --bind "$nd/var-log" /var/log
mkdir -p /etc/hatgt /var/lib/hatgt
mount --bind "$nd/etc-hatgt" /etc/hatgt
mount --bind "$nd/var-lib-hatgt" /var/lib/hatgt
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t sysfs sysfs /sys
mount -t cgroup2 cgroup2 /sys/fs/cgroup
hostname "$name"

# Lab-only binaries and agents: read-only overlays (two lower dirs, no upper).
if [ -d "$lab/overlay/sbin" ]; then
	mount -t overlay overlay -o "lowerdir=$lab/overlay/sbin:/usr/sbin" /usr/sbin
fi
if [ -d "$lab/overlay/ocf" ]; then
	mount -t overlay overlay \
		-o "lowerdir=$lab/overlay/ocf:/usr/lib/ocf/resource.d" /usr/lib/ocf/resource.d
fi

mkdir -p /run/crm /run/pacemaker
chown hacluster:haclient /run/crm /run/pacemaker

# init_wait TENTHS WHAT CMD...: run CMD every 0.1 s until it succeeds; the
# node gives up (exits, powering itself off) after TENTHS tries.
init_wait() {
	local max=$1 what=$2 i=0
	shift 2
	until "$@" > /dev/null 2>&1; do
		i=$((i + 1))
		[ "$i" -le "$max" ] || {
			say "$what did not happen in $((max / 10)) s"
			exit 1
		}
		sleep 0.1
	done
}

ip link set lo up
init_wait 200 "eth0 appearing" ip link show eth0
ip addr add "$addr/24" dev eth0
ip link set eth0 up
say "network up ($addr)"

corosync -f > /var/log/corosync-stdout.log 2>&1 &
init_wait 150 "corosync answering" corosync-cfgtool -s
say "corosync up"
# The controller's debug lines show when it re-asks for the CIB (a fixed
# 1 s sleep; docs/ha.md "Where the failover time goes", timeline.py).
PCMK_debug=${LAB_PCMK_DEBUG-pacemaker-controld} pacemakerd > /var/log/pacemakerd-stdout.log 2>&1 &
say "pacemakerd started"

# PID 1 reaps every orphan of the node; bash reaps unknown children in its
# SIGCHLD handler. Only cgroup.kill (SIGKILL) ends this loop.
trap '' TERM INT HUP
while :; do
	sleep 3600 &
	wait || true
done
