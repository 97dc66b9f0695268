#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build a small BIOS-bootable raw disk image for the network boot test
# (network_boot_reaches_userspace.sh, issue 9) and print its path.
#
#   mkbootimg.sh CACHE_DIR
#
# The image (32 MiB, raw):
#
#   LBA 0        syslinux's mbr.bin, one partition entry (active, FAT16 LBA)
#   LBA 1024     zero; the guest writes BOOT_SECTOR_TEXT here (see below)
#   LBA 2048-    FAT16: ldlinux.sys/.c32, syslinux.cfg, vmlinuz, initrd.gz
#
# The kernel is Debian's linux-image-*-amd64, extracted from its .deb
# (apt-get download, never installed): BOOT_KERNEL_DEB=FILE names a .deb to
# use instead. The initramfs is busybox-static, the virtio modules the disk
# needs, and an /init that mounts /proc, /sys and /dev, prints
# HATGT-USERSPACE-OK on the serial console, writes one 512-byte sector
# (BOOT_SECTOR_TEXT, zero-padded) raw to LBA 1024 of /dev/vda with an fsync,
# prints HATGT-WRITE-OK and powers off (poweroff -f). With no virtio disk
# (booted through iPXE's sanboot, where the disk is the firmware's only) it
# prints HATGT-NO-DISK instead of writing.
#
# Everything is cached under CACHE_DIR: the kernel package by name, the image
# by a hash of this script and the kernel, so only the first run pays (about
# 5 s plus the 70 MB download). Builds go to a temporary directory first and
# are renamed into place, so parallel runs do not see a half-built image.
#
# Exit status: 0 (path on stdout), 1 on failure (reason on stderr).

set -eu

BOOT_SECTOR=1024
BOOT_SECTOR_TEXT=HATGT-GUEST-WROTE-THIS-SECTOR
MODULES="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk"
DISK_MIB=32
PART_START=2048

# Sourced by the test for BOOT_SECTOR and BOOT_SECTOR_TEXT only.
if [ "${MKBOOTIMG_VARS_ONLY:-0}" = 1 ]; then
	# shellcheck disable=SC2317
	return 0 2> /dev/null || exit 0
fi

die() {
	printf 'mkbootimg.sh: %s\n' "$*" >&2
	exit 1
}

