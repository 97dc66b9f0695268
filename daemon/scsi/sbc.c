/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SBC-3 block commands: READ/WRITE(6/10/12/16), SYNCHRONIZE CACHE,
 * READ CAPACITY, START STOP UNIT, and the block VPD and mode pages.
 * Reads, writes and flushes go to the backend asynchronously and complete
 * through scsi_completion_run().
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include "scsi/scsi_int.h"
#include "util/be.h"

/* SBC-3 5.28 UNMAP: the opcode that must exist before we advertise LBPU. */
#define SBC_OP_UNMAP 0x42

/* An I/O command in flight: freed when it completes. */
struct sbc_io {
	struct backend_io bio; /* first: the completion gives us back this */
	struct scsi_task *task;
	struct scsi_lu *lu;
};

/* The decoded fields of a READ or WRITE CDB. */
struct sbc_rw {
	uint64_t lba;
	uint32_t blocks;
	bool fua;
	uint8_t protect;  /* RDPROTECT / WRPROTECT */
	uint8_t len_byte; /* where TRANSFER LENGTH starts, for the field pointer */
};

bool sbc_lu_unmap_supported(const struct scsi_lu *lu)
{
	return (backend_caps(lu->be) & BACKEND_CAP_UNMAP) && !lu->readonly &&
	       scsi_opcode_find(SBC_OP_UNMAP)->handler;
}

/* SBC-3 5.8, 5.9, 5.10, 5.11 (READ) and 5.36..5.39 (WRITE). */
static void sbc_rw_decode(const uint8_t *cdb, struct sbc_rw *rw)
{
	memset(rw, 0, sizeof(*rw));
	if (cdb[0] == 0x08 || cdb[0] == 0x0a) {
		/* READ(6), WRITE(6): 21-bit LBA, no FUA, 0 means 256 blocks (SBC-3 5.8). */
		rw->lba = get_be24(cdb + 1) & 0x1fffff;
		rw->blocks = cdb[4] ? cdb[4] : 256;
		rw->len_byte = 4;
		return;
	}
	switch (cdb[0]) {
	case 0x28: /* READ(10) */
	case 0x2a: /* WRITE(10) */
		rw->lba = get_be32(cdb + 2);
		rw->blocks = get_be16(cdb + 7);
		rw->len_byte = 7;
		break;
	case 0xa8: /* READ(12) */
	case 0xaa: /* WRITE(12) */
		rw->lba = get_be32(cdb + 2);
		rw->blocks = get_be32(cdb + 6);
		rw->len_byte = 6;
		break;
	default: /* READ(16), WRITE(16) */
		rw->lba = get_be64(cdb + 2);
		rw->blocks = get_be32(cdb + 10);
		rw->len_byte = 10;
		break;
	}
	rw->protect = cdb[1] >> 5;
	rw->fua = cdb[1] & 0x08;
}

/* SBC-3 4.5: [lba, lba + blocks) inside the medium. */
static bool sbc_range_ok(const struct scsi_lu *lu, uint64_t lba, uint64_t blocks)
{
	return lba < lu->nblocks && blocks <= lu->nblocks - lba;
}

static enum sense_reason sbc_io_reason(const struct sbc_io *io, int64_t res)
{
	if (res == -ENOSPC)
		return SENSE_SPACE_ALLOC_FAILED;
	if (res == -EROFS)
		return SENSE_WRITE_PROTECTED;
	return io->bio.op == BACKEND_OP_READ ? SENSE_READ_ERROR : SENSE_WRITE_ERROR;
}

static void sbc_io_done(struct backend_io *bio, int64_t res)
{
	struct sbc_io *io = (struct sbc_io *)bio;
	struct scsi_task *task = io->task;
	struct scsi_lu *lu = io->lu;
	enum sense_reason r = SENSE_OK;

	if (res < 0) {
		qb_log(LOG_ERR, "%s: I/O error at offset %llu length %llu: %s", lu->path,
		       (unsigned long long)bio->offset, (unsigned long long)bio->len,
		       strerror((int)-res));
		r = sbc_io_reason(io, res);
	} else if (bio->op == BACKEND_OP_READ) {
		task->in_len = (uint32_t)bio->len;
	}
	task->priv = NULL;
	free(io);
	scsi_task_finish(task, r, NULL);
	scsi_lu_put(lu);
}

static enum sense_reason sbc_io_submit(struct scsi_cmd *cmd, enum backend_op op, uint64_t offset,
				       uint64_t len, uint8_t *buf, uint32_t flags)
{
	enum sense_reason r = SENSE_ASYNC;
	struct sbc_io *io;
	int ret;

	io = calloc(1, sizeof(*io));
	if (!io) {
		r = SENSE_BUSY;
		goto out;
	}
	io->bio.op = op;
	io->bio.flags = flags;
	io->bio.offset = offset;
	io->bio.len = len;
	io->bio.buf = buf;
	io->bio.done = sbc_io_done;
	io->task = cmd->task;
	io->lu = cmd->lu;
	/* The task holds the LU while I/O is in flight. */
	scsi_lu_get(cmd->lu);
	cmd->task->priv = io;
	ret = backend_submit(cmd->lu->be, &io->bio);
	if (ret < 0) {
		cmd->task->priv = NULL;
		scsi_lu_put(cmd->lu);
		free(io);
		if (ret == -EAGAIN)
			r = SENSE_BUSY;
		else if (ret == -EROFS)
			r = SENSE_WRITE_PROTECTED;
		else
			r = SENSE_INTERNAL_FAILURE;
		goto out;
	}
out:
	return r;
}

