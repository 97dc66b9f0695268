#!/bin/bash
# A target that requires CHAP refuses an initiator that offers no
# credentials (RFC 7143 section 12: AuthMethod None is not acceptable;
# status 0x0201).
# shellcheck source=lib.sh
. "${srcdir:-.}/lib.sh"
chap_target_start one-way
login_refused "$(url "$CHAP_TGT" 0)" 'Authentication failure(513)'
