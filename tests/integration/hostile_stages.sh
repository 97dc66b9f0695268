#!/bin/bash
# Illegal login stage transitions (RFC 7143 6.3, 11.12.3) fail the login.
# After each of three rounds a libiscsi initiator is still served, its data
# intact, and hatgtd's RSS stays flat (hostile_lib.sh).
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
# shellcheck source=hostile_lib.sh
. "${srcdir:-.}/hostile_lib.sh"
hostile_start
hostile_rounds 3 hostile stages
