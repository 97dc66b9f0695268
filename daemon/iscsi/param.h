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

#endif
