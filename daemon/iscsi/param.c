/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iSCSI text keys: parsing (RFC 7143 section 6.1) and negotiation of the
 * login keys (sections 6.2 and 13). Pure code: no I/O, no globals but the
 * constant key table.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iscsi/login.h"
#include "iscsi/param.h"

#define PARAM_DSL_MIN 512u
#define PARAM_DSL_MAX 16777215u /* 2^24 - 1 */
#define PARAM_NO_FIELD ((size_t)-1)

/* How a key is negotiated (RFC 7143 section 6.2). */
enum param_kind {
	PK_SECURITY,	/* handled by login.c / chap.c */
	PK_DECLARE,	/* declarative: no answer (section 6.2.3) */
	PK_DIGEST,	/* list: first of the initiator's we support */
	PK_BOOL_OR,	/* result is Yes if either side says Yes */
	PK_BOOL_AND,	/* result is Yes only if both say Yes */
	PK_BOOL_NO,	/* boolean-and key we always answer No */
	PK_NUM_MIN,	/* numerical, result is the smaller value */
	PK_NUM_MAX,	/* numerical, result is the larger value */
	PK_TASK_REPORT, /* list: we support RFC3720 only */
	PK_IRRELEVANT,	/* always answered Irrelevant */
	PK_TARGET_ONLY, /* not the initiator's to send during login: Reject */
};

#define PF_NORMAL_ONLY 0x01 /* "Irrelevant when: SessionType=Discovery" */

struct param_key {
	const char *name;
	enum param_kind kind;
	unsigned int flags;
	uint32_t lo, hi; /* numerical range */
	size_t off;	 /* offset of the uint32_t or bool in struct iscsi_params */
};

#define F(field) offsetof(struct iscsi_params, field)

