/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Whole logins driven through iscsi_login_step() as an initiator would
 * send them (RFC 7143 sections 6.3, 11.12, 11.13, 12.1).
 *
 *   initiator iqn.2026-11.org.example:host1 ISID 00023d000001
 *        |  Login Requests: CSG/NSG, T, C, key=value text
 *   target  iqn.2026-11.org.example:disk1, TPGT 7; with CHAP: user "alice",
 *           mutual user "tgt"
 *
 * calloc, realloc and free are wrapped (-Wl,--wrap) so that a test can make
 * the Nth allocation fail and check that nothing leaks.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "iscsi/chap.h"
#include "iscsi/login.h"

#define INITIATOR "iqn.2026-11.org.example:host1"
#define TARGET "iqn.2026-11.org.example:disk1"
#define SECRET "alice-secret-123"
#define MUTUAL_SECRET "target-secret-456"
#define FIRST_KEYS "InitiatorName=" INITIATOR "|TargetName=" TARGET "|SessionType=Normal"

/* ---- allocation control ----------------------------------------------- */

void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void __real_free(void *p);

static long alloc_live;		/* blocks handed out and not yet freed */
static long alloc_fail_at = -1; /* fail the allocation with this number */
static long alloc_count;

static bool alloc_should_fail(void)
{
	return alloc_fail_at >= 0 && alloc_count++ == alloc_fail_at;
}

void *__wrap_calloc(size_t n, size_t size)
{
	void *p = alloc_should_fail() ? NULL : __real_calloc(n, size);

	if (p)
		alloc_live++;
	return p;
}

void *__wrap_realloc(void *old, size_t size)
{
	void *p = alloc_should_fail() ? NULL : __real_realloc(old, size);

	if (p && !old)
		alloc_live++;
	return p;
}

void __wrap_free(void *p)
{
	if (p)
		alloc_live--;
	__real_free(p);
}

/* ---- the initiator ----------------------------------------------------- */

struct fixture {
	struct iscsi_login_env env;
	struct iscsi_login *login;
	struct iscsi_login_rsp rsp;
	/* what the target lookup answers and saw */
	enum iscsi_lookup_result lookup_result;
	struct iscsi_auth_cfg target_auth;
	char looked_up[2][ISCSI_NAME_MAX];
	int lookups;
	uint8_t isid[6];
	uint8_t next_random;
	/* the last CHAP exchange, for computing responses */
	unsigned int chap_id;
	uint8_t chap_c[64];
	size_t chap_c_len;
};

static enum iscsi_lookup_result fake_lookup(void *ctx, const char *target, const char *initiator,
					    struct iscsi_auth_cfg *auth)
{
	struct fixture *f = ctx;

	f->lookups++;
	snprintf(f->looked_up[0], sizeof(f->looked_up[0]), "%s", target);
	snprintf(f->looked_up[1], sizeof(f->looked_up[1]), "%s", initiator);
	*auth = f->target_auth;
	return f->lookup_result;
}

static int fake_random(void *ctx, uint8_t *buf, size_t len)
{
	struct fixture *f = ctx;
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = f->next_random++;
	return 0;
}

static int fixture_setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	f.env.target_lookup = fake_lookup;
	f.env.random_bytes = fake_random;
	f.env.ctx = &f;
	f.env.tpgt = 7;
	iscsi_params_defaults(&f.env.target_defaults);
	memcpy(f.isid, "\x00\x02\x3d\x00\x00\x01", 6);
	f.next_random = 0x10;
	alloc_fail_at = -1;
	alloc_live = 0;
	f.login = iscsi_login_create(&f.env);
	assert_non_null(f.login);
	*state = &f;
	return 0;
}

static int fixture_teardown(void **state)
{
	struct fixture *f = *state;

	iscsi_login_destroy(f->login);
	assert_int_equal(alloc_live, 0);
	return 0;
}

static void require_chap(struct fixture *f, bool mutual)
{
	snprintf(f->target_auth.chap.user, sizeof(f->target_auth.chap.user), "alice");
	snprintf(f->target_auth.chap.secret, sizeof(f->target_auth.chap.secret), SECRET);
	if (mutual) {
		snprintf(f->target_auth.mutual.user, sizeof(f->target_auth.mutual.user), "tgt");
		snprintf(f->target_auth.mutual.secret, sizeof(f->target_auth.mutual.secret),
			 MUTUAL_SECRET);
	}
}

/*
 * Send one Login Request with "k=v" pairs separated by '|' ("" sends no
 * text). \return what iscsi_login_step() returns; the answer is in f->rsp.
 */
