/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Thin provisioning and whole-range commands: WRITE SAME(10/16), UNMAP,
 * GET LBA STATUS (SBC-3 4.7) and SANITIZE (SBC-3 4.11). Deallocation is
 * BACKEND_OP_UNMAP (a punched hole in a file, a discard on a device); a
 * store without it reports LBPME 0 and these commands only write.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scsi/scsi_int.h"
#include "util/be.h"

/* Bytes written per request by the looping commands. */
#define SBC_THIN_CHUNK (1024u * 1024)
/* Bytes deallocated per request (a completion reports bytes in an int). */
#define SBC_THIN_UNMAP_CHUNK (1ull << 30)
/* VPD B0h MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT (sbc.c reports the same). */
#define SBC_UNMAP_MAX_DESCS 256

/* Job flags. */
#define SBC_THIN_DEALLOCATE (1u << 0) /* unmap instead of writing */
#define SBC_THIN_INVERT (1u << 1)     /* SANITIZE OVERWRITE INVERT */
#define SBC_THIN_SANITIZE (1u << 2)   /* the LU is sanitizing while the job runs */
#define SBC_THIN_IMMED (1u << 3)      /* GOOD at once, then run in the background */
#define SBC_THIN_CRYPTO (1u << 4)     /* SANITIZE CRYPTOGRAPHIC ERASE: replace the key */

/* Fill \p buf (\p len bytes, whole blocks) with \p pattern repeated per block. */
static void sbc_thin_fill(uint8_t *buf, size_t len, const uint8_t *pattern, size_t plen,
			  uint32_t bs)
{
	size_t off, i;

	for (off = 0; off < len; off += bs)
		for (i = 0; i < bs; i += plen)
			memcpy(buf + off + i, pattern, bs - i < plen ? bs - i : plen);
}

/*
 * Write job->buf (whole blocks of the pattern) over [lba, lba + blocks),
 * chunk by chunk, or deallocate the range in one request. job->ctx holds
 * how many passes are left (SANITIZE OVERWRITE COUNT).
 */
static enum sense_reason sbc_thin_run(struct sbc_job *job, int64_t res)
{
	struct scsi_lu *lu = job->lu;
	uint64_t left, n;
	unsigned int *passes = job->ctx;
	uint32_t wflags;
	size_t i;

	if (res < 0)
		return sbc_io_reason(BACKEND_OP_WRITE, res);
	if (job->flags & SBC_THIN_CRYPTO) {
		/*
		 * SBC-3 4.11.4: the store replaces its media key. Synchronous on
		 * purpose: it is one 4 KiB header write and fdatasync (two with
		 * the old key's wipe), a few ms. The job holds the whole LU, so
		 * no write encrypted with the old key is in flight.
		 */
		res = backend_crypto_erase(lu->be);
		return res < 0 ? sbc_io_reason(BACKEND_OP_WRITE, res) : SENSE_OK;
	}
	if (job->flags & SBC_THIN_DEALLOCATE) {
		/* In pieces: a request moves at most SBC_THIN_UNMAP_CHUNK bytes. */
		if (job->pos == job->blocks)
			return SENSE_OK;
		n = job->blocks - job->pos;
		if (n > SBC_THIN_UNMAP_CHUNK >> lu->block_shift)
			n = SBC_THIN_UNMAP_CHUNK >> lu->block_shift;
		job->pos += n;
		return sbc_job_io(job, lu->be, BACKEND_OP_UNMAP,
				  (job->lba + job->pos - n) << lu->block_shift,
				  n << lu->block_shift, NULL, 0);
	}
	if (job->pos == job->blocks && passes && --*passes) {
		/* SBC-3 5.27.2: INVERT: the pattern is inverted between passes. */
		if (job->flags & SBC_THIN_INVERT)
			for (i = 0; i < job->buf_len; i++)
				job->buf[i] = (uint8_t)~job->buf[i];
		job->pos = 0;
	}
	if (job->pos == job->blocks)
		return SENSE_OK;
	left = job->blocks - job->pos;
	n = job->buf_len >> lu->block_shift;
	if (n > left)
		n = left;
	job->pos += n;
	/* SBC-3 4.11: a sanitized medium holds no old data, not even in a cache. */
	wflags = sbc_write_flags(lu, job->flags & SBC_THIN_SANITIZE);
	return sbc_job_io(job, lu->be, BACKEND_OP_WRITE,
			  (job->lba + job->pos - n) << lu->block_shift, n << lu->block_shift,
			  job->buf, wflags);
}

