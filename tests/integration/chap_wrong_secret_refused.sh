#!/bin/bash
# One-way CHAP (RFC 7143 section 12.1.3): a wrong secret is refused with an
# authentication failure (status 0x0201, section 11.13.5).
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
chap_target_start one-way
login_refused "$(url "$CHAP_TGT" 0 "$CHAP_USER%wrongsecret12@")" 'Authentication failure(513)'
