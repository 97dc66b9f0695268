/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Text key parsing (RFC 7143 section 6.1) and the negotiation rule of every
 * login key (sections 6.2 and 13), one rule per test. The target offers
 * iscsi_params_defaults(): MaxRecvDataSegmentLength 262144, MaxBurstLength
 * 2^24-1, FirstBurstLength 262144, InitialR2T=No, ImmediateData=Yes,
 * CRC32C digests allowed, ERL 0, one connection.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "iscsi/login.h"
#include "iscsi/param.h"

/* ---- iscsi_text_next --------------------------------------------------- */

static int text_one(const char *text, size_t len, struct iscsi_kv *kv)
{
	const uint8_t *pos = (const uint8_t *)text;

	return iscsi_text_next(&pos, pos + len, kv);
}

static void text_pairs_come_out_in_order(void **state)
{
	static const char text[] = "A=1\0Bee=two\0";
	const uint8_t *pos = (const uint8_t *)text, *end = pos + sizeof(text) - 1;
	struct iscsi_kv kv;

	assert_int_equal(iscsi_text_next(&pos, end, &kv), 1);
	assert_int_equal(kv.key_len, 1);
	assert_memory_equal(kv.key, "A", 1);
	assert_string_equal(kv.value, "1");
	assert_int_equal(iscsi_text_next(&pos, end, &kv), 1);
	assert_memory_equal(kv.key, "Bee", 3);
	assert_string_equal(kv.value, "two");
	assert_int_equal(kv.value_len, 3);
	assert_int_equal(iscsi_text_next(&pos, end, &kv), 0);
}

static void text_empty_segment_has_no_pairs(void **state)
{
	struct iscsi_kv kv;

	assert_int_equal(text_one("", 0, &kv), 0);
}

static void text_pair_without_equals_is_malformed(void **state)
{
	struct iscsi_kv kv;

	assert_int_equal(text_one("NoEquals\0", 9, &kv), -EINVAL);
}

/* 6.1: every pair, the last one too, ends with a NUL */
static void text_last_pair_without_nul_is_malformed(void **state)
{
	struct iscsi_kv kv;

	assert_int_equal(text_one("A=1", 3, &kv), -EINVAL);
}

static void text_empty_key_is_malformed(void **state)
{
	struct iscsi_kv kv;

	assert_int_equal(text_one("=1\0", 3, &kv), -EINVAL);
}

static void text_empty_pair_is_malformed(void **state)
{
	struct iscsi_kv kv;

	assert_int_equal(text_one("\0", 1, &kv), -EINVAL);
}

static void text_key_char_outside_rfc_set_is_malformed(void **state)
{
	struct iscsi_kv kv;

	assert_int_equal(text_one("Bad Key=1\0", 10, &kv), -EINVAL);
}

/* 6.1: keys are at most 63 bytes */
static void text_key_of_63_bytes_is_accepted(void **state)
{
	char text[80] = {0};
	struct iscsi_kv kv;

	memset(text, 'K', 63);
	memcpy(text + 63, "=v", 3);
	assert_int_equal(text_one(text, 66, &kv), 1);
	assert_int_equal(kv.key_len, 63);
}

static void text_key_of_64_bytes_is_malformed(void **state)
{
	char text[80] = {0};
	struct iscsi_kv kv;

	memset(text, 'K', 64);
	memcpy(text + 64, "=v", 3);
	assert_int_equal(text_one(text, 67, &kv), -EINVAL);
}

static void text_value_of_8192_bytes_is_accepted(void **state)
{
	static char text[8200];
	struct iscsi_kv kv;

	memcpy(text, "K=", 2);
	memset(text + 2, 'v', 8192);
	text[8194] = '\0';
	assert_int_equal(text_one(text, 8195, &kv), 1);
	assert_int_equal(kv.value_len, 8192);
}

static void text_value_of_8193_bytes_is_malformed(void **state)
{
	static char text[8200];
	struct iscsi_kv kv;

	memcpy(text, "K=", 2);
	memset(text + 2, 'v', 8193);
	text[8195] = '\0';
	assert_int_equal(text_one(text, 8196, &kv), -EINVAL);
}

