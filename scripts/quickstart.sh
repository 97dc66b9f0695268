#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# From a fresh Debian 12 clone to a running single-node target:
# installs the dependencies (scripts/install-deps.sh), builds in build/,
# starts hatgtd on its embedded default config (one 1 GiB sparse file LUN,
# iqn.2026-11.org.hatgt:default LUN 0, /var/lib/hatgt/default.img, on
# 127.0.0.1:3260) and prints how to connect and how to stop it.
#
# Usage (as root): ./scripts/quickstart.sh [--no-deps]

set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
iqn=iqn.2026-11.org.hatgt:default
portal=127.0.0.1:3260
deps=1
[ "${1:-}" = --no-deps ] && deps=0

die() {
	echo "quickstart: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "run as root: hatgtd keeps its state in /var/lib/hatgt (sudo $0)"
cd "$top"
[ "$deps" = 0 ] || scripts/install-deps.sh

autoreconf -fi
mkdir -p build
(cd build && ../configure -q && make -s -j"$(nproc)")

if timeout 2 bash -c "exec 3<>/dev/tcp/${portal%:*}/${portal#*:}" 2> /dev/null; then
	die "something already listens on $portal (a hatgtd started before? tgtd?); stop it first"
fi
mkdir -p /var/lib/hatgt
setsid build/daemon/hatgtd --foreground > build/hatgtd.log 2>&1 < /dev/null &
pid=$!
echo "$pid" > build/hatgtd.pid
for _ in $(seq 1 100); do
	kill -0 "$pid" 2> /dev/null || die "hatgtd exited; its log (build/hatgtd.log): $(cat build/hatgtd.log)"
	timeout 2 bash -c "exec 3<>/dev/tcp/${portal%:*}/${portal#*:}" 2> /dev/null && break
	sleep 0.1
done
timeout 2 bash -c "exec 3<>/dev/tcp/${portal%:*}/${portal#*:}" 2> /dev/null ||
	die "hatgtd (pid $pid) does not accept on $portal after 10 s; see build/hatgtd.log"

cat << EOF

hatgtd is running: pid $pid, log $top/build/hatgtd.log
Target $iqn, LUN 0 = /var/lib/hatgt/default.img (1 GiB, sparse), portal $portal

Connect (libiscsi-bin, qemu-utils):
  iscsi-ls -s iscsi://$portal
  iscsi-inq iscsi://$portal/$iqn/0
  iscsi-readcapacity16 iscsi://$portal/$iqn/0
  qemu-img info iscsi://$portal/$iqn/0
  qemu-img create -f raw disk.raw 64M && qemu-img convert -n -O raw disk.raw iscsi://$portal/$iqn/0
Administer:
  $top/build/daemon/admin/hatgtadm status
  $top/build/daemon/admin/hatgtadm sessions
Stop (SIGTERM finishes commands in flight and exits):
  kill \$(cat $top/build/hatgtd.pid)
EOF
