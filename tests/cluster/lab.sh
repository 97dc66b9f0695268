#!/bin/bash
# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A real two-node corosync + pacemaker cluster in network namespaces on one
# machine (facts in docs/testing notes and ../shared/lab.md). Sourced by the
# scenario scripts; also a command line tool:
#
#   tests/cluster/lab.sh up        # build the lab, start both nodes, wait quorate
#   tests/cluster/lab.sh status    # crm_mon -1 on the first running node
#   tests/cluster/lab.sh on node1 CMD...   # run CMD on a node
#   tests/cluster/lab.sh client CMD...     # run CMD in the client namespace
#   tests/cluster/lab.sh kill node1        # power a node off (cgroup.kill)
#   tests/cluster/lab.sh start node1       # power a node on again
#   tests/cluster/lab.sh down      # tear everything down (idempotent, < 10 s)
#
# Layout: node1 198.18.0.11, node2 198.18.0.12, client 198.18.0.50, portal
# IP 198.18.0.100, all on a bridge in the "switch" netns. Nothing is
# configured in the root network namespace. Each node is a PID + mount +
# net + UTS namespace whose PID 1 is node-init.sh, inside its own cgroup v2
# directory, so `echo 1 > cgroup.kill` is a power-off.
#
# Environment:
#   LAB_DIR     state directory (default /tmp/hatgt-lab)
#   LAB_BUILD   hatgt build tree holding daemon/hatgtd, daemon/admin/hatgtadm
#               and tests/cluster/hatgt-writer (default: the current directory
#               when it has daemon/hatgtd, else no hatgt binaries are installed)
#   LAB_TOKEN   corosync totem token in ms (default 1000)
#   LAB_KEEP=1  keep LAB_DIR after `down` (logs)
#   LAB_HATGT_POLL_US  hatgtd's poll_us on both nodes (default: hatgtd's, auto)
#   LAB_HATGT_DEMOTE   hatgtd's demote_connections on both nodes, park or
#               logout (default: hatgtd's, park)

set -eu

LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LAB_DIR=${LAB_DIR:-/tmp/hatgt-lab}
LAB_TOKEN=${LAB_TOKEN:-1000}
LAB_SW=hatgt-lab-sw
LAB_CL=hatgt-lab-cl
LAB_NET=198.18.0
LAB_CLIENT_IP=$LAB_NET.50
LAB_PORTAL_IP=$LAB_NET.100
LAB_NODES="node1 node2"
if [ "${LAB_MOCK_ROLES:-0}" = 1 ]; then
	LAB_LISTEN=0.0.0.0
fi
if [ -z "${LAB_BUILD:-}" ] && [ -x ./daemon/hatgtd ]; then
	LAB_BUILD=$(pwd)
fi
LAB_BUILD=${LAB_BUILD:-}

if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
	LAB_CG_MNT=/sys/fs/cgroup
else
	LAB_CG_MNT=/sys/fs/cgroup/unified # hybrid hierarchy: cgroup2 lives here
fi
LAB_CG=$LAB_CG_MNT/hatgt-lab
# The same directory as seen from inside a node, which mounts cgroup2 at
# /sys/fs/cgroup (no cgroup namespace, so the paths below the root match).
LAB_CG_IN_NODE=/sys/fs/cgroup/hatgt-lab

lab_log() {
	printf '%s lab: %s\n' "$(date +%T.%N | cut -c1-12)" "$*" >&2
}

lab_die() {
	lab_log "ERROR: $*"
	exit 99
}

# lab_node_addr NODE: the node's address.
lab_node_addr() {
	case $1 in
	node1) echo "$LAB_NET.11" ;;
	node2) echo "$LAB_NET.12" ;;
	*) lab_die "unknown node '$1'" ;;
	esac
}

# lab_other NODE: the other node.
lab_other() {
	case $1 in
	node1) echo node2 ;;
	node2) echo node1 ;;
	*) lab_die "unknown node '$1'" ;;
	esac
}

# lab_wait SECS WHAT CMD...: run CMD every 0.2 s until it succeeds; fail after
# SECS seconds. Every wait in the lab goes through here.
lab_wait() {
	local secs=$1 what=$2 end
	shift 2
	end=$(($(date +%s) + secs))
	until "$@" > /dev/null 2>&1; do
		[ "$(date +%s)" -lt "$end" ] || {
			lab_log "timed out after ${secs}s waiting for: $what"
			return 1
		}
		sleep 0.2
	done
}

# lab_node_powered NODE: true while any process of the node is alive.
lab_node_powered() {
	[ -e "$LAB_CG/$1/cgroup.events" ] && grep -q '^populated 1' "$LAB_CG/$1/cgroup.events"
}

# lab_node_pid NODE: the root-namespace PID of the node's PID 1.
lab_node_pid() {
	local p
	p=$(cat "$LAB_DIR/$1/pid" 2> /dev/null) || return 1
	[ -n "$p" ] && [ -d "/proc/$p" ] || return 1
	echo "$p"
}

