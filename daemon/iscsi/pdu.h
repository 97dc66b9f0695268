/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iSCSI PDU codec: pure functions over the 48-byte BHS, the AHS and the data
 * segment (RFC 7143 sections 11.2). No sockets.
 */
#ifndef HATGT_ISCSI_PDU_H
#define HATGT_ISCSI_PDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iscsi/iscsi_spec.h"
#include "util/be.h"

static inline uint8_t iscsi_bhs_opcode(const uint8_t *bhs)
{
	return bhs[ISCSI_OFF_OPCODE] & ISCSI_BHS_OPCODE_MASK;
}

static inline bool iscsi_bhs_immediate(const uint8_t *bhs)
{
	return bhs[ISCSI_OFF_OPCODE] & ISCSI_BHS_IMMEDIATE;
}

/** TotalAHSLength in bytes. */
static inline uint32_t iscsi_bhs_ahs_len(const uint8_t *bhs)
{
	return (uint32_t)bhs[ISCSI_OFF_AHSLEN] * 4;
}

static inline uint32_t iscsi_bhs_dslen(const uint8_t *bhs)
{
	return get_be24(bhs + ISCSI_OFF_DSLEN);
}

static inline void iscsi_bhs_set_dslen(uint8_t *bhs, uint32_t len)
{
	put_be24(bhs + ISCSI_OFF_DSLEN, len);
}

/** The data segment on the wire is padded to a multiple of 4 bytes (11.2.3). */
static inline uint32_t iscsi_pad_len(uint32_t len)
{
	return (4 - (len & 3)) & 3;
}

/*
 * CRC32C digests (RFC 7143 section 12.1 of RFC 3385; 11.2.4). iscsi_crc32c()
 * accumulates over several buffers starting from ISCSI_CRC32C_SEED;
 * iscsi_crc32c_final() produces the value whose little-endian bytes go on
 * the wire.
 */
#define ISCSI_CRC32C_SEED 0xffffffffu
uint32_t iscsi_crc32c(uint32_t crc, const void *buf, size_t len);
static inline uint32_t iscsi_crc32c_final(uint32_t crc)
{
	return ~crc;
}
/** Write a digest value in wire order. */
void iscsi_digest_put(uint8_t *p, uint32_t digest);
uint32_t iscsi_digest_get(const uint8_t *p);
/** Digest of one buffer plus its padding, as sent on the wire. */
uint32_t iscsi_digest_data(const uint8_t *data, uint32_t len);

/*
 * Header checks that do not depend on session state, applied to every
 * received BHS before anything is allocated. \return 0, or a reject reason
 * (enum iscsi_reject_reason) for a PDU to reject, or -EPROTO for a header that
 * makes the byte stream unusable (the connection must close).
 */
int iscsi_bhs_check(const uint8_t *bhs, uint32_t max_recv_dsl);

/** Name of an opcode for logs ("SCSI Command"). Never NULL. */
const char *iscsi_opcode_name(uint8_t opcode);

/** Find an AHS of a type in [ahs, ahs+len). \return its payload (after the
 * 3-byte AHS header + reserved byte) and *plen, or NULL. -EINVAL-style
 * malformed AHS lists return NULL with *plen = UINT32_MAX. */
const uint8_t *iscsi_ahs_find(const uint8_t *ahs, uint32_t len, uint8_t type, uint32_t *plen);

/** Format an ISID as 12 hex digits into buf (at least 13 bytes). */
void iscsi_isid_str(const uint8_t *isid, char *buf, size_t len);

/* Serial number arithmetic (RFC 1982, used for CmdSN/StatSN, 4.2.2.1). */
static inline bool iscsi_sn_lt(uint32_t a, uint32_t b)
{
	return a != b && (int32_t)(a - b) < 0;
}

static inline bool iscsi_sn_le(uint32_t a, uint32_t b)
{
	return a == b || iscsi_sn_lt(a, b);
}

#endif
