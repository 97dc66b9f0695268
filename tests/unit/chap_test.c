/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CHAP, target side (RFC 1994, RFC 7143 section 12.1.3), driven key by key
 * as an initiator would. Expected responses are computed here with
 * OpenSSL's one-shot EVP_Digest, independently of chap.c.
 *
 *   initiator iqn.2026-11.org.example:host1 (user "alice", secret S)
 *        |  CHAP_A / CHAP_N CHAP_R [CHAP_I CHAP_C]
 *   target  (mutual user "tgt", secret M)
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "iscsi/chap.h"

#define SECRET "alice-secret-123"
#define MUTUAL_SECRET "target-secret-456"

/* ---- binary value encodings (RFC 7143 section 6.1) --------------------- */

static int decode(const char *s, uint8_t *out, size_t cap, size_t *len)
{
	return iscsi_chap_bin_decode(s, strlen(s), out, cap, len);
}

static void hex_value_decodes(void **state)
{
	uint8_t out[4];
	size_t len = 0;

	assert_int_equal(decode("0x0aFf10", out, sizeof(out), &len), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(out, "\x0a\xff\x10", 3);
}

static void hex_value_with_odd_digits_has_leading_zero(void **state)
{
	uint8_t out[4];
	size_t len = 0;

	assert_int_equal(decode("0Xabc", out, sizeof(out), &len), 0);
	assert_int_equal(len, 2);
	assert_memory_equal(out, "\x0a\xbc", 2);
}

static void hex_value_with_bad_digit_is_invalid(void **state)
{
	uint8_t out[4];
	size_t len;

	assert_int_equal(decode("0x0g", out, sizeof(out), &len), -EINVAL);
	assert_int_equal(decode("0x", out, sizeof(out), &len), -EINVAL);
}

static void value_longer_than_buffer_is_too_big(void **state)
{
	uint8_t out[2];
	size_t len;

	assert_int_equal(decode("0x010203", out, sizeof(out), &len), -E2BIG);
	assert_int_equal(decode("0bAQID", out, sizeof(out), &len), -E2BIG);
}

static void base64_value_decodes_with_and_without_padding(void **state)
{
	uint8_t out[8];
	size_t len = 0;

	assert_int_equal(decode("0bAQID", out, sizeof(out), &len), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(out, "\x01\x02\x03", 3);
	assert_int_equal(decode("0BAQI=", out, sizeof(out), &len), 0);
	assert_int_equal(len, 2);
	assert_int_equal(decode("0b/w==", out, sizeof(out), &len), 0);
	assert_int_equal(len, 1);
	assert_int_equal(out[0], 0xff);
}

static void base64_value_malformed_is_invalid(void **state)
{
	uint8_t out[8];
	size_t len;

	assert_int_equal(decode("0bAQI", out, sizeof(out), &len), -EINVAL);
	assert_int_equal(decode("0bA=ID", out, sizeof(out), &len), -EINVAL);
	assert_int_equal(decode("0bAQ*D", out, sizeof(out), &len), -EINVAL);
	assert_int_equal(decode("0b====", out, sizeof(out), &len), -EINVAL);
}

static void value_without_prefix_is_invalid(void **state)
{
	uint8_t out[8];
	size_t len;

	assert_int_equal(decode("1234", out, sizeof(out), &len), -EINVAL);
	assert_int_equal(decode("0z12", out, sizeof(out), &len), -EINVAL);
}

/* ---- the exchange ------------------------------------------------------ */

struct fixture {
	struct iscsi_auth_cfg auth;
	struct iscsi_params ours;
	struct iscsi_neg neg;
	struct iscsi_chap *chap;
	struct buf rsp;
	int random_rc;
	uint8_t next_byte; /* the fake random source counts up from here */
};

static int fake_random(void *ctx, uint8_t *buf, size_t len)
{
	struct fixture *f = ctx;
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = f->next_byte++;
	return f->random_rc;
}

static int fixture_setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	snprintf(f.auth.chap.user, sizeof(f.auth.chap.user), "alice");
	snprintf(f.auth.chap.secret, sizeof(f.auth.chap.secret), SECRET);
	snprintf(f.auth.mutual.user, sizeof(f.auth.mutual.user), "tgt");
	snprintf(f.auth.mutual.secret, sizeof(f.auth.mutual.secret), MUTUAL_SECRET);
	f.next_byte = 0x40;
	iscsi_params_defaults(&f.ours);
	iscsi_neg_init(&f.neg, &f.ours);
	f.chap = iscsi_chap_create(&f.auth, fake_random, &f);
	assert_non_null(f.chap);
	*state = &f;
	return 0;
}

static int fixture_teardown(void **state)
{
	struct fixture *f = *state;

	iscsi_chap_destroy(f->chap);
	iscsi_neg_release(&f->neg);
	buf_release(&f->rsp);
	return 0;
}

/* One security-stage request of "k=v" pairs separated by '|'. */
static int send_keys(struct fixture *f, const char *pairs)
{
	char text[2048];
	size_t i, n = strlen(pairs);
	int rc;

	assert_true(n < sizeof(text));
	for (i = 0; i < n; i++)
		text[i] = pairs[i] == '|' ? '\0' : pairs[i];
	text[n] = '\0';
	f->rsp.len = 0;
	rc = iscsi_neg_parse(&f->neg, (const uint8_t *)text, n + 1, ISCSI_STAGE_SECURITY, &f->rsp);
	assert_int_equal(rc, 0);
	return iscsi_chap_step(f->chap, &f->neg, &f->rsp);
}

static const char *answer(struct fixture *f, const char *key)
{
	return iscsi_text_find(f->rsp.data, f->rsp.len, key);
}

/* RFC 1994 4.1, computed independently: MD5(id || secret || challenge). */
static void expected_md5(uint8_t id, const char *secret, const uint8_t *c, size_t len,
			 uint8_t out[16])
{
	uint8_t msg[1200];
	unsigned int n = 0;

	msg[0] = id;
	memcpy(msg + 1, secret, strlen(secret));
	memcpy(msg + 1 + strlen(secret), c, len);
	assert_int_equal(EVP_Digest(msg, 1 + strlen(secret) + len, out, &n, EVP_md5(), NULL), 1);
	assert_int_equal(n, 16);
}

static void hex(char *dst, size_t cap, const uint8_t *p, size_t len)
{
	size_t i;

	snprintf(dst, cap, "0x");
	for (i = 0; i < len; i++)
		snprintf(dst + 2 + 2 * i, cap - 2 - 2 * i, "%02x", p[i]);
}

/* Step 1, then the initiator's correct CHAP_R as text "CHAP_N=..|CHAP_R=..". */
static void correct_response(struct fixture *f, const char *secret, char *pairs, size_t cap)
{
	uint8_t c[64], r[16];
	size_t clen = 0;
	char rhex[40];
	unsigned int id;

	assert_int_equal(send_keys(f, "CHAP_A=7,5"), 0);
	assert_int_equal(sscanf(answer(f, "CHAP_I"), "%u", &id), 1);
	assert_int_equal(decode(answer(f, "CHAP_C"), c, sizeof(c), &clen), 0);
	expected_md5((uint8_t)id, secret, c, clen, r);
	hex(rhex, sizeof(rhex), r, sizeof(r));
	snprintf(pairs, cap, "CHAP_N=alice|CHAP_R=%s", rhex);
}

/* The correct response plus what the initiator adds for mutual CHAP. */
static int send_mutual(struct fixture *f, const char *extra)
{
	char pairs[256];
	size_t n;

	correct_response(f, SECRET, pairs, sizeof(pairs));
	n = strlen(pairs);
	snprintf(pairs + n, sizeof(pairs) - n, "%s", extra);
	return send_keys(f, pairs);
}

/* 12.1.3: MD5 is CHAP_A=5; the challenge comes from the random source */
static void chap_a_gets_md5_identifier_and_challenge(void **state)
{
	struct fixture *f = *state;
	uint8_t c[64], want[16];
	size_t clen = 0, i;

	assert_int_equal(send_keys(f, "CHAP_A=7,5"), 0);
	assert_string_equal(answer(f, "CHAP_A"), "5");
	assert_string_equal(answer(f, "CHAP_I"), "64"); /* first random byte, 0x40 */
	assert_int_equal(decode(answer(f, "CHAP_C"), c, sizeof(c), &clen), 0);
	assert_int_equal(clen, ISCSI_CHAP_CHALLENGE_LEN);
	for (i = 0; i < sizeof(want); i++)
		want[i] = (uint8_t)(0x41 + i);
	assert_memory_equal(c, want, sizeof(want));
	assert_false(iscsi_chap_done(f->chap));
}

static void chap_a_without_md5_fails(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(send_keys(f, "CHAP_A=6,7"), -EACCES);
}

static void chap_right_secret_authenticates(void **state)
{
	struct fixture *f = *state;
	char pairs[128];

	correct_response(f, SECRET, pairs, sizeof(pairs));
	assert_int_equal(send_keys(f, pairs), 0);
	assert_true(iscsi_chap_done(f->chap));
	assert_int_equal(f->rsp.len, 0); /* one-way: nothing to answer */
}

static void chap_wrong_secret_fails(void **state)
{
	struct fixture *f = *state;
	char pairs[128];

	correct_response(f, "not-the-secret", pairs, sizeof(pairs));
	assert_int_equal(send_keys(f, pairs), -EACCES);
	assert_false(iscsi_chap_done(f->chap));
	assert_null(strstr(iscsi_chap_why(f->chap), SECRET));
}

static void chap_wrong_user_fails(void **state)
{
	struct fixture *f = *state;
	char pairs[128];

	correct_response(f, SECRET, pairs, sizeof(pairs));
	memcpy(pairs + strlen("CHAP_N="), "bobby", 5);
	assert_int_equal(send_keys(f, pairs), -EACCES);
}

static void chap_response_base64_is_accepted(void **state)
{
	struct fixture *f = *state;
	uint8_t c[64], r[16];
	unsigned char b64[40];
	char pairs[128];
	size_t clen = 0;

	assert_int_equal(send_keys(f, "CHAP_A=5"), 0);
	assert_int_equal(decode(answer(f, "CHAP_C"), c, sizeof(c), &clen), 0);
	expected_md5(0x40, SECRET, c, clen, r);
	EVP_EncodeBlock(b64, r, sizeof(r));
	snprintf(pairs, sizeof(pairs), "CHAP_N=alice|CHAP_R=0b%s", b64);
	assert_int_equal(send_keys(f, pairs), 0);
	assert_true(iscsi_chap_done(f->chap));
}

static void chap_response_of_wrong_length_fails(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(send_keys(f, "CHAP_A=5"), 0);
	assert_int_equal(send_keys(f, "CHAP_N=alice|CHAP_R=0x0102"), -EACCES);
}

static void chap_response_before_chap_a_is_protocol_error(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(send_keys(f, "CHAP_N=alice|CHAP_R=0x00"), -EPROTO);
}

static void chap_name_without_response_is_protocol_error(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(send_keys(f, "CHAP_A=5"), 0);
	assert_int_equal(send_keys(f, "CHAP_N=alice"), -EPROTO);
}

static void request_without_chap_keys_waits(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(send_keys(f, "CHAP_A=5"), 0);
	assert_int_equal(send_keys(f, "X-nothing=1"), 0);
	assert_false(iscsi_chap_done(f->chap));
}

static void random_source_failure_is_returned(void **state)
{
	struct fixture *f = *state;

	f->random_rc = -EIO;
	assert_int_equal(send_keys(f, "CHAP_A=5"), -EIO);
}

/* 12.1.3: mutual CHAP, the target answers the initiator's challenge */
static void mutual_chap_answers_with_mutual_secret(void **state)
{
	struct fixture *f = *state;
	static const uint8_t ic[20] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0};
	uint8_t want[16], got[16];
	char extra[80], chex[48];
	size_t len = 0;

	hex(chex, sizeof(chex), ic, sizeof(ic));
	snprintf(extra, sizeof(extra), "|CHAP_I=200|CHAP_C=%s", chex);
	assert_int_equal(send_mutual(f, extra), 0);
	assert_true(iscsi_chap_done(f->chap));
	assert_string_equal(answer(f, "CHAP_N"), "tgt");
	assert_int_equal(decode(answer(f, "CHAP_R"), got, sizeof(got), &len), 0);
	expected_md5(200, MUTUAL_SECRET, ic, sizeof(ic), want);
	assert_int_equal(len, 16);
	assert_memory_equal(got, want, 16);
}

