#!/bin/bash
# libiscsi's compliance suite ALL.PrinReportCapabilities passes with no failure and no skip.
# shellcheck source=pr_lib.sh
. "${srcdir:-.}/pr_lib.sh"
pr_cu_suite PrinReportCapabilities