/*
 * Write what the initiator sent. With an overflow (RFC 7143 11.4.5.1: the
 * CDB asks for more than the expected data transfer length) only the whole
 * blocks that came in Data-Out are written, the rest not at all, and the
 * overflow residual tells the initiator so; this is what initiators'
 * conformance suites (libiscsi iSCSIResiduals) expect. A Data-Out that ends
 * inside a block cannot be written as such: INVALID FIELD IN INFORMATION UNIT.
 */
static enum sense_reason sbc_write_start(struct scsi_cmd *cmd, uint64_t offset, uint64_t bytes,
					 bool fua)
{
	struct scsi_task *task = cmd->task;
	enum sense_reason r = SENSE_OK;
	uint64_t len = bytes;

	if (task->out_len < bytes) {
		if (task->out_len & (cmd->lu->block_size - 1)) {
			r = SENSE_INVALID_FIELD_IN_IU;
			goto out;
		}
		len = task->out_len;
	}
	if (len == 0)
		goto out;
	if (!task->out_buf) {
		r = SENSE_INTERNAL_FAILURE;
		goto out;
	}
	/* The backend does not modify a write's buffer. */
	r = sbc_io_submit(cmd, BACKEND_OP_WRITE, offset, len, (uint8_t *)task->out_buf,
			  fua ? BACKEND_IO_FUA : 0);
out:
	return r;
}

static enum sense_reason sbc_rw_exec(struct scsi_cmd *cmd, bool write)
{
	struct scsi_task *task = cmd->task;
	struct scsi_lu *lu = cmd->lu;
	uint64_t bytes, offset;
	enum sense_reason r;
	struct sbc_rw rw;
	uint32_t len;

	sbc_rw_decode(task->cdb, &rw);
	/* SBC-3 4.22: no protection information: RDPROTECT/WRPROTECT must be 0. */
	if (rw.protect) {
		r = scsi_cmd_bad_field(cmd, 1, 7);
		goto out;
	}
	/* VPD B0h MAXIMUM TRANSFER LENGTH (SBC-3 6.5.3). */
	if ((uint64_t)rw.blocks << lu->block_shift > SCSI_MAX_XFER_BYTES) {
		r = scsi_cmd_bad_field(cmd, rw.len_byte, -1);
		goto out;
	}
	if (write && lu->readonly) {
		r = SENSE_WRITE_PROTECTED;
		goto out;
	}
	/* SBC-3 4.5: LBA OUT OF RANGE, also for TRANSFER LENGTH 0 past the end. */
	if (!sbc_range_ok(lu, rw.lba, rw.blocks)) {
		r = SENSE_LBA_OUT_OF_RANGE;
		goto out;
	}
	bytes = (uint64_t)rw.blocks << lu->block_shift;
	offset = rw.lba << lu->block_shift;
	task->xfer_len = (uint32_t)bytes;
	/* SBC-3 5.9: TRANSFER LENGTH 0 moves nothing and is not an error. */
	if (bytes == 0) {
		r = SENSE_OK;
		goto out;
	}
	if (write) {
		r = sbc_write_start(cmd, offset, bytes, rw.fua);
		goto out;
	}
	/* Data-In is limited to the expected data transfer length (RFC 7143 11.4.5.1). */
	len = bytes < task->edtl ? (uint32_t)bytes : task->edtl;
	if (len == 0) {
		r = SENSE_OK;
		goto out;
	}
	task->in_buf = calloc(1, len);
	if (!task->in_buf) {
		r = SENSE_BUSY;
		goto out;
	}
	r = sbc_io_submit(cmd, BACKEND_OP_READ, offset, len, task->in_buf, 0);
out:
	return r;
}

enum sense_reason sbc_cmd_read(struct scsi_cmd *cmd)
{
	return sbc_rw_exec(cmd, false);
}

enum sense_reason sbc_cmd_write(struct scsi_cmd *cmd)
{
	return sbc_rw_exec(cmd, true);
}

/* SBC-3 5.22 / 5.23: SYNCHRONIZE CACHE(10/16); NUMBER OF BLOCKS 0: to the end. */
enum sense_reason sbc_cmd_sync_cache(struct scsi_cmd *cmd)
{
	const uint8_t *cdb = cmd->task->cdb;
	struct scsi_lu *lu = cmd->lu;
	bool sixteen = cdb[0] == 0x91;
	uint64_t lba = sixteen ? get_be64(cdb + 2) : get_be32(cdb + 2);
	uint64_t blocks = sixteen ? get_be32(cdb + 10) : get_be16(cdb + 7);
	enum sense_reason r = SENSE_OK;