# lab_on NODE CMD...: run CMD inside NODE (its namespaces and cgroup, so it
# dies with the node).
lab_on() {
	local node=$1 pid
	shift
	pid=$(lab_node_pid "$node") || {
		lab_log "$node is not running"
		return 125
	}
	# shellcheck disable=SC2016 # expanded by the inner shell
	sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec nsenter -t "$0" -m -u -n -p -- "$@"' \
		"$pid" "$LAB_CG/$node" "$@"
}

# lab_client CMD...: run CMD in the client namespace.
lab_client() {
	ip netns exec "$LAB_CL" "$@"
}

lab_overlay_prepare() {
	local o=$LAB_DIR/overlay
	rm -rf "$o"
	mkdir -p "$o/sbin" "$o/ocf/hatgt"
	install -m 0755 "$LAB_SRC/fencing/fence_hatgt_lab" "$o/sbin/fence_hatgt_lab"
	if [ -f "$LAB_SRC/resource-agents/hatgt" ]; then
		install -m 0755 "$LAB_SRC/resource-agents/hatgt" "$o/ocf/hatgt/hatgt"
	fi
	if [ -n "$LAB_BUILD" ] && [ -x "$LAB_BUILD/daemon/hatgtd" ]; then
		install -m 0755 "$LAB_BUILD/daemon/hatgtd" "$o/sbin/hatgtd"
		install -m 0755 "$LAB_BUILD/daemon/admin/hatgtadm" "$o/sbin/hatgtadm"
		if [ "${LAB_MOCK_ROLES:-0}" = 1 ]; then
			lab_mock_roles_install "$o/sbin"
		fi
	fi
}

# LAB_MOCK_ROLES=1: a self-test of the harness and the agent for as long as
# hatgtd has no cluster roles. hatgtadm becomes a wrapper that keeps the role
# in /run (per node, lost at power-off) and passes every other verb on; the
# daemons listen on every address, so only the portal IP decides who serves.
# No PR replication: only the write scenarios make sense in this mode.
lab_mock_roles_install() {
	mv "$1/hatgtadm" "$1/hatgtadm.real"
	cat > "$1/hatgtadm" << 'MOCK'
#!/bin/sh
# hatgtadm role mock (tests/cluster/lab.sh LAB_MOCK_ROLES=1)
f=/run/hatgt-mock-role
for a in "$@"; do v=$a; done
case $v in
role)
	/usr/sbin/hatgtadm.real "$@" > /dev/null 2>&1
	rc=$?
	[ "$rc" -eq 4 ] || [ "$rc" -eq 0 ] || rc=0
	[ "$rc" -eq 0 ] || exit "$rc"
	cat "$f" 2> /dev/null || echo unpromoted
	;;
promote) echo promoted > "$f" ;;
demote) echo unpromoted > "$f" ;;
*) exec /usr/sbin/hatgtadm.real "$@" ;;
esac
MOCK
	chmod 0755 "$1/hatgtadm"
}

# lab_cluster_files: corosync.conf (pcs, no pcsd), authkey and a seeded CIB.
lab_cluster_files() {
	local c=$LAB_DIR/common
	mkdir -p "$c"
	pcs cluster setup hatgt-lab node1 addr="$LAB_NET.11" node2 addr="$LAB_NET.12" \
		totem token="$LAB_TOKEN" --corosync_conf "$c/corosync.conf" > /dev/null 2>&1 ||
		lab_die "pcs cluster setup failed"
	# The lab has no syslog; corosync logs to its file only.
	# Millisecond timestamps for tests/cluster/timeline.py.
	sed -i -e 's/to_syslog: yes/to_syslog: no/' -e 's/timestamp: on/timestamp: hires/' \
		"$c/corosync.conf"
	corosync-keygen -l -k "$c/authkey" > /dev/null 2>&1 || lab_die "corosync-keygen failed"
	# Seed the CIB: dc-deadtime 2s avoids the first election's 20 s wait.
	cibadmin --empty > "$c/cib.xml"
	CIB_file=$c/cib.xml crm_attribute --type crm_config --name dc-deadtime --update 2s ||
		lab_die "crm_attribute on the offline CIB failed"
	pcs -f "$c/cib.xml" property set stonith-enabled=false > /dev/null ||
		lab_die "pcs property on the offline CIB failed"
}