/* Indexed by enum iscsi_key. Ranges and rules from RFC 7143 section 13. */
static const struct param_key param_keys[ISCSI_KEY_COUNT] = {
	[ISCSI_KEY_AUTH_METHOD] = {"AuthMethod", PK_SECURITY, 0, 0, 0, PARAM_NO_FIELD},
	[ISCSI_KEY_CHAP_A] = {"CHAP_A", PK_SECURITY, 0, 0, 0, PARAM_NO_FIELD},
	[ISCSI_KEY_CHAP_I] = {"CHAP_I", PK_SECURITY, 0, 0, 0, PARAM_NO_FIELD},
	[ISCSI_KEY_CHAP_C] = {"CHAP_C", PK_SECURITY, 0, 0, 0, PARAM_NO_FIELD},
	[ISCSI_KEY_CHAP_N] = {"CHAP_N", PK_SECURITY, 0, 0, 0, PARAM_NO_FIELD},
	[ISCSI_KEY_CHAP_R] = {"CHAP_R", PK_SECURITY, 0, 0, 0, PARAM_NO_FIELD},
	[ISCSI_KEY_SESSION_TYPE] = {"SessionType", PK_DECLARE, 0, 0, 0, PARAM_NO_FIELD},
	[ISCSI_KEY_INITIATOR_NAME] = {"InitiatorName", PK_DECLARE, 0, 0, 0, PARAM_NO_FIELD},
	[ISCSI_KEY_INITIATOR_ALIAS] = {"InitiatorAlias", PK_DECLARE, 0, 0, 0, PARAM_NO_FIELD},
	[ISCSI_KEY_TARGET_NAME] = {"TargetName", PK_DECLARE, 0, 0, 0, PARAM_NO_FIELD},
	/* 13.12: declarative, 512 to 2^24-1 */
	[ISCSI_KEY_MAX_RECV_DSL] = {"MaxRecvDataSegmentLength", PK_DECLARE, 0, PARAM_DSL_MIN,
				    PARAM_DSL_MAX, F(max_xmit_dsl)},
	/* 13.1 */
	[ISCSI_KEY_HEADER_DIGEST] = {"HeaderDigest", PK_DIGEST, 0, 0, 0, F(header_digest)},
	[ISCSI_KEY_DATA_DIGEST] = {"DataDigest", PK_DIGEST, 0, 0, 0, F(data_digest)},
	/* 13.2 */
	[ISCSI_KEY_MAX_CONNECTIONS] = {"MaxConnections", PK_NUM_MIN, PF_NORMAL_ONLY, 1, 65535,
				       F(max_connections)},
	/* 13.10, 13.11 */
	[ISCSI_KEY_INITIAL_R2T] = {"InitialR2T", PK_BOOL_OR, PF_NORMAL_ONLY, 0, 0, F(initial_r2t)},
	[ISCSI_KEY_IMMEDIATE_DATA] = {"ImmediateData", PK_BOOL_AND, PF_NORMAL_ONLY, 0, 0,
				      F(immediate_data)},
	/* 13.13, 13.14 */
	[ISCSI_KEY_MAX_BURST] = {"MaxBurstLength", PK_NUM_MIN, PF_NORMAL_ONLY, PARAM_DSL_MIN,
				 PARAM_DSL_MAX, F(max_burst)},
	[ISCSI_KEY_FIRST_BURST] = {"FirstBurstLength", PK_NUM_MIN, PF_NORMAL_ONLY, PARAM_DSL_MIN,
				   PARAM_DSL_MAX, F(first_burst)},
	/* 13.15, 13.16 */
	[ISCSI_KEY_DEFAULT_TIME2WAIT] = {"DefaultTime2Wait", PK_NUM_MAX, 0, 0, 3600,
					 F(default_time2wait)},
	[ISCSI_KEY_DEFAULT_TIME2RETAIN] = {"DefaultTime2Retain", PK_NUM_MIN, 0, 0, 3600,
					   F(default_time2retain)},
	/* 13.17 */
	[ISCSI_KEY_MAX_OUTSTANDING_R2T] = {"MaxOutstandingR2T", PK_NUM_MIN, PF_NORMAL_ONLY, 1,
					   65535, F(max_outstanding_r2t)},
	/* 13.18, 13.19 */
	[ISCSI_KEY_DATA_PDU_IN_ORDER] = {"DataPDUInOrder", PK_BOOL_OR, PF_NORMAL_ONLY, 0, 0,
					 F(data_pdu_in_order)},
	[ISCSI_KEY_DATA_SEQUENCE_IN_ORDER] = {"DataSequenceInOrder", PK_BOOL_OR, PF_NORMAL_ONLY, 0,
					      0, F(data_sequence_in_order)},
	/* 13.20 */
	[ISCSI_KEY_ERROR_RECOVERY_LEVEL] = {"ErrorRecoveryLevel", PK_NUM_MIN, 0, 0, 2,
					    F(error_recovery_level)},
	/* 13.23 */
	[ISCSI_KEY_TASK_REPORTING] = {"TaskReporting", PK_TASK_REPORT, PF_NORMAL_ONLY, 0, 0,
				      PARAM_NO_FIELD},
	/* RFC 7144 section 2.1 */
	[ISCSI_KEY_PROTOCOL_LEVEL] = {"iSCSIProtocolLevel", PK_NUM_MIN, 0, 0, 31,
				      F(protocol_level)},
	/* Markers (RFC 3720 appendix A, obsoleted by RFC 7143): we use none. */
	[ISCSI_KEY_IF_MARKER] = {"IFMarker", PK_BOOL_NO, 0, 0, 0, PARAM_NO_FIELD},
	[ISCSI_KEY_OF_MARKER] = {"OFMarker", PK_BOOL_NO, 0, 0, 0, PARAM_NO_FIELD},
	[ISCSI_KEY_IF_MARK_INT] = {"IFMarkInt", PK_IRRELEVANT, 0, 0, 0, PARAM_NO_FIELD},
	[ISCSI_KEY_OF_MARK_INT] = {"OFMarkInt", PK_IRRELEVANT, 0, 0, 0, PARAM_NO_FIELD},
	/* RFC 7145 section 6.3: iSER only; this is a TCP target. */
	[ISCSI_KEY_RDMA_EXTENSIONS] = {"RDMAExtensions", PK_BOOL_NO, 0, 0, 0, PARAM_NO_FIELD},
	[ISCSI_KEY_TARGET_ALIAS] = {"TargetAlias", PK_TARGET_ONLY, 0, 0, 0, PARAM_NO_FIELD},
	[ISCSI_KEY_TARGET_ADDRESS] = {"TargetAddress", PK_TARGET_ONLY, 0, 0, 0, PARAM_NO_FIELD},
	[ISCSI_KEY_TARGET_PORTAL_GROUP_TAG] = {"TargetPortalGroupTag", PK_TARGET_ONLY, 0, 0, 0,
					       PARAM_NO_FIELD},
	/* 13.3: full feature phase only */
	[ISCSI_KEY_SEND_TARGETS] = {"SendTargets", PK_TARGET_ONLY, 0, 0, 0, PARAM_NO_FIELD},
};

