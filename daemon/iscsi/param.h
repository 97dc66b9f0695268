/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iSCSI login/text parameters (RFC 7143 section 13) and their negotiation.
 * Pure code.
 */
#ifndef HATGT_ISCSI_PARAM_H
#define HATGT_ISCSI_PARAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define ISCSI_NAME_MAX 224 /* 223 bytes + NUL (RFC 7143 section 6.1) */
#define ISCSI_ALIAS_MAX 256

enum iscsi_session_type {
	ISCSI_SESSION_NORMAL = 0,
	ISCSI_SESSION_DISCOVERY,
};

/*
 * Parameters in effect after login. "recv" and "xmit" are from the target's
 * point of view: max_recv_dsl is what we declared (the initiator may send us
 * data segments up to this size), max_xmit_dsl is what the initiator
 * declared (we may send it up to this).
 */
struct iscsi_params {
	enum iscsi_session_type session_type;
	char initiator_name[ISCSI_NAME_MAX];
	char initiator_alias[ISCSI_ALIAS_MAX];
	char target_name[ISCSI_NAME_MAX];
	char target_alias[ISCSI_ALIAS_MAX];

	bool header_digest; /* CRC32C */
	bool data_digest;   /* CRC32C */
	uint32_t max_recv_dsl;
	uint32_t max_xmit_dsl;
	uint32_t max_burst;
	uint32_t first_burst;
	uint32_t max_connections;
	uint32_t max_outstanding_r2t;
	uint32_t default_time2wait;
	uint32_t default_time2retain;
	uint32_t error_recovery_level;
	bool initial_r2t;
	bool immediate_data;
	bool data_pdu_in_order;
	bool data_sequence_in_order;
	uint32_t protocol_level; /* iSCSIProtocolLevel (RFC 7144 section 2.1) */
};

/** The target's defaults: what we offer and declare before negotiation.
 * Chosen for throughput: 256 KiB MaxRecvDataSegmentLength, 16 MiB
 * MaxBurstLength, ImmediateData=Yes, InitialR2T=No; digests offered as
 * "CRC32C,None" answers (we accept what the initiator prefers). */
void iscsi_params_defaults(struct iscsi_params *p);

/* RFC 7143 section 13 defaults, used before/without negotiation. */
void iscsi_params_rfc_defaults(struct iscsi_params *p);

/*
 * Text key parsing (RFC 7143 section 6.1). A text data segment is a list of
 * "key=value\0". iscsi_text_next() walks it; it rejects a pair without '=',
 * a key longer than 63 bytes, a value longer than 8192 bytes, and a missing
 * terminating NUL on the last pair.
 */
struct iscsi_kv {
	const char *key;
	size_t key_len;
	const char *value;
	size_t value_len;
};

/** Take the next pair from [*pos, end). \return 1 with *kv set, 0 at the
 * end, -EINVAL on a malformed pair. */
int iscsi_text_next(const uint8_t **pos, const uint8_t *end, struct iscsi_kv *kv);

/** The value of the first pair named \p key in the text [data, data+len),
 * NUL-terminated inside data; NULL if absent or the text is malformed
 * before it. */
const char *iscsi_text_find(const uint8_t *data, size_t len, const char *key);

/** Parse a numerical value (RFC 7143 section 6.1: decimal, or hex with a 0x
 * prefix; no sign, no spaces) of \p len bytes in [lo, hi].
 * \return 0 with *out set, or -EINVAL. */
int iscsi_text_num_parse(const char *s, size_t len, uint32_t lo, uint32_t hi, uint32_t *out);

/** The first item of the comma-separated list in kv->value that is one of
 * \p supported (RFC 7143 section 6.2.1: the offer is in order of
 * preference; items we do not know are skipped).
 * \return its index in \p supported, or -ENOENT. */
int iscsi_text_list_pick(const struct iscsi_kv *kv, const char *const *supported, size_t n);

#define ISCSI_KEY_NAME_MAX 63
#define ISCSI_TEXT_VALUE_MAX 8192