static int login_send_flags(struct fixture *f, bool t, bool c, uint8_t csg, uint8_t nsg,
			    const char *pairs)
{
	static uint8_t text[70000];
	struct iscsi_login_req req = {0};
	size_t i, n = strlen(pairs);

	assert_true(n < sizeof(text));
	for (i = 0; i < n; i++)
		text[i] = pairs[i] == '|' ? '\0' : (uint8_t)pairs[i];
	text[n] = '\0';
	req.transit = t;
	req.cont = c;
	req.csg = csg;
	req.nsg = nsg;
	memcpy(req.isid, f->isid, 6);
	req.data = text;
	req.data_len = n ? n + 1 : 0;
	return iscsi_login_step(f->login, &req, &f->rsp);
}

static int login_send(struct fixture *f, bool t, uint8_t csg, uint8_t nsg, const char *pairs)
{
	return login_send_flags(f, t, false, csg, nsg, pairs);
}

static const char *rsp_value(struct fixture *f, const char *key)
{
	return iscsi_text_find(f->rsp.data, f->rsp.data_len, key);
}

static void assert_failed_with(struct fixture *f, uint8_t cls, uint8_t detail)
{
	assert_true(f->rsp.fail);
	assert_false(f->rsp.complete);
	assert_int_equal(f->rsp.status_class, cls);
	assert_int_equal(f->rsp.status_detail, detail);
	assert_non_null(f->rsp.reason);
}

#define SEC ISCSI_STAGE_SECURITY
#define OP ISCSI_STAGE_OPERATIONAL
#define FFP ISCSI_STAGE_FULL_FEATURE
#define INIT_ERR ISCSI_LOGIN_STATUS_INITIATOR_ERR

/* ---- stage transitions (6.3, 11.12.3) ---------------------------------- */

static void login_walks_security_operational_full_feature(void **state)
{
	struct fixture *f = *state;
	const struct iscsi_params *p;

	assert_int_equal(login_send(f, true, SEC, OP, FIRST_KEYS "|AuthMethod=None"), 0);
	assert_false(f->rsp.fail);
	assert_true(f->rsp.transit);
	assert_int_equal(f->rsp.csg, SEC);
	assert_int_equal(f->rsp.nsg, OP);
	assert_string_equal(rsp_value(f, "AuthMethod"), "None");
	assert_int_equal(login_send(f, true, OP, FFP,
				    "HeaderDigest=CRC32C,None|MaxRecvDataSegmentLength=65536|"
				    "MaxBurstLength=1048576|InitialR2T=No"),
			 0);
	assert_true(f->rsp.complete);
	assert_true(f->rsp.transit);
	assert_int_equal(f->rsp.csg, OP);
	assert_int_equal(f->rsp.nsg, FFP);
	assert_int_equal(f->rsp.status_class, ISCSI_LOGIN_STATUS_SUCCESS);
	assert_string_equal(rsp_value(f, "MaxRecvDataSegmentLength"), "262144");
	p = iscsi_login_params(f->login);
	assert_string_equal(p->initiator_name, INITIATOR);
	assert_string_equal(p->target_name, TARGET);
	assert_true(p->header_digest);
	assert_int_equal(p->max_xmit_dsl, 65536);
	assert_int_equal(p->max_recv_dsl, 262144);
	assert_int_equal(p->max_burst, 1048576);
	assert_false(p->initial_r2t);
}

/* 13.9: TargetPortalGroupTag in the first response of a normal session */
static void first_response_carries_tpgt(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(login_send(f, false, SEC, 0, FIRST_KEYS), 0);
	assert_string_equal(rsp_value(f, "TargetPortalGroupTag"), "7");
	assert_int_equal(login_send(f, false, SEC, 0, "X-a=1"), 0);
	assert_null(rsp_value(f, "TargetPortalGroupTag"));
}

static void target_alias_declared_when_configured(void **state)
{
	struct fixture *f = *state;

	snprintf(f->target_auth.target_alias, sizeof(f->target_auth.target_alias), "disk one");
	assert_int_equal(login_send(f, false, SEC, 0, FIRST_KEYS), 0);
	assert_string_equal(rsp_value(f, "TargetAlias"), "disk one");
}

static void request_without_transit_stays_in_stage(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(login_send(f, false, SEC, 0, FIRST_KEYS), 0);
	assert_false(f->rsp.transit);
	assert_int_equal(f->rsp.csg, SEC);
	assert_int_equal(login_send(f, true, SEC, OP, ""), 0);
	assert_true(f->rsp.transit);
}

/* 6.3: security may be skipped when the target does not require it */
static void security_stage_may_be_skipped(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(login_send(f, true, OP, FFP, FIRST_KEYS), 0);
	assert_true(f->rsp.complete);
	assert_string_equal(rsp_value(f, "MaxRecvDataSegmentLength"), "262144");
}