static void text_find_returns_value_of_named_key(void **state)
{
	static const uint8_t text[] = "A=1\0Bee=two\0";

	assert_string_equal(iscsi_text_find(text, sizeof(text) - 1, "Bee"), "two");
	assert_null(iscsi_text_find(text, sizeof(text) - 1, "Be"));
	assert_null(iscsi_text_find(NULL, 0, "A"));
}

/* ---- numbers and lists -------------------------------------------------- */

static int num(const char *s, uint32_t lo, uint32_t hi, uint32_t *v)
{
	return iscsi_text_num_parse(s, strlen(s), lo, hi, v);
}

static void num_decimal_and_hex_are_accepted(void **state)
{
	uint32_t v = 0;

	assert_int_equal(num("8192", 0, 100000, &v), 0);
	assert_int_equal(v, 8192);
	assert_int_equal(num("0x2000", 0, 100000, &v), 0);
	assert_int_equal(v, 8192);
	assert_int_equal(num("0XfF", 0, 100000, &v), 0);
	assert_int_equal(v, 255);
}

static void num_sign_space_and_junk_are_rejected(void **state)
{
	uint32_t v;

	assert_int_equal(num("", 0, 10, &v), -EINVAL);
	assert_int_equal(num("+1", 0, 10, &v), -EINVAL);
	assert_int_equal(num("-1", 0, 10, &v), -EINVAL);
	assert_int_equal(num(" 1", 0, 10, &v), -EINVAL);
	assert_int_equal(num("1 ", 0, 10, &v), -EINVAL);
	assert_int_equal(num("0x", 0, 10, &v), -EINVAL);
	assert_int_equal(num("0x0x1", 0, 10, &v), -EINVAL);
	assert_int_equal(num("1a", 0, 100, &v), -EINVAL);
}

static void num_outside_range_is_rejected(void **state)
{
	uint32_t v;

	assert_int_equal(num("511", 512, 16777215, &v), -EINVAL);
	assert_int_equal(num("16777216", 512, 16777215, &v), -EINVAL);
	assert_int_equal(num("99999999999999999999999", 0, 16777215, &v), -EINVAL);
	assert_int_equal(num("16777215", 512, 16777215, &v), 0);
}

static void list_pick_follows_the_offer_order(void **state)
{
	static const char *const ours[] = {"CRC32C", "None"};
	struct iscsi_kv kv = {"K", 1, "Foo,None,CRC32C", 15};

	assert_int_equal(iscsi_text_list_pick(&kv, ours, 2), 1);
}

static void list_pick_without_common_item_is_enoent(void **state)
{
	static const char *const ours[] = {"CRC32C"};
	struct iscsi_kv kv = {"K", 1, "None,CRC32", 10};

	assert_int_equal(iscsi_text_list_pick(&kv, ours, 1), -ENOENT);
}

/* ---- negotiation ------------------------------------------------------- */

struct fixture {
	struct iscsi_params ours;
	struct iscsi_neg neg;
	struct buf rsp;
};

static int fixture_setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	iscsi_params_defaults(&f.ours);
	iscsi_neg_init(&f.neg, &f.ours);
	*state = &f;
	return 0;
}

static int fixture_teardown(void **state)
{
	struct fixture *f = *state;

	iscsi_neg_release(&f->neg);
	buf_release(&f->rsp);
	return 0;
}

/* Offer "k=v" pairs (separated by '|') in the operational stage. */
static int offer_in(struct fixture *f, int stage, const char *pairs)
{
	char text[4096];
	size_t i, n = strlen(pairs);
	int rc;

	assert_true(n < sizeof(text));
	for (i = 0; i < n; i++)
		text[i] = pairs[i] == '|' ? '\0' : pairs[i];
	text[n] = '\0';
	f->rsp.len = 0;
	rc = iscsi_neg_parse(&f->neg, (const uint8_t *)text, n + 1, stage, &f->rsp);
	if (!rc)
		rc = iscsi_neg_answer(&f->neg, &f->rsp);
	return rc;
}

static int offer(struct fixture *f, const char *pairs)
{
	return offer_in(f, ISCSI_STAGE_OPERATIONAL, pairs);
}

/* Our answer to key in the last response, or NULL. */
static const char *answer(struct fixture *f, const char *key)
{
	return iscsi_text_find(f->rsp.data, f->rsp.len, key);
}