# lab_node_dirs NODE: fresh per-node copies of the stack's state directories.
lab_node_dirs() {
	local nd=$LAB_DIR/$1 c=$LAB_DIR/common
	rm -rf "$nd"
	mkdir -p "$nd/etc-hatgt" "$nd/var-lib-hatgt" "$nd/var-lib-pcsd"
	cp -a /etc/corosync "$nd/etc-corosync"
	cp -a /var/lib/corosync "$nd/var-lib-corosync"
	cp -a /var/lib/pacemaker "$nd/var-lib-pacemaker"
	mkdir -p "$nd/var-log/corosync" "$nd/var-log/pcsd" "$nd/var-log/pacemaker"
	chown hacluster:haclient "$nd/var-log/pacemaker"
	chmod 0770 "$nd/var-log/pacemaker"
	install -m 0644 "$c/corosync.conf" "$nd/etc-corosync/corosync.conf"
	install -m 0400 "$c/authkey" "$nd/etc-corosync/authkey"
	rm -f "$nd/var-lib-pacemaker/cib/"*
	install -o hacluster -g haclient -m 0600 "$c/cib.xml" "$nd/var-lib-pacemaker/cib/cib.xml"
	if [ -f "$c/hatgt.conf" ]; then
		install -m 0644 "$c/hatgt.conf" "$nd/etc-hatgt/hatgt.conf"
	fi
}

lab_net_up() {
	ip netns add "$LAB_SW"
	ip -n "$LAB_SW" link set lo up
	ip -n "$LAB_SW" link add br0 type bridge
	ip -n "$LAB_SW" link set br0 up
	ip netns add "$LAB_CL"
	ip -n "$LAB_CL" link set lo up
	ip -n "$LAB_SW" link add v-client type veth peer name eth0 netns "$LAB_CL"
	ip -n "$LAB_SW" link set v-client master br0 up
	ip -n "$LAB_CL" addr add "$LAB_CLIENT_IP/24" dev eth0
	ip -n "$LAB_CL" link set eth0 up
}

# lab_node_pid_found UNSHARE_PID CGROUP: print the PID of unshare's child
# once it runs in its own network namespace.
lab_node_pid_found() {
	local p
	while read -r p; do
		grep -q "^PPid:[[:space:]]*$1\$" "/proc/$p/status" 2> /dev/null || continue
		[ "$(readlink "/proc/$p/ns/net")" != "$(readlink /proc/self/ns/net)" ] || return 1
		echo "$p"
		return 0
	done < "$2/cgroup.procs"
	return 1
}

# lab_node_start NODE: power the node on (its state directories survive a
# power-off, like a disk) and plug it into the switch.
lab_node_start() {
	local node=$1 nd=$LAB_DIR/$1 upid pid=
	lab_node_powered "$node" && lab_die "$node is already running"
	mkdir -p "$LAB_CG/$node"
	# shellcheck disable=SC2016 # expanded by the inner shell
	setsid sh -c 'echo $$ > "$0/cgroup.procs" && exec unshare --pid --fork --mount-proc \
		--net --mount --uts --propagation private "$@"' "$LAB_CG/$node" \
		bash "$LAB_SRC/tests/cluster/node-init.sh" "$node" "$(lab_node_addr "$node")" \
		"$nd" "$LAB_DIR" >> "$nd/init.log" 2>&1 < /dev/null &
	upid=$!
	disown "$upid"
	lab_wait 5 "$node PID 1" lab_node_pid_found "$upid" "$LAB_CG/$node" ||
		lab_die "$node did not start (see $nd/init.log)"
	pid=$(lab_node_pid_found "$upid" "$LAB_CG/$node")
	[ -n "$pid" ] || lab_die "$node: lost its PID 1"
	echo "$pid" > "$nd/pid"
	ip -n "$LAB_SW" link del "v-$node" > /dev/null 2>&1 || true
	ip -n "$LAB_SW" link add "v-$node" type veth peer name eth0 netns "$pid"
	ip -n "$LAB_SW" link set "v-$node" master br0 up
	lab_log "$node powered on (pid $pid)"
}

# lab_node_kill NODE: power the node off at once and wait until it is gone.
lab_node_kill() {
	local node=$1
	[ -e "$LAB_CG/$node/cgroup.kill" ] || return 0
	# A powered-off machine sends nothing. Killed processes would close
	# their sockets (FIN, or RST with unread data) while the node's veth
	# still exists, telling the initiators at once: the port goes dark
	# first (lab_node_start makes a new one).
	ip -n "$LAB_SW" link set "v-$node" down 2> /dev/null || true
	echo 1 > "$LAB_CG/$node/cgroup.kill"
	lab_wait 10 "$node power-off" sh -c "! grep -q '^populated 1' '$LAB_CG/$node/cgroup.events'" ||
		return 1
	lab_log "$node powered off"
}

# lab_quorate NODE: corosync on NODE is quorate and pacemaker has a DC.
lab_quorate() {
	lab_on "$1" timeout -k 1 5 corosync-quorumtool -s > /dev/null 2>&1 &&
		lab_on "$1" timeout -k 1 5 crmadmin -D -t 2000 2> /dev/null | grep -q 'Designated'
}

# lab_online_count NODE: how many nodes NODE's pacemaker sees online.
lab_online_count() {
	lab_on "$1" timeout -k 1 10 crm_mon -1 -X 2> /dev/null | grep -c '<node name=[^>]*online="true"' || true
}

lab_all_online() {
	[ "$(lab_online_count "$1")" -eq 2 ]
}

