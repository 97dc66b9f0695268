/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SBC-3 commands that compare with or merge into what is on the medium:
 * VERIFY(10/12/16), WRITE AND VERIFY(10/12/16), COMPARE AND WRITE, ORWRITE
 * and WRITE ATOMIC(16). The read-modify-write ones hold their range of
 * blocks (sbc_job.c) from the read to the end of the write, so no other
 * write lands in between: that is what makes COMPARE AND WRITE atomic.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scsi/scsi_int.h"
#include "util/be.h"

/* Job flags of this file. */
#define SBC_CMP_BYTCHK_ONE (1u << 0) /* VERIFY BYTCHK 11b: one block against each */

/*
 * Data-Out must hold \p need bytes. Less (an EDTL below the CDB's) is
 * handled like WRITE does: whole blocks only, see sbc_write_job().
 * \return the bytes to use, or 0 with *r set.
 */
static uint64_t sbc_cmp_out_len(struct scsi_cmd *cmd, uint64_t need, enum sense_reason *r)
{
	struct scsi_task *task = cmd->task;
	uint64_t len = need;

	*r = SENSE_OK;
	if (task->out_len < need) {
		len = task->out_len;
		if (len & (cmd->lu->block_size - 1))
			*r = SENSE_INVALID_FIELD_IN_IU;
	}
	if (len && !task->out_buf)
		*r = SENSE_INTERNAL_FAILURE;
	return *r == SENSE_OK ? len : 0;
}

/* The first byte where \p a and \p b differ, or \p len when they are equal. */
static size_t sbc_cmp_first_diff(const uint8_t *a, const uint8_t *b, size_t len)
{
	size_t i;

	if (memcmp(a, b, len) == 0)
		return len;
	for (i = 0; i < len && a[i] == b[i]; i++)
		;
	return i;
}

/* SBC-3 5.33 / 5.34: MISCOMPARE; INFORMATION is the offset into the Data-Out. */
static enum sense_reason sbc_cmp_miscompare(struct sbc_job *job, uint64_t offset)
{
	job->field.info_valid = true;
	job->field.info = offset;
	return SENSE_MISCOMPARE;
}

static enum sense_reason sbc_cmp_read(struct sbc_job *job)
{
	job->buf = calloc(1, job->buf_len);
	if (!job->buf)
		return SENSE_BUSY;
	return sbc_job_io(job, job->lu->be, BACKEND_OP_READ, job->lba << job->lu->block_shift,
			  job->buf_len, job->buf, 0);
}

static enum sense_reason sbc_verify_step(struct sbc_job *job, int64_t res)
{
	const uint8_t *out = job->task->out_buf;
	uint32_t bs = job->lu->block_size;
	size_t off, d;

	if (res < 0)
		return sbc_io_reason(BACKEND_OP_READ, res);
	if (job->state++ == 0)
		return sbc_cmp_read(job);
	if (!(job->flags & SBC_CMP_BYTCHK_ONE)) {
		d = sbc_cmp_first_diff(job->buf, out, job->pos);
		return d < job->pos ? sbc_cmp_miscompare(job, d) : SENSE_OK;
	}
	for (off = 0; off < job->buf_len; off += bs) {
		d = sbc_cmp_first_diff(job->buf + off, out, bs);
		if (d < bs)
			return sbc_cmp_miscompare(job, d);
	}
	return SENSE_OK;
}

/*
 * SBC-3 5.33..5.35 VERIFY(10/12/16). BYTCHK 00b: check the medium only,
 * which a file always passes; 01b: compare TRANSFER LENGTH blocks of
 * Data-Out; 11b: compare one block of Data-Out with each block.
 */
enum sense_reason sbc_cmd_verify(struct scsi_cmd *cmd)
{
	struct scsi_task *task = cmd->task;
	uint8_t bytchk = (task->cdb[1] >> 1) & 0x03;
	struct scsi_lu *lu = cmd->lu;
	struct sbc_job *job;
	enum sense_reason r;
	struct sbc_rw rw;
	uint64_t need, len;