static void security_straight_to_full_feature_declares_mrdsl(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(login_send(f, true, SEC, FFP, FIRST_KEYS "|AuthMethod=None"), 0);
	assert_true(f->rsp.complete);
	assert_string_equal(rsp_value(f, "MaxRecvDataSegmentLength"), "262144");
}

static void operational_stage_response_declares_mrdsl(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(login_send(f, true, SEC, OP, FIRST_KEYS), 0);
	assert_null(rsp_value(f, "MaxRecvDataSegmentLength"));
	assert_int_equal(login_send(f, false, OP, 0, "MaxBurstLength=65536"), 0);
	assert_string_equal(rsp_value(f, "MaxRecvDataSegmentLength"), "262144");
	assert_int_equal(login_send(f, true, OP, FFP, ""), 0);
	assert_null(rsp_value(f, "MaxRecvDataSegmentLength")); /* once only */
	assert_true(f->rsp.complete);
}

/* 6.3: no going back */
static void transition_backwards_is_protocol_error(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(login_send(f, true, SEC, OP, FIRST_KEYS), 0);
	assert_int_equal(login_send(f, true, OP, SEC, ""), 0);
	assert_failed_with(f, INIT_ERR, ISCSI_LOGIN_DETAIL_INIT_ERR);
}

static void csg_of_a_past_stage_is_protocol_error(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(login_send(f, true, SEC, OP, FIRST_KEYS), 0);
	assert_int_equal(login_send(f, false, SEC, 0, ""), 0);
	assert_failed_with(f, INIT_ERR, ISCSI_LOGIN_DETAIL_INIT_ERR);
}

static void csg_ahead_of_current_stage_is_protocol_error(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(login_send(f, false, SEC, 0, FIRST_KEYS), 0);
	assert_int_equal(login_send(f, true, OP, FFP, ""), 0);
	assert_failed_with(f, INIT_ERR, ISCSI_LOGIN_DETAIL_INIT_ERR);
}

/* 11.12.3: stage 2 is reserved */
static void next_stage_2_is_protocol_error(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(login_send(f, true, SEC, 2, FIRST_KEYS), 0);
	assert_failed_with(f, INIT_ERR, ISCSI_LOGIN_DETAIL_INIT_ERR);
}

static void first_request_in_full_feature_stage_is_protocol_error(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(login_send(f, false, FFP, 0, FIRST_KEYS), 0);
	assert_failed_with(f, INIT_ERR, ISCSI_LOGIN_DETAIL_INIT_ERR);
}

/* 11.12.2: C=1 requires T=0 */
static void transit_with_continue_is_protocol_error(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(login_send_flags(f, true, true, SEC, OP, FIRST_KEYS), 0);
	assert_failed_with(f, INIT_ERR, ISCSI_LOGIN_DETAIL_INIT_ERR);
}

static void isid_change_during_login_is_protocol_error(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(login_send(f, false, SEC, 0, FIRST_KEYS), 0);
	f->isid[5] = 2;
	assert_int_equal(login_send(f, true, SEC, OP, ""), 0);
	assert_failed_with(f, INIT_ERR, ISCSI_LOGIN_DETAIL_INIT_ERR);
}

static void request_after_completion_fails(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(login_send(f, true, SEC, FFP, FIRST_KEYS), 0);
	assert_true(f->rsp.complete);
	assert_int_equal(login_send(f, true, OP, FFP, ""), 0);
	assert_true(f->rsp.fail);
}

static void failed_login_stays_failed(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(login_send(f, true, SEC, OP, "TargetName=" TARGET), 0);
	assert_failed_with(f, INIT_ERR, ISCSI_LOGIN_DETAIL_MISSING_PARAMETER);
	assert_int_equal(login_send(f, true, SEC, OP, FIRST_KEYS), 0);
	assert_failed_with(f, INIT_ERR, ISCSI_LOGIN_DETAIL_MISSING_PARAMETER);
}

static void endless_login_is_cut_off(void **state)
{
	struct fixture *f = *state;
	int i;

	assert_int_equal(login_send(f, false, SEC, 0, FIRST_KEYS), 0);
	for (i = 1; i < ISCSI_LOGIN_PDU_MAX; i++) {
		assert_int_equal(login_send(f, false, SEC, 0, ""), 0);
		assert_false(f->rsp.fail);
	}
	assert_int_equal(login_send(f, false, SEC, 0, ""), 0);
	assert_failed_with(f, INIT_ERR, ISCSI_LOGIN_DETAIL_INIT_ERR);
}

/* ---- header and first-request checks ----------------------------------- */

