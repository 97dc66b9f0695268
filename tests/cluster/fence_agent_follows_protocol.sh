#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# fencing/fence_hatgt_lab speaks the fence-agent protocol: metadata is XML
# with the actions pacemaker needs; key=value on stdin and -o/-n both work;
# status is 0 for a node with processes and 2 for an empty one; off kills
# every process of the node's cgroup and is idempotent; on fails for a node
# that is off; a bad or unknown plug fails. Needs root and cgroup v2; no
# cluster.

set -u
here=$(cd "$(dirname "$0")" && pwd)
agent=$here/../../fencing/fence_hatgt_lab
log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }

[ "$(id -u)" -eq 0 ] || { log "SKIP: needs root"; exit 77; }
if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
	mnt=/sys/fs/cgroup
else
	mnt=/sys/fs/cgroup/unified
fi
cg=$mnt/hatgt-fence-test-$$
mkdir "$cg" "$cg/n1" 2> /dev/null || { log "SKIP: cannot create cgroups under $mnt"; exit 77; }
sleeper=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	[ -n "$sleeper" ] && kill "$sleeper" 2> /dev/null
	[ -e "$cg/n1/cgroup.kill" ] && echo 1 > "$cg/n1/cgroup.kill"
	sleep 0.2
	rmdir "$cg/n1" "$cg" 2> /dev/null
}
trap cleanup EXIT

rc=0
check() { # check WANT_RC DESCRIPTION CMD...
	local want=$1 what=$2 got
	shift 2
	"$@" > /dev/null 2>&1
	got=$?
	[ "$got" -eq "$want" ] || {
		log "FAIL: $what: exit $got, want $want"
		rc=1
	}
}

# shellcheck disable=SC2016 # expanded by the inner shell
sh -c 'echo $$ > "$0/cgroup.procs" && exec sleep 60' "$cg/n1" &
sleeper=$!
disown "$sleeper"
sleep 0.2

meta=$("$agent" -o metadata)
for a in on off reboot status list monitor metadata; do
	echo "$meta" | grep -q "<action name=\"$a\"" || { log "FAIL: metadata lacks action $a"; rc=1; }
done
if command -v xmllint > /dev/null; then
	echo "$meta" | xmllint --noout - 2> /dev/null || { log "FAIL: metadata is not XML"; rc=1; }
fi

check 0 "status of a running node (stdin)" sh -c "printf 'action=status\nplug=n1\ncgroup_dir=$cg\n' | '$agent'"
check 0 "status of a running node (-o -n)" "$agent" -o status -n n1 --cgroup-dir="$cg"
check 0 "on for a node already on" sh -c "printf 'action=on\nport=n1\ncgroup_dir=$cg\n' | '$agent'"
[ "$("$agent" -o list --cgroup-dir="$cg" < /dev/null)" = "n1," ] || { log "FAIL: list"; rc=1; }
check 1 "status of an unknown node" "$agent" -o status -n nosuch --cgroup-dir="$cg"
check 1 "a plug with a slash" "$agent" -o off -n ../n1 --cgroup-dir="$cg"
check 1 "an unknown action" "$agent" -o explode -n n1 --cgroup-dir="$cg"
check 1 "monitor without the cgroup dir" "$agent" -o monitor --cgroup-dir="$cg/none"
check 0 "off (nodename= as pacemaker passes it)" sh -c "printf 'action=off\nnodename=n1\ncgroup_dir=$cg\n' | '$agent'"
kill -0 "$sleeper" 2> /dev/null && { log "FAIL: the node's process survived off"; rc=1; }
sleeper=
check 2 "status of a node that is off" "$agent" -o status -n n1 --cgroup-dir="$cg"
check 0 "off of a node that is off" "$agent" -o off -n n1 --cgroup-dir="$cg"
check 1 "on of a node that is off" "$agent" -o on -n n1 --cgroup-dir="$cg"
[ "$rc" -eq 0 ] && log PASS
exit "$rc"
