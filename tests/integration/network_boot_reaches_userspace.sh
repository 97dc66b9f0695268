#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A real network boot from hatgtd (issue 9, docs/diskless-boot.md section 6):
#
#   golden.qcow2 <- ovl/boot-0001.qcow2  target :boot-0001, initiator :boot-0001-host
#                <- ovl/boot-0002.qcow2  target :boot-0002, initiator :boot-0002-host
#
# mkbootimg.sh builds (once, cached) a 32 MiB BIOS disk: syslinux, Debian's
# kernel, a busybox initramfs whose /init prints HATGT-USERSPACE-OK on the
# serial console, writes one sector raw to LBA 1024 of its virtio disk and
# powers off. hatgtadm clone makes two clients of it, then:
#
# 1. client 1 boots with qemu's own iSCSI initiator (libiscsi) as its virtio
#    disk: SeaBIOS reads the MBR, syslinux, the kernel and the initramfs
#    through hatgtd; the guest reaches userspace, its write goes back through
#    hatgtd, and qemu exits by itself (poweroff);
# 2. client 2 boots through iPXE's sanboot (qemu's virtio-net ROM, DHCP and
#    TFTP from qemu's user network, hatgtd reached at 10.0.2.2): the same
#    boot, with the disk seen by the firmware only (the guest says
#    HATGT-NO-DISK and writes nothing);
# 3. after hatgtd stops: qemu-img check finds both overlays clean, the
#    guest's sector is in client 1's overlay, and neither client 2's overlay
#    nor the golden image has it (the golden image is byte-for-byte unchanged).
#
# Before that, the image boots from a local copy, with KVM if it really
# works (a probe boot, 15 s at most) and TCG otherwise: this picks the
# accelerator and tells an image problem (ERROR) from a hatgtd one (FAIL).
# The image and the kernel are cached in $HATGT_BOOTIMG_CACHE
# (${TMPDIR:-/tmp}/hatgt-bootimg-cache), so only the first run builds them
# (the kernel .deb is fetched with apt-get download). About 20 s with KVM,
# 40 s with TCG once cached. Skipped (77) only without qemu-system-x86_64.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
command -v qemu-system-x86_64 > /dev/null 2>&1 ||
	skip "qemu-system-x86_64 not found (Debian: apt-get install qemu-system-x86)"
for c in qemu-img cmp sha256sum busybox syslinux mkfs.vfat mcopy dpkg-deb; do
	command -v "$c" > /dev/null 2>&1 ||
		hard_error "'$c' not found: scripts/install-deps.sh installs what this test needs"
done
# shellcheck source=mkbootimg.sh
MKBOOTIMG_VARS_ONLY=1 . "$IT_LIBDIR/mkbootimg.sh"
it_setup
IQN=iqn.2026-11.org.hatgt.test
CACHE=${HATGT_BOOTIMG_CACHE:-${TMPDIR:-/tmp}/hatgt-bootimg-cache}
mkdir -p "$CACHE" "$T/conf.d" "$T/img" "$T/ovl" "$T/tftp"

bounded 600 bash "$IT_LIBDIR/mkbootimg.sh" "$CACHE" > "$T/mkbootimg.out" 2> "$T/mkbootimg.err" ||
	hard_error "mkbootimg.sh failed: $(cat "$T/mkbootimg.err")"
IMG=$(cat "$T/mkbootimg.out")

# boot NAME SECS ACCEL QEMU-ARGS...: boot with a serial log $T/NAME.serial,
# killed after SECS; sets BOOT_ST to qemu's exit status (124: timed out).
# SeaBIOS mirrors its console (and iPXE's) to the serial port
# (etc/sercon-port, qemu warns that the name lacks "opt/"); a failed boot
# reboots at once (reboot-timeout=0), which -no-reboot turns into an exit.
printf '\xf8\x03' > "$T/sercon-port"
boot() {
	local name=$1 secs=$2 accel=$3
	shift 3
	BOOT_ST=0
	bounded "$secs" qemu-system-x86_64 -accel "$accel" -m 256 -display none -monitor none \
		-no-reboot -serial "file:$T/$name.serial" \
		-fw_cfg "name=etc/sercon-port,file=$T/sercon-port" "$@" \
		< /dev/null > "$T/$name.qemu" 2>&1 || BOOT_ST=$?
}

# booted NAME MARKER...: true if qemu exited by itself (status 0) and every
# MARKER is on a line of its serial log.
booted() {
	local name=$1 m
	shift
	[ "$BOOT_ST" = 0 ] || return 1
	for m in "$@"; do
		grep -qF "$m" "$T/$name.serial" 2> /dev/null || return 1
	done
}

# boot_failure NAME: what the boot left, for a failure message.
boot_failure() {
	printf 'qemu exit status %s; qemu: %s; serial log (tail): %s' "$BOOT_ST" \
		"$(tail -n 5 "$T/$1.qemu" 2> /dev/null)" \
		"$(tr -d '\r' < "$T/$1.serial" 2> /dev/null | grep -v '^[[:space:]]*$' | tail -n 15)"
}