/* 13.1: the first digest of the initiator's list that we support */
static void digest_follows_initiator_preference(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "HeaderDigest=None,CRC32C|DataDigest=CRC32C,None"), 0);
	assert_string_equal(answer(f, "HeaderDigest"), "None");
	assert_string_equal(answer(f, "DataDigest"), "CRC32C");
	assert_false(f->neg.p.header_digest);
	assert_true(f->neg.p.data_digest);
}

/* 6.2.1: list items we do not know are skipped */
static void digest_skips_unknown_items(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "HeaderDigest=MD5,CRC32C"), 0);
	assert_string_equal(answer(f, "HeaderDigest"), "CRC32C");
}

static void digest_without_supported_item_is_rejected(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "DataDigest=MD5"), 0);
	assert_string_equal(answer(f, "DataDigest"), "Reject");
	assert_false(f->neg.p.data_digest);
}

static void digest_crc32c_refused_when_target_does_not_offer_it(void **state)
{
	struct fixture *f = *state;

	f->ours.header_digest = false;
	iscsi_neg_init(&f->neg, &f->ours);
	assert_int_equal(offer(f, "HeaderDigest=CRC32C,None"), 0);
	assert_string_equal(answer(f, "HeaderDigest"), "None");
}

/* 13.10: InitialR2T is OR: Yes from the initiator wins over our No */
static void initial_r2t_yes_wins(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "InitialR2T=Yes"), 0);
	assert_string_equal(answer(f, "InitialR2T"), "Yes");
	assert_true(f->neg.p.initial_r2t);
}

static void initial_r2t_no_when_both_say_no(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "InitialR2T=No"), 0);
	assert_string_equal(answer(f, "InitialR2T"), "No");
	assert_false(f->neg.p.initial_r2t);
}

/* 13.11: ImmediateData is AND */
static void immediate_data_no_wins(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "ImmediateData=No"), 0);
	assert_string_equal(answer(f, "ImmediateData"), "No");
	assert_false(f->neg.p.immediate_data);
}

static void immediate_data_yes_when_both_say_yes(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "ImmediateData=Yes"), 0);
	assert_string_equal(answer(f, "ImmediateData"), "Yes");
}

/* 13.18, 13.19: DataPDUInOrder and DataSequenceInOrder are OR; we say Yes */
static void data_pdu_in_order_is_or(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "DataPDUInOrder=No"), 0);
	assert_string_equal(answer(f, "DataPDUInOrder"), "Yes");
	assert_true(f->neg.p.data_pdu_in_order);
}

static void data_sequence_in_order_is_or(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "DataSequenceInOrder=No"), 0);
	assert_string_equal(answer(f, "DataSequenceInOrder"), "Yes");
}

static void boolean_other_than_yes_no_is_rejected(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "ImmediateData=yes"), 0);
	assert_string_equal(answer(f, "ImmediateData"), "Reject");
	assert_true(f->neg.p.immediate_data); /* RFC default stays */
}

/* 13.13: MaxBurstLength is the minimum */
static void max_burst_is_minimum(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "MaxBurstLength=1048576"), 0);
	assert_string_equal(answer(f, "MaxBurstLength"), "1048576");
	assert_int_equal(f->neg.p.max_burst, 1048576);
}

static void max_burst_hex_offer_is_understood(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "MaxBurstLength=0x10000"), 0);
	assert_string_equal(answer(f, "MaxBurstLength"), "65536");
}

/* 13.13: 512 to 2^24-1 */
static void max_burst_below_range_is_rejected(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "MaxBurstLength=511"), 0);
	assert_string_equal(answer(f, "MaxBurstLength"), "Reject");
	assert_int_equal(f->neg.p.max_burst, 262144);
}

static void max_burst_above_range_is_rejected(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "MaxBurstLength=16777216"), 0);
	assert_string_equal(answer(f, "MaxBurstLength"), "Reject");
}

/* 13.14: FirstBurstLength is the minimum */
static void first_burst_is_minimum(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "FirstBurstLength=65536"), 0);
	assert_string_equal(answer(f, "FirstBurstLength"), "65536");
	assert_int_equal(f->neg.p.first_burst, 65536);
}

/* 13.14: FirstBurstLength MUST NOT exceed MaxBurstLength */
static void first_burst_capped_by_max_burst(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "FirstBurstLength=131072|MaxBurstLength=65536"), 0);
	assert_string_equal(answer(f, "FirstBurstLength"), "65536");
}

