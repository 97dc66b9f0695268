/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CHAP, target side (RFC 1994; RFC 7143 section 12.1.3). See chap.h for the
 * exchange. Responses are compared in constant time and every secret or
 * challenge we hold is wiped when the exchange ends.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "iscsi/chap.h"

#define CHAP_SECRET_MAX sizeof(((struct iscsi_chap_cred *)0)->secret)

enum chap_state {
	CHAP_WAIT_A, /* expecting CHAP_A */
	CHAP_WAIT_R, /* challenge sent, expecting CHAP_N and CHAP_R */
	CHAP_DONE,
};

struct iscsi_chap {
	struct iscsi_auth_cfg auth;
	enum chap_state state;
	uint8_t id;
	uint8_t challenge[ISCSI_CHAP_CHALLENGE_LEN];
	int (*random_bytes)(void *ctx, uint8_t *buf, size_t len);
	void *ctx;
	char why[96];
};

struct iscsi_chap *iscsi_chap_create(const struct iscsi_auth_cfg *auth,
				     int (*random_bytes)(void *ctx, uint8_t *buf, size_t len),
				     void *ctx)
{
	struct iscsi_chap *chap = calloc(1, sizeof(*chap));

	if (chap) {
		chap->auth = *auth;
		chap->random_bytes = random_bytes;
		chap->ctx = ctx;
	}
	return chap;
}

void iscsi_chap_destroy(struct iscsi_chap *chap)
{
	if (!chap)
		return;
	OPENSSL_cleanse(chap, sizeof(*chap));
	free(chap);
}

bool iscsi_chap_done(const struct iscsi_chap *chap)
{
	return chap->state == CHAP_DONE;
}

const char *iscsi_chap_why(const struct iscsi_chap *chap)
{
	return chap->why;
}

static int chap_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int chap_b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static int chap_hex_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
	size_t n = (len + 1) / 2, i, j = 0;
	int hi, lo;

	if (len == 0)
		return -EINVAL;
	if (n > cap)
		return -E2BIG;
	for (i = 0; i < n; i++) {
		/* an odd count: the first byte has only its low nibble */
		hi = (i == 0 && (len & 1)) ? 0 : chap_hex_value(s[j++]);
		lo = chap_hex_value(s[j++]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*out_len = n;
	return 0;
}

static int chap_b64_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
	size_t i, k, n = 0, pad = 0;
	int v[4];
	uint32_t w;

	if (len == 0 || len % 4)
		return -EINVAL;
	if (s[len - 1] == '=')
		pad = s[len - 2] == '=' ? 2 : 1;
	if (len / 4 * 3 - pad > cap)
		return -E2BIG;
	for (i = 0; i < len; i += 4) {
		for (k = 0; k < 4; k++) {
			/* '=' only as the padding at the very end */
			if (i + 4 == len && k >= 4 - pad)
				v[k] = 0;
			else if ((v[k] = chap_b64_value(s[i + k])) < 0)
				return -EINVAL;
		}
		w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
		    (uint32_t)v[3];
		out[n++] = (uint8_t)(w >> 16);
		if (i + 4 < len || pad < 2)
			out[n++] = (uint8_t)(w >> 8);
		if (i + 4 < len || pad < 1)
			out[n++] = (uint8_t)w;
	}
	*out_len = n;
	return 0;
}

int iscsi_chap_bin_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
	if (len < 2 || s[0] != '0')
		return -EINVAL;
	if (s[1] == 'x' || s[1] == 'X')
		return chap_hex_decode(s + 2, len - 2, out, cap, out_len);
	if (s[1] == 'b' || s[1] == 'B')
		return chap_b64_decode(s + 2, len - 2, out, cap, out_len);
	return -EINVAL;
}

static int chap_bin_encode(struct buf *b, const uint8_t *p, size_t len)
{
	size_t i;
	int rc = buf_append(b, "0x", 2);

	for (i = 0; i < len && !rc; i++)
		rc = buf_printf(b, "%02x", p[i]);
	return rc;
}

