/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Text keys (RFC 7143 sections 6.1, 6.2, 13): iscsi_text_next() over
 * arbitrary text, the value parsers on every value it yields, and the
 * negotiation parser and answerer for one request in either login stage.
 *
 * Input: 1 byte selecting the stage (bit 0) and whether to answer (bit 1),
 * then the text ("key=value\0" pairs, or anything).
 */
#include <errno.h>
#include <string.h>

#include "fuzz_common.h"
#include "iscsi/chap.h"
#include "iscsi/login.h"
#include "iscsi/param.h"

static const char *const fuzz_text_lists[] = {"None", "CRC32C", "CHAP", "Yes", "No"};

/* Walk the pairs and feed each value to the value parsers. */
static void fuzz_text_walk(const uint8_t *text, size_t len)
{
	const uint8_t *pos = text, *end = text + len;
	uint8_t bin[ISCSI_CHAP_CHALLENGE_MAX];
	struct iscsi_kv kv;
	size_t bin_len;
	uint32_t num;
	int rc;

	while ((rc = iscsi_text_next(&pos, end, &kv)) == 1) {
		FUZZ_CHECK(kv.key_len >= 1 && kv.key_len <= ISCSI_KEY_NAME_MAX);
		FUZZ_CHECK(kv.value_len <= ISCSI_TEXT_VALUE_MAX);
		FUZZ_CHECK((const uint8_t *)kv.value + kv.value_len < end);
		FUZZ_CHECK(kv.value[kv.value_len] == '\0');
		FUZZ_CHECK(pos > (const uint8_t *)kv.value && pos <= end);
		if (iscsi_text_num_parse(kv.value, kv.value_len, 512, 16777215, &num) == 0)
			FUZZ_CHECK(num >= 512 && num <= 16777215);
		rc = iscsi_text_list_pick(&kv, fuzz_text_lists, 5);
		FUZZ_CHECK(rc == -ENOENT || (rc >= 0 && rc < 5));
		rc = iscsi_chap_bin_decode(kv.value, kv.value_len, bin, sizeof(bin), &bin_len);
		FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -E2BIG);
		if (rc == 0)
			FUZZ_CHECK(bin_len <= sizeof(bin));
	}
	FUZZ_CHECK(rc == 0 || rc == -EINVAL);
	(void)iscsi_text_find(text, len, "TargetName");
}

/* One request through the negotiation, as the login code drives it. */
static void fuzz_text_negotiate(const uint8_t *text, size_t len, int stage, bool answer)
{
	struct iscsi_params ours;
	struct iscsi_neg neg;
	struct buf rsp = {0};
	int rc;

	iscsi_params_defaults(&ours);
	iscsi_neg_init(&neg, &ours);
	rc = iscsi_neg_parse(&neg, text, len, stage, &rsp);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -EPROTO || rc == -ENOMEM);
	if (rc == 0 && answer) {
		rc = iscsi_neg_answer(&neg, &rsp);
		FUZZ_CHECK(rc == 0 || rc == -EPROTO || rc == -EOPNOTSUPP || rc == -ENOMEM);
		if (rc == 0 && iscsi_neg_declare(&neg, &rsp) == 0) {
			iscsi_neg_finish(&neg);
			/* 13.14: FirstBurstLength <= MaxBurstLength after login. */
			FUZZ_CHECK(neg.p.first_burst <= neg.p.max_burst);
		}
	}
	/* Whatever we answer is itself well-formed text (6.1). */
	if (rsp.len) {
		const uint8_t *pos = rsp.data;
		struct iscsi_kv kv;

		while ((rc = iscsi_text_next(&pos, rsp.data + rsp.len, &kv)) == 1)
			;
		FUZZ_CHECK(rc == 0);
	}
	FUZZ_CHECK(memchr(neg.why, '\0', sizeof(neg.why)) != NULL);
	buf_release(&rsp);
	iscsi_neg_release(&neg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	uint8_t mode = fuzz_u8(&in);
	uint8_t *text;

	/* An exact-size copy: ASan sees any read past the end. */
	text = malloc(in.n ? in.n : 1);
	if (!text)
		return 0;
	memcpy(text, in.p, in.n);
	fuzz_text_walk(text, in.n);
	fuzz_text_negotiate(text, in.n, (mode & 1) ? ISCSI_STAGE_OPERATIONAL : ISCSI_STAGE_SECURITY,
			    mode & 2);
	free(text);
	return 0;
}