/* 11.12.4: VersionMin above 0x00 */
static void unsupported_version_fails(void **state)
{
	struct fixture *f = *state;
	struct iscsi_login_req req = {
		.transit = true, .csg = SEC, .nsg = OP, .version_max = 2, .version_min = 1};

	assert_int_equal(iscsi_login_step(f->login, &req, &f->rsp), 0);
	assert_failed_with(f, INIT_ERR, ISCSI_LOGIN_DETAIL_UNSUPPORTED_VERSION);
}

static void nonzero_tsih_names_no_session(void **state)
{
	struct fixture *f = *state;
	struct iscsi_login_req req = {.transit = true, .csg = SEC, .nsg = OP, .tsih = 5};

	assert_int_equal(iscsi_login_step(f->login, &req, &f->rsp), 0);
	assert_failed_with(f, INIT_ERR, ISCSI_LOGIN_DETAIL_SESSION_DOES_NOT_EXIST);
}

/* 13.5: InitiatorName in the first request */
static void missing_initiator_name_fails(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(login_send(f, true, SEC, OP, "TargetName=" TARGET), 0);
	assert_failed_with(f, INIT_ERR, ISCSI_LOGIN_DETAIL_MISSING_PARAMETER);
}

/* 13.4: TargetName in the first request of a normal session */
static void missing_target_name_fails(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(login_send(f, true, SEC, OP, "InitiatorName=" INITIATOR), 0);
	assert_failed_with(f, INIT_ERR, ISCSI_LOGIN_DETAIL_MISSING_PARAMETER);
	assert_non_null(strstr(f->rsp.reason, INITIATOR));
}

static void lookup_gets_target_and_initiator(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(login_send(f, false, SEC, 0, FIRST_KEYS), 0);
	assert_int_equal(f->lookups, 1);
	assert_string_equal(f->looked_up[0], TARGET);
	assert_string_equal(f->looked_up[1], INITIATOR);
}

static void unknown_target_fails_not_found(void **state)
{
	struct fixture *f = *state;

	f->lookup_result = ISCSI_LOOKUP_NOT_FOUND;
	assert_int_equal(login_send(f, true, SEC, OP, FIRST_KEYS), 0);
	assert_failed_with(f, INIT_ERR, ISCSI_LOGIN_DETAIL_NOT_FOUND);
}

static void initiator_not_allowed_fails_forbidden(void **state)
{
	struct fixture *f = *state;

	f->lookup_result = ISCSI_LOOKUP_FORBIDDEN;
	assert_int_equal(login_send(f, true, SEC, OP, FIRST_KEYS), 0);
	assert_failed_with(f, INIT_ERR, ISCSI_LOGIN_DETAIL_FORBIDDEN);
}

static void unavailable_target_fails_service_unavailable(void **state)
{
	struct fixture *f = *state;

	f->lookup_result = ISCSI_LOOKUP_UNAVAILABLE;
	assert_int_equal(login_send(f, true, SEC, OP, FIRST_KEYS), 0);
	assert_failed_with(f, ISCSI_LOGIN_STATUS_TARGET_ERR,
			   ISCSI_LOGIN_DETAIL_SERVICE_UNAVAILABLE);
}

static void discovery_session_needs_no_target(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(
		login_send(f, true, SEC, FFP, "InitiatorName=" INITIATOR "|SessionType=Discovery"),
		0);
	assert_true(f->rsp.complete);
	assert_int_equal(f->lookups, 0);
	assert_null(rsp_value(f, "TargetPortalGroupTag"));
	assert_int_equal(iscsi_login_params(f->login)->session_type, ISCSI_SESSION_DISCOVERY);
}

static void unknown_session_type_fails(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(login_send(f, true, SEC, OP, FIRST_KEYS "x"), 0);
	assert_failed_with(f, INIT_ERR, ISCSI_LOGIN_DETAIL_SESSION_TYPE_UNSUPPORTED);
}

static void names_after_first_request_are_protocol_error(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(
		login_send(f, true, SEC, OP, "InitiatorName=" INITIATOR "|TargetName=" TARGET), 0);
	assert_int_equal(login_send(f, false, OP, 0, "SessionType=Discovery"), 0);
	assert_failed_with(f, INIT_ERR, ISCSI_LOGIN_DETAIL_INIT_ERR);
}

static void malformed_text_is_protocol_error(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(login_send(f, true, SEC, OP, FIRST_KEYS "|garbage"), 0);
	assert_failed_with(f, INIT_ERR, ISCSI_LOGIN_DETAIL_INIT_ERR);
}

static void operational_key_in_security_stage_fails(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(login_send(f, true, SEC, OP, FIRST_KEYS "|MaxBurstLength=65536"), 0);
	assert_failed_with(f, INIT_ERR, ISCSI_LOGIN_DETAIL_INIT_ERR);
}