static enum sense_reason sbc_thin_step(struct sbc_job *job, int64_t res)
{
	enum sense_reason r;

	if (job->state == 0 && job->pos == 0 && (job->flags & SBC_THIN_SANITIZE))
		job->lu->sanitizing = true;
	r = sbc_thin_run(job, res);
	if (r == SENSE_ASYNC && (job->flags & SBC_THIN_IMMED) && !job->detached)
		sbc_job_detach(job);
	if (r != SENSE_ASYNC && (job->flags & SBC_THIN_SANITIZE))
		job->lu->sanitizing = false;
	return r;
}

/* A job writing \p pattern (one block) over the range, or deallocating it. */
static enum sense_reason sbc_thin_start(struct scsi_cmd *cmd, uint64_t lba, uint64_t blocks,
					const uint8_t *pattern, size_t plen, uint32_t flags,
					unsigned int passes)
{
	struct scsi_lu *lu = cmd->lu;
	enum sense_reason r = SENSE_BUSY;
	struct sbc_job *job;
	uint64_t chunk;

	job = sbc_job_create(cmd, sbc_thin_step);
	if (!job)
		goto out;
	job->lba = lba;
	job->blocks = blocks;
	job->flags = flags;
	job->range.lba = lba;
	job->range.blocks = blocks;
	if (!(flags & (SBC_THIN_DEALLOCATE | SBC_THIN_CRYPTO))) {
		chunk = blocks << lu->block_shift;
		job->buf_len = chunk < SBC_THIN_CHUNK ? chunk : SBC_THIN_CHUNK;
		job->buf = calloc(1, job->buf_len);
		job->ctx = calloc(1, sizeof(unsigned int));
		if (!job->buf || !job->ctx) {
			sbc_job_destroy(job);
			goto out;
		}
		*(unsigned int *)job->ctx = passes;
		sbc_thin_fill(job->buf, job->buf_len, pattern, plen, lu->block_size);
	}
	r = sbc_job_run(job);
out:
	return r;
}

/*
 * SBC-3 5.41 / 5.42 WRITE SAME(10/16): one block of Data-Out written to
 * every block of the range; NUMBER OF LOGICAL BLOCKS 0 means to the end of
 * the medium (VPD B0h WSNZ 0).
 */
enum sense_reason sbc_cmd_write_same(struct scsi_cmd *cmd)
{
	struct scsi_task *task = cmd->task;
	const uint8_t *cdb = task->cdb;
	struct scsi_lu *lu = cmd->lu;
	enum sense_reason r;
	uint8_t *zero = NULL;
	struct sbc_rw rw;
	uint64_t blocks;
	uint32_t flags = 0;
	bool ndob;

