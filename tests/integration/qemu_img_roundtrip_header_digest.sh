#!/bin/bash
# The same round trip with HeaderDigest=CRC32C (RFC 7143 sections 11.1.1,
# 13.1). libiscsi 1.19 (so qemu too) always offers DataDigest=None and has no
# URL argument or option for it: data digests cannot be exercised with these
# initiators.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
it_setup
TGT=iqn.2026-11.org.hatgt.test:disk
add_target "$TGT"
daemon_start
roundtrip_check "$TGT" ",header-digest=crc32c"
# The round trip proves nothing if the digest was not negotiated: the daemon
# logs the digests of every login ("digests HEADER/DATA").
grep -qi 'digests crc32c/' "$DAEMON_LOG" ||
	fail "HeaderDigest=CRC32C not negotiated: $(grep -i 'logged in' "$DAEMON_LOG")"