/* 12.1.3: our own challenge sent back is a reflection attack */
static void mutual_chap_reflected_challenge_is_refused(void **state)
{
	struct fixture *f = *state;
	char pairs[256], ours[64];
	size_t n;

	correct_response(f, SECRET, pairs, sizeof(pairs));
	snprintf(ours, sizeof(ours), "%s", answer(f, "CHAP_C"));
	n = strlen(pairs);
	snprintf(pairs + n, sizeof(pairs) - n, "|CHAP_I=1|CHAP_C=%s", ours);
	assert_int_equal(send_keys(f, pairs), -EACCES);
	assert_null(answer(f, "CHAP_R"));
}

static void mutual_chap_not_configured_fails(void **state)
{
	struct fixture *f = *state;

	iscsi_chap_destroy(f->chap);
	f->auth.mutual.user[0] = '\0';
	f->chap = iscsi_chap_create(&f->auth, fake_random, f);
	assert_int_equal(send_mutual(f, "|CHAP_I=1|CHAP_C=0x0102030405060708"), -EACCES);
}

static void mutual_chap_with_initiator_secret_is_refused(void **state)
{
	struct fixture *f = *state;

	iscsi_chap_destroy(f->chap);
	snprintf(f->auth.mutual.secret, sizeof(f->auth.mutual.secret), SECRET);
	f->chap = iscsi_chap_create(&f->auth, fake_random, f);
	assert_int_equal(send_mutual(f, "|CHAP_I=1|CHAP_C=0x0102030405060708"), -EACCES);
	assert_null(answer(f, "CHAP_R"));
}