# lab_wait_cluster [SECS]: both nodes online and the cluster idle.
lab_wait_cluster() {
	local secs=${1:-60} n
	for n in $LAB_NODES; do
		lab_wait "$secs" "$n quorate with a DC" lab_quorate "$n" || return 1
	done
	lab_wait "$secs" "both nodes online" lab_all_online node1 || return 1
	lab_on node1 timeout -k 1 "$((secs + 5))" crm_resource --wait --timeout="${secs}s" \
		> /dev/null 2>&1 || true
}

# lab_syslog_start: hatgtd logs to syslog and the lab has none. Unless the
# machine has a syslog (/dev/log answers), a datagram listener on /dev/log
# appends what the daemons log to $LAB_DIR/syslog.log. The nodes share /dev
# with the machine, so that is one file for both nodes: its lines carry
# the daemon's pid (per node), not the node. Scenarios grep it for the log
# line a fault must leave.
LAB_SYSLOG_PY='
import os, socket, sys, time
path = "/dev/log"
probe = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
try:
    probe.connect(path)
    sys.exit(0)  # a real syslog answers: leave it alone
except FileNotFoundError:
    pass
except ConnectionRefusedError:
    os.unlink(path)  # left by an earlier lab run
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
out = open(sys.argv[1], "ab", 0)
while True:
    d = s.recv(65536)
    t = time.time()
    stamp = time.strftime("%b %d %H:%M:%S", time.localtime(t)) + ".%03d " % (t % 1 * 1000)
    out.write(stamp.encode() + d.rstrip(b"\n") + b"\n")
'

lab_syslog_start() {
	local py=python3
	[ -x /usr/bin/python3 ] && py=/usr/bin/python3
	command -v "$py" > /dev/null || return 0
	: > "$LAB_DIR/syslog.log"
	"$py" -c "$LAB_SYSLOG_PY" "$LAB_DIR/syslog.log" > /dev/null 2>&1 < /dev/null &
	echo $! > "$LAB_DIR/syslog.pid"
	disown $!
}

lab_syslog_stop() {
	local p
	p=$(cat "$LAB_DIR/syslog.pid" 2> /dev/null) || return 0
	if [ -n "$p" ] && kill "$p" 2> /dev/null; then
		rm -f /dev/log
	fi
	rm -f "$LAB_DIR/syslog.pid"
}

# lab_event WHAT...: note the moment of a step the logs cannot show (the
# fault itself) in $LAB_DIR/events.txt, for tests/cluster/timeline.py.
lab_event() {
	echo "$(date +%s.%N) $*" >> "$LAB_DIR/events.txt"
}

# lab_timeline SURVIVOR VICTIM: print where the failover time went (a
# markdown table on stdout; nothing when python3 is missing).
lab_timeline() {
	command -v python3 > /dev/null || return 0
	python3 "$LAB_SRC/tests/cluster/timeline.py" "$LAB_DIR" "$1" "$2"
}

# lab_timeline_check SURVIVOR VICTIM: lab_timeline, and fail (status 1)
# when the longest I/O gap exceeds issue 5's goal (token + consensus +
# fencing + 1 s) by more than LAB_GOAL_MARGIN seconds (default 0.25: CI
# shares 2 cores with other jobs, and the steps outside the goal's measured
# terms, scheduler run, promote, IPaddr2, tickle, login, stretch under
# load), plus 1 s in a run where pacemaker's controller re-asked for the
# CIB (its fixed sleep; docs/ha.md "Where the failover time goes").
lab_timeline_check() {
	command -v python3 > /dev/null || return 0
	python3 "$LAB_SRC/tests/cluster/timeline.py" --check "${LAB_GOAL_MARGIN:-0.25}" \
		"$LAB_DIR" "$1" "$2"
}

# lab_syslog_has PATTERN: the daemons logged a line matching PATTERN (grep -E).
lab_syslog_has() {
	grep -Eq "$1" "$LAB_DIR/syslog.log" 2> /dev/null
}

# lab_up: build the network and both nodes; return once quorate and idle.
lab_up() {
	local n
	for n in corosync pacemakerd pcs cibadmin ping; do
		command -v "$n" > /dev/null ||
			lab_die "needs $n (the cluster packages in scripts/install-deps.sh)"
	done
	[ "$(id -u)" -eq 0 ] || lab_die "needs root (namespaces, cgroups)"
	[ -w "$LAB_CG_MNT" ] || lab_die "cgroup2 not writable at $LAB_CG_MNT"
	lab_down
	mkdir -p "$LAB_DIR" "$LAB_CG"
	lab_syslog_start
	lab_overlay_prepare
	lab_cluster_files
	[ -f "$LAB_DIR/common/hatgt.conf" ] || lab_hatgt_conf_write
	lab_net_up
	for n in $LAB_NODES; do
		lab_node_dirs "$n"
		lab_node_start "$n"
	done
	lab_wait_cluster 60 || lab_die "the cluster did not come up (logs in $LAB_DIR/node*/)"
	lab_log "cluster up"
}