#undef F

void iscsi_params_rfc_defaults(struct iscsi_params *p)
{
	memset(p, 0, sizeof(*p));
	p->session_type = ISCSI_SESSION_NORMAL;
	p->header_digest = false;
	p->data_digest = false;
	p->max_recv_dsl = 8192;
	p->max_xmit_dsl = 8192;
	p->max_burst = 262144;
	p->first_burst = 65536;
	p->max_connections = 1;
	p->max_outstanding_r2t = 1;
	p->default_time2wait = 2;
	p->default_time2retain = 20;
	p->error_recovery_level = 0;
	p->initial_r2t = true;
	p->immediate_data = true;
	p->data_pdu_in_order = true;
	p->data_sequence_in_order = true;
	p->protocol_level = 1; /* RFC 7143 compliance (RFC 7144 section 2.1) */
}

void iscsi_params_defaults(struct iscsi_params *p)
{
	iscsi_params_rfc_defaults(p);
	/* Digests: true means we accept CRC32C when the initiator prefers it. */
	p->header_digest = true;
	p->data_digest = true;
	p->max_recv_dsl = 262144;
	p->max_burst = 16777215; /* the largest the RFC allows, 2^24 - 1 */
	p->first_burst = 262144;
	p->initial_r2t = false;
	p->immediate_data = true;
	p->max_connections = 1; /* no MC/S */
	p->error_recovery_level = 0;
}

/* RFC 7143 section 6.1: key names are letters, digits, '.', '-', '+', '@', '_'. */
static bool param_key_char_valid(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == '+' || c == '@' || c == '_';
}

int iscsi_text_next(const uint8_t **pos, const uint8_t *end, struct iscsi_kv *kv)
{
	const uint8_t *p = *pos, *nul, *eq;
	size_t i;

	if (p >= end)
		return 0;
	nul = memchr(p, '\0', (size_t)(end - p));
	if (!nul)
		return -EINVAL; /* last pair not terminated */
	eq = memchr(p, '=', (size_t)(nul - p));
	if (!eq || eq == p)
		return -EINVAL;
	if ((size_t)(eq - p) > ISCSI_KEY_NAME_MAX)
		return -EINVAL;
	if ((size_t)(nul - eq - 1) > ISCSI_TEXT_VALUE_MAX)
		return -EINVAL;
	for (i = 0; i < (size_t)(eq - p); i++) {
		/* 13.5.2: "X#" starts the names of IANA-registered keys */
		if (i == 1 && p[0] == 'X' && p[1] == '#')
			continue;
		if (!param_key_char_valid((char)p[i]))
			return -EINVAL;
	}
	kv->key = (const char *)p;
	kv->key_len = (size_t)(eq - p);
	kv->value = (const char *)eq + 1;
	kv->value_len = (size_t)(nul - eq - 1);
	*pos = nul + 1;
	return 1;
}

const char *iscsi_text_find(const uint8_t *data, size_t len, const char *key)
{
	const uint8_t *pos = data;
	size_t n = strlen(key);
	struct iscsi_kv kv;

	while (data && iscsi_text_next(&pos, data + len, &kv) == 1) {
		if (kv.key_len == n && memcmp(kv.key, key, n) == 0)
			return kv.value;
	}
	return NULL;
}

/*
 * A numerical value (RFC 7143 section 6.1): a decimal constant, or a hex
 * constant with a 0x prefix. No signs, spaces or other bases.
 */
int iscsi_text_num_parse(const char *s, size_t len, uint32_t lo, uint32_t hi, uint32_t *out)
{
	uint64_t v = 0;
	unsigned int base = 10, digit;
	size_t i = 0;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == len)
		return -EINVAL;
	for (; i < len; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			digit = (unsigned int)(s[i] - '0');
		else if (base == 16 && s[i] >= 'a' && s[i] <= 'f')
			digit = (unsigned int)(s[i] - 'a' + 10);
		else if (base == 16 && s[i] >= 'A' && s[i] <= 'F')
			digit = (unsigned int)(s[i] - 'A' + 10);
		else
			return -EINVAL;
		v = v * base + digit;
		if (v > hi)
			return -EINVAL;
	}
	if (v < lo)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int param_bool_parse(const char *s, bool *out)
{
	if (strcmp(s, "Yes") == 0) {
		*out = true;
		return 0;
	}
	if (strcmp(s, "No") == 0) {
		*out = false;
		return 0;
	}
	return -EINVAL;
}