static void reason_keeps_to_one_printable_line(void **state)
{
	struct fixture *f = *state;
	const char *c;

	f->lookup_result = ISCSI_LOOKUP_NOT_FOUND;
	assert_int_equal(login_send(f, true, SEC, OP,
				    "InitiatorName=iqn.evil\nFAKE LOG LINE|TargetName=" TARGET),
			 0);
	assert_true(f->rsp.fail);
	for (c = f->rsp.reason; *c; c++)
		assert_true(*c >= 0x20);
}

/* ---- AuthMethod (12, 13) ------------------------------------------------ */

static void auth_none_chosen_when_target_needs_none(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(login_send(f, true, SEC, OP, FIRST_KEYS "|AuthMethod=CHAP,None"), 0);
	assert_string_equal(rsp_value(f, "AuthMethod"), "None");
	assert_true(f->rsp.transit);
}

static void auth_chap_only_offer_fails_when_target_has_no_chap(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(login_send(f, true, SEC, OP, FIRST_KEYS "|AuthMethod=CHAP"), 0);
	assert_failed_with(f, INIT_ERR, ISCSI_LOGIN_DETAIL_AUTH_FAILED);
}

static void auth_chap_chosen_when_target_requires_it(void **state)
{
	struct fixture *f = *state;

	require_chap(f, false);
	assert_int_equal(login_send(f, true, SEC, OP, FIRST_KEYS "|AuthMethod=None,CHAP"), 0);
	assert_string_equal(rsp_value(f, "AuthMethod"), "CHAP");
	assert_false(f->rsp.transit); /* not authenticated yet */
}

static void auth_none_offer_fails_when_target_requires_chap(void **state)
{
	struct fixture *f = *state;

	require_chap(f, false);
	assert_int_equal(login_send(f, true, SEC, OP, FIRST_KEYS "|AuthMethod=None"), 0);
	assert_failed_with(f, INIT_ERR, ISCSI_LOGIN_DETAIL_AUTH_FAILED);
}

static void skipping_required_security_stage_fails(void **state)
{
	struct fixture *f = *state;

	require_chap(f, false);
	assert_int_equal(login_send(f, true, OP, FFP, FIRST_KEYS), 0);
	assert_failed_with(f, INIT_ERR, ISCSI_LOGIN_DETAIL_AUTH_FAILED);
}

static void leaving_security_stage_unauthenticated_fails(void **state)
{
	struct fixture *f = *state;

	require_chap(f, false);
	assert_int_equal(login_send(f, false, SEC, 0, FIRST_KEYS "|AuthMethod=CHAP"), 0);
	assert_int_equal(login_send(f, true, OP, FFP, ""), 0);
	assert_failed_with(f, INIT_ERR, ISCSI_LOGIN_DETAIL_AUTH_FAILED);
}

static void transit_without_auth_method_fails_when_chap_required(void **state)
{
	struct fixture *f = *state;

	require_chap(f, false);
	assert_int_equal(login_send(f, true, SEC, OP, FIRST_KEYS), 0);
	assert_failed_with(f, INIT_ERR, ISCSI_LOGIN_DETAIL_AUTH_FAILED);
}

static void chap_keys_without_chap_method_are_protocol_error(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(login_send(f, false, SEC, 0, FIRST_KEYS "|AuthMethod=None"), 0);
	assert_int_equal(login_send(f, false, SEC, 0, "CHAP_A=5"), 0);
	assert_failed_with(f, INIT_ERR, ISCSI_LOGIN_DETAIL_INIT_ERR);
}

/* ---- CHAP logins (12.1.3) ---------------------------------------------- */

static void md5(uint8_t id, const char *secret, const uint8_t *c, size_t len, uint8_t out[16])
{
	uint8_t msg[1200];
	unsigned int n = 0;

	msg[0] = id;
	memcpy(msg + 1, secret, strlen(secret));
	memcpy(msg + 1 + strlen(secret), c, len);
	assert_int_equal(EVP_Digest(msg, 1 + strlen(secret) + len, out, &n, EVP_md5(), NULL), 1);
}

static void hex(char *dst, size_t cap, const uint8_t *p, size_t len)
{
	size_t i;

	snprintf(dst, cap, "0x");
	for (i = 0; i < len; i++)
		snprintf(dst + 2 + 2 * i, cap - 2 - 2 * i, "%02x", p[i]);
}