/* Every key the login code knows (RFC 7143 sections 12 and 13). */
enum iscsi_key {
	/* Security keys (section 12): security stage only. */
	ISCSI_KEY_AUTH_METHOD,
	ISCSI_KEY_CHAP_A,
	ISCSI_KEY_CHAP_I,
	ISCSI_KEY_CHAP_C,
	ISCSI_KEY_CHAP_N,
	ISCSI_KEY_CHAP_R,
	/* Declarations: either login stage. */
	ISCSI_KEY_SESSION_TYPE,
	ISCSI_KEY_INITIATOR_NAME,
	ISCSI_KEY_INITIATOR_ALIAS,
	ISCSI_KEY_TARGET_NAME,
	ISCSI_KEY_MAX_RECV_DSL,
	/* Operational keys: operational stage only. */
	ISCSI_KEY_HEADER_DIGEST,
	ISCSI_KEY_DATA_DIGEST,
	ISCSI_KEY_MAX_CONNECTIONS,
	ISCSI_KEY_INITIAL_R2T,
	ISCSI_KEY_IMMEDIATE_DATA,
	ISCSI_KEY_MAX_BURST,
	ISCSI_KEY_FIRST_BURST,
	ISCSI_KEY_DEFAULT_TIME2WAIT,
	ISCSI_KEY_DEFAULT_TIME2RETAIN,
	ISCSI_KEY_MAX_OUTSTANDING_R2T,
	ISCSI_KEY_DATA_PDU_IN_ORDER,
	ISCSI_KEY_DATA_SEQUENCE_IN_ORDER,
	ISCSI_KEY_ERROR_RECOVERY_LEVEL,
	ISCSI_KEY_TASK_REPORTING,
	ISCSI_KEY_PROTOCOL_LEVEL,
	ISCSI_KEY_IF_MARKER,
	ISCSI_KEY_OF_MARKER,
	ISCSI_KEY_IF_MARK_INT,
	ISCSI_KEY_OF_MARK_INT,
	ISCSI_KEY_RDMA_EXTENSIONS,
	/* Keys an initiator may not send during login: answered Reject. */
	ISCSI_KEY_TARGET_ALIAS,
	ISCSI_KEY_TARGET_ADDRESS,
	ISCSI_KEY_TARGET_PORTAL_GROUP_TAG,
	ISCSI_KEY_SEND_TARGETS,
	ISCSI_KEY_COUNT
};

/* At most this many distinct unknown keys per login (bounds the work). */
#define ISCSI_NEG_UNKNOWN_MAX 256

/*
 * Negotiation state of one login (RFC 7143 section 6.2). The login code
 * feeds each complete request text to iscsi_neg_parse(), looks at the
 * security keys itself (iscsi_neg_get()), and lets iscsi_neg_answer()
 * answer the declarations and operational keys.
 */
struct iscsi_neg {
	struct iscsi_params p;		     /* result so far; starts as RFC defaults */
	struct iscsi_params ours;	     /* the target's offers */
	uint64_t offered;		     /* keys offered so far in this login (bit per key) */
	uint64_t fresh;			     /* keys offered in the request being processed */
	struct iscsi_kv kv[ISCSI_KEY_COUNT]; /* fresh values; point into the request */
	uint8_t *unknown; /* names of unknown keys offered so far, NUL-separated */
	size_t unknown_len;
	unsigned int n_unknown;
	bool mrdsl_declared; /* we declared MaxRecvDataSegmentLength */
	char why[128];	     /* after -EPROTO: what the initiator did wrong */
};

_Static_assert(ISCSI_KEY_COUNT <= 64, "iscsi_neg.offered has a bit per key");

/** Start a negotiation: p gets the RFC defaults, ours the target's offers. */
void iscsi_neg_init(struct iscsi_neg *neg, const struct iscsi_params *ours);
/** Free what iscsi_neg_parse() allocated. Accepts a zeroed struct. */
void iscsi_neg_release(struct iscsi_neg *neg);

/** Parse the complete text of one request offered in \p stage
 * (ISCSI_STAGE_SECURITY or ISCSI_STAGE_OPERATIONAL, see login.h). Records
 * known keys (see iscsi_neg_get()) and answers unknown keys with
 * key=NotUnderstood into \p rsp.
 * \return 0; -EINVAL for malformed text; -EPROTO for a key offered twice in
 * the login, a key not allowed in \p stage or too many unknown keys (see
 * neg->why); -ENOMEM. */
int iscsi_neg_parse(struct iscsi_neg *neg, const uint8_t *data, size_t len, int stage,
		    struct buf *rsp);

/** The value of \p key if the request just parsed offered it, else NULL. */
const struct iscsi_kv *iscsi_neg_get(const struct iscsi_neg *neg, enum iscsi_key key);

/** Apply the declarations and answer the operational keys of the request
 * just parsed into \p rsp (RFC 7143 section 13 rules). Security keys are
 * left to the caller. \return 0, -EPROTO (see neg->why), -EOPNOTSUPP for a
 * SessionType we do not know, or -ENOMEM. */
int iscsi_neg_answer(struct iscsi_neg *neg, struct buf *rsp);

/** Declare our MaxRecvDataSegmentLength into \p rsp unless already done.
 * \return 0 or -ENOMEM. */
int iscsi_neg_declare(struct iscsi_neg *neg, struct buf *rsp);

/** At the end of login: enforce cross-key rules (FirstBurstLength <=
 * MaxBurstLength, RFC 7143 section 13.14). */
void iscsi_neg_finish(struct iscsi_neg *neg);

#endif
