#!/bin/bash
# A thousand connections logging in at once are all answered within 60 s
# (connection and per-target session limits raised so that all of them
# log in; hostile_limit_*.sh test the limits).
# After each of three rounds a libiscsi initiator is still served, its data
# intact, and hatgtd's RSS stays flat (hostile_lib.sh).
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
# shellcheck source=hostile_lib.sh
. "${srcdir:-.}/hostile_lib.sh"
HOSTILE_GLOBALS=("max_connections = 2000" "max_connections_per_address = 2000"
	"max_sessions_per_target = 2000")
hostile_start
hostile_rounds 3 hostile --count 1000 --seconds 60 flood
