#!/bin/bash
# max_commands_per_session: one outstanding command more is answered TASK SET
# FULL (SAM-5 5.3.1) and the session goes on; three rounds, RSS flat.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
# shellcheck source=hostile_lib.sh
. "${srcdir:-.}/hostile_lib.sh"
HOSTILE_GLOBALS=("max_commands_per_session = 8")
hostile_start
hostile_rounds 3 hostile --count 8 cmd-limit
