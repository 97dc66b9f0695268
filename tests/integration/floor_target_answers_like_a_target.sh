#!/bin/bash
# floor-target (tests/bench, issue 6) is the benchmark's "target that does
# no work": its CPU per I/O is only a floor if it answers every command the
# way a real target would. In both receive modes: libiscsi's tools see its
# identity and size, hatgt-load's reads verify (all zeroes) at queue depth
# 1 and 32 over four sessions, 1 MiB writes complete (immediate data,
# unsolicited Data-Out and R2Ts), every run with 0 errors; garbage on one
# connection closes that connection only.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
IT_NEED_HATGTD=0
BENCH=${HATGTD%/daemon/hatgtd}/tests/bench
LOAD=${HATGT_LOAD:-$BENCH/hatgt-load}
FLOOR=${FLOOR_TARGET:-$BENCH/floor-target}
[ -x "$LOAD" ] || skip "hatgt-load not built: $LOAD (make -C tests/bench)"
[ -x "$FLOOR" ] || skip "floor-target not built: $FLOOR (make -C tests/bench)"
need_tool iscsi-inq iscsi-readcapacity16
it_setup
TGT=iqn.2026-11.org.hatgt.floor:disk

# load ARGS...: a 1 s hatgt-load run that must complete I/O with 0 errors
# and (reads, -V) 0 mismatches.
load() {
	local out
	out=$(tool "$LOAD" -i "$INIT1" -t 1 -w 0 "$@" "$(url "$TGT" 0)" 2>&1) ||
		fail "hatgt-load $* against floor-target $MODE: $out"
	case " $out " in
	*" errors=0 "*) ;;
	*) fail "hatgt-load $* against floor-target $MODE: errors: $out" ;;
	esac
	case " $out " in
	*" mismatches=0 "*) ;;
	*) fail "hatgt-load $* against floor-target $MODE: data mismatches: $out" ;;
	esac
	case " $out " in
	*" ios=0 "*) fail "hatgt-load $* against floor-target $MODE: no I/O: $out" ;;
	esac
}

for MODE in spin block; do
	it_pick_port
	bg_start "$T/floor-$MODE.log" "$FLOOR" -p "$PORT" -s 64M -m "$MODE"
	wait_for 10 port_in_use "$PORT" || fail "floor-target -m $MODE did not listen: $(cat "$T/floor-$MODE.log")"

	out=$(tool iscsi-inq -i "$INIT1" "$(url "$TGT" 0)" 2>&1) || fail "iscsi-inq ($MODE): $out"
	printf '%s\n' "$out" | grep -q 'Vendor:FLOOR' || fail "iscsi-inq ($MODE) shows no FLOOR vendor: $out"
	out=$(tool iscsi-readcapacity16 -s -i "$INIT1" "$(url "$TGT" 0)" 2>&1) ||
		fail "iscsi-readcapacity16 ($MODE): $out"
	[ "$out" = 67108864 ] || fail "iscsi-readcapacity16 ($MODE): $out bytes, not 64 MiB"

	load -V -r 100 -b 4K -p rand -q 1
	load -V -r 100 -b 4K -p rand -q 32 -s 4
	load -r 0 -b 1M -p seq -q 8

	# Garbage (a BHS with an unknown opcode and a huge data length) on one
	# connection: that connection goes, the target keeps serving.
	bounded 5 bash -c "exec 3<>/dev/tcp/$IT_HOST/$PORT; printf '\\x3f\\x80\\x00\\x00\\x00\\xff\\xff\\xff%040d' 0 >&3; sleep 0.3" ||
		true
	out=$(tool iscsi-inq -i "$INIT1" "$(url "$TGT" 0)" 2>&1) ||
		fail "floor-target $MODE stopped serving after a malformed PDU: $out"
	kill -0 "$BG_PID" 2> /dev/null || fail "floor-target $MODE exited after a malformed PDU"
	grep -q 'connection closed' "$T/floor-$MODE.log" ||
		fail "floor-target $MODE did not report the malformed connection: $(cat "$T/floor-$MODE.log")"
	it_log "floor-target -m $MODE: identity, size, verified reads, 1 MiB writes, malformed PDU survived"
done
