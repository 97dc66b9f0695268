#!/bin/bash
# pacemaker's fence_scsi through three initiators: unfence (register and
# ignore existing key, reserve Write Exclusive Registrants Only = type 5),
# fence (preempt and abort the victim's key), unfence again. Every status,
# key list, holder and PRgeneration is checked (SPC-4 5.12.7, 5.12.9,
# 5.12.11.2.6, 6.15.2, 6.15.3).
# shellcheck source=pr_lib.sh
. "${srcdir:-.}/pr_lib.sh"
pr_start
pr_run fence << 'EOF2'
# unfence: every node registers its key; the first one reserves (type 5).
A register-ignore 0xa1
A read-reservation
A reserve 0xa1 5
B register-ignore 0xb1
B read-reservation
C register-ignore 0xc1
C read-keys
C read-reservation
B write
C write
# fence A from B: preempt and abort A's key, taking the reservation over.
B preempt-abort 0xb1 0xa1 5
B read-keys
B read-reservation
A tur
A write
A read
C tur
B write
B read-full-status
# unfence A again: it registers; the reservation stays with B.
A register-ignore 0xa1
A read-keys
A read-reservation
A write
EOF2
pr_expect fence \
	"A register-ignore: GOOD" \
	"A read-reservation: GOOD gen=1 none" \
	"A reserve: GOOD" \
	"B register-ignore: GOOD" \
	"B read-reservation: GOOD gen=2 key=0xa1 type=5" \
	"C register-ignore: GOOD" \
	"C read-keys: GOOD gen=3 keys=0xa1,0xb1,0xc1" \
	"C read-reservation: GOOD gen=3 key=0xa1 type=5" \
	"B write: GOOD" \
	"C write: GOOD" \
	"B preempt-abort: GOOD" \
	"B read-keys: GOOD gen=4 keys=0xb1,0xc1" \
	"B read-reservation: GOOD gen=4 key=0xb1 type=5" \
	"A tur: CHECK_CONDITION 6/2a05" \
	"A write: RESERVATION_CONFLICT" \
	"A read: GOOD" \
	"C tur: GOOD" \
	"B write: GOOD" \
	"B read-full-status: GOOD gen=4" \
	"  key=0xb1 holder=1 type=5 port=$PR_B,i,0x4000023d0002" \
	"  key=0xc1 holder=0 type=0 port=$PR_C,i,0x4000023d0003" \
	"A register-ignore: GOOD" \
	"A read-keys: GOOD gen=5 keys=0xb1,0xc1,0xa1" \
	"A read-reservation: GOOD gen=5 key=0xb1 type=5" \
	"A write: GOOD"
