#!/bin/bash
# Absurd DataSegmentLength and TotalAHSLength in login and full feature phase: closed or rejected.
# After each of three rounds a libiscsi initiator is still served, its data
# intact, and hatgtd's RSS stays flat (hostile_lib.sh).
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
# shellcheck source=hostile_lib.sh
. "${srcdir:-.}/hostile_lib.sh"
hostile_start
hostile_rounds 3 hostile lengths