static void empty_secret_never_authenticates(void **state)
{
	struct fixture *f = *state;
	char pairs[128];

	iscsi_chap_destroy(f->chap);
	f->auth.chap.secret[0] = '\0';
	f->chap = iscsi_chap_create(&f->auth, fake_random, f);
	correct_response(f, "", pairs, sizeof(pairs));
	assert_int_equal(send_keys(f, pairs), -EACCES);
}

static void mutual_chap_identifier_without_challenge_is_protocol_error(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(send_mutual(f, "|CHAP_I=1"), -EPROTO);
}

static void mutual_chap_identifier_over_255_fails(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(send_mutual(f, "|CHAP_I=256|CHAP_C=0x0102"), -EACCES);
}

static void destroy_accepts_null(void **state)
{
	iscsi_chap_destroy(NULL);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fixture_setup, fixture_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hex_value_decodes),
		cmocka_unit_test(hex_value_with_odd_digits_has_leading_zero),
		cmocka_unit_test(hex_value_with_bad_digit_is_invalid),
		cmocka_unit_test(value_longer_than_buffer_is_too_big),
		cmocka_unit_test(base64_value_decodes_with_and_without_padding),
		cmocka_unit_test(base64_value_malformed_is_invalid),
		cmocka_unit_test(value_without_prefix_is_invalid),
		T(chap_a_gets_md5_identifier_and_challenge),
		T(chap_a_without_md5_fails),
		T(chap_right_secret_authenticates),
		T(chap_wrong_secret_fails),
		T(chap_wrong_user_fails),
		T(chap_response_base64_is_accepted),
		T(chap_response_of_wrong_length_fails),
		T(chap_response_before_chap_a_is_protocol_error),
		T(chap_name_without_response_is_protocol_error),
		T(request_without_chap_keys_waits),
		T(random_source_failure_is_returned),
		T(mutual_chap_answers_with_mutual_secret),
		T(mutual_chap_reflected_challenge_is_refused),
		T(mutual_chap_not_configured_fails),
		T(mutual_chap_with_initiator_secret_is_refused),
		T(empty_secret_never_authenticates),
		T(mutual_chap_identifier_without_challenge_is_protocol_error),
		T(mutual_chap_identifier_over_255_fails),
		cmocka_unit_test(destroy_accepts_null),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
