#!/bin/bash
# 32 MiB of random data written with qemu-img reads back byte-exact.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
it_setup
TGT=iqn.2026-11.org.hatgt.test:disk
cat >> "$CONF" << EOF2
[target $TGT]
lun0 = $T/lun0.img
lun0_size = 32M
EOF2
daemon_start
roundtrip_check "$TGT"