# The local boot: picks the accelerator, proves the image boots and writes.
cp "$IMG" "$T/local.raw"
LOCAL=(-nic none -drive "file=$T/local.raw,format=raw,if=virtio" -boot "order=c,reboot-timeout=0")
ACCEL=kvm
BOOT_SECS=60
boot local-kvm 15 kvm "${LOCAL[@]}"
if ! booted local-kvm HATGT-USERSPACE-OK HATGT-WRITE-OK; then
	it_log "KVM does not boot the image here (qemu status $BOOT_ST: $(grep -m 1 -i error \
		"$T/local-kvm.qemu")); using TCG"
	ACCEL=tcg
	BOOT_SECS=150
	cp "$IMG" "$T/local.raw"
	boot local-tcg 120 tcg "${LOCAL[@]}"
	booted local-tcg HATGT-USERSPACE-OK HATGT-WRITE-OK ||
		hard_error "the image does not boot from a local file: $(boot_failure local-tcg)"
fi
it_log "accelerator: $ACCEL"

# The sector the guest writes, as the host must read it back.
{
	printf '%s\n' "$BOOT_SECTOR_TEXT"
	head -c $((512 - ${#BOOT_SECTOR_TEXT} - 1)) /dev/zero
} > "$T/sector.expected"
head -c 512 /dev/zero > "$T/sector.zero"
# sector IMAGE FORMAT OUT: LBA $BOOT_SECTOR of IMAGE into OUT, read by
# qemu-img (not qemu-img dd: in qemu 7.2 its count= includes skip=).
sector() {
	tool qemu-img convert -f "$2" -O raw "$1" "$T/sector.raw" > "$T/convert.out" 2>&1 ||
		fail "qemu-img convert of $1: $(cat "$T/convert.out")"
	dd if="$T/sector.raw" of="$3" bs=512 skip="$BOOT_SECTOR" count=1 status=none
	rm -f "$T/sector.raw"
}
sector "$T/local.raw" raw "$T/sector.local"
cmp -s "$T/sector.expected" "$T/sector.local" ||
	hard_error "the local boot did not write the expected sector (mkbootimg.sh and this test disagree)"

tool qemu-img convert -f raw -O qcow2 "$IMG" "$T/img/golden.qcow2" ||
	hard_error "qemu-img convert to qcow2 failed"
chmod 0444 "$T/img/golden.qcow2"
GOLDEN_SUM=$(sha256sum < "$T/img/golden.qcow2")
global_set "include = $T/conf.d"
daemon_start
adm clone "$T/img/golden.qcow2" 2 prefix=boot dir="$T/ovl" iqn="$IQN" \
	initiator="$IQN:boot-{n}-host" > "$T/clone.out" 2>&1 ||
	fail "clone failed: $(cat "$T/clone.out")"

# 1. Client 1 through qemu's iSCSI initiator, SeaBIOS booting the LUN.
boot client1 "$BOOT_SECS" "$ACCEL" -nic none -iscsi "initiator-name=$IQN:boot-0001-host" \
	-drive "file=$(url "$IQN:boot-0001" 0),format=raw,if=virtio" -boot order=c,reboot-timeout=0
[ "$BOOT_ST" != 124 ] || fail "client 1 did not power off within $BOOT_SECS s: $(boot_failure client1)"
booted client1 HATGT-USERSPACE-OK ||
	fail "client 1 did not reach userspace through iSCSI: $(boot_failure client1)"
booted client1 HATGT-USERSPACE-OK HATGT-WRITE-OK ||
	fail "client 1 reached userspace but its write failed: $(boot_failure client1)"

# 2. Client 2 through iPXE's sanboot over qemu's user network.
cat > "$T/tftp/boot.ipxe" << EOF
#!ipxe
dhcp
set initiator-iqn $IQN:boot-0002-host
sanboot iscsi:10.0.2.2::$PORT::$IQN:boot-0002
EOF
boot client2 "$BOOT_SECS" "$ACCEL" -netdev "user,id=n0,tftp=$T/tftp,bootfile=boot.ipxe" \
	-device virtio-net-pci,netdev=n0 -boot order=n,reboot-timeout=0
[ "$BOOT_ST" != 124 ] || fail "client 2 (iPXE) did not power off within $BOOT_SECS s: $(boot_failure client2)"
booted client2 HATGT-USERSPACE-OK HATGT-NO-DISK ||
	fail "client 2 did not reach userspace through iPXE's sanboot: $(boot_failure client2)"

# 3. qemu's own tools on the files, hatgtd stopped.
daemon_stop || fail "hatgtd did not stop cleanly"
for n in 1 2; do
	ovl=$T/ovl/boot-000$n.qcow2
	tool qemu-img check "$ovl" > "$T/check.out" 2>&1 ||
		fail "qemu-img check $ovl: $(cat "$T/check.out")"
done
sector "$T/ovl/boot-0001.qcow2" qcow2 "$T/sector.1"
cmp -s "$T/sector.expected" "$T/sector.1" ||
	fail "client 1's overlay does not hold the sector its guest wrote: $(od -c "$T/sector.1" | head -n 3)"
sector "$T/ovl/boot-0002.qcow2" qcow2 "$T/sector.2"
cmp -s "$T/sector.zero" "$T/sector.2" || fail "client 1's write shows in client 2's overlay"
sector "$T/img/golden.qcow2" qcow2 "$T/sector.golden"
cmp -s "$T/sector.zero" "$T/sector.golden" || fail "client 1's write shows in the golden image"
[ "$(sha256sum < "$T/img/golden.qcow2")" = "$GOLDEN_SUM" ] || fail "the golden image changed"
exit 0
