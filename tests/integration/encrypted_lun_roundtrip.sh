#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A LUN encrypted at rest (lunN_encryption_key_file): 32 MiB written with
# qemu-img read back byte-exact; the backing file never holds the plaintext;
# after a restart with the same key file the data reads back again; with
# another key file hatgtd refuses the LUN with a log line naming the cause.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
need_tool qemu-img cmp head grep
it_setup
TGT=iqn.2026-11.org.hatgt.test:encrypted
(umask 077 && head -c 32 /dev/urandom > "$T/enc.key")
add_target -n "$TGT" "lun0 = $T/enc.img" "lun0_size = 64M" "lun0_encryption_key_file = $T/enc.key"
OPTS="driver=iscsi,transport=tcp,portal=$IT_HOST:PORT_,target=$TGT,lun=0,initiator-name=$INIT1"

# read_back: the first 32 MiB of the LUN into $T/back.raw.
read_back() {
	rm -f "$T/back.raw"
	tool qemu-img convert --image-opts "${OPTS/PORT_/$PORT}" -O raw "$T/back.raw" ||
		fail "qemu-img convert from the LUN failed"
	head -c $((32 * 1024 * 1024)) "$T/back.raw" > "$T/back32.raw"
	cmp "$T/src.raw" "$T/back32.raw" || fail "data read back differs from data written"
}

# 32 MiB of a recognisable text: easy to look for in the backing file.
yes 'hatgt plaintext canary 0123456789' | head -c $((32 * 1024 * 1024)) > "$T/src.raw"
daemon_start
tool qemu-img convert -n -f raw --target-image-opts "$T/src.raw" "${OPTS/PORT_/$PORT}" ||
	fail "qemu-img convert to the LUN failed"
read_back
daemon_stop || fail "hatgtd did not stop cleanly"
if grep -q 'plaintext canary' "$T/enc.img"; then
	fail "the backing file holds the plaintext"
fi
grep -q HATGTENC "$T/enc.img" || fail "no encryption header in the backing file"

# Same key after a restart: the same data.
daemon_start
read_back
daemon_stop || fail "hatgtd did not stop cleanly"

# Another key: the LUN is refused, and the log says why.
cp "$T/enc.img" "$T/enc.before"
(umask 077 && head -c 32 /dev/urandom > "$T/enc.key")
st=0
bounded 10 "$HATGTD" --config "$CONF" --foreground >> "$DAEMON_LOG" 2>&1 || st=$?
if [ "$st" -eq 0 ] || [ "$st" -eq 124 ]; then
	fail "hatgtd started with the wrong key (status $st)"
fi
grep -q "does not unlock this store's encryption header (wrong key file)" "$DAEMON_LOG" ||
	fail "no log line about the wrong key"
cmp -s "$T/enc.img" "$T/enc.before" || fail "the store was changed by the refused open"
it_log "encrypted LUN: round trip, ciphertext on disk, restart, wrong key refused"
