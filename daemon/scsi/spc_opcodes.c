/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MAINTENANCE IN: REPORT SUPPORTED OPERATION CODES (SPC-4 6.35) and
 * REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS (SPC-4 6.40). The opcode list
 * is generated from the dispatch table (scsi.c), so it always says what
 * the dispatcher does: one descriptor per opcode, or per allowed service
 * action of an opcode that has service actions.
 */
#include <string.h>

#include "scsi/scsi_int.h"
#include "util/be.h"

/* SPC-4 6.35.3 command timeouts descriptor: nominal and recommended, seconds. */
#define SPC_TIMEOUT_NOMINAL 10
#define SPC_TIMEOUT_RECOMMENDED 60
/* SANITIZE and WRITE SAME over a whole LU take longer. */
#define SPC_TIMEOUT_LONG 3600

/* Opcodes whose availability depends on the LU's store. */
#define SPC_OP_UNMAP 0x42
#define SPC_OP_SANITIZE 0x48
#define SPC_SANITIZE_BLOCK_ERASE 0x02
#define SPC_SANITIZE_CRYPTO_ERASE 0x03

/* Does the LU serve \p opcode (with \p sa, when it has service actions)? */
static bool spc_opcode_available(const struct scsi_lu *lu, uint8_t opcode, uint8_t sa)
{
	const struct scsi_opcode *op = scsi_opcode_find(opcode);

	if (!op->handler)
		return false;
	if (op->sa_mask && (sa > 31 || !(op->sa_mask & (1u << sa))))
		return false;
	if (opcode == SPC_OP_UNMAP || (opcode == SPC_OP_SANITIZE && sa == SPC_SANITIZE_BLOCK_ERASE))
		return sbc_lu_unmap_supported(lu);
	/* Only an LU encrypted at rest has a key to replace. */
	if (opcode == SPC_OP_SANITIZE && sa == SPC_SANITIZE_CRYPTO_ERASE)
		return backend_caps(lu->be) & BACKEND_CAP_CRYPTO_ERASE;
	return true;
}

static void spc_timeouts_put(struct buf *b, uint8_t opcode)
{
	uint8_t t[12] = {0};
	uint32_t rec = opcode == SPC_OP_SANITIZE ? SPC_TIMEOUT_LONG : SPC_TIMEOUT_RECOMMENDED;

	put_be16(t, 0x0a); /* DESCRIPTOR LENGTH */
	put_be32(t + 4, SPC_TIMEOUT_NOMINAL);
	put_be32(t + 8, rec);
	buf_append(b, t, sizeof(t));
}

/* SPC-4 6.35.2 Table 253: all commands, one descriptor per command. */
static void spc_rsoc_all(const struct scsi_lu *lu, bool rctd, struct buf *b)
{
	const struct scsi_opcode *op;
	uint8_t d[8], h[4] = {0};
	unsigned int i, sa;

	buf_append(b, h, sizeof(h));
	for (i = 0; i < 256; i++) {
		op = scsi_opcode_find((uint8_t)i);
		if (!op->handler)
			continue;
		for (sa = 0; sa < 32; sa++) {
			if (!op->sa_mask && sa)
				break;
			if (!spc_opcode_available(lu, (uint8_t)i, (uint8_t)sa))
				continue;
			memset(d, 0, sizeof(d));
			d[0] = (uint8_t)i;
			if (op->sa_mask) {
				put_be16(d + 2, (uint16_t)sa);
				d[5] |= 0x01; /* SERVACTV */
			}
			if (rctd)
				d[5] |= 0x02; /* CTDP */
			put_be16(d + 6, op->cdb_len);
			buf_append(b, d, sizeof(d));
			if (rctd)
				spc_timeouts_put(b, (uint8_t)i);
		}
	}
	if (!b->err)
		put_be32(b->data, (uint32_t)(b->len - 4)); /* COMMAND DATA LENGTH */
}

/*
 * SPC-4 6.35.3 Table 255: one command. CDB USAGE DATA: the opcode, then a
 * mask of the bits the dispatcher and handler look at; the service action
 * field where there is one; the CONTROL byte's NACA bit is not supported.
 */