static void finish_caps_first_burst_negotiated_before_max_burst(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "FirstBurstLength=131072"), 0);
	assert_int_equal(offer(f, "MaxBurstLength=65536"), 0);
	iscsi_neg_finish(&f->neg);
	assert_int_equal(f->neg.p.first_burst, 65536);
}

/* 13.14: irrelevant when InitialR2T=Yes and ImmediateData=No */
static void first_burst_irrelevant_without_unsolicited_data(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "FirstBurstLength=65536|InitialR2T=Yes|ImmediateData=No"), 0);
	assert_string_equal(answer(f, "FirstBurstLength"), "Irrelevant");
}

/* 13.2 */
static void max_connections_is_minimum(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "MaxConnections=8"), 0);
	assert_string_equal(answer(f, "MaxConnections"), "1");
}

static void max_connections_zero_is_rejected(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "MaxConnections=0"), 0);
	assert_string_equal(answer(f, "MaxConnections"), "Reject");
}

/* 13.17 */
static void max_outstanding_r2t_is_minimum(void **state)
{
	struct fixture *f = *state;

	f->ours.max_outstanding_r2t = 4;
	iscsi_neg_init(&f->neg, &f->ours);
	assert_int_equal(offer(f, "MaxOutstandingR2T=16"), 0);
	assert_string_equal(answer(f, "MaxOutstandingR2T"), "4");
}

/* 13.15: DefaultTime2Wait is the maximum */
static void default_time2wait_is_maximum(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "DefaultTime2Wait=0"), 0);
	assert_string_equal(answer(f, "DefaultTime2Wait"), "2");
}

static void default_time2wait_over_3600_is_rejected(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "DefaultTime2Wait=3601"), 0);
	assert_string_equal(answer(f, "DefaultTime2Wait"), "Reject");
}

/* 13.16: DefaultTime2Retain is the minimum */
static void default_time2retain_is_minimum(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "DefaultTime2Retain=0"), 0);
	assert_string_equal(answer(f, "DefaultTime2Retain"), "0");
	assert_int_equal(f->neg.p.default_time2retain, 0);
}

/* 13.20: minimum; we support level 0 only */
static void error_recovery_level_is_zero(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "ErrorRecoveryLevel=2"), 0);
	assert_string_equal(answer(f, "ErrorRecoveryLevel"), "0");
}

static void error_recovery_level_3_is_rejected(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "ErrorRecoveryLevel=3"), 0);
	assert_string_equal(answer(f, "ErrorRecoveryLevel"), "Reject");
}

/* RFC 7144 2.1: minimum; RFC 7143 is level 1 */
static void protocol_level_is_minimum(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "iSCSIProtocolLevel=2"), 0);
	assert_string_equal(answer(f, "iSCSIProtocolLevel"), "1");
}

/* 13.23 */
static void task_reporting_answers_rfc3720(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "TaskReporting=FastAbort,RFC3720"), 0);
	assert_string_equal(answer(f, "TaskReporting"), "RFC3720");
}

/* Markers are obsolete: we never use them. */
static void markers_are_answered_no(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "IFMarker=Yes|OFMarker=No"), 0);
	assert_string_equal(answer(f, "IFMarker"), "No");
	assert_string_equal(answer(f, "OFMarker"), "No");
}

static void marker_intervals_are_irrelevant(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "IFMarkInt=2048|OFMarkInt=2048~8192"), 0);
	assert_string_equal(answer(f, "IFMarkInt"), "Irrelevant");
	assert_string_equal(answer(f, "OFMarkInt"), "Irrelevant");
}

static void rdma_extensions_are_answered_no(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "RDMAExtensions=Yes"), 0);
	assert_string_equal(answer(f, "RDMAExtensions"), "No");
}

/* 13.12: a declaration, not a negotiation */
static void mrdsl_declaration_sets_our_transmit_limit(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "MaxRecvDataSegmentLength=65536"), 0);
	assert_null(answer(f, "MaxRecvDataSegmentLength"));
	assert_int_equal(f->neg.p.max_xmit_dsl, 65536);
	assert_int_equal(f->neg.p.max_recv_dsl, 262144);
}

static void mrdsl_out_of_range_is_protocol_error(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "MaxRecvDataSegmentLength=100"), -EPROTO);
}

