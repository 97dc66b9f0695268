#!/bin/bash
# libiscsi's compliance suite ALL.iSCSIcmdsn passes with no failure.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
cu_suite_test iSCSIcmdsn