static void spc_rsoc_one(const struct scsi_lu *lu, uint8_t opcode, uint8_t sa, bool rctd,
			 struct buf *b)
{
	const struct scsi_opcode *op = scsi_opcode_find(opcode);
	uint8_t h[4] = {0}, usage[SCSI_CDB_MAX] = {0};
	unsigned int i;

	if (!spc_opcode_available(lu, opcode, sa)) {
		h[1] = 0x01; /* SUPPORT 001b: not supported */
		buf_append(b, h, sizeof(h));
		return;
	}
	h[1] = 0x03; /* SUPPORT 011b: supported as in the standard */
	if (rctd)
		h[1] |= 0x80; /* CTDP */
	put_be16(h + 2, op->cdb_len);
	buf_append(b, h, sizeof(h));
	usage[0] = opcode;
	for (i = 1; i + 1 < op->cdb_len; i++)
		usage[i] = 0xff;
	if (op->sa_mask)
		usage[1] = (uint8_t)(usage[1] & ~0x1f) | sa;
	usage[op->cdb_len - 1] = 0x00;
	buf_append(b, usage, op->cdb_len);
	if (rctd)
		spc_timeouts_put(b, opcode);
}

static enum sense_reason spc_rsoc(struct scsi_cmd *cmd)
{
	const uint8_t *cdb = cmd->task->cdb;
	bool rctd = cdb[2] & 0x80;
	uint8_t options = cdb[2] & 0x07, opcode = cdb[3];
	uint16_t sa = get_be16(cdb + 4);
	const struct scsi_opcode *op = scsi_opcode_find(opcode);
	struct buf b = BUF_INIT;
	enum sense_reason r;

	switch (options) {
	case 0x0:
		spc_rsoc_all(cmd->lu, rctd, &b);
		break;
	case 0x1:
		/* An opcode with service actions needs option 010b. */
		if (op->sa_mask) {
			r = scsi_cmd_bad_field(cmd, 2, 2);
			goto out;
		}
		spc_rsoc_one(cmd->lu, opcode, 0, rctd, &b);
		break;
	case 0x2:
		if (op->handler && !op->sa_mask) {
			r = scsi_cmd_bad_field(cmd, 2, 2);
			goto out;
		}
		if (sa > 0x1f) {
			r = scsi_cmd_bad_field(cmd, 4, -1);
			goto out;
		}
		spc_rsoc_one(cmd->lu, opcode, (uint8_t)sa, rctd, &b);
		break;
	case 0x3:
		/* SPC-4 6.35.1: SERVICE ACTION only where the opcode has one. */
		spc_rsoc_one(cmd->lu, opcode, op->sa_mask && sa <= 0x1f ? (uint8_t)sa : 0, rctd,
			     &b);
		break;
	default:
		r = scsi_cmd_bad_field(cmd, 2, 2);
		goto out;
	}
	r = scsi_cmd_data_in(cmd, &b, get_be32(cdb + 6));
out:
	buf_release(&b);
	return r;
}

/*
 * SPC-4 6.40 REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS: what the iSCSI
 * layer implements: ABORT TASK, ABORT TASK SET, CLEAR TASK SET,
 * LOGICAL UNIT RESET and (warm/cold) TARGET RESET.
 */
static enum sense_reason spc_rstmf(struct scsi_cmd *cmd)
{
	const uint8_t *cdb = cmd->task->cdb;
	uint8_t d[16] = {0};
	bool repd = cdb[2] & 0x80;

	d[0] = 0x80 | 0x40 | 0x10 | 0x08 | 0x02; /* ATS ATSS CTSS LURS TRS */
	if (repd)
		d[3] = 0x0c; /* ADDITIONAL DATA LENGTH */
	return scsi_cmd_data_in_bytes(cmd, d, repd ? 16 : 4, get_be32(cdb + 6));
}

enum sense_reason spc_cmd_maintenance_in(struct scsi_cmd *cmd)
{
	/* The dispatch table admits only 0Ch and 0Dh. */
	if ((cmd->task->cdb[1] & 0x1f) == 0x0c)
		return spc_rsoc(cmd);
	return spc_rstmf(cmd);
}