static void mrdsl_declared_by_us_once(void **state)
{
	struct fixture *f = *state;

	f->rsp.len = 0;
	assert_int_equal(iscsi_neg_declare(&f->neg, &f->rsp), 0);
	assert_string_equal(answer(f, "MaxRecvDataSegmentLength"), "262144");
	f->rsp.len = 0;
	assert_int_equal(iscsi_neg_declare(&f->neg, &f->rsp), 0);
	assert_int_equal(f->rsp.len, 0);
}

/* Keys not offered keep the RFC 7143 defaults, not our offers. */
static void unoffered_keys_keep_rfc_defaults(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "MaxBurstLength=1048576"), 0);
	assert_true(f->neg.p.initial_r2t);
	assert_int_equal(f->neg.p.first_burst, 65536);
	assert_int_equal(f->neg.p.max_xmit_dsl, 8192);
}

/* 6.2: declaring or negotiating a key twice is a protocol error */
static void key_twice_in_one_request_is_protocol_error(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "MaxBurstLength=65536|MaxBurstLength=65536"), -EPROTO);
	assert_non_null(strstr(f->neg.why, "MaxBurstLength"));
}

static void key_again_in_later_request_is_protocol_error(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "InitialR2T=Yes"), 0);
	assert_int_equal(offer(f, "InitialR2T=Yes"), -EPROTO);
}

/* 6.2: keys we do not know, vendor X- and X# keys included */
static void unknown_key_answered_not_understood(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "FancyKey=1|X-com.example.thing=1|X#org.example=2"), 0);
	assert_string_equal(answer(f, "FancyKey"), "NotUnderstood");
	assert_string_equal(answer(f, "X-com.example.thing"), "NotUnderstood");
	assert_string_equal(answer(f, "X#org.example"), "NotUnderstood");
}

static void unknown_key_twice_is_protocol_error(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "X-a=1"), 0);
	assert_int_equal(offer(f, "X-a=1"), -EPROTO);
}

static void too_many_unknown_keys_is_protocol_error(void **state)
{
	struct fixture *f = *state;
	char pair[32];
	int i;

	for (i = 0; i < ISCSI_NEG_UNKNOWN_MAX; i++) {
		snprintf(pair, sizeof(pair), "X-k%d=1", i);
		assert_int_equal(offer(f, pair), 0);
	}
	assert_int_equal(offer(f, "X-one-too-many=1"), -EPROTO);
}

/* 6.3: operational keys wait for the operational stage */
static void operational_key_in_security_stage_is_protocol_error(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer_in(f, ISCSI_STAGE_SECURITY, "MaxBurstLength=65536"), -EPROTO);
}

static void declaration_in_security_stage_is_accepted(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer_in(f, ISCSI_STAGE_SECURITY, "MaxRecvDataSegmentLength=16384"), 0);
	assert_int_equal(f->neg.p.max_xmit_dsl, 16384);
}

static void security_key_in_operational_stage_is_protocol_error(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "AuthMethod=None"), -EPROTO);
}

/* 13.x "Irrelevant when: SessionType=Discovery" */
static void discovery_session_keys_are_irrelevant(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "SessionType=Discovery|MaxBurstLength=65536|InitialR2T=No|"
				  "MaxConnections=1|HeaderDigest=None"),
			 0);
	assert_string_equal(answer(f, "MaxBurstLength"), "Irrelevant");
	assert_string_equal(answer(f, "InitialR2T"), "Irrelevant");
	assert_string_equal(answer(f, "MaxConnections"), "Irrelevant");
	assert_string_equal(answer(f, "HeaderDigest"), "None");
}

static void unknown_session_type_is_unsupported(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "SessionType=Weird"), -EOPNOTSUPP);
}

/* Target-only keys and SendTargets have no place in an initiator's login. */
static void target_only_keys_are_rejected(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "TargetPortalGroupTag=1|TargetAlias=x|SendTargets=All"), 0);
	assert_string_equal(answer(f, "TargetPortalGroupTag"), "Reject");
	assert_string_equal(answer(f, "TargetAlias"), "Reject");
	assert_string_equal(answer(f, "SendTargets"), "Reject");
}

