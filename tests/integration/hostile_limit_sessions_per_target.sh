#!/bin/bash
# max_sessions_per_target: the login over the limit fails with 0x0302 (out of
# resources); the sessions within it keep working.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
# shellcheck source=hostile_lib.sh
. "${srcdir:-.}/hostile_lib.sh"
HOSTILE_GLOBALS=("max_sessions_per_target = 3")
hostile_start
hostile_rounds 3 hostile --count 3 target-limit
