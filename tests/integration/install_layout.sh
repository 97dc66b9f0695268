#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# `make install DESTDIR=...` from the build tree places every file an
# administrator needs, with the right modes (issue 8): hatgtd and hatgtadm
# in sbindir, the OCF agent at $(OCF_ROOT)/resource.d/hatgt/hatgt, the man
# pages, hatgtd.service in the systemd unit dir (when configure found one),
# hatgt.conf.example in $(sysconfdir)/hatgt, the state directory; and a
# second install leaves an existing hatgt.conf alone.

set -u
build=$(cd "$(dirname "${HATGTD:?set HATGTD to the built daemon}")/.." && pwd)
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
rc=0

fail() {
	printf 'install_layout.sh: FAIL: %s\n' "$*" >&2
	rc=1
}

# A clean environment for the inner make: the outer one's MAKEFLAGS would
# carry its command-line variables (TESTS=...) and jobserver into it.
inner_make() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -C "$build" "$@"
}

# The value of a variable of the configured build, expanded by make.
var() {
	inner_make -s -f Makefile -f - "print-$1" << 'EOF2'
print-%:
	@echo '$($*)'
EOF2
}

# want PATH MODE: PATH exists under $D with octal MODE.
want() {
	local m
	if [ ! -e "$D$1" ]; then
		fail "$1 not installed"
		return
	fi
	m=$(stat -c %a "$D$1")
	[ "$m" = "$2" ] || fail "$1 has mode $m, not $2"
}

if ! inner_make install DESTDIR="$D" > "$D.log" 2>&1; then
	cat "$D.log" >&2
	rm -f "$D.log"
	fail "make install DESTDIR=$D failed"
	exit 1
fi
rm -f "$D.log"

sbindir=$(var sbindir)
mandir=$(var mandir)
ocfroot=$(var OCF_ROOT)
unitdir=$(var systemdsystemunitdir)
confdir=$(var hatgtconfdir)
statedir=$(var hatgtstatedir)

want "$sbindir/hatgtd" 755
want "$sbindir/hatgtadm" 755
want "$ocfroot/resource.d/hatgt/hatgt" 755
want "$mandir/man8/hatgtd.8" 644
want "$mandir/man8/hatgtadm.8" 644
want "$mandir/man5/hatgt.conf.5" 644
want "$confdir/hatgt.conf.example" 644
want "$statedir" 750
[ -e "$D$confdir/hatgt.conf" ] && fail "make install created $confdir/hatgt.conf"
if [ -n "$unitdir" ]; then
	want "$unitdir/hatgtd.service" 644
	u=$D$unitdir/hatgtd.service
	grep -qx "ExecStart=$sbindir/hatgtd --config $confdir/hatgt.conf --foreground" "$u" ||
		fail "hatgtd.service does not start $sbindir/hatgtd with $confdir/hatgt.conf"
	grep -q '^LimitNOFILE=[0-9]\{6,\}$' "$u" || fail "hatgtd.service sets no high LimitNOFILE"
fi
"$D$sbindir/hatgtd" --version > /dev/null || fail "the installed hatgtd does not run"
"$D$sbindir/hatgtadm" --version > /dev/null || fail "the installed hatgtadm does not run"

# A real config survives a second install.
echo '; mine' > "$D$confdir/hatgt.conf"
inner_make install DESTDIR="$D" > /dev/null 2>&1 || fail "second make install failed"
[ "$(cat "$D$confdir/hatgt.conf")" = '; mine' ] || fail "make install overwrote hatgt.conf"

[ "$rc" -eq 0 ] && echo "install_layout.sh: PASS"
exit "$rc"
