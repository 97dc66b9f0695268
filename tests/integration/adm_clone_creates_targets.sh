#!/bin/bash
# hatgtadm clone (issue 9, docs/diskless-boot.md): 8 clients over a golden
# raw image and 8 over a golden qcow2 image. Each client's target is listed
# by discovery to its own initiator name only and refuses the others; each
# reads the golden data; what one client writes no other sees; after the
# daemon stops, qemu's own tools find every overlay consistent (qemu-img
# check) and holding exactly its client's data (qemu-io read -P), and the
# golden images are unchanged. The conf.d file brings the clients back on
# restart; remove-clones takes them away. A clone whose config file cannot
# be written leaves nothing behind.
#
#   127.0.0.1:PORT  raw-0001..raw-0008  LUN 0 = ovl/raw-NNNN.qcow2 -> golden.raw
#                   q-0001..q-0008      LUN 0 = ovl/q-NNNN.qcow2   -> golden.qcow2
#   initiator iqn.2026-11.org.hatgt.test:raw-NNNN-host may use raw-NNNN only
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
need_tool iscsi-ls iscsi-inq qemu-img qemu-io sha256sum cmp
it_setup
IQN=iqn.2026-11.org.hatgt.test
N=8
mkdir -p "$T/conf.d" "$T/img" "$T/ovl"
global_set "include = $T/conf.d"
add_target "$IQN:main"
head -c $((16 * 1024 * 1024)) /dev/urandom > "$T/img/golden.raw"
tool qemu-img convert -f raw -O qcow2 "$T/img/golden.raw" "$T/img/golden.qcow2" ||
	hard_error "qemu-img convert to qcow2 failed"
(cd "$T/img" && sha256sum golden.raw golden.qcow2) > "$T/golden.sha256"
daemon_start

# opts KIND N: qemu --image-opts for client N of KIND as its own initiator.
opts() {
	printf 'driver=iscsi,transport=tcp,portal=%s:%s,target=%s:%s-%04d,lun=0,initiator-name=%s:%s-%04d-host' \
		"$IT_HOST" "$PORT" "$IQN" "$1" "$2" "$IQN" "$1" "$2"
}

for kind in raw q; do
	golden=$T/img/golden.raw
	[ "$kind" = q ] && golden=$T/img/golden.qcow2
	adm clone "$golden" "$N" prefix=$kind dir="$T/ovl" initiator="$IQN:$kind-{n}-host" \
		> "$T/clone.out" 2>&1 || fail "clone $golden failed: $(cat "$T/clone.out")"
	[ -f "$T/conf.d/$kind.conf" ] || fail "clone wrote no $T/conf.d/$kind.conf"
done

for kind in raw q; do
	for n in $(seq 1 $N); do
		name=$(printf '%s:%s-%04d' "$IQN" "$kind" "$n")
		init="$name-host"
		[ -f "$(printf '%s/ovl/%s-%04d.qcow2' "$T" "$kind" "$n")" ] ||
			fail "no overlay for $name"
		tool iscsi-ls -i "$init" "$(portal_url)" > "$T/ls.out" 2>&1 ||
			fail "iscsi-ls as $init failed: $(cat "$T/ls.out")"
		grep -q "^Target:$name Portal:" "$T/ls.out" ||
			fail "discovery does not list $name to $init: $(cat "$T/ls.out")"
		[ "$(grep -c -e ":raw-" -e ":q-" "$T/ls.out")" = 1 ] ||
			fail "discovery lists other clients to $init: $(cat "$T/ls.out")"
		tool qemu-img convert --image-opts "$(opts "$kind" "$n")" -O raw "$T/back.raw" ||
			fail "cannot read $name"
		cmp -s "$T/img/golden.raw" "$T/back.raw" || fail "$name does not read the golden data"
		tool qemu-io --image-opts "$(opts "$kind" "$n")" -c "write -P $n 1M 64k" \
			> "$T/io.out" 2>&1 || fail "write to $name failed: $(cat "$T/io.out")"
	done
done
# The allow list is enforced at login too, not only in discovery.
login_refused "$(url "$IQN:raw-0002" 0)" "Authorization failure" "$IQN:raw-0001-host"

# Every client reads its own pattern: no write leaked into another overlay.
for kind in raw q; do
	for n in $(seq 1 $N); do
		tool qemu-io --image-opts "$(opts "$kind" "$n")" -c "read -P $n 1M 64k" \
			> "$T/io.out" 2>&1 || fail "$kind-$n does not read back its own data: $(cat "$T/io.out")"
		grep -q "read 65536/65536" "$T/io.out" || fail "$kind-$n read: $(cat "$T/io.out")"
	done
done

daemon_stop || fail "hatgtd did not stop cleanly"
for kind in raw q; do
	for n in $(seq 1 $N); do
		ovl=$(printf '%s/ovl/%s-%04d.qcow2' "$T" "$kind" "$n")
		tool qemu-img check "$ovl" > "$T/check.out" 2>&1 ||
			fail "qemu-img check $ovl: $(cat "$T/check.out")"
		if ! tool qemu-io -f qcow2 -r "$ovl" -c "read -P $n 1M 64k" > "$T/io.out" 2>&1 ||
			! grep -q "read 65536/65536" "$T/io.out"; then
			fail "qemu-io does not find client $n's data in $ovl: $(cat "$T/io.out")"
		fi
		# Exit status 1: the images differ, as they must.
		tool qemu-img compare -f qcow2 -F raw "$ovl" "$T/img/golden.raw" > "$T/cmp.out" 2>&1 || true
		grep -q "Content mismatch at offset 1048576" "$T/cmp.out" ||
			fail "$ovl differs from the golden image outside client $n's write: $(cat "$T/cmp.out")"
	done
done
(cd "$T/img" && sha256sum -c --quiet "$T/golden.sha256") || fail "a golden image changed"

# The conf.d file brings the clients back after a restart.
daemon_start
adm targets > "$T/targets.out" || fail "targets failed"
[ "$(grep -c -e ":raw-0" -e ":q-0" "$T/targets.out")" = $((2 * N)) ] ||
	fail "after a restart the clients are not all back: $(cat "$T/targets.out")"

# A clone whose conf.d file cannot be written is rolled back entirely.
if adm clone "$T/img/golden.raw" 2 prefix=rb dir="$T/ovl" conf=/proc > "$T/rb.out" 2>&1; then
	fail "clone with an unwritable conf= succeeded"
fi
grep -q "rolled back the 2 client" "$T/rb.out" || fail "no roll-back reported: $(cat "$T/rb.out")"
! ls "$T"/ovl/rb-* > /dev/null 2>&1 || fail "roll-back left overlays: $(ls "$T/ovl")"
! adm targets | grep -q ":rb-" || fail "roll-back left targets"

adm remove-clones raw delete-overlays > "$T/rm.out" 2>&1 || fail "remove-clones: $(cat "$T/rm.out")"
! adm targets | grep -q ":raw-" || fail "remove-clones left raw targets"
[ ! -e "$T/conf.d/raw.conf" ] || fail "remove-clones left conf.d/raw.conf"
! ls "$T"/ovl/raw-* > /dev/null 2>&1 || fail "remove-clones left overlays: $(ls "$T/ovl")"
[ "$(adm targets | grep -c ":q-0")" = "$N" ] || fail "remove-clones raw removed q clients"
exit 0
