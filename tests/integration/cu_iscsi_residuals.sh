#!/bin/bash
# libiscsi's compliance suite ALL.iSCSIResiduals passes with no failure.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
it_setup
TGT=iqn.2026-11.org.hatgt.test:cu
cat >> "$CONF" << EOF2
[target $TGT]
lun0 = $T/lun0.img
lun0_size = 64M
EOF2
daemon_start
cu_run ALL.iSCSIResiduals "$TGT" 0
