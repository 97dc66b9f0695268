#!/bin/bash
# Commands far outside the CmdSN window are dropped (RFC 7143 4.2.2.1); the session goes on.
# After each of three rounds a libiscsi initiator is still served, its data
# intact, and hatgtd's RSS stays flat (hostile_lib.sh).
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
# shellcheck source=hostile_lib.sh
. "${srcdir:-.}/hostile_lib.sh"
hostile_start
hostile_rounds 3 hostile cmdsn
