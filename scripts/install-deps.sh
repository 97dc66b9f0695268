#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Install what hatgt needs on Debian 12 (bookworm): the build dependencies,
# the initiators used to connect and test (libiscsi tools, qemu-img), tgt as
# a reference target, and the linters CI runs. Run as root (or it uses sudo).
#
# Usage: scripts/install-deps.sh

set -eu

packages=(
	# build
	autoconf automake libtool pkg-config make gcc clang libclang-rt-14-dev
	libqb-dev libcpg-dev libquorum-dev libcorosync-common-dev
	libisal-dev libinih-dev liburing-dev libssl-dev zlib1g-dev
	# tests and initiators
	libcmocka-dev libiscsi-bin libiscsi-dev qemu-utils qemu-block-extra tgt python3
	# the network boot test (tests/integration/network_boot_reaches_userspace.sh)
	qemu-system-x86 ipxe-qemu syslinux syslinux-common busybox-static dosfstools mtools
	# the two-node lab (tests/cluster): real corosync, pacemaker and pcs
	corosync pacemaker pacemaker-cli-utils pcs resource-agents fence-agents iputils-ping
	# lint and memory checks
	shellcheck cppcheck valgrind
)

sudo=
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo > /dev/null || {
		echo "install-deps: run as root (sudo not found)" >&2
		exit 1
	}
	sudo=sudo
fi
had_tgt=0
dpkg -s tgt > /dev/null 2>&1 && had_tgt=1
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update
$sudo apt-get install -y --no-install-recommends "${packages[@]}"

# tgt is here only as a reference for tests/integration/conformance.sh,
# which starts its own tgtd. On a systemd machine the package starts a tgtd
# on port 3260, where hatgtd's default config listens: stop the service we
# just installed (a tgt that was installed before is left alone).
if [ "$had_tgt" = 0 ] && [ -d /run/systemd/system ]; then
	echo "install-deps: stopping and disabling the tgt service (port 3260 is hatgtd's)"
	$sudo systemctl disable --now tgt.service || true
fi