/* RFC 1994 section 4.1: MD5(identifier || secret || challenge). */
static int chap_md5(uint8_t id, const char *secret, const uint8_t *challenge, size_t len,
		    uint8_t *out)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int out_len = 0;
	int rc = -ENOMEM;

	if (!md)
		goto out;
	if (EVP_DigestInit_ex(md, EVP_md5(), NULL) != 1 || EVP_DigestUpdate(md, &id, 1) != 1 ||
	    EVP_DigestUpdate(md, secret, strnlen(secret, CHAP_SECRET_MAX)) != 1 ||
	    EVP_DigestUpdate(md, challenge, len) != 1 ||
	    EVP_DigestFinal_ex(md, out, &out_len) != 1 || out_len != ISCSI_CHAP_MD5_LEN)
		goto out;
	rc = 0;
out:
	EVP_MD_CTX_free(md);
	return rc;
}

static int chap_fail(struct iscsi_chap *chap, int rc, const char *why)
{
	snprintf(chap->why, sizeof(chap->why), "%s", why);
	return rc;
}

/* Step 1: pick the algorithm, send identifier and challenge. */
static int chap_challenge_send(struct iscsi_chap *chap, const struct iscsi_kv *a, struct buf *rsp)
{
	static const char *const algorithms[] = {"5"}; /* MD5 only: RFC 7143 12.1.3 */
	uint8_t rnd[1 + ISCSI_CHAP_CHALLENGE_LEN];
	int rc;

	if (iscsi_text_list_pick(a, algorithms, 1) < 0)
		return chap_fail(chap, -EACCES, "no supported CHAP_A offered");
	rc = chap->random_bytes(chap->ctx, rnd, sizeof(rnd));
	if (rc)
		goto out;
	chap->id = rnd[0];
	memcpy(chap->challenge, rnd + 1, sizeof(chap->challenge));
	rc = buf_add_kv(rsp, "CHAP_A", "5");
	if (!rc)
		rc = buf_printf(rsp, "CHAP_I=%u", chap->id);
	if (!rc)
		rc = buf_append(rsp, "\0CHAP_C=", 8);
	if (!rc)
		rc = chap_bin_encode(rsp, chap->challenge, sizeof(chap->challenge));
	if (!rc)
		rc = buf_append(rsp, "", 1);
	if (!rc)
		chap->state = CHAP_WAIT_R;
out:
	OPENSSL_cleanse(rnd, sizeof(rnd));
	return rc;
}

/* Step 2: check the initiator's name and response. */
static int chap_response_check(struct iscsi_chap *chap, const struct iscsi_kv *n,
			       const struct iscsi_kv *r)
{
	uint8_t got[ISCSI_CHAP_MD5_LEN], want[ISCSI_CHAP_MD5_LEN];
	size_t got_len = 0;
	int rc;

	if (chap->auth.chap.secret[0] == '\0') {
		/* anyone could answer a challenge for an empty secret */
		rc = chap_fail(chap, -EACCES, "no CHAP secret configured");
		goto out;
	}
	if (n->value_len != strnlen(chap->auth.chap.user, sizeof(chap->auth.chap.user)) ||
	    memcmp(n->value, chap->auth.chap.user, n->value_len) != 0) {
		rc = chap_fail(chap, -EACCES, "unknown CHAP_N");
		goto out;
	}
	if (iscsi_chap_bin_decode(r->value, r->value_len, got, sizeof(got), &got_len) ||
	    got_len != sizeof(got)) {
		rc = chap_fail(chap, -EACCES, "malformed CHAP_R");
		goto out;
	}
	rc = chap_md5(chap->id, chap->auth.chap.secret, chap->challenge, sizeof(chap->challenge),
		      want);
	if (rc)
		goto out;
	if (CRYPTO_memcmp(got, want, sizeof(want)) != 0)
		rc = chap_fail(chap, -EACCES, "wrong CHAP_R");
out:
	OPENSSL_cleanse(want, sizeof(want));
	return rc;
}