/* AuthMethod and CHAP_A; leaves our identifier and challenge in f. */
static void chap_begin(struct fixture *f)
{
	assert_int_equal(login_send(f, true, SEC, OP, FIRST_KEYS "|AuthMethod=CHAP,None"), 0);
	assert_int_equal(login_send(f, true, SEC, OP, "CHAP_A=5"), 0);
	assert_false(f->rsp.fail);
	assert_false(f->rsp.transit);
	assert_int_equal(sscanf(rsp_value(f, "CHAP_I"), "%u", &f->chap_id), 1);
	assert_int_equal(iscsi_chap_bin_decode(rsp_value(f, "CHAP_C"),
					       strlen(rsp_value(f, "CHAP_C")), f->chap_c,
					       sizeof(f->chap_c), &f->chap_c_len),
			 0);
}

static int chap_answer(struct fixture *f, const char *secret, const char *extra)
{
	uint8_t r[16];
	char pairs[300], rhex[40];

	md5((uint8_t)f->chap_id, secret, f->chap_c, f->chap_c_len, r);
	hex(rhex, sizeof(rhex), r, sizeof(r));
	snprintf(pairs, sizeof(pairs), "CHAP_N=alice|CHAP_R=%s%s", rhex, extra);
	return login_send(f, true, SEC, OP, pairs);
}

static void chap_login_with_right_secret_proceeds(void **state)
{
	struct fixture *f = *state;

	require_chap(f, false);
	chap_begin(f);
	assert_int_equal(chap_answer(f, SECRET, ""), 0);
	assert_false(f->rsp.fail);
	assert_true(f->rsp.transit);
	assert_int_equal(f->rsp.nsg, OP);
	assert_int_equal(login_send(f, true, OP, FFP, "ImmediateData=Yes"), 0);
	assert_true(f->rsp.complete);
}

static void chap_login_with_wrong_secret_fails(void **state)
{
	struct fixture *f = *state;

	require_chap(f, false);
	chap_begin(f);
	assert_int_equal(chap_answer(f, "guessed-secret", ""), 0);
	assert_failed_with(f, INIT_ERR, ISCSI_LOGIN_DETAIL_AUTH_FAILED);
	assert_non_null(strstr(f->rsp.reason, "CHAP authentication failed for " INITIATOR));
	assert_null(strstr(f->rsp.reason, SECRET));
}