	sbc_rw_decode(task->cdb, &rw);
	if (bytchk == 0x02) {
		r = scsi_cmd_bad_field(cmd, 1, 2);
		goto out;
	}
	r = sbc_rw_check(cmd, &rw, false);
	if (r != SENSE_OK || rw.blocks == 0)
		goto out;
	if (bytchk == 0) {
		task->xfer_len = 0;
		goto out;
	}
	need = bytchk == 0x03 ? lu->block_size : (uint64_t)rw.blocks << lu->block_shift;
	task->xfer_len = (uint32_t)need;
	len = sbc_cmp_out_len(cmd, need, &r);
	if (r != SENSE_OK || len == 0)
		goto out;
	job = sbc_job_create(cmd, sbc_verify_step);
	if (!job) {
		r = SENSE_BUSY;
		goto out;
	}
	job->lba = rw.lba;
	job->pos = len;
	if (bytchk == 0x03) {
		job->flags = SBC_CMP_BYTCHK_ONE;
		job->buf_len = (size_t)rw.blocks << lu->block_shift;
	} else {
		/* With a short Data-Out only the blocks received are compared. */
		job->buf_len = len;
	}
	r = sbc_job_run(job);
out:
	return r;
}

/*
 * SBC-3 5.40..5.42 WRITE AND VERIFY(10/12/16). The data goes to the store
 * written through (FUA); what the store acknowledged is what it holds, so
 * the verification after it (BYTCHK 0 or 1) cannot fail.
 */
enum sense_reason sbc_cmd_write_verify(struct scsi_cmd *cmd)
{
	enum sense_reason r;
	struct sbc_rw rw;

	sbc_rw_decode(cmd->task->cdb, &rw);
	/* SBC-3 5.40: BYTCHK is bit 1 (one bit); bit 2 is reserved. */
	if (cmd->task->cdb[1] & 0x04) {
		r = scsi_cmd_bad_field(cmd, 1, 2);
		goto out;
	}
	r = sbc_rw_check(cmd, &rw, true);
	if (r != SENSE_OK || rw.blocks == 0)
		goto out;
	rw.fua = true;
	r = sbc_write_job(cmd, &rw);
out:
	return r;
}

static enum sense_reason sbc_caw_step(struct sbc_job *job, int64_t res)
{
	const uint8_t *out = job->task->out_buf;
	size_t d;

	if (res < 0)
		return sbc_io_reason(job->state == 1 ? BACKEND_OP_READ : BACKEND_OP_WRITE, res);
	switch (job->state++) {
	case 0:
		return sbc_cmp_read(job);
	case 1:
		d = sbc_cmp_first_diff(job->buf, out, job->buf_len);
		if (d < job->buf_len)
			return sbc_cmp_miscompare(job, d);
		/* The second half of the Data-Out is the write data. */
		return sbc_job_io(job, job->lu->be, BACKEND_OP_WRITE,
				  job->lba << job->lu->block_shift, job->buf_len,
				  (uint8_t *)out + job->buf_len, job->flags);
	default:
		return SENSE_OK;
	}
}

/*
 * SBC-3 5.3 COMPARE AND WRITE: Data-Out is NUMBER OF LOGICAL BLOCKS of
 * verify data then as many of write data. The blocks are read and compared
 * and, if equal, written, all while the range is held.
 */
enum sense_reason sbc_cmd_compare_and_write(struct scsi_cmd *cmd)
{
	struct scsi_task *task = cmd->task;
	struct scsi_lu *lu = cmd->lu;
	struct sbc_job *job;
	enum sense_reason r;
	struct sbc_rw rw;
	uint64_t bytes;

