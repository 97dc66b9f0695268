/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The login phase (RFC 7143 sections 6, 11.12, 11.13, 12.1): a sequence of
 * Login Requests through iscsi_login_create()/iscsi_login_step(), as the
 * connection code feeds them, until the login completes or fails.
 *
 *   initiator (anything the input says)
 *        |  Login Requests
 *   targets  iqn.2026-11.org.example:disk1   no authentication
 *            iqn.2026-11.org.example:chap    CHAP alice / FUZZ_SECRET,
 *                                            mutual tgt / FUZZ_MUTUAL_SECRET
 *            iqn.2026-11.org.example:hidden  initiator not allowed
 *            anything else                   not found
 *
 * The "random" bytes are a fixed sequence (identifier 0x10, challenge
 * 0x11..0x20), so a seed can carry a correct CHAP_R and the fuzzer can
 * explore what follows a successful authentication.
 *
 * Input: a list of requests, each a 7-byte header then its data segment:
 *   byte 0    BHS byte 1: T (0x80), C (0x40), CSG (bits 3-2), NSG (bits 1-0)
 *   byte 1-2  VersionMax, VersionMin
 *   byte 3-4  data segment length, big-endian (cut to what is left)
 *   byte 5    TSIH (low byte)
 *   byte 6    last byte of the ISID
 */
#include <string.h>

#include "fuzz_common.h"
#include "iscsi/login.h"

#define FUZZ_SECRET "alice-secret-123"
#define FUZZ_MUTUAL_SECRET "target-secret-456"
#define FUZZ_TARGET_PREFIX "iqn.2026-11.org.example:"

static enum iscsi_lookup_result
fuzz_login_lookup(void *ctx, const char *target, const char *initiator, struct iscsi_auth_cfg *auth)
{
	memset(auth, 0, sizeof(*auth));
	if (strcmp(target, FUZZ_TARGET_PREFIX "disk1") == 0)
		return ISCSI_LOOKUP_OK;
	if (strcmp(target, FUZZ_TARGET_PREFIX "chap") == 0) {
		snprintf(auth->chap.user, sizeof(auth->chap.user), "alice");
		snprintf(auth->chap.secret, sizeof(auth->chap.secret), FUZZ_SECRET);
		snprintf(auth->mutual.user, sizeof(auth->mutual.user), "tgt");
		snprintf(auth->mutual.secret, sizeof(auth->mutual.secret), FUZZ_MUTUAL_SECRET);
		snprintf(auth->target_alias, sizeof(auth->target_alias), "chap-disk");
		return ISCSI_LOOKUP_OK;
	}
	if (strcmp(target, FUZZ_TARGET_PREFIX "hidden") == 0)
		return ISCSI_LOOKUP_FORBIDDEN;
	return ISCSI_LOOKUP_NOT_FOUND;
}

static int fuzz_login_random(void *ctx, uint8_t *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(0x10 + i);
	return 0;
}

static const char *const fuzz_login_secrets[] = {FUZZ_SECRET, FUZZ_MUTUAL_SECRET};

/* Secrets never leave the target, neither in a response nor in a reason
 * that the daemon logs (RFC 7143 section 12.1.3; docs/limits.md), unless
 * the initiator sent them itself (an unknown key is echoed back). */
static void fuzz_login_check_no_secret(const uint8_t *p, size_t len, const uint8_t *input,
				       size_t input_len)
{
	size_t i;
	const char *s;

	for (i = 0; p && i < 2; i++) {
		s = fuzz_login_secrets[i];
		if (!memmem(input, input_len, s, strlen(s)))
			FUZZ_CHECK(!memmem(p, len, s, strlen(s)));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct iscsi_login_env env;
	struct fuzz_in in = {data, size};
	struct iscsi_login *login;
	uint8_t isid[6] = {0x00, 0x02, 0x3d, 0x00, 0x00, 0x01};
	unsigned int n;

	if (!env.target_lookup) {
		env.target_lookup = fuzz_login_lookup;
		env.random_bytes = fuzz_login_random;
		env.tpgt = 1;
		iscsi_params_defaults(&env.target_defaults);
	}
	login = iscsi_login_create(&env);
	if (!login)
		return 0;
	for (n = 0; in.n > 0 && n < 2 * ISCSI_LOGIN_PDU_MAX; n++) {
		struct iscsi_login_req req = {0};
		struct iscsi_login_rsp rsp = {0};
		uint8_t flags = fuzz_u8(&in);
		uint8_t *seg;
		size_t want, got;
		const uint8_t *p;

		req.transit = flags & 0x80;
		req.cont = flags & 0x40;
		req.csg = (flags >> 2) & 3;
		req.nsg = flags & 3;
		req.version_max = fuzz_u8(&in);
		req.version_min = fuzz_u8(&in);
		want = fuzz_u16(&in);
		req.tsih = fuzz_u8(&in);
		isid[5] = fuzz_u8(&in);
		memcpy(req.isid, isid, sizeof(isid));
		req.itt = n;
		req.cmdsn = 1;
		if (want > ISCSI_LOGIN_SEGMENT_MAX)
			want = ISCSI_LOGIN_SEGMENT_MAX;
		p = fuzz_take(&in, want, &got);
		/* An exact-size copy, as the connection's receive buffer is. */
		seg = got ? malloc(got) : NULL;
		if (got && !seg)
			break;
		if (got)
			memcpy(seg, p, got);
		req.data = seg;
		req.data_len = got;
		if (iscsi_login_step(login, &req, &rsp) < 0) {
			free(seg);
			break;
		}
		free(seg);
		/* 6.3: no data segment over 8192 bytes during login. */
		FUZZ_CHECK(rsp.data_len <= ISCSI_LOGIN_SEGMENT_MAX);
		FUZZ_CHECK(!(rsp.complete && rsp.fail));
		fuzz_login_check_no_secret(rsp.data, rsp.data_len, data, size);
		if (rsp.reason)
			fuzz_login_check_no_secret((const uint8_t *)rsp.reason, strlen(rsp.reason),
						   data, size);
		if (rsp.fail) {
			FUZZ_CHECK(rsp.status_class != ISCSI_LOGIN_STATUS_SUCCESS);
			break;
		}
		FUZZ_CHECK(rsp.status_class == ISCSI_LOGIN_STATUS_SUCCESS);
		if (rsp.complete) {
			const struct iscsi_params *prm = iscsi_login_params(login);

			FUZZ_CHECK(prm != NULL);
			FUZZ_CHECK(rsp.nsg == ISCSI_STAGE_FULL_FEATURE);
			FUZZ_CHECK(prm->first_burst <= prm->max_burst);
			FUZZ_CHECK(memchr(prm->initiator_name, '\0', sizeof(prm->initiator_name)));
			FUZZ_CHECK(prm->session_type == ISCSI_SESSION_DISCOVERY ||
				   prm->target_name[0] != '\0');
			break;
		}
	}
	iscsi_login_destroy(login);
	return 0;
}
