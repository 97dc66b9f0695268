#!/bin/bash
# A Windows failover cluster's disk arbitration through three initiators:
# clear, register, reserve, read keys and reservation, a challenge by
# PREEMPT, release; with an Exclusive Access Registrants Only reservation
# (type 6). Every status, key list, holder, unit attention and PRgeneration
# is checked (SPC-4 5.12.7, 5.12.9, 5.12.11.2, 5.12.11.2.4, 5.12.11.5).
# shellcheck source=pr_lib.sh
. "${srcdir:-.}/pr_lib.sh"
pr_start
pr_run wsfc << 'EOF2'
# A starts the cluster: wipes what an earlier incarnation left.
A register-ignore 0x1a
A clear 0x1a
A read-keys
A register-ignore 0x1a
A reserve 0x1a 6
B register-ignore 0x2b
B read-keys
B read-reservation
B read
C read
C write
C reserve 0x3c 6
# B challenges: A stopped defending, B preempts its key.
B preempt 0x2b 0x1a 6
A tur
A read
B read-reservation
B read-full-status
# A comes back: registers again, cannot reserve.
A register-ignore 0x1a
A reserve 0x1a 6
A read
# B leaves: release tells the other registrants.
B release 0x2b 6
A tur
B read-reservation
B release 0x2b 6
B register-ignore 0
A clear 0x1a
B tur
A read-keys
A read-reservation
EOF2
pr_expect wsfc \
	"A register-ignore: GOOD" \
	"A clear: GOOD" \
	"A read-keys: GOOD gen=2 keys=" \
	"A register-ignore: GOOD" \
	"A reserve: GOOD" \
	"B register-ignore: GOOD" \
	"B read-keys: GOOD gen=4 keys=0x1a,0x2b" \
	"B read-reservation: GOOD gen=4 key=0x1a type=6" \
	"B read: GOOD" \
	"C read: RESERVATION_CONFLICT" \
	"C write: RESERVATION_CONFLICT" \
	"C reserve: RESERVATION_CONFLICT" \
	"B preempt: GOOD" \
	"A tur: CHECK_CONDITION 6/2a05" \
	"A read: RESERVATION_CONFLICT" \
	"B read-reservation: GOOD gen=5 key=0x2b type=6" \
	"B read-full-status: GOOD gen=5" \
	"  key=0x2b holder=1 type=6 port=$PR_B,i,0x4000023d0002" \
	"A register-ignore: GOOD" \
	"A reserve: RESERVATION_CONFLICT" \
	"A read: GOOD" \
	"B release: GOOD" \
	"A tur: CHECK_CONDITION 6/2a04" \
	"B read-reservation: GOOD gen=6 none" \
	"B release: GOOD" \
	"B register-ignore: GOOD" \
	"A clear: GOOD" \
	"B tur: GOOD" \
	"A read-keys: GOOD gen=8 keys=" \
	"A read-reservation: GOOD gen=8 none"