	sbc_rw_decode(cdb, &rw);
	/* ANCHOR (ANC_SUP 0), PBDATA and LBDATA (obsolete) are not supported. */
	if (cdb[1] & 0x16) {
		r = scsi_cmd_bad_field(cmd, 1, cdb[1] & 0x10 ? 4 : cdb[1] & 0x04 ? 2 : 1);
		goto out;
	}
	if (rw.protect) {
		r = scsi_cmd_bad_field(cmd, 1, 7);
		goto out;
	}
	if (scsi_lu_write_protected(lu)) {
		r = lu->readonly ? SENSE_WRITE_PROTECTED : SENSE_SOFT_WRITE_PROTECTED;
		goto out;
	}
	if (!sbc_range_ok(lu, rw.lba, rw.blocks)) {
		r = SENSE_LBA_OUT_OF_RANGE;
		goto out;
	}
	blocks = rw.blocks ? rw.blocks : lu->nblocks - rw.lba;
	if (blocks > SBC_WRITE_SAME_MAX_BLOCKS(lu)) {
		r = scsi_cmd_bad_field(cmd, rw.len_byte, -1);
		goto out;
	}
	/* SBC-4 5.50 WRITE SAME(16) NDOB: no Data-Out, the block is zeros. */
	ndob = cdb[0] == 0x93 && (cdb[1] & 0x01);
	task->xfer_len = ndob ? 0 : lu->block_size;
	/* Exactly one block of data (SBC-3 5.41), or none with NDOB. */
	if (task->out_len != task->xfer_len || (!ndob && !task->out_buf)) {
		r = SENSE_INVALID_FIELD_IN_IU;
		goto out;
	}
	if (ndob) {
		zero = calloc(1, lu->block_size);
		if (!zero) {
			r = SENSE_BUSY;
			goto out;
		}
	}
	/*
	 * SBC-3 4.7.3.4.4: with UNMAP the blocks are deallocated where we can
	 * (they then read as zeros, LBPRZ); else the data is written.
	 */
	if ((cdb[1] & 0x08) && sbc_lu_unmap_supported(lu))
		flags |= SBC_THIN_DEALLOCATE;
	r = sbc_thin_start(cmd, rw.lba, blocks, ndob ? zero : task->out_buf, lu->block_size, flags,
			   1);
out:
	free(zero);
	return r;
}

struct sbc_unmap_ctx {
	unsigned int count;
	unsigned int next;
	uint64_t lba[SBC_UNMAP_MAX_DESCS];
	uint32_t blocks[SBC_UNMAP_MAX_DESCS];
};

static enum sense_reason sbc_unmap_step(struct sbc_job *job, int64_t res)
{
	struct sbc_unmap_ctx *c = job->ctx;
	struct scsi_lu *lu = job->lu;
	unsigned int i;

	if (res < 0)
		return sbc_io_reason(BACKEND_OP_UNMAP, res);
	while (c->next < c->count && c->blocks[c->next] == 0)
		c->next++;
	if (c->next == c->count)
		return SENSE_OK;
	i = c->next++;
	return sbc_job_io(job, lu->be, BACKEND_OP_UNMAP, c->lba[i] << lu->block_shift,
			  (uint64_t)c->blocks[i] << lu->block_shift, NULL, 0);
}

/* SBC-3 5.28 UNMAP: deallocate the ranges of the block descriptors. */
enum sense_reason sbc_cmd_unmap(struct scsi_cmd *cmd)
{
	struct scsi_task *task = cmd->task;
	uint32_t plen = get_be16(task->cdb + 7);
	const uint8_t *p = task->out_buf;
	struct scsi_lu *lu = cmd->lu;
	struct sbc_unmap_ctx *c = NULL;
	uint64_t lo = UINT64_MAX, hi = 0, total = 0;
	enum sense_reason r = SENSE_OK;
	struct sbc_job *job = NULL;
	uint32_t dlen, i, n;