static void names_are_recorded(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(offer(f, "InitiatorName=iqn.a:i|TargetName=iqn.a:t|InitiatorAlias=h"), 0);
	assert_string_equal(f->neg.p.initiator_name, "iqn.a:i");
	assert_string_equal(f->neg.p.target_name, "iqn.a:t");
	assert_string_equal(f->neg.p.initiator_alias, "h");
	assert_int_equal(f->rsp.len, 0); /* declarations get no answer */
}

/* 6.1: names are at most 223 bytes */
static void initiator_name_over_223_bytes_is_protocol_error(void **state)
{
	struct fixture *f = *state;
	char text[300];

	memcpy(text, "InitiatorName=", 14);
	memset(text + 14, 'n', 224);
	text[14 + 224] = '\0';
	assert_int_equal(offer(f, text), -EPROTO);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fixture_setup, fixture_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(text_pairs_come_out_in_order),
		cmocka_unit_test(text_empty_segment_has_no_pairs),
		cmocka_unit_test(text_pair_without_equals_is_malformed),
		cmocka_unit_test(text_last_pair_without_nul_is_malformed),
		cmocka_unit_test(text_empty_key_is_malformed),
		cmocka_unit_test(text_empty_pair_is_malformed),
		cmocka_unit_test(text_key_char_outside_rfc_set_is_malformed),
		cmocka_unit_test(text_key_of_63_bytes_is_accepted),
		cmocka_unit_test(text_key_of_64_bytes_is_malformed),
		cmocka_unit_test(text_value_of_8192_bytes_is_accepted),
		cmocka_unit_test(text_value_of_8193_bytes_is_malformed),
		cmocka_unit_test(text_find_returns_value_of_named_key),
		cmocka_unit_test(num_decimal_and_hex_are_accepted),
		cmocka_unit_test(num_sign_space_and_junk_are_rejected),
		cmocka_unit_test(num_outside_range_is_rejected),
		cmocka_unit_test(list_pick_follows_the_offer_order),
		cmocka_unit_test(list_pick_without_common_item_is_enoent),
		T(digest_follows_initiator_preference),
		T(digest_skips_unknown_items),
		T(digest_without_supported_item_is_rejected),
		T(digest_crc32c_refused_when_target_does_not_offer_it),
		T(initial_r2t_yes_wins),
		T(initial_r2t_no_when_both_say_no),
		T(immediate_data_no_wins),
		T(immediate_data_yes_when_both_say_yes),
		T(data_pdu_in_order_is_or),
		T(data_sequence_in_order_is_or),
		T(boolean_other_than_yes_no_is_rejected),
		T(max_burst_is_minimum),
		T(max_burst_hex_offer_is_understood),
		T(max_burst_below_range_is_rejected),
		T(max_burst_above_range_is_rejected),
		T(first_burst_is_minimum),
		T(first_burst_capped_by_max_burst),
		T(finish_caps_first_burst_negotiated_before_max_burst),
		T(first_burst_irrelevant_without_unsolicited_data),
		T(max_connections_is_minimum),
		T(max_connections_zero_is_rejected),
		T(max_outstanding_r2t_is_minimum),
		T(default_time2wait_is_maximum),
		T(default_time2wait_over_3600_is_rejected),
		T(default_time2retain_is_minimum),
		T(error_recovery_level_is_zero),
		T(error_recovery_level_3_is_rejected),
		T(protocol_level_is_minimum),
		T(task_reporting_answers_rfc3720),
		T(markers_are_answered_no),
		T(marker_intervals_are_irrelevant),
		T(rdma_extensions_are_answered_no),
		T(mrdsl_declaration_sets_our_transmit_limit),
		T(mrdsl_out_of_range_is_protocol_error),
		T(mrdsl_declared_by_us_once),
		T(unoffered_keys_keep_rfc_defaults),
		T(key_twice_in_one_request_is_protocol_error),
		T(key_again_in_later_request_is_protocol_error),
		T(unknown_key_answered_not_understood),
		T(unknown_key_twice_is_protocol_error),
		T(too_many_unknown_keys_is_protocol_error),
		T(operational_key_in_security_stage_is_protocol_error),
		T(declaration_in_security_stage_is_accepted),
		T(security_key_in_operational_stage_is_protocol_error),
		T(discovery_session_keys_are_irrelevant),
		T(unknown_session_type_is_unsupported),
		T(target_only_keys_are_rejected),
		T(names_are_recorded),
		T(initiator_name_over_223_bytes_is_protocol_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