static bool param_kv_is(const struct iscsi_kv *kv, const char *name)
{
	size_t n = strlen(name);

	return kv->key_len == n && memcmp(kv->key, name, n) == 0;
}

static int param_key_find(const struct iscsi_kv *kv)
{
	int i;

	for (i = 0; i < ISCSI_KEY_COUNT; i++) {
		if (param_kv_is(kv, param_keys[i].name))
			return i;
	}
	return -1;
}

void iscsi_neg_init(struct iscsi_neg *neg, const struct iscsi_params *ours)
{
	memset(neg, 0, sizeof(*neg));
	iscsi_params_rfc_defaults(&neg->p);
	neg->ours = *ours;
	/* Declarative: ours applies from the moment we declare it; the login
	 * always declares before it completes. */
	neg->p.max_recv_dsl = ours->max_recv_dsl;
}

void iscsi_neg_release(struct iscsi_neg *neg)
{
	free(neg->unknown);
	neg->unknown = NULL;
	neg->unknown_len = 0;
	neg->n_unknown = 0;
}

/* Record an unknown key; offering it twice is as wrong as for a known key. */
static int param_unknown_add(struct iscsi_neg *neg, const struct iscsi_kv *kv)
{
	/* No arithmetic on a NULL list (C11 6.5.6; found by fuzz_text). */
	const uint8_t *p = neg->unknown, *end = p ? p + neg->unknown_len : p;
	uint8_t *grown;
	size_t n;

	while (p && p < end) {
		n = strlen((const char *)p);
		if (n == kv->key_len && memcmp(p, kv->key, n) == 0) {
			snprintf(neg->why, sizeof(neg->why), "key %.*s offered twice",
				 (int)kv->key_len, kv->key);
			return -EPROTO;
		}
		p += n + 1;
	}
	if (neg->n_unknown >= ISCSI_NEG_UNKNOWN_MAX) {
		snprintf(neg->why, sizeof(neg->why), "more than %d unknown keys",
			 ISCSI_NEG_UNKNOWN_MAX);
		return -EPROTO;
	}
	grown = realloc(neg->unknown, neg->unknown_len + kv->key_len + 1);
	if (!grown)
		return -ENOMEM;
	memcpy(grown + neg->unknown_len, kv->key, kv->key_len);
	grown[neg->unknown_len + kv->key_len] = '\0';
	neg->unknown = grown;
	neg->unknown_len += kv->key_len + 1;
	neg->n_unknown++;
	return 0;
}

static int param_answer_raw(struct buf *rsp, const struct iscsi_kv *kv, const char *value)
{
	int rc = buf_append(rsp, kv->key, kv->key_len);

	if (!rc)
		rc = buf_add_kv(rsp, "", value);
	return rc;
}

/* Is a key of this kind allowed in this login stage (RFC 7143 section 6.3)? */
static bool param_stage_allows(enum param_kind kind, int stage)
{
	if (kind == PK_SECURITY)
		return stage == ISCSI_STAGE_SECURITY;
	if (kind == PK_DECLARE || kind == PK_TARGET_ONLY)
		return true;
	return stage == ISCSI_STAGE_OPERATIONAL;
}

int iscsi_neg_parse(struct iscsi_neg *neg, const uint8_t *data, size_t len, int stage,
		    struct buf *rsp)
{
	/* A request without text may come with data == NULL (fuzz_login). */
	const uint8_t *pos = data, *end = data ? data + len : data;
	struct iscsi_kv kv;
	int rc, k;

	neg->fresh = 0;
	memset(neg->kv, 0, sizeof(neg->kv));
	neg->why[0] = '\0';
	while ((rc = iscsi_text_next(&pos, end, &kv)) == 1) {
		k = param_key_find(&kv);
		if (k < 0) {
			/* 6.2: a key we do not understand, X- and X# keys included */
			rc = param_unknown_add(neg, &kv);
			if (!rc)
				rc = param_answer_raw(rsp, &kv, "NotUnderstood");
			if (rc)
				goto out;
			continue;
		}
		/* 6.2: renegotiating or redeclaring a key is a protocol error */
		if (neg->offered & (UINT64_C(1) << k)) {
			snprintf(neg->why, sizeof(neg->why), "key %s offered twice",
				 param_keys[k].name);
			rc = -EPROTO;
			goto out;
		}
		if (!param_stage_allows(param_keys[k].kind, stage)) {
			snprintf(neg->why, sizeof(neg->why), "key %s not allowed in %s stage",
				 param_keys[k].name,
				 stage == ISCSI_STAGE_SECURITY ? "security" : "operational");
			rc = -EPROTO;
			goto out;
		}
		neg->offered |= UINT64_C(1) << k;
		neg->fresh |= UINT64_C(1) << k;
		neg->kv[k] = kv;
	}
	if (rc < 0)
		snprintf(neg->why, sizeof(neg->why), "malformed key=value text");
out:
	return rc < 0 ? rc : 0;
}

