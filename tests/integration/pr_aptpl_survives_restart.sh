#!/bin/bash
# Registrations and a reservation made with APTPL survive a restart of
# hatgtd bit-for-bit: the same keys, ports, holder, type and PRgeneration
# (SPC-4 5.12.5); registrations made without APTPL after APTPL was turned
# off again are not kept.
# shellcheck source=pr_lib.sh
. "${srcdir:-.}/pr_lib.sh"
pr_start
pr_run before << 'EOF2'
A register-ignore 0xa1 aptpl
B register-ignore 0xb2 aptpl
C register 0 0xc3 aptpl
B reserve 0xb2 5
C register 0xc3 0 aptpl
A read-keys
A read-reservation
A read-full-status
EOF2
pr_expect before "A read-keys: GOOD gen=4 keys=0xa1,0xb2" \
	"A read-reservation: GOOD gen=4 key=0xb2 type=5"
ls "$T"/state/pr-*.aptpl > /dev/null 2>&1 || fail "no APTPL state file in $T/state"
daemon_stop || fail "hatgtd did not stop cleanly"
daemon_start
pr_run after << 'EOF2'
A read-keys
A read-reservation
A read-full-status
EOF2
diff <(grep -v ': GOOD$' "$T/before.out" | grep -A100 'read-keys') "$T/after.out" ||
	fail "PR state differs after the restart"
# APTPL off: the file goes, the next restart starts empty.
pr_run off << 'EOF2'
A register 0xa1 0xa1
EOF2
pr_expect off "A register: GOOD"
[ -z "$(ls "$T"/state/pr-*.aptpl 2> /dev/null)" ] || fail "APTPL file still there with APTPL off"
daemon_stop || fail "hatgtd did not stop cleanly"
daemon_start
pr_run empty << 'EOF2'
A read-keys
EOF2
pr_expect empty "A read-keys: GOOD gen=0 keys="
