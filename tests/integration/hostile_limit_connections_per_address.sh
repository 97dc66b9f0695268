#!/bin/bash
# max_connections_per_address: the connection over the limit is closed at
# once; once the others go, a libiscsi initiator from the address is served.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
# shellcheck source=hostile_lib.sh
. "${srcdir:-.}/hostile_lib.sh"
HOSTILE_GLOBALS=("max_connections_per_address = 6")
hostile_start
hostile_rounds 3 hostile --count 6 addr-limit
