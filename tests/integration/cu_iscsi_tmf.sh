#!/bin/bash
# libiscsi's compliance suite ALL.iSCSITMF passes with no failure.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
cu_suite_test iSCSITMF
