#!/bin/bash
# A truncated or corrupt APTPL state file is reported and refused: hatgtd
# does not start with the LU (and does not empty the file); the log names
# the file and the reason.
# shellcheck source=pr_lib.sh
. "${srcdir:-.}/pr_lib.sh"
pr_start
pr_run make << 'EOF2'
A register-ignore 0xa1 aptpl
B register-ignore 0xb2 aptpl
EOF2
pr_expect make "A register-ignore: GOOD" "B register-ignore: GOOD"
daemon_stop || fail "hatgtd did not stop cleanly"
f=$(ls "$T"/state/pr-*.aptpl)
size=$(stat -c %s "$f")
truncate -s $((size - 7)) "$f"
cp "$f" "$T/truncated.copy"
: > "$DAEMON_LOG"
if "$HATGTD" --config "$CONF" --foreground >> "$DAEMON_LOG" 2>&1; then
	fail "hatgtd started with a truncated APTPL file"
fi
grep -q "APTPL state $f is corrupt (truncated)" "$DAEMON_LOG" ||
	fail "no log line naming the truncated file: $(cat "$DAEMON_LOG")"
cmp -s "$f" "$T/truncated.copy" || fail "the corrupt file was changed"
# One flipped bit in the middle: checksum mismatch.
truncate -s "$size" "$f"
printf '\x01' | dd of="$f" bs=1 seek=$((size / 2)) conv=notrunc status=none
: > "$DAEMON_LOG"
if "$HATGTD" --config "$CONF" --foreground >> "$DAEMON_LOG" 2>&1; then
	fail "hatgtd started with a corrupt APTPL file"
fi
grep -q "APTPL state $f is corrupt" "$DAEMON_LOG" || fail "no log line: $(cat "$DAEMON_LOG")"
