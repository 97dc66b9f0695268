#!/bin/bash
# Any iSCSI suite of libiscsi's compliance test beyond the four that have
# their own test (cmdsn, datasn, Residuals, TMF) passes with no failure.
# libiscsi 1.19 has no other: the test is skipped there.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
need_tool iscsi-test-cu
OTHERS=$(iscsi-test-cu --list | grep -E '^ALL\.iSCSI[^.]+$' |
	grep -Ev '^ALL\.(iSCSIcmdsn|iSCSIdatasn|iSCSIResiduals|iSCSITMF)$' || true)
[ -n "$OTHERS" ] || skip "this iscsi-test-cu has no iSCSI suite beyond cmdsn, datasn, Residuals, TMF"
it_setup
TGT=iqn.2026-11.org.hatgt.test:cu
add_target -s 64M "$TGT"
daemon_start
for suite in $OTHERS; do
	cu_run "$suite" "$TGT" 0
done
