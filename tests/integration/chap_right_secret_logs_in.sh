#!/bin/bash
# One-way CHAP (RFC 7143 section 12.1.3): the configured secret logs in.
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
chap_target_start one-way
login_ok "$(url "$CHAP_TGT" 0 "$CHAP_USER%$CHAP_SECRET@")" ||
	fail "login with the right CHAP secret failed: $(cat "$T/inq.out")"
