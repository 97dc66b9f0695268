/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CHAP for iSCSI login (RFC 1994 as profiled by RFC 7143 section 12.1.3),
 * target side, with optional mutual authentication. Pure code apart from
 * OpenSSL's digests; randomness comes from the caller.
 *
 * Exchange (security stage):
 *   I: CHAP_A=<list>                 T: CHAP_A=5 CHAP_I=<id> CHAP_C=<challenge>
 *   I: CHAP_N=<user> CHAP_R=<resp> [CHAP_I=<id2> CHAP_C=<challenge2>]
 *                                    T: [CHAP_N=<mutual user> CHAP_R=<resp2>]
 */
#ifndef HATGT_ISCSI_CHAP_H
#define HATGT_ISCSI_CHAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iscsi/login.h"
#include "iscsi/param.h"
#include "util/buf.h"

#define ISCSI_CHAP_MD5 5 /* CHAP_A value for MD5 (RFC 1994) */
#define ISCSI_CHAP_MD5_LEN 16
#define ISCSI_CHAP_CHALLENGE_LEN 16   /* what we send */
#define ISCSI_CHAP_CHALLENGE_MAX 1024 /* the most we accept (RFC 7143 12.1.3) */

struct iscsi_chap;

/** Start a CHAP exchange for \p auth (copied; the copy is wiped on destroy).
 * \p random_bytes(ctx, ...) supplies identifiers and challenges.
 * \return NULL on ENOMEM. */
struct iscsi_chap *iscsi_chap_create(const struct iscsi_auth_cfg *auth,
				     int (*random_bytes)(void *ctx, uint8_t *buf, size_t len),
				     void *ctx);
/** Accepts NULL. Wipes secrets and challenges (OPENSSL_cleanse). */
void iscsi_chap_destroy(struct iscsi_chap *chap);

/** Handle the CHAP_* keys of the request just parsed into \p neg and append
 * our answers to \p rsp. A request without CHAP keys is fine (nothing to do).
 * \return 0; -EACCES if authentication failed; -EPROTO for keys out of
 * sequence; -ENOMEM; or the error of random_bytes. See iscsi_chap_why(). */
int iscsi_chap_step(struct iscsi_chap *chap, const struct iscsi_neg *neg, struct buf *rsp);

/** true once the initiator has proved it knows the secret (and we have
 * answered its mutual challenge, if it sent one). */
bool iscsi_chap_done(const struct iscsi_chap *chap);

/** Why the last step failed (never contains a secret). */
const char *iscsi_chap_why(const struct iscsi_chap *chap);

/** Decode a binary value (RFC 7143 section 6.1): 0x/0X hex (an odd number of
 * digits implies a leading zero) or 0b/0B base64 with padding.
 * \return 0 with *out_len set; -EINVAL for bad encoding; -E2BIG if longer
 * than \p cap. */
int iscsi_chap_bin_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *out_len);

#endif
