#!/bin/bash
# 32 MiB of random data written with qemu-img reads back byte-exact.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
it_setup
TGT=iqn.2026-11.org.hatgt.test:disk
add_target "$TGT"
daemon_start
roundtrip_check "$TGT"