	if (!sbc_lu_unmap_supported(lu)) {
		r = scsi_lu_write_protected(lu) ? SENSE_WRITE_PROTECTED : SENSE_INVALID_OPCODE;
		goto out;
	}
	if (scsi_lu_write_protected(lu)) {
		r = SENSE_SOFT_WRITE_PROTECTED;
		goto out;
	}
	/* ANCHOR: anchored blocks are not supported (ANC_SUP 0). */
	if (task->cdb[1] & 0x01) {
		r = scsi_cmd_bad_field(cmd, 1, 0);
		goto out;
	}
	task->xfer_len = plen;
	if (plen == 0)
		goto out;
	if (plen < 8 || task->out_len < plen || !p) {
		r = SENSE_PARAM_LIST_LENGTH_ERROR;
		goto out;
	}
	dlen = get_be16(p + 2);
	/* SBC-3 5.28.2: descriptors that do not fit are ignored; whole ones count. */
	if (dlen > plen - 8)
		dlen = plen - 8;
	n = dlen / 16;
	if (n > SBC_UNMAP_MAX_DESCS) {
		r = SENSE_INVALID_FIELD_IN_PARAM;
		cmd->field = (struct sense_field){.valid = true, .byte = 2, .bit = -1};
		goto out;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		r = SENSE_BUSY;
		goto out;
	}
	for (i = 0; i < n; i++) {
		c->lba[i] = get_be64(p + 8 + 16 * i);
		c->blocks[i] = get_be32(p + 16 + 16 * i);
		/* SBC-3 5.28.2: past the capacity; 0 blocks at the end is fine. */
		if (c->lba[i] > lu->nblocks || c->blocks[i] > lu->nblocks - c->lba[i]) {
			r = SENSE_LBA_OUT_OF_RANGE;
			goto out;
		}
		total += c->blocks[i];
		if (c->blocks[i] && c->lba[i] < lo)
			lo = c->lba[i];
		if (c->blocks[i] && c->lba[i] + c->blocks[i] > hi)
			hi = c->lba[i] + c->blocks[i];
	}
	/* VPD B0h MAXIMUM UNMAP LBA COUNT. */
	if (total > SCSI_MAX_XFER_BYTES >> lu->block_shift) {
		r = SENSE_INVALID_FIELD_IN_PARAM;
		cmd->field = (struct sense_field){.valid = true, .byte = 16, .bit = -1};
		goto out;
	}
	if (total == 0)
		goto out;
	c->count = n;
	job = sbc_job_create(cmd, sbc_unmap_step);
	if (!job) {
		r = SENSE_BUSY;
		goto out;
	}
	job->ctx = c;
	c = NULL;
	job->range.lba = lo;
	job->range.blocks = hi - lo;
	r = sbc_job_run(job);
out:
	free(c);
	return r;
}

/*
 * SBC-3 5.6 GET LBA STATUS: descriptors of mapped and deallocated extents
 * from STARTING LOGICAL BLOCK ADDRESS on, as many as ALLOCATION LENGTH holds.
 */
enum sense_reason sbc_cmd_get_lba_status(struct scsi_cmd *cmd)
{
	const uint8_t *cdb = cmd->task->cdb;
	uint64_t lba = get_be64(cdb + 2), len;
	uint32_t alloc = get_be32(cdb + 10);
	struct scsi_lu *lu = cmd->lu;
	struct buf b = BUF_INIT;
	uint8_t h[8] = {0}, d[16];
	enum sense_reason r;
	unsigned int n = 0;
	bool mapped;
	int ret;

	if (lba >= lu->nblocks) {
		r = SENSE_LBA_OUT_OF_RANGE;
		goto out;
	}
	buf_append(&b, h, sizeof(h));
	/* At least one descriptor, then as many as the initiator can take. */
	while (lba < lu->nblocks && (n == 0 || b.len + 16 <= alloc) && n < 1024) {
		ret = backend_map_query(lu->be, lba << lu->block_shift, &mapped, &len);
		if (ret < 0) {
			r = SENSE_INTERNAL_FAILURE;
			goto out;
		}
		len >>= lu->block_shift;
		if (len == 0)
			len = 1;
		if (len > lu->nblocks - lba)
			len = lu->nblocks - lba;
		if (len > 0xffffffffu)
			len = 0xffffffffu;
		memset(d, 0, sizeof(d));
		put_be64(d, lba);
		put_be32(d + 8, (uint32_t)len);
		d[12] = mapped ? 0x0 : 0x1; /* PROVISIONING STATUS: mapped / deallocated */
		buf_append(&b, d, sizeof(d));
		lba += len;
		n++;
	}
	if (b.err) {
		r = SENSE_BUSY;
		goto out;
	}
	put_be32(b.data, (uint32_t)(b.len - 4)); /* PARAMETER DATA LENGTH */
	r = scsi_cmd_data_in(cmd, &b, alloc);
out:
	buf_release(&b);
	return r;
}

/*
 * SBC-3 5.27 SANITIZE: OVERWRITE writes the initialization pattern over
 * the whole medium (OVERWRITE COUNT passes, inverted between passes with
 * INVERT); BLOCK ERASE deallocates everything where the store can;
 * CRYPTOGRAPHIC ERASE replaces the media key of an LU encrypted at rest
 * (BACKEND_CAP_CRYPTO_ERASE, bs_crypt.c) so old data reads as noise;
 * EXIT FAILURE MODE has nothing to do, since a sanitize never fails into
 * that mode here.
 */