# lab_hatgt_conf_write: the config both nodes share (same identity); the LUN
# is one file both nodes see, like a shared SAS disk.
lab_hatgt_conf_write() {
	mkdir -p "$LAB_DIR/common" "$LAB_DIR/shared"
	cat > "$LAB_DIR/common/hatgt.conf" << EOF
[global]
listen = ${LAB_LISTEN:-$LAB_PORTAL_IP}:3260
state_dir = /var/lib/hatgt
pid_file = /run/hatgtd.pid
admin_name = hatgt
log_level = notice
cluster = ${LAB_HATGT_CLUSTER:-corosync}
${LAB_HATGT_POLL_US:+poll_us = $LAB_HATGT_POLL_US}
${LAB_HATGT_DEMOTE:+demote_connections = $LAB_HATGT_DEMOTE}

[target iqn.2026-11.org.hatgt.lab:disk1]
lun0 = $LAB_DIR/shared/disk1.img
lun0_size = 1G
EOF
}

# lab_down: stop every node and remove the network; safe to call twice.
lab_down() {
	local n
	for n in $LAB_NODES; do
		lab_node_kill "$n" || lab_log "WARNING: $n did not die"
		[ -d "$LAB_CG/$n" ] && rmdir "$LAB_CG/$n" 2> /dev/null
	done
	# Client helpers (writers) live in the client's cgroup.
	if [ -e "$LAB_CG/client/cgroup.kill" ]; then
		echo 1 > "$LAB_CG/client/cgroup.kill"
		lab_wait 5 "client helpers gone" sh -c "! grep -q '^populated 1' '$LAB_CG/client/cgroup.events'" || true
		rmdir "$LAB_CG/client" 2> /dev/null || true
	fi
	[ -d "$LAB_CG" ] && rmdir "$LAB_CG" 2> /dev/null
	ip netns del "$LAB_CL" > /dev/null 2>&1 || true
	ip netns del "$LAB_SW" > /dev/null 2>&1 || true
	lab_syslog_stop
	if [ "${LAB_KEEP:-0}" != 1 ] && [ -d "$LAB_DIR" ]; then
		rm -rf "$LAB_DIR"
	fi
	return 0
}

# lab_cib_pull FILE: the live CIB into FILE (under LAB_DIR, seen by nodes).
lab_cib_pull() {
	lab_on node1 timeout -k 1 30 pcs cluster cib "$1"
}

# lab_cib_pcs FILE ARGS...: pcs -f FILE on node1, where the lab's agents are
# installed (pcs checks agents' metadata).
lab_cib_pcs() {
	local f=$1
	shift
	lab_on node1 timeout -k 1 30 pcs -f "$f" "$@"
}

# lab_cib_push FILE: replace the live configuration with FILE's.
lab_cib_push() {
	lab_on node1 timeout -k 1 30 pcs cluster cib-push "$1" --config
}

# lab_stonith_add FILE: real fencing into the offline CIB FILE: the lab fence
# agent (cgroup.kill) with fence_heuristics_ping in the same level, so a node
# cut off from the client cannot win the fence race (lab.md "Fencing").
lab_stonith_add() {
	local f=$1 n
	lab_cib_pcs "$f" stonith create fence-lab fence_hatgt_lab \
		cgroup_dir="$LAB_CG_IN_NODE" pcmk_host_list="$LAB_NODES" \
		pcmk_reboot_action=off op monitor interval=60s || return 1
	# One ping (docs/fencing.md): a reachable client answers in one round
	# trip; two pings cost 1 s (the heuristic's whole-second interval).
	lab_cib_pcs "$f" stonith create fence-ping fence_heuristics_ping \
		ping_targets="$LAB_CLIENT_IP" ping_count=1 ping_good_count=1 ping_timeout=1 \
		pcmk_host_list="$LAB_NODES" pcmk_reboot_action=off op monitor interval=60s ||
		return 1
	for n in $LAB_NODES; do
		lab_cib_pcs "$f" stonith level add 1 "$n" fence-ping fence-lab || return 1
	done
	# The fence race when both nodes still reach the client (the corosync
	# link alone fails): fencing the node with the higher resource priority
	# (the promoted target, meta priority in lab_hatgt_deploy) waits
	# LAB_FENCE_DELAY, so the promoted node wins. The delay must exceed the
	# winner's whole fencing (ping + cgroup.kill: ~50 ms here); it is paid on
	# every loss of the promoted node and counts as fencing in the goal.
	lab_cib_pcs "$f" property set priority-fencing-delay="${LAB_FENCE_DELAY:-1s}" || return 1
	lab_cib_pcs "$f" property set stonith-enabled=true
}

LAB_TARGET=iqn.2026-11.org.hatgt.lab:disk1
LAB_URL=iscsi://$LAB_PORTAL_IP:3260/$LAB_TARGET/0
LAB_INIT1=iqn.2026-11.org.hatgt.lab:client1