/* Step 2, mutual: answer the initiator's challenge with the mutual secret. */
static int chap_mutual_answer(struct iscsi_chap *chap, const struct iscsi_kv *i,
			      const struct iscsi_kv *c, struct buf *rsp)
{
	uint8_t *challenge = NULL, resp[ISCSI_CHAP_MD5_LEN];
	size_t len = 0;
	uint32_t id;
	int rc;

	if (chap->auth.mutual.user[0] == '\0' || chap->auth.mutual.secret[0] == '\0') {
		rc = chap_fail(chap, -EACCES, "mutual CHAP requested but not configured");
		goto out;
	}
	/* 12.1.3: one secret must not serve both directions, or the answers we
	 * give would help forge the ones we check. */
	if (strncmp(chap->auth.mutual.secret, chap->auth.chap.secret, CHAP_SECRET_MAX) == 0) {
		rc = chap_fail(chap, -EACCES, "mutual CHAP secret equals the initiator's");
		goto out;
	}
	if (iscsi_text_num_parse(i->value, i->value_len, 0, 255, &id)) {
		rc = chap_fail(chap, -EACCES, "malformed CHAP_I");
		goto out;
	}
	challenge = calloc(1, ISCSI_CHAP_CHALLENGE_MAX);
	if (!challenge) {
		rc = -ENOMEM;
		goto out;
	}
	if (iscsi_chap_bin_decode(c->value, c->value_len, challenge, ISCSI_CHAP_CHALLENGE_MAX,
				  &len)) {
		rc = chap_fail(chap, -EACCES, "malformed CHAP_C");
		goto out;
	}
	/* 12.1.3: a target seeing its own challenge come back must refuse it,
	 * or anyone could make us compute the answer to our own question. */
	if (len == sizeof(chap->challenge) && CRYPTO_memcmp(challenge, chap->challenge, len) == 0) {
		rc = chap_fail(chap, -EACCES, "initiator reflected our CHAP_C");
		goto out;
	}
	rc = chap_md5((uint8_t)id, chap->auth.mutual.secret, challenge, len, resp);
	if (rc)
		goto out;
	rc = buf_add_kv(rsp, "CHAP_N", chap->auth.mutual.user);
	if (!rc)
		rc = buf_append(rsp, "CHAP_R=", 7);
	if (!rc)
		rc = chap_bin_encode(rsp, resp, sizeof(resp));
	if (!rc)
		rc = buf_append(rsp, "", 1);
out:
	if (challenge)
		OPENSSL_cleanse(challenge, ISCSI_CHAP_CHALLENGE_MAX);
	free(challenge);
	OPENSSL_cleanse(resp, sizeof(resp));
	return rc;
}

int iscsi_chap_step(struct iscsi_chap *chap, const struct iscsi_neg *neg, struct buf *rsp)
{
	const struct iscsi_kv *a = iscsi_neg_get(neg, ISCSI_KEY_CHAP_A);
	const struct iscsi_kv *i = iscsi_neg_get(neg, ISCSI_KEY_CHAP_I);
	const struct iscsi_kv *c = iscsi_neg_get(neg, ISCSI_KEY_CHAP_C);
	const struct iscsi_kv *n = iscsi_neg_get(neg, ISCSI_KEY_CHAP_N);
	const struct iscsi_kv *r = iscsi_neg_get(neg, ISCSI_KEY_CHAP_R);
	int rc = 0;

	chap->why[0] = '\0';
	switch (chap->state) {
	case CHAP_WAIT_A:
		if (i || c || n || r)
			rc = chap_fail(chap, -EPROTO, "CHAP keys before CHAP_A");
		else if (a)
			rc = chap_challenge_send(chap, a, rsp);
		break;
	case CHAP_WAIT_R:
		if (!i && !c && !n && !r)
			break; /* nothing yet */
		if (!n || !r || !i != !c) {
			rc = chap_fail(chap, -EPROTO, "incomplete CHAP response");
			break;
		}
		rc = chap_response_check(chap, n, r);
		if (!rc && i)
			rc = chap_mutual_answer(chap, i, c, rsp);
		if (!rc)
			chap->state = CHAP_DONE;
		/* the challenge is spent either way */
		OPENSSL_cleanse(chap->challenge, sizeof(chap->challenge));
		break;
	case CHAP_DONE:
		if (a || i || c || n || r)
			rc = chap_fail(chap, -EPROTO, "CHAP keys after authentication");
		break;
	}
	return rc;
}