static void mutual_chap_login_authenticates_target(void **state)
{
	struct fixture *f = *state;
	static const uint8_t ic[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	uint8_t want[16], got[16];
	char extra[64], chex[40];
	size_t len = 0;

	require_chap(f, true);
	chap_begin(f);
	hex(chex, sizeof(chex), ic, sizeof(ic));
	snprintf(extra, sizeof(extra), "|CHAP_I=77|CHAP_C=%s", chex);
	assert_int_equal(chap_answer(f, SECRET, extra), 0);
	assert_true(f->rsp.transit);
	assert_string_equal(rsp_value(f, "CHAP_N"), "tgt");
	assert_int_equal(iscsi_chap_bin_decode(rsp_value(f, "CHAP_R"),
					       strlen(rsp_value(f, "CHAP_R")), got, sizeof(got),
					       &len),
			 0);
	md5(77, MUTUAL_SECRET, ic, sizeof(ic), want);
	assert_memory_equal(got, want, sizeof(want));
}

static void mutual_chap_reflected_challenge_fails_login(void **state)
{
	struct fixture *f = *state;
	char extra[80], chex[48];

	require_chap(f, true);
	chap_begin(f);
	hex(chex, sizeof(chex), f->chap_c, f->chap_c_len);
	snprintf(extra, sizeof(extra), "|CHAP_I=1|CHAP_C=%s", chex);
	assert_int_equal(chap_answer(f, SECRET, extra), 0);
	assert_failed_with(f, INIT_ERR, ISCSI_LOGIN_DETAIL_AUTH_FAILED);
}

static void discovery_session_uses_discovery_auth(void **state)
{
	struct fixture *f = *state;

	snprintf(f->env.discovery_auth.chap.user, sizeof(f->env.discovery_auth.chap.user), "d");
	assert_int_equal(login_send(f, true, SEC, FFP,
				    "InitiatorName=" INITIATOR "|SessionType=Discovery|"
				    "AuthMethod=None"),
			 0);
	assert_failed_with(f, INIT_ERR, ISCSI_LOGIN_DETAIL_AUTH_FAILED);
}

/* ---- continuation (6.3, 11.12.2, 11.13.2) ------------------------------ */

static void request_text_split_inside_a_pair_is_gathered(void **state)
{
	struct fixture *f = *state;
	static const char text[] = "InitiatorName=" INITIATOR "\0TargetName=" TARGET "\0";
	struct iscsi_login_req req = {.csg = SEC, .cont = true};
	size_t cut = 20;

	memcpy(req.isid, f->isid, 6);
	req.data = (const uint8_t *)text;
	req.data_len = cut;
	assert_int_equal(iscsi_login_step(f->login, &req, &f->rsp), 0);
	assert_false(f->rsp.fail);
	assert_int_equal(f->rsp.data_len, 0);
	assert_int_equal(f->lookups, 0);
	req.cont = false;
	req.transit = true;
	req.nsg = OP;
	req.data = (const uint8_t *)text + cut;
	req.data_len = sizeof(text) - 1 - cut;
	assert_int_equal(iscsi_login_step(f->login, &req, &f->rsp), 0);
	assert_false(f->rsp.fail);
	assert_true(f->rsp.transit);
	assert_string_equal(f->looked_up[1], INITIATOR);
}

static void request_text_over_64k_fails(void **state)
{
	struct fixture *f = *state;
	static char big[8192]; /* 8191 bytes of text and the NUL the helper adds */
	int i;

	memset(big, 'a', sizeof(big) - 1);
	memcpy(big, "X-pad=", 6);
	for (i = 0; i < ISCSI_LOGIN_TEXT_MAX / 8192; i++) {
		assert_int_equal(login_send_flags(f, false, true, SEC, 0, big), 0);
		assert_false(f->rsp.fail);
	}
	assert_int_equal(login_send_flags(f, false, true, SEC, 0, big), 0);
	assert_failed_with(f, ISCSI_LOGIN_STATUS_TARGET_ERR, ISCSI_LOGIN_DETAIL_OUT_OF_RESOURCES);
}

/* 200 unknown keys of 60 bytes: about 15 KB of NotUnderstood answers */
static void long_response_is_sent_in_pieces(void **state)
{
	struct fixture *f = *state;
	static char pairs[20000];
	struct buf all = BUF_INIT;
	const uint8_t *pos;
	struct iscsi_kv kv;
	size_t n;
	int i, count = 0;

	n = (size_t)snprintf(pairs, sizeof(pairs), FIRST_KEYS);
	for (i = 0; i < 200; i++)
		n += (size_t)snprintf(pairs + n, sizeof(pairs) - n,
				      "|X-org.example.a-rather-long-vendor-key-name-%014d=1", i);
	assert_int_equal(login_send(f, true, SEC, OP, pairs), 0);
	assert_true(f->rsp.cont);
	assert_false(f->rsp.transit);
	assert_int_equal(f->rsp.data_len, ISCSI_LOGIN_SEGMENT_MAX);
	buf_append(&all, f->rsp.data, f->rsp.data_len);
	while (f->rsp.cont) {
		/* the initiator asks for more with empty requests */
		assert_int_equal(login_send(f, true, SEC, OP, ""), 0);
		assert_false(f->rsp.fail);
		assert_true(f->rsp.data_len <= ISCSI_LOGIN_SEGMENT_MAX);
		buf_append(&all, f->rsp.data, f->rsp.data_len);
	}
	assert_true(f->rsp.transit);
	assert_int_equal(f->rsp.nsg, OP);
	pos = all.data;
	while (iscsi_text_next(&pos, all.data + all.len, &kv) == 1)
		count += strcmp(kv.value, "NotUnderstood") == 0;
	assert_ptr_equal(pos, all.data + all.len);
	assert_int_equal(count, 200);
	buf_release(&all);
}

static void text_while_response_continues_is_protocol_error(void **state)
{
	struct fixture *f = *state;
	static char pairs[20000];
	size_t n;
	int i;

	n = (size_t)snprintf(pairs, sizeof(pairs), FIRST_KEYS);
	for (i = 0; i < 200; i++)
		n += (size_t)snprintf(pairs + n, sizeof(pairs) - n,
				      "|X-org.example.a-rather-long-vendor-key-name-%014d=1", i);
	assert_int_equal(login_send(f, true, SEC, OP, pairs), 0);
	assert_true(f->rsp.cont);
	assert_int_equal(login_send(f, true, SEC, OP, "X-more=1"), 0);
	assert_failed_with(f, INIT_ERR, ISCSI_LOGIN_DETAIL_INIT_ERR);
}

/* ---- allocation failure ------------------------------------------------ */

/* A mutual CHAP login with a long response, failing each allocation in turn. */
static int nomem_login_run(struct fixture *f)
{
	static char pairs[20000];
	static const uint8_t ic[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	char extra[64], chex[40];
	size_t n;
	int i, rc;

	n = (size_t)snprintf(pairs, sizeof(pairs), FIRST_KEYS "|AuthMethod=CHAP");
	for (i = 0; i < 200; i++)
		n += (size_t)snprintf(pairs + n, sizeof(pairs) - n, "|X-k%056d=1", i);
	rc = login_send(f, true, SEC, OP, pairs);
	while (!rc && f->rsp.cont)
		rc = login_send(f, true, SEC, OP, "");
	if (!rc)
		rc = login_send(f, true, SEC, OP, "CHAP_A=5");
	if (rc)
		return rc;
	sscanf(rsp_value(f, "CHAP_I"), "%u", &f->chap_id);
	iscsi_chap_bin_decode(rsp_value(f, "CHAP_C"), strlen(rsp_value(f, "CHAP_C")), f->chap_c,
			      sizeof(f->chap_c), &f->chap_c_len);
	hex(chex, sizeof(chex), ic, sizeof(ic));
	snprintf(extra, sizeof(extra), "|CHAP_I=77|CHAP_C=%s", chex);
	rc = chap_answer(f, SECRET, extra);
	if (!rc)
		rc = login_send(f, true, OP, FFP, "MaxBurstLength=65536|X-late=1");
	return rc;
}

static void allocation_failure_returns_enomem_without_leaks(void **state)
{
	struct fixture *f = *state;
	int nomem = 0, rc = -ENOMEM;
	long at;

	require_chap(f, true);
	iscsi_login_destroy(f->login);
	f->login = NULL;
	for (at = 0; rc == -ENOMEM; at++) {
		assert_true(at < 1000);
		alloc_live = 0;
		alloc_count = 0;
		alloc_fail_at = at;
		f->login = iscsi_login_create(&f->env);
		if (!f->login) {
			assert_int_equal(alloc_live, 0);
			continue;
		}
		rc = nomem_login_run(f);
		if (rc == -ENOMEM)
			nomem++;
		else
			assert_int_equal(rc, 0);
		iscsi_login_destroy(f->login);
		f->login = NULL;
		assert_int_equal(alloc_live, 0);
	}
	alloc_fail_at = -1;
	/* the run that got through completed the login */
	assert_true(f->rsp.complete);
	assert_true(nomem > 3);
}

static void destroy_accepts_null(void **state)
{
	iscsi_login_destroy(NULL);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fixture_setup, fixture_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(login_walks_security_operational_full_feature),
		T(first_response_carries_tpgt),
		T(target_alias_declared_when_configured),
		T(request_without_transit_stays_in_stage),
		T(security_stage_may_be_skipped),
		T(security_straight_to_full_feature_declares_mrdsl),
		T(operational_stage_response_declares_mrdsl),
		T(transition_backwards_is_protocol_error),
		T(csg_of_a_past_stage_is_protocol_error),
		T(csg_ahead_of_current_stage_is_protocol_error),
		T(next_stage_2_is_protocol_error),
		T(first_request_in_full_feature_stage_is_protocol_error),
		T(transit_with_continue_is_protocol_error),
		T(isid_change_during_login_is_protocol_error),
		T(request_after_completion_fails),
		T(failed_login_stays_failed),
		T(endless_login_is_cut_off),
		T(unsupported_version_fails),
		T(nonzero_tsih_names_no_session),
		T(missing_initiator_name_fails),
		T(missing_target_name_fails),
		T(lookup_gets_target_and_initiator),
		T(unknown_target_fails_not_found),
		T(initiator_not_allowed_fails_forbidden),
		T(unavailable_target_fails_service_unavailable),
		T(discovery_session_needs_no_target),
		T(unknown_session_type_fails),
		T(names_after_first_request_are_protocol_error),
		T(malformed_text_is_protocol_error),
		T(operational_key_in_security_stage_fails),
		T(reason_keeps_to_one_printable_line),
		T(auth_none_chosen_when_target_needs_none),
		T(auth_chap_only_offer_fails_when_target_has_no_chap),
		T(auth_chap_chosen_when_target_requires_it),
		T(auth_none_offer_fails_when_target_requires_chap),
		T(skipping_required_security_stage_fails),
		T(leaving_security_stage_unauthenticated_fails),
		T(transit_without_auth_method_fails_when_chap_required),
		T(chap_keys_without_chap_method_are_protocol_error),
		T(chap_login_with_right_secret_proceeds),
		T(chap_login_with_wrong_secret_fails),
		T(mutual_chap_login_authenticates_target),
		T(mutual_chap_reflected_challenge_fails_login),
		T(discovery_session_uses_discovery_auth),
		T(request_text_split_inside_a_pair_is_gathered),
		T(request_text_over_64k_fails),
		T(long_response_is_sent_in_pieces),
		T(text_while_response_continues_is_protocol_error),
		T(allocation_failure_returns_enomem_without_leaks),
		cmocka_unit_test(destroy_accepts_null),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
