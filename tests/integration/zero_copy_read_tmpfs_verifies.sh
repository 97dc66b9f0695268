#!/bin/bash
# zero_copy_read_verifies.sh with the LUN on tmpfs (/dev/shm), where every
# READ of written blocks is sent from the mapping of the file.
if [ ! -d /dev/shm ] || [ ! -w /dev/shm ]; then
	echo "SKIP: no writable /dev/shm" >&2
	exit 77
fi
export TMPDIR=/dev/shm
# shellcheck source=zero_copy_read_verifies.sh
. "${srcdir:-.}/zero_copy_read_verifies.sh"
