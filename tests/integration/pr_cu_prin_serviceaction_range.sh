#!/bin/bash
# libiscsi's compliance suite ALL.PrinServiceactionRange passes with no failure and no skip.
# shellcheck source=pr_lib.sh
. "${srcdir:-.}/pr_lib.sh"
pr_cu_suite PrinServiceactionRange