# lab_hatgt_deploy: the deployment of conf/deploy-two-node.sh, built offline
# with pcs -f: fencing, the target as a promotable clone, the portal IP
# colocated with the Promoted role and ordered after promote. Returns once
# the target is promoted and its portal accepts iSCSI logins.
lab_hatgt_deploy() {
	local f=$LAB_DIR/cib-hatgt.xml
	[ -x "$LAB_DIR/overlay/sbin/hatgtd" ] || lab_skip "no hatgtd (set LAB_BUILD to a build tree)"
	lab_cib_pull "$f" || return 1
	lab_stonith_add "$f" || return 1
	lab_cib_pcs "$f" resource create target ocf:hatgt:hatgt config=/etc/hatgt/hatgt.conf \
		op monitor interval=5s role=Promoted timeout=20s \
		op monitor interval=6s role=Unpromoted timeout=20s \
		meta priority=1 promotable notify=true || return 1
	lab_cib_pcs "$f" resource create portal-ip ocf:heartbeat:IPaddr2 ip="$LAB_PORTAL_IP" \
		cidr_netmask=24 op monitor interval=5s || return 1
	lab_cib_pcs "$f" constraint colocation add portal-ip with Promoted target-clone INFINITY ||
		return 1
	# Asymmetric orders: the IP arrives after promotion, and leaves only
	# after demotion, so the demoting daemon can still close its sessions
	# (FIN to the initiator, which reconnects at once instead of waiting for
	# its command timeout).
	lab_cib_pcs "$f" constraint order promote target-clone 'then' start portal-ip \
		symmetrical=false || return 1
	lab_cib_pcs "$f" constraint order demote target-clone 'then' stop portal-ip \
		symmetrical=false || return 1
	lab_cib_push "$f" || return 1
	lab_wait 60 "hatgtd answering on node1" lab_role_known node1 || return 1
	case $(lab_hatgt_role node1) in
	promoted | unpromoted | syncing) ;;
	*) lab_skip "hatgtd has no cluster roles (hatgtadm role: $(lab_hatgt_role node1))" ;;
	esac
	lab_wait 60 "a promoted target" lab_promoted_node || return 1
	lab_wait 30 "the portal answers iSCSI" lab_client timeout 5 iscsi-inq "$LAB_URL"
}

# lab_hatgt_up: lab_up + lab_hatgt_deploy, then wait until the unpromoted
# peer is synced. Sets LAB_PROMOTED and LAB_PEER.
lab_hatgt_up() {
	lab_up
	lab_hatgt_deploy || lab_fail "deployment did not come up"
	LAB_PROMOTED=$(lab_promoted_node)
	LAB_PEER=$(lab_other "$LAB_PROMOTED")
	lab_log "promoted on $LAB_PROMOTED"
	lab_wait 30 "$LAB_PEER unpromoted" lab_role_is "$LAB_PEER" unpromoted ||
		lab_fail "$LAB_PEER is not an unpromoted, synced instance"
}

# lab_failover_wait NODE: the target is promoted on NODE and the portal
# answers iSCSI (bounded), else the scenario fails.
lab_failover_wait() {
	lab_wait 40 "target promoted on $1" lab_promoted_is "$1" || lab_fail "no failover to $1"
	lab_wait 30 "the portal answers" lab_client timeout 5 iscsi-inq "$LAB_URL" ||
		lab_fail "the portal does not answer after the failover to $1"
}

# lab_promoted_node: print the node where the target is promoted.
lab_promoted_node() {
	local n p
	for n in $LAB_NODES; do
		lab_node_powered "$n" || continue
		p=$(lab_on "$n" timeout -k 1 10 crm_resource --locate --resource target-clone \
			2> /dev/null | awk '/Promoted/ { print $(NF - 1); exit }')
		[ -n "$p" ] || return 1
		echo "$p"
		return 0
	done
	return 1
}

# lab_dc_node: print pacemaker's DC (Designated Controller), as the first
# powered node sees it.
lab_dc_node() {
	local n
	for n in $LAB_NODES; do
		lab_node_powered "$n" || continue
		lab_on "$n" timeout -k 1 5 crmadmin -D -t 2000 2> /dev/null |
			awk '/Designated Controller is:/ { print $NF; exit }'
		return
	done
	return 1
}

# lab_promote_on NODE: make NODE the promoted one (a planned failover, with
# crm_standby of the other node and back), unless it is already. Sets
# LAB_PROMOTED and LAB_PEER.
lab_promote_on() {
	local other
	other=$(lab_other "$1")
	if ! lab_promoted_is "$1"; then
		lab_on "$other" crm_standby --node "$other" --update on ||
			lab_fail "crm_standby $other"
		lab_wait 60 "target promoted on $1" lab_promoted_is "$1" || lab_fail "no failover to $1"
		lab_on "$other" crm_standby --node "$other" --update off ||
			lab_fail "crm_standby $other off"
		lab_wait 60 "$other unpromoted" lab_role_is "$other" unpromoted ||
			lab_fail "$other is not an unpromoted, synced instance"
		lab_on "$1" timeout -k 1 65 crm_resource --wait --timeout=60s > /dev/null 2>&1 || true
	fi
	LAB_PROMOTED=$1
	LAB_PEER=$other
}