const struct iscsi_kv *iscsi_neg_get(const struct iscsi_neg *neg, enum iscsi_key key)
{
	if ((unsigned int)key >= ISCSI_KEY_COUNT || !(neg->fresh & (UINT64_C(1) << key)))
		return NULL;
	return &neg->kv[key];
}

static uint32_t *param_u32(struct iscsi_params *p, size_t off)
{
	return (uint32_t *)((char *)p + off);
}

static bool *param_bool(struct iscsi_params *p, size_t off)
{
	return (bool *)((char *)p + off);
}

int iscsi_text_list_pick(const struct iscsi_kv *kv, const char *const *supported, size_t n)
{
	const char *p = kv->value, *end = kv->value + kv->value_len, *comma;
	size_t len, i;

	for (;;) {
		comma = memchr(p, ',', (size_t)(end - p));
		len = (size_t)((comma ? comma : end) - p);
		for (i = 0; i < n; i++) {
			if (strlen(supported[i]) == len && memcmp(p, supported[i], len) == 0)
				return (int)i;
		}
		if (!comma)
			return -ENOENT;
		p = comma + 1;
	}
}

/*
 * 13.1: the initiator lists digests by preference; we take the first one we
 * support: CRC32C if our offer allows it, None always.
 */
static const char *param_digest_pick(const struct iscsi_kv *kv, bool crc_ok, bool *result)
{
	static const char *const both[] = {"CRC32C", "None"};
	int i = iscsi_text_list_pick(kv, crc_ok ? both : both + 1, crc_ok ? 2 : 1);

	if (i < 0)
		return "Reject";
	*result = crc_ok && i == 0;
	return *result ? "CRC32C" : "None";
}

/* 13.23: we implement the RFC 3720 task reporting semantics only. */
static const char *param_task_report_pick(const struct iscsi_kv *kv)
{
	static const char *const ours[] = {"RFC3720"};

	return iscsi_text_list_pick(kv, ours, 1) < 0 ? "Reject" : "RFC3720";
}

/* Declarations the login needs (RFC 7143 sections 13.4-13.6, 13.12, 13.21). */
static int param_declare_apply(struct iscsi_neg *neg, int k, const struct iscsi_kv *kv)
{
	char *dst = NULL;
	size_t cap = 0;

	switch (k) {
	case ISCSI_KEY_SESSION_TYPE:
		if (strcmp(kv->value, "Normal") == 0) {
			neg->p.session_type = ISCSI_SESSION_NORMAL;
		} else if (strcmp(kv->value, "Discovery") == 0) {
			neg->p.session_type = ISCSI_SESSION_DISCOVERY;
		} else {
			snprintf(neg->why, sizeof(neg->why), "unsupported SessionType");
			return -EOPNOTSUPP;
		}
		return 0;
	case ISCSI_KEY_MAX_RECV_DSL:
		/* The initiator's receive limit is our transmit limit. */
		if (iscsi_text_num_parse(kv->value, kv->value_len, param_keys[k].lo,
					 param_keys[k].hi, &neg->p.max_xmit_dsl)) {
			snprintf(neg->why, sizeof(neg->why), "invalid MaxRecvDataSegmentLength");
			return -EPROTO;
		}
		return 0;
	case ISCSI_KEY_INITIATOR_NAME:
		dst = neg->p.initiator_name;
		cap = sizeof(neg->p.initiator_name);
		break;
	case ISCSI_KEY_TARGET_NAME:
		dst = neg->p.target_name;
		cap = sizeof(neg->p.target_name);
		break;
	case ISCSI_KEY_INITIATOR_ALIAS:
		dst = neg->p.initiator_alias;
		cap = sizeof(neg->p.initiator_alias);
		break;
	default:
		return 0;
	}
	if (kv->value_len == 0 || kv->value_len >= cap) {
		snprintf(neg->why, sizeof(neg->why), "%s empty or too long", param_keys[k].name);
		return -EPROTO;
	}
	memcpy(dst, kv->value, kv->value_len + 1);
	return 0;
}