enum sense_reason sbc_cmd_sanitize(struct scsi_cmd *cmd)
{
	struct scsi_task *task = cmd->task;
	const uint8_t *cdb = task->cdb, *p = task->out_buf;
	uint16_t plen = get_be16(cdb + 7), patlen;
	struct scsi_lu *lu = cmd->lu;
	uint8_t sa = cdb[1] & 0x1f;
	enum sense_reason r = SENSE_OK;
	uint32_t flags;
	unsigned int passes, i;

	task->xfer_len = plen;
	/* Reserved: byte 1 bit 6, bytes 2..6. */
	if (cdb[1] & 0x40) {
		r = scsi_cmd_bad_field(cmd, 1, 6);
		goto out;
	}
	for (i = 2; i <= 6; i++) {
		if (cdb[i]) {
			r = scsi_cmd_bad_field(cmd, (uint16_t)i, -1);
			goto out;
		}
	}
	if (scsi_lu_write_protected(lu)) {
		r = lu->readonly ? SENSE_WRITE_PROTECTED : SENSE_SOFT_WRITE_PROTECTED;
		goto out;
	}
	flags = SBC_THIN_SANITIZE | (cdb[1] & 0x80 ? SBC_THIN_IMMED : 0);
	switch (sa) {
	case 0x01: /* OVERWRITE, SBC-3 5.27.2 */
		if (plen < 5 || plen > lu->block_size + 4) {
			r = scsi_cmd_bad_field(cmd, 7, -1);
			goto out;
		}
		if (task->out_len < plen || !p) {
			r = SENSE_PARAM_LIST_LENGTH_ERROR;
			goto out;
		}
		patlen = get_be16(p + 2);
		passes = p[0] & 0x1f;
		cmd->field = (struct sense_field){.valid = true, .byte = 0, .bit = -1};
		if (passes == 0 || (p[0] & 0x60)) {
			/* OVERWRITE COUNT 0 and the TEST field are invalid. */
			r = SENSE_INVALID_FIELD_IN_PARAM;
			goto out;
		}
		if (patlen == 0 || patlen > lu->block_size || patlen + 4u != plen) {
			cmd->field.byte = 2;
			r = SENSE_INVALID_FIELD_IN_PARAM;
			goto out;
		}
		cmd->field.valid = false;
		if (p[0] & 0x80)
			flags |= SBC_THIN_INVERT;
		r = sbc_thin_start(cmd, 0, lu->nblocks, p + 4, patlen, flags, passes);
		break;
	case 0x02: /* BLOCK ERASE, SBC-3 5.27.3 */
		if (plen) {
			r = scsi_cmd_bad_field(cmd, 7, -1);
			goto out;
		}
		if (!sbc_lu_unmap_supported(lu)) {
			r = scsi_cmd_bad_field(cmd, 1, 4);
			goto out;
		}
		r = sbc_thin_start(cmd, 0, lu->nblocks, NULL, 0, flags | SBC_THIN_DEALLOCATE, 1);
		break;
	case 0x03: /* CRYPTOGRAPHIC ERASE, SBC-3 5.27.4: no parameter list */
		if (plen) {
			r = scsi_cmd_bad_field(cmd, 7, -1);
			goto out;
		}
		if (!(backend_caps(lu->be) & BACKEND_CAP_CRYPTO_ERASE)) {
			r = scsi_cmd_bad_field(cmd, 1, 4);
			goto out;
		}
		r = sbc_thin_start(cmd, 0, lu->nblocks, NULL, 0, flags | SBC_THIN_CRYPTO, 1);
		break;
	case 0x1f: /* EXIT FAILURE MODE */
		if (plen)
			r = scsi_cmd_bad_field(cmd, 7, -1);
		break;
	default:
		r = scsi_cmd_bad_field(cmd, 1, 4);
		break;
	}
out:
	return r;
}