# lab_promoted_is NODE: the target is promoted on NODE.
lab_promoted_is() {
	[ "$(lab_promoted_node)" = "$1" ]
}

# lab_hatgt_role NODE: the daemon's own word for its role on NODE.
# "down" when the daemon does not answer, "no-role-verb" when it answers
# but does not know the verb (a daemon without cluster support).
lab_hatgt_role() {
	local out rc=0
	out=$(lab_on "$1" timeout -k 1 5 hatgtadm -s hatgt --timeout 4000 role 2> /dev/null) || rc=$?
	case $rc in
	0) echo "$out" ;;
	4 | 124 | 125 | 137) echo down ;;
	*) echo no-role-verb ;;
	esac
}

# lab_role_known NODE: hatgtd on NODE answers "hatgtadm role" (any word).
lab_role_known() {
	[ "$(lab_hatgt_role "$1")" != down ]
}

# lab_role_is NODE ROLE: the daemon on NODE reports ROLE.
lab_role_is() {
	[ "$(lab_hatgt_role "$1")" = "$2" ]
}

# lab_promotion_score NODE: the target's promotion score on NODE (empty when
# none is set); the agent sets it with crm_master (master-<resource>).
lab_promotion_score() {
	lab_on "$1" timeout -k 1 10 crm_attribute --node "$1" --name master-target \
		--lifetime reboot --query --quiet 2> /dev/null
}

# lab_hatgtd_pid NODE: the pid of hatgtd inside NODE (its pid namespace).
lab_hatgtd_pid() {
	lab_on "$1" cat /run/hatgtd.pid 2> /dev/null | head -n 1
}

# lab_failed_actions NODE: pacemaker's failed resource actions, as NODE's
# crm_mon sees them (XML lines), empty when none.
lab_failed_actions() {
	lab_on "$1" timeout -k 1 10 crm_mon -1 -X 2> /dev/null | grep '<failure ' || true
}

# lab_serving_count: how many daemons say "promoted" right now (never > 1).
lab_serving_count() {
	local n c=0
	for n in $LAB_NODES; do
		lab_node_powered "$n" || continue
		[ "$(lab_hatgt_role "$n")" = promoted ] && c=$((c + 1))
	done
	echo "$c"
}

# lab_writer_start SECS: hatgt-writer in the client namespace (and the
# client's cgroup), acks to $LAB_DIR/acks.txt; sets LAB_WRITER_PID.
lab_writer_start() {
	local w=$LAB_BUILD/tests/cluster/hatgt-writer
	[ -x "$w" ] || lab_skip "no $w"
	mkdir -p "$LAB_CG/client"
	# shellcheck disable=SC2016 # expanded by the inner shell
	sh -c 'echo $$ > "$0/cgroup.procs" && exec ip netns exec "$1" "$2" write "$3" "$4" "$5"' \
		"$LAB_CG/client" "$LAB_CL" "$w" "$LAB_URL" "$1" "$LAB_INIT1" \
		> "$LAB_DIR/acks.txt" 2> "$LAB_DIR/writer.log" &
	LAB_WRITER_PID=$!
}

# lab_writer_wait: wait for the writer (bounded by its own SECS + 30 s).
lab_writer_wait() {
	local i=0
	while kill -0 "$LAB_WRITER_PID" 2> /dev/null; do
		i=$((i + 1))
		[ "$i" -le 600 ] || {
			kill "$LAB_WRITER_PID"
			lab_log "the writer did not finish"
			return 1
		}
		sleep 0.2
	done
	wait "$LAB_WRITER_PID"
}

# lab_writer_acks: number of acknowledged writes; lab_writer_gap_ms: the
# longest time between two acknowledgements (the failover as the initiator
# sees it).
lab_writer_acks() {
	grep -c '^ack ' "$LAB_DIR/acks.txt" || true
}

lab_writer_gap_ms() {
	awk '/^ack / { if (prev && $3 - prev > gap) gap = $3 - prev; prev = $3 }
		END { printf "%d\n", gap / 1000000 }' "$LAB_DIR/acks.txt"
}

# lab_writer_verify: every acknowledged write reads back (exit 1 if not).
lab_writer_verify() {
	local n
	n=$(lab_writer_acks)
	lab_client timeout 300 "$LAB_BUILD/tests/cluster/hatgt-writer" verify "$LAB_URL" "$n" \
		"$LAB_INIT1" | tail -n 1 >&2
	return "${PIPESTATUS[0]}"
}

# lab_writer_check WHAT MAX_GAP_MS: wait for the writer, print its figures,
# and fail the scenario if an acknowledged write is lost or the longest gap
# exceeds MAX_GAP_MS (0: no limit).
lab_writer_check() {
	local gap
	lab_writer_wait || lab_fail "the writer did not finish"
	gap=$(lab_writer_gap_ms)
	lab_log "$1: $(lab_writer_acks) acknowledged writes, longest gap ${gap} ms"
	lab_writer_verify || lab_fail "acknowledged writes lost"
	[ "$2" -eq 0 ] || [ "$gap" -le "$2" ] || lab_fail "longest gap ${gap} ms > ${2} ms"
}