	sbc_rw_decode(task->cdb, &rw);
	rw.blocks = task->cdb[13];
	rw.len_byte = 13;
	if (rw.blocks > SBC_CAW_MAX_BLOCKS) {
		r = scsi_cmd_bad_field(cmd, 13, -1);
		goto out;
	}
	r = sbc_rw_check(cmd, &rw, true);
	if (r != SENSE_OK)
		goto out;
	/* SBC-3 5.3: NUMBER OF LOGICAL BLOCKS 0 is not an error, but Data-Out
	 * with it is a CDB that does not say what it carries. */
	if (rw.blocks == 0) {
		if (task->edtl)
			r = scsi_cmd_bad_field(cmd, 13, -1);
		goto out;
	}
	bytes = (uint64_t)rw.blocks << lu->block_shift;
	task->xfer_len = (uint32_t)(2 * bytes);
	/* Both halves are needed: anything else is not a COMPARE AND WRITE. */
	if (task->out_len != 2 * bytes || !task->out_buf) {
		r = SENSE_INVALID_FIELD_IN_IU;
		goto out;
	}
	job = sbc_job_create(cmd, sbc_caw_step);
	if (!job) {
		r = SENSE_BUSY;
		goto out;
	}
	job->lba = rw.lba;
	job->buf_len = bytes;
	job->flags = sbc_write_flags(lu, rw.fua);
	job->range.lba = rw.lba;
	job->range.blocks = rw.blocks;
	r = sbc_job_run(job);
out:
	return r;
}

static enum sense_reason sbc_orwrite_step(struct sbc_job *job, int64_t res)
{
	const uint8_t *out = job->task->out_buf;
	size_t i;

	if (res < 0)
		return sbc_io_reason(job->state == 1 ? BACKEND_OP_READ : BACKEND_OP_WRITE, res);
	switch (job->state++) {
	case 0:
		return sbc_cmp_read(job);
	case 1:
		for (i = 0; i < job->buf_len; i++)
			job->buf[i] |= out[i];
		return sbc_job_io(job, job->lu->be, BACKEND_OP_WRITE,
				  job->lba << job->lu->block_shift, job->buf_len, job->buf,
				  job->flags);
	default:
		return SENSE_OK;
	}
}

/* SBC-3 5.24 ORWRITE(16): medium = medium OR Data-Out, under the range lock. */
enum sense_reason sbc_cmd_orwrite(struct scsi_cmd *cmd)
{
	struct sbc_job *job;
	enum sense_reason r;
	struct sbc_rw rw;
	uint64_t len;

	sbc_rw_decode(cmd->task->cdb, &rw);
	r = sbc_rw_check(cmd, &rw, true);
	if (r != SENSE_OK || rw.blocks == 0)
		goto out;
	len = sbc_cmp_out_len(cmd, cmd->task->xfer_len, &r);
	if (r != SENSE_OK || len == 0)
		goto out;
	job = sbc_job_create(cmd, sbc_orwrite_step);
	if (!job) {
		r = SENSE_BUSY;
		goto out;
	}
	job->lba = rw.lba;
	job->buf_len = len;
	job->flags = sbc_write_flags(cmd->lu, rw.fua);
	job->range.lba = rw.lba;
	job->range.blocks = len >> cmd->lu->block_shift;
	r = sbc_job_run(job);
out:
	return r;
}

/*
 * SBC-4 5.48 WRITE ATOMIC(16): all or nothing with respect to other
 * commands, which the range lock gives. No ATOMIC BOUNDARY support (VPD
 * B0h MAXIMUM ATOMIC BOUNDARY SIZE 0): a non-zero boundary is invalid.
 */
enum sense_reason sbc_cmd_write_atomic(struct scsi_cmd *cmd)
{
	const uint8_t *cdb = cmd->task->cdb;
	enum sense_reason r;
	struct sbc_rw rw;

	sbc_rw_decode(cdb, &rw);
	if (get_be16(cdb + 10)) {
		r = scsi_cmd_bad_field(cmd, 10, -1);
		goto out;
	}
	if ((uint64_t)rw.blocks << cmd->lu->block_shift > SBC_ATOMIC_MAX_BYTES) {
		r = scsi_cmd_bad_field(cmd, 12, -1);
		goto out;
	}
	r = sbc_rw_check(cmd, &rw, true);
	if (r != SENSE_OK || rw.blocks == 0)
		goto out;
	r = sbc_write_job(cmd, &rw);
out:
	return r;
}
