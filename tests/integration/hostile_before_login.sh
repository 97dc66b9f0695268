#!/bin/bash
# Full-feature PDUs before login (RFC 7143 11.12): login failure 0x020b or close.
# After each of three rounds a libiscsi initiator is still served, its data
# intact, and hatgtd's RSS stays flat (hostile_lib.sh).
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
# shellcheck source=hostile_lib.sh
. "${srcdir:-.}/hostile_lib.sh"
hostile_start
hostile_rounds 3 hostile before-login