[ $# -eq 1 ] || die "usage: mkbootimg.sh CACHE_DIR"
CACHE=$1
for c in busybox mkfs.vfat mcopy syslinux sha256sum dpkg-deb gzip; do
	command -v "$c" > /dev/null 2>&1 || die "'$c' not found (scripts/install-deps.sh installs it)"
done
MBR=
for f in /usr/lib/syslinux/mbr/mbr.bin /usr/lib/SYSLINUX/mbr.bin /usr/lib/EXTLINUX/mbr.bin; do
	[ -f "$f" ] && MBR=$f && break
done
[ -n "$MBR" ] || die "syslinux's mbr.bin not found (Debian: syslinux-common)"
BUSYBOX=$(command -v busybox)
# ldd fails on a static executable.
if ldd "$BUSYBOX" > /dev/null 2>&1; then
	die "$BUSYBOX is dynamically linked (Debian: busybox-static)"
fi
mkdir -p "$CACHE/kernel"

# kernel_deb: the path of the kernel .deb, downloaded once into the cache.
kernel_deb() {
	local pkg tmp
	if [ -n "${BOOT_KERNEL_DEB:-}" ]; then
		[ -f "$BOOT_KERNEL_DEB" ] || die "BOOT_KERNEL_DEB=$BOOT_KERNEL_DEB is not a file"
		printf '%s\n' "$BOOT_KERNEL_DEB"
		return 0
	fi
	pkg=$(apt-cache depends linux-image-amd64 2> /dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9].*-amd64$/ { print $2; exit }')
	if [ -z "$pkg" ]; then
		# No apt metadata: any kernel downloaded before.
		pkg=$(find "$CACHE/kernel" -name 'linux-image-*-amd64_*.deb' | sort | tail -n 1)
		[ -n "$pkg" ] || die "no linux-image-amd64 in apt's lists (run apt-get update) and none cached"
		printf '%s\n' "$pkg"
		return 0
	fi
	for f in "$CACHE/kernel/${pkg}"_*.deb; do
		[ -f "$f" ] && printf '%s\n' "$f" && return 0
	done
	tmp=$(mktemp -d "$CACHE/kernel/dl.XXXXXX")
	(cd "$tmp" && apt-get download -q "$pkg") > "$tmp/apt.log" 2>&1 ||
		die "apt-get download $pkg failed: $(tail -n 3 "$tmp/apt.log")"
	for f in "$tmp/${pkg}"_*.deb; do
		[ -f "$f" ] || die "apt-get download $pkg left no .deb"
		mv "$f" "$CACHE/kernel/"
		rm -rf "$tmp"
		printf '%s\n' "$CACHE/kernel/${f##*/}"
		return 0
	done
}

DEB=$(kernel_deb)
KEY=$({
	cat "${BASH_SOURCE[0]}"
	printf '%s\n' "${DEB##*/}"
} | sha256sum | cut -c1-16)
IMG=$CACHE/boot-$KEY.raw
if [ -f "$IMG" ]; then
	printf '%s\n' "$IMG"
	exit 0
fi

W=$(mktemp -d "$CACHE/build.XXXXXX")
trap 'rm -rf "$W"' EXIT
dpkg-deb -x "$DEB" "$W/deb" || die "cannot extract $DEB"
set -- "$W"/deb/boot/vmlinuz-*
[ -f "$1" ] || die "no vmlinuz in $DEB"
VMLINUZ=$1
KVER=${VMLINUZ##*/vmlinuz-}

# The initramfs.
R=$W/root
mkdir -p "$R/bin" "$R/proc" "$R/sys" "$R/dev" "$R/lib/modules"
cp "$BUSYBOX" "$R/bin/busybox"
for m in $MODULES; do
	f=$(find "$W/deb/lib/modules/$KVER" -name "$m.ko" | head -n 1)
	[ -n "$f" ] || die "module $m.ko not in $DEB"
	cp "$f" "$R/lib/modules/"
done
cat > "$R/init" << EOF
#!/bin/busybox sh
# hatgt network boot test guest (tests/integration/mkbootimg.sh).
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "HATGT-USERSPACE-OK kernel \$(uname -r)"
for m in $MODULES; do
	insmod /lib/modules/\$m.ko || echo "HATGT-INSMOD-FAILED \$m"
done
i=0
while [ -e /sys/block/vda ] && [ ! -b /dev/vda ] && [ \$i -lt 50 ]; do
	sleep 0.1
	i=\$((i + 1))
done
if [ -b /dev/vda ]; then
	if printf '%s\n' "$BOOT_SECTOR_TEXT" |
		dd of=/dev/vda bs=512 seek=$BOOT_SECTOR count=1 conv=sync,fsync 2> /dev/null; then
		sync
		echo HATGT-WRITE-OK
	else
		echo HATGT-WRITE-FAILED
	fi
else
	echo HATGT-NO-DISK
fi
poweroff -f
EOF
chmod 0755 "$R/init"
(cd "$R" && find . | LC_ALL=C sort | busybox cpio -o -H newc 2> /dev/null) | gzip -9 > "$W/initrd.gz" ||
	die "cannot build the initramfs"

# The FAT16 partition: syslinux (through mtools, no mount), then the files.
# -h: hidden sectors, the partition's LBA, which the boot sector needs.
cat > "$W/syslinux.cfg" << EOF
SERIAL 0 115200
DEFAULT hatgt
PROMPT 0
TIMEOUT 0
LABEL hatgt
	KERNEL vmlinuz
	APPEND initrd=initrd.gz console=ttyS0,115200 panic=-1 quiet
EOF
PART_KIB=$(((DISK_MIB * 1024) - (PART_START / 2)))
mkfs.vfat -F 16 -n HATGTBOOT -h "$PART_START" -C "$W/part.img" "$PART_KIB" > /dev/null ||
	die "mkfs.vfat failed"
syslinux --install "$W/part.img" || die "syslinux --install failed"
mcopy -i "$W/part.img" "$VMLINUZ" ::vmlinuz || die "mcopy vmlinuz failed"
mcopy -i "$W/part.img" "$W/initrd.gz" ::initrd.gz || die "mcopy initrd.gz failed"
mcopy -i "$W/part.img" "$W/syslinux.cfg" ::syslinux.cfg || die "mcopy syslinux.cfg failed"

# le32 N: N as 4 little-endian bytes, in printf's \x notation.
le32() {
	printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 & 255)) $((($1 >> 8) & 255)) \
		$((($1 >> 16) & 255)) $((($1 >> 24) & 255))
}

# The MBR: boot code, then partition entry 1 at byte 446 (active, CHS
# fields saturated: LBA only, type 0x0e FAT16 LBA), then 0x55 0xaa.
truncate -s "${DISK_MIB}M" "$W/disk.raw"
dd if="$MBR" of="$W/disk.raw" bs=440 count=1 conv=notrunc status=none
# shellcheck disable=SC2059 # the format is built from \x escapes on purpose
printf "\\x80\\xfe\\xff\\xff\\x0e\\xfe\\xff\\xff$(le32 "$PART_START")$(le32 $((PART_KIB * 2)))" |
	dd of="$W/disk.raw" bs=1 seek=446 conv=notrunc status=none
printf '\x55\xaa' | dd of="$W/disk.raw" bs=1 seek=510 conv=notrunc status=none
dd if="$W/part.img" of="$W/disk.raw" bs=512 seek="$PART_START" conv=notrunc status=none
mv "$W/disk.raw" "$IMG"
printf '%s\n' "$IMG"
