#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The OCF agent (resource-agents/hatgt) passes resource-agents' ocf-tester
# and shellcheck with a standalone config, and its monitor fails (rather than
# hanging) when the daemon is wedged (SIGSTOP). No cluster needed.

set -u
here=$(cd "$(dirname "$0")" && pwd)
agent=$here/../../resource-agents/hatgt
build=${LAB_BUILD:-$(pwd)}
hatgtd=$build/daemon/hatgtd
hatgtadm=$build/daemon/admin/hatgtadm

log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
command -v ocf-tester > /dev/null || { log "SKIP: no ocf-tester (resource-agents)"; exit 77; }
[ -x "$hatgtd" ] || { log "SKIP: no $hatgtd (set LAB_BUILD)"; exit 77; }

T=$(mktemp -d)
port=$((20000 + $$ % 20000))
export OCF_ROOT=/usr/lib/ocf OCF_RESKEY_config=$T/hatgt.conf OCF_RESKEY_hatgtd=$hatgtd \
	OCF_RESKEY_hatgtadm=$hatgtadm OCF_RESKEY_admin_timeout=2
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	timeout 70 "$agent" stop > /dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/state"
cat > "$T/hatgt.conf" << EOC
[global]
listen = 127.0.0.1:$port
state_dir = $T/state
pid_file = $T/hatgtd.pid
admin_name = hatgt-ra-$$

[target iqn.2026-11.org.hatgt.test:ra]
lun0 = $T/lun0.img
lun0_size = 16M
EOC

rc=0
if command -v shellcheck > /dev/null; then
	shellcheck "$agent" || { log "FAIL: shellcheck"; rc=1; }
fi
out=$(timeout 300 ocf-tester -n tgt -o config="$T/hatgt.conf" -o hatgtd="$hatgtd" \
	-o hatgtadm="$hatgtadm" -o admin_timeout=2 "$agent" 2>&1)
echo "$out" | grep -q 'passed all tests' || { echo "$out" >&2; log "FAIL: ocf-tester"; rc=1; }

timeout 30 "$agent" start || { log "FAIL: start"; exit 1; }
pid=$(cat "$T/hatgtd.pid")
kill -STOP "$pid"
timeout 20 "$agent" monitor
mrc=$?
kill -CONT "$pid"
[ "$mrc" -eq 1 ] || { log "FAIL: monitor of a wedged daemon returned $mrc, not 1 (OCF_ERR_GENERIC)"; rc=1; }

# The cluster roles, with a hatgtadm stand-in that answers "role",
# "promote" and "demote" from a file and passes other verbs to the real one
# (the real daemon stays the process behind the pid file).
cat > "$T/hatgtadm" << EOM
#!/bin/sh
for a in "\$@"; do v=\$a; done
case \$v in
role) cat "$T/role" ;;
promote) [ "\$(cat "$T/role")" = syncing ] && { echo "syncing" >&2; exit 1; }; echo promoted > "$T/role" ;;
demote) echo unpromoted > "$T/role" ;;
*) exec "$hatgtadm" "\$@" ;;
esac
EOM
chmod +x "$T/hatgtadm"
# role_case ROLE ACTION WANT: with the daemon in ROLE, ACTION exits WANT.
role_case() {
	local got
	echo "$1" > "$T/role"
	OCF_RESKEY_hatgtadm=$T/hatgtadm timeout 20 "$agent" "$2" 2> /dev/null
	got=$?
	[ "$got" -eq "$3" ] || {
		log "FAIL: $2 with the daemon $1 returned $got, not $3"
		rc=1
	}
}
role_case promoted monitor 8
role_case unpromoted monitor 0
role_case syncing monitor 0
role_case syncing promote 1
role_case unpromoted promote 0
[ "$(cat "$T/role")" = promoted ] || { log "FAIL: promote did not call hatgtadm promote"; rc=1; }
role_case promoted promote 0
role_case promoted demote 0
[ "$(cat "$T/role")" = unpromoted ] || { log "FAIL: demote did not call hatgtadm demote"; rc=1; }
role_case unpromoted demote 0
# A member whose config differs from the cluster's: a hard error on this
# node only (OCF_ERR_ARGS), never promoted; demoting is still promoted.
role_case config-mismatch monitor 2
role_case config-mismatch promote 2
role_case config-mismatch demote 0
role_case demoting monitor 8
role_case demoting promote 1

# A config that vanished under a running daemon must not make stop lie.
mv "$T/hatgt.conf" "$T/hatgt.conf.away"
timeout 70 "$agent" stop 2> /dev/null || { log "FAIL: stop without its config"; rc=1; }
kill -0 "$pid" 2> /dev/null && { log "FAIL: stop without its config left hatgtd running"; rc=1; }
mv "$T/hatgt.conf.away" "$T/hatgt.conf"
timeout 70 "$agent" stop || { log "FAIL: stop of a stopped daemon"; rc=1; }
timeout 20 "$agent" monitor
mrc=$?
[ "$mrc" -eq 7 ] || { log "FAIL: monitor after stop returned $mrc, not 7"; rc=1; }
role_case promoted promote 7
[ "$rc" -eq 0 ] && log PASS
exit "$rc"