# lab_pr ARGS < SCRIPT: pr_client (tests/integration) against the portal.
lab_pr() {
	local p=$LAB_BUILD/tests/integration/pr_client
	[ -x "$p" ] || lab_skip "no $p"
	lab_client timeout 60 "$p" "$LAB_PORTAL_IP:3260" "$LAB_TARGET" 0 "$@"
}

# The two guests of the PR scenarios (nodes A and B of lab_pr).
LAB_G1=iqn.2026-11.org.hatgt.lab:guest1
LAB_G2=iqn.2026-11.org.hatgt.lab:guest2

# lab_pr_guests SCRIPT: run SCRIPT as guests A and B; the scenario fails
# unless every step answers GOOD.
lab_pr_guests() {
	local out
	out=$(printf '%b' "$1" | lab_pr "$LAB_G1" "$LAB_G2") || lab_fail "pr_client failed: $out"
	echo "$out" | grep -vq ': GOOD' && lab_fail "PR steps not GOOD: $out"
	return 0
}

# lab_pr_state: the PR state as the initiators see it (keys, holder, type,
# PRgeneration), one canonical text block.
lab_pr_state() {
	printf 'A read-full-status\nA read-reservation\nA read-keys\n' | lab_pr "$LAB_G1" "$LAB_G2"
}

# lab_pcs ARGS...: pcs on the first powered node.
lab_pcs() {
	local n
	for n in $LAB_NODES; do
		if lab_node_powered "$n"; then
			lab_on "$n" pcs "$@"
			return
		fi
	done
	lab_log "no node is running"
	return 125
}

# Scenario scripts: lab_scenario_begin SECS, then assertions with lab_fail.
# Exit statuses follow automake: 0 pass, 1 fail, 77 skip, 99 hard error.
LAB_WATCHDOG=

lab_fail() {
	lab_log "FAIL: $*"
	exit 1
}

lab_skip() {
	lab_log "SKIP: $*"
	exit 77
}

lab_scenario_end() {
	local rc=$?
	trap - EXIT INT TERM
	[ -n "$LAB_WATCHDOG" ] && kill "$LAB_WATCHDOG" 2> /dev/null
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
		LAB_KEEP=1
		lab_log "keeping $LAB_DIR for the logs (node*/var-log, node*/init.log)"
	fi
	lab_down
	lab_log "${0##*/}: $(case $rc in 0) echo PASS ;; 77) echo SKIP ;; 1) echo FAIL ;; *) echo "ERROR ($rc)" ;; esac)"
	exit "$rc"
}

# lab_scenario_begin SECS: tear the lab down on any exit, and end the
# scenario (as an error) if it runs longer than SECS seconds.
lab_scenario_begin() {
	local secs=$1 self=$$
	[ "$(id -u)" -eq 0 ] || lab_skip "needs root"
	command -v pcs > /dev/null || lab_skip "pcs not installed (scripts/install-deps.sh --cluster)"
	trap lab_scenario_end EXIT
	trap 'exit 99' INT TERM
	(
		sleep "$secs" > /dev/null 2>&1
		lab_log "scenario exceeded ${secs}s"
		kill -TERM "$self"
	) &
	LAB_WATCHDOG=$!
}

# lab_resource_node RSC: the node where pacemaker runs RSC (promoted
# instance for a promotable clone), empty when stopped.
lab_resource_node() {
	local n
	for n in $LAB_NODES; do
		if lab_node_powered "$n"; then
			lab_on "$n" timeout -k 1 10 crm_resource --locate --quiet --resource "$1" \
				2> /dev/null | tail -n 1
			return
		fi
	done
}

# lab_fence_count NODE VICTIM: successful fencing actions against VICTIM
# in NODE's history.
lab_fence_count() {
	lab_on "$1" timeout -k 1 10 stonith_admin --history "$2" 2> /dev/null |
		grep -c "of $2 successful" || true
}

# lab_fenced NODE VICTIM: NODE's history has VICTIM fenced at least once.
lab_fenced() {
	[ "$(lab_fence_count "$1" "$2")" -ge 1 ]
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	cmd=${1:-}
	[ $# -gt 0 ] && shift
	case $cmd in
	up) lab_up ;;
	down) LAB_KEEP=${LAB_KEEP:-0} lab_down ;;
	status) lab_pcs status ;;
	on) lab_on "$@" ;;
	client) lab_client "$@" ;;
	kill) lab_node_kill "$1" ;;
	start) lab_node_start "$1" ;;
	*)
		echo "usage: lab.sh up|down|status|on NODE CMD...|client CMD...|kill NODE|start NODE" >&2
		exit 2
		;;
	esac
fi