	if (blocks == 0 && lba < lu->nblocks)
		blocks = lu->nblocks - lba;
	if (!sbc_range_ok(lu, lba, blocks)) {
		r = SENSE_LBA_OUT_OF_RANGE;
		goto out;
	}
	/* Nothing can be dirty on a read-only LU or a store without a cache. */
	if (lu->readonly || !(backend_caps(lu->be) & BACKEND_CAP_VOLATILE_CACHE))
		goto out;
	/* IMMED may complete early; completing after the flush is always allowed. */
	r = sbc_io_submit(cmd, BACKEND_OP_FLUSH, 0, 0, NULL, 0);
out:
	return r;
}

/* SBC-3 5.15 READ CAPACITY(10). */
enum sense_reason sbc_cmd_read_capacity10(struct scsi_cmd *cmd)
{
	const uint8_t *cdb = cmd->task->cdb;
	struct scsi_lu *lu = cmd->lu;
	uint8_t d[8];
	enum sense_reason r;

	/* PMI is obsolete: with PMI 0 the LOGICAL BLOCK ADDRESS must be 0. */
	if (!(cdb[8] & 0x01) && get_be32(cdb + 2)) {
		r = scsi_cmd_bad_field(cmd, 2, -1);
		goto out;
	}
	/* Too large for 32 bits: FFFFFFFFh sends the initiator to READ CAPACITY(16). */
	put_be32(d, lu->nblocks - 1 > 0xfffffffeu ? 0xffffffffu : (uint32_t)(lu->nblocks - 1));
	put_be32(d + 4, lu->block_size);
	r = scsi_cmd_data_in_bytes(cmd, d, sizeof(d), sizeof(d));
out:
	return r;
}

/* SBC-3 5.16 READ CAPACITY(16), the only SERVICE ACTION IN(16) we have. */
enum sense_reason sbc_cmd_service_action_in(struct scsi_cmd *cmd)
{
	const uint8_t *cdb = cmd->task->cdb;
	struct scsi_lu *lu = cmd->lu;
	uint8_t d[32] = {0};

	put_be64(d, lu->nblocks - 1);
	put_be32(d + 8, lu->block_size);
	if (sbc_lu_unmap_supported(lu)) {
		d[14] = 0x80; /* LBPME */
		if (backend_caps(lu->be) & BACKEND_CAP_UNMAP_ZEROES)
			d[14] |= 0x40; /* LBPRZ */
	}
	return scsi_cmd_data_in_bytes(cmd, d, sizeof(d), get_be32(cdb + 10));
}

/* SBC-3 5.25 START STOP UNIT: there is no medium to spin; accept. */
enum sense_reason sbc_cmd_start_stop_unit(struct scsi_cmd *cmd)
{
	return SENSE_OK;
}

/* SBC-3 6.5.3 Block Limits VPD page body (after the 4-byte header). */
void sbc_vpd_block_limits(const struct scsi_lu *lu, struct buf *b)
{
	uint8_t d[0x3c] = {0};
	uint32_t max_blocks = SCSI_MAX_XFER_BYTES >> lu->block_shift;

	put_be32(d + 4, max_blocks); /* MAXIMUM TRANSFER LENGTH */
	put_be32(d + 8, max_blocks); /* OPTIMAL TRANSFER LENGTH */
	if (sbc_lu_unmap_supported(lu)) {
		put_be32(d + 16, max_blocks); /* MAXIMUM UNMAP LBA COUNT */
		put_be32(d + 20, 256);	      /* MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT */
		/* OPTIMAL UNMAP GRANULARITY: a 4 KiB filesystem block. */
		put_be32(d + 24, 4096 >> lu->block_shift);
	}
	buf_append(b, d, sizeof(d));
}

/* SBC-3 6.5.2 Block Device Characteristics VPD page body. */
void sbc_vpd_block_characteristics(const struct scsi_lu *lu, struct buf *b)
{
	uint8_t d[0x3c] = {0};

	put_be16(d, 0x0001); /* MEDIUM ROTATION RATE: non-rotating medium */
	buf_append(b, d, sizeof(d));
}

/* SBC-3 6.5.4 Logical Block Provisioning VPD page body. */
void sbc_vpd_provisioning(const struct scsi_lu *lu, struct buf *b)
{
	uint8_t d[4] = {0};

	if (sbc_lu_unmap_supported(lu)) {
		d[1] = 0x80; /* LBPU */
		if (backend_caps(lu->be) & BACKEND_CAP_UNMAP_ZEROES)
			d[1] |= 0x04; /* LBPRZ */
		d[2] = 0x02;	      /* PROVISIONING TYPE: thin */
	}
	buf_append(b, d, sizeof(d));
}

/* SBC-3 6.4.5 Caching mode page. Nothing is changeable (no MODE SELECT). */
void sbc_mode_page_caching(const struct scsi_lu *lu, bool changeable, struct buf *b)
{
	uint8_t p[20] = {0x08, 0x12};

	/* WCE: writes complete before they are durable unless FUA or SYNCHRONIZE CACHE. */
	if (!changeable && (backend_caps(lu->be) & BACKEND_CAP_VOLATILE_CACHE))
		p[2] = 0x04;
	buf_append(b, p, sizeof(p));
}
