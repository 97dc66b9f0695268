#!/bin/bash
# A config with an unknown key is refused: hatgtd exits non-zero at once
# with a reason naming the file and the line ("FILE:LINE: reason").
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
it_setup
echo "bogus_key = 1" >> "$CONF"
LINE=$(wc -l < "$CONF")

st=0
bounded 10 "$HATGTD" --config "$CONF" --foreground > "$DAEMON_LOG" 2>&1 || st=$?
case $st in
0) fail "hatgtd exited 0 on a bad config" ;;
124 | 137) fail "hatgtd kept running with an unknown key in its config" ;;
esac
grep -q "hatgt.conf:$LINE:" "$DAEMON_LOG" ||
	fail "the reason does not name hatgt.conf:$LINE: $(cat "$DAEMON_LOG")"
