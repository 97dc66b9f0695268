#!/bin/bash
# max_connection_memory_mb: write buffers beyond it are answered TASK SET
# FULL (two 8 MiB writes fit in 16 MiB, the third does not); RSS flat.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
# shellcheck source=hostile_lib.sh
. "${srcdir:-.}/hostile_lib.sh"
HOSTILE_GLOBALS=("max_connection_memory_mb = 16")
hostile_start
hostile_rounds 3 hostile --count 16 mem-limit