/* The answer to one operational key; applies the result to neg->p. */
static const char *param_key_answer(struct iscsi_neg *neg, int k, const struct iscsi_kv *kv,
				    char *num, size_t num_len)
{
	const struct param_key *d = &param_keys[k];
	uint32_t v, *cur;
	bool b, ours;

	if ((d->flags & PF_NORMAL_ONLY) && neg->p.session_type == ISCSI_SESSION_DISCOVERY)
		return "Irrelevant";
	switch (d->kind) {
	case PK_DIGEST:
		return param_digest_pick(kv, *param_bool(&neg->ours, d->off),
					 param_bool(&neg->p, d->off));
	case PK_BOOL_OR:
	case PK_BOOL_AND:
		if (param_bool_parse(kv->value, &b))
			return "Reject";
		ours = *param_bool(&neg->ours, d->off);
		b = d->kind == PK_BOOL_OR ? (b || ours) : (b && ours);
		*param_bool(&neg->p, d->off) = b;
		return b ? "Yes" : "No";
	case PK_BOOL_NO:
		return param_bool_parse(kv->value, &b) ? "Reject" : "No";
	case PK_NUM_MIN:
	case PK_NUM_MAX:
		if (iscsi_text_num_parse(kv->value, kv->value_len, d->lo, d->hi, &v))
			return "Reject";
		cur = param_u32(&neg->ours, d->off);
		if (d->kind == PK_NUM_MIN)
			v = v < *cur ? v : *cur;
		else
			v = v > *cur ? v : *cur;
		/* 13.14: FirstBurstLength MUST NOT exceed MaxBurstLength */
		if (k == ISCSI_KEY_FIRST_BURST && v > neg->p.max_burst)
			v = neg->p.max_burst;
		*param_u32(&neg->p, d->off) = v;
		snprintf(num, num_len, "%u", v);
		return num;
	case PK_TASK_REPORT:
		return param_task_report_pick(kv);
	case PK_IRRELEVANT:
		return "Irrelevant";
	case PK_TARGET_ONLY:
		return "Reject";
	default:
		return NULL; /* security keys and declarations: no answer here */
	}
}

int iscsi_neg_answer(struct iscsi_neg *neg, struct buf *rsp)
{
	char num[16];
	const char *answer;
	int k, rc = 0;

	/* Declarations first: SessionType decides which keys are irrelevant. */
	for (k = 0; k < ISCSI_KEY_COUNT; k++) {
		if (!(neg->fresh & (UINT64_C(1) << k)) || param_keys[k].kind != PK_DECLARE)
			continue;
		rc = param_declare_apply(neg, k, &neg->kv[k]);
		if (rc)
			goto out;
	}
	/* The table lists MaxBurstLength before FirstBurstLength and the
	 * booleans before both, so the rules that depend on them see the
	 * results of this request. */
	for (k = 0; k < ISCSI_KEY_COUNT; k++) {
		if (!(neg->fresh & (UINT64_C(1) << k)))
			continue;
		answer = param_key_answer(neg, k, &neg->kv[k], num, sizeof(num));
		/* 13.14: irrelevant when InitialR2T=Yes and ImmediateData=No */
		if (k == ISCSI_KEY_FIRST_BURST && answer && strcmp(answer, "Irrelevant") != 0 &&
		    neg->p.initial_r2t && !neg->p.immediate_data)
			answer = "Irrelevant";
		if (!answer)
			continue;
		rc = buf_add_kv(rsp, param_keys[k].name, answer);
		if (rc)
			goto out;
	}
out:
	return rc;
}

int iscsi_neg_declare(struct iscsi_neg *neg, struct buf *rsp)
{
	int rc = 0;

	if (!neg->mrdsl_declared) {
		rc = buf_printf(rsp, "MaxRecvDataSegmentLength=%u", neg->ours.max_recv_dsl);
		if (!rc)
			rc = buf_append(rsp, "", 1);
		if (!rc)
			neg->mrdsl_declared = true;
	}
	return rc;
}

void iscsi_neg_finish(struct iscsi_neg *neg)
{
	if (neg->p.first_burst > neg->p.max_burst)
		neg->p.first_burst = neg->p.max_burst;
}
