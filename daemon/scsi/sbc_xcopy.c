/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * EXTENDED COPY (LID1, SPC-4 6.4) and RECEIVE COPY RESULTS (SPC-4 6.18):
 * the copy offload VMware calls XCOPY. This copy manager moves blocks
 * between LUs of this daemon only: a CSCD is an identification descriptor
 * (E4h) naming an LU by its NAA designator, and a segment is block to
 * block (02h). The copy runs as a job (sbc_job.c), chunk by chunk.
 */
#include <stdlib.h>
#include <string.h>

#include "scsi/scsi_int.h"
#include "util/be.h"

/* Operating parameters (SPC-4 6.18.4), reported by RECEIVE COPY RESULTS. */
#define XCOPY_MAX_CSCD 2
#define XCOPY_MAX_SEGMENTS 2
#define XCOPY_MAX_LIST_LEN 1024
#define XCOPY_MAX_SEGMENT_BYTES (32u * 1024 * 1024)
#define XCOPY_CHUNK (1024u * 1024)
#define XCOPY_HDR_LEN 16
#define XCOPY_CSCD_LEN 32
#define XCOPY_SEG_B2B_LEN 28
#define XCOPY_CSCD_ID 0xe4	/* identification descriptor CSCD */
#define XCOPY_SEG_B2B 0x02	/* block device to block device */
#define XCOPY_STATUS_DONE 0x01	/* COPY MANAGER STATUS: completed, no error */
#define XCOPY_STATUS_ERROR 0x02 /* completed with an error */

struct xcopy_seg {
	struct scsi_lu *src;
	struct scsi_lu *dst;
	uint64_t src_lba;
	uint64_t dst_lba;
	uint32_t blocks;
};

struct xcopy_ctx {
	struct scsi_lu *refs[XCOPY_MAX_CSCD]; /* the CSCD LUs, held while copying */
	struct xcopy_seg segs[XCOPY_MAX_SEGMENTS];
	unsigned int count;
	unsigned int cur;
	uint64_t done;	/* blocks of the current segment copied */
	uint64_t chunk; /* blocks in flight */
	uint64_t total; /* blocks copied */
	struct scsi_copy_result *result;
};

static void xcopy_ctx_free(void *p)
{
	struct xcopy_ctx *x = p;
	size_t i;

	if (!x)
		return;
	for (i = 0; i < XCOPY_MAX_CSCD; i++)
		scsi_lu_put(x->refs[i]);
	free(x);
}

static enum sense_reason xcopy_param_error(struct scsi_cmd *cmd, enum sense_reason r, uint16_t byte)
{
	cmd->field = (struct sense_field){.valid = true, .byte = byte, .bit = -1};
	return r;
}

/* SPC-4 6.4.6.2: an identification descriptor CSCD; the LU it names, or NULL. */
static struct scsi_lu *xcopy_cscd_lu(const uint8_t *d)
{
	uint8_t len = d[7];

	/* Designator type 3 (NAA), binary. Other designators we do not issue. */
	if ((d[5] & 0x0f) != 0x3 || len > 20)
		return NULL;
	return scsi_lu_find_naa(d + 8, len);
}

static struct scsi_copy_result *xcopy_result_slot(struct scsi_lu *lu, const struct scsi_itn *itn,
						  uint8_t list_id)
{
	struct scsi_copy_result *c, *free_slot = NULL;
	size_t i;

	for (i = 0; i < SCSI_COPY_RESULTS_MAX; i++) {
		c = &lu->copies[i];
		if (c->used && c->list_id == list_id &&
		    (!itn || strcmp(c->id.initiator_port, itn->id.initiator_port) == 0))
			return c;
		if (!c->used && !free_slot)
			free_slot = c;
	}
	/* Full: reuse the first slot (results are best effort, SPC-4 6.18.1). */
	return free_slot ? free_slot : &lu->copies[0];
}

static enum sense_reason xcopy_step(struct sbc_job *job, int64_t res)
{
	struct xcopy_ctx *x = job->ctx;
	struct xcopy_seg *s;
	uint64_t left;
	enum sense_reason r = SENSE_ASYNC;

	if (res < 0) {
		r = job->state == 1 ? SENSE_COPY_READ_ERROR : SENSE_COPY_WRITE_ERROR;
		goto out;
	}
	s = &x->segs[x->cur];
	switch (job->state) {
	case 1: /* read done: write the chunk */
		job->state = 2;
		r = sbc_job_io(job, s->dst->be, BACKEND_OP_WRITE,
			       (s->dst_lba + x->done) << s->dst->block_shift,
			       x->chunk << s->dst->block_shift, job->buf,
			       sbc_write_flags(s->dst, false));
		goto out;
	case 2: /* write done */
		x->done += x->chunk;
		x->total += x->chunk;
		break;
	default:
		break;
	}
	while (x->cur < x->count && x->done == x->segs[x->cur].blocks) {
		x->cur++;
		x->done = 0;
	}
	if (x->cur == x->count) {
		r = SENSE_OK;
		goto out;
	}
	s = &x->segs[x->cur];
	left = s->blocks - x->done;
	x->chunk = job->buf_len >> s->src->block_shift;
	if (x->chunk > left)
		x->chunk = left;
	job->state = 1;
	r = sbc_job_io(job, s->src->be, BACKEND_OP_READ,
		       (s->src_lba + x->done) << s->src->block_shift,
		       x->chunk << s->src->block_shift, job->buf, 0);
out:
	if (r != SENSE_ASYNC && x->result) {
		x->result->status = r == SENSE_OK ? XCOPY_STATUS_DONE : XCOPY_STATUS_ERROR;
		x->result->segments = (uint16_t)x->cur;
		x->result->transfer = x->total;
	}
	return r;
}

/* SPC-4 6.4.6.1: parse one segment descriptor into \p seg. */
static enum sense_reason xcopy_seg_parse(struct scsi_cmd *cmd, const uint8_t *d, size_t off,
					 struct scsi_lu *const *cscd, unsigned int ncscd,
					 struct xcopy_seg *seg)
{
	uint16_t si = get_be16(d + 4), di = get_be16(d + 6);
	enum sense_reason r = SENSE_OK;

	if (d[0] != XCOPY_SEG_B2B) {
		r = xcopy_param_error(cmd, SENSE_UNSUPPORTED_SEGMENT_DESC, (uint16_t)off);
		goto out;
	}
	if (get_be16(d + 2) != XCOPY_SEG_B2B_LEN - 4) {
		r = xcopy_param_error(cmd, SENSE_INVALID_FIELD_IN_PARAM, (uint16_t)(off + 2));
		goto out;
	}
	/* SPC-4 6.4.5: a CSCD index that names nothing: the copy cannot reach it. */
	if (si >= ncscd || di >= ncscd || !cscd[si] || !cscd[di]) {
		r = SENSE_COPY_TARGET_UNREACHABLE;
		goto out;
	}
	seg->src = cscd[si];
	seg->dst = cscd[di];
	seg->blocks = get_be16(d + 10);
	seg->src_lba = get_be64(d + 12);
	seg->dst_lba = get_be64(d + 20);
	/* DC 0: NUMBER OF BLOCKS counts source blocks; equal block sizes only. */
	if (seg->src->block_size != seg->dst->block_size ||
	    (uint64_t)seg->blocks << seg->src->block_shift > XCOPY_MAX_SEGMENT_BYTES) {
		r = xcopy_param_error(cmd, SENSE_INVALID_FIELD_IN_PARAM, (uint16_t)(off + 10));
		goto out;
	}
	if (!sbc_range_ok(seg->src, seg->src_lba, seg->blocks) ||
	    !sbc_range_ok(seg->dst, seg->dst_lba, seg->blocks))
		r = SENSE_COPY_ABORTED;
	else if (scsi_lu_write_protected(seg->dst))
		r = SENSE_WRITE_PROTECTED;
out:
	return r;
}

/* SPC-4 6.4 EXTENDED COPY (LID1). */
enum sense_reason sbc_cmd_extended_copy(struct scsi_cmd *cmd)
{
	struct scsi_task *task = cmd->task;
	uint32_t plen = get_be32(task->cdb + 10), tlen, slen;
	struct scsi_lu *cscd[XCOPY_MAX_CSCD] = {NULL};
	const uint8_t *p = task->out_buf;
	struct xcopy_ctx *x = NULL;
	struct sbc_job *job = NULL;
	enum sense_reason r = SENSE_OK;
	unsigned int ncscd, nseg, i;
	uint8_t usage;
	size_t off;

	task->xfer_len = plen;
	if (plen == 0)
		goto out;
	if (plen < XCOPY_HDR_LEN || task->out_len < plen || !p) {
		r = SENSE_PARAM_LIST_LENGTH_ERROR;
		goto out;
	}
	/* SPC-4 6.4.3 LIST ID USAGE: 01b is reserved; with 11b the LIST IDENTIFIER is 0. */
	usage = (p[1] >> 3) & 0x03;
	if (usage == 0x01 || (usage == 0x03 && p[0])) {
		r = xcopy_param_error(cmd, SENSE_INVALID_FIELD_IN_PARAM, usage == 0x01 ? 1 : 0);
		goto out;
	}
	tlen = get_be16(p + 2);
	slen = get_be32(p + 8);
	if (get_be32(p + 12)) {
		/* No inline data: MAXIMUM INLINE DATA LENGTH is 0. */
		r = xcopy_param_error(cmd, SENSE_INVALID_FIELD_IN_PARAM, 12);
		goto out;
	}
	if ((uint64_t)tlen + slen > XCOPY_MAX_LIST_LEN ||
	    (uint64_t)XCOPY_HDR_LEN + tlen + slen > plen) {
		r = SENSE_PARAM_LIST_LENGTH_ERROR;
		goto out;
	}
	ncscd = tlen / XCOPY_CSCD_LEN;
	nseg = slen / XCOPY_SEG_B2B_LEN;
	if (ncscd > XCOPY_MAX_CSCD) {
		r = SENSE_TOO_MANY_TARGET_DESCS;
		goto out;
	}
	if (nseg > XCOPY_MAX_SEGMENTS) {
		r = SENSE_TOO_MANY_SEGMENT_DESCS;
		goto out;
	}
	/* Type codes first (SPC-4 6.4.5): an unknown type has its own length. */
	if (tlen && p[XCOPY_HDR_LEN] != XCOPY_CSCD_ID) {
		r = xcopy_param_error(cmd, SENSE_UNSUPPORTED_TARGET_DESC, XCOPY_HDR_LEN);
		goto out;
	}
	if (slen && p[XCOPY_HDR_LEN + tlen] != XCOPY_SEG_B2B) {
		r = xcopy_param_error(cmd, SENSE_UNSUPPORTED_SEGMENT_DESC,
				      (uint16_t)(XCOPY_HDR_LEN + tlen));
		goto out;
	}
	if (tlen % XCOPY_CSCD_LEN || slen % XCOPY_SEG_B2B_LEN) {
		r = xcopy_param_error(cmd, SENSE_INVALID_FIELD_IN_PARAM,
				      tlen % XCOPY_CSCD_LEN ? 2 : 8);
		goto out;
	}

	for (i = 0, off = XCOPY_HDR_LEN; i < ncscd; i++, off += XCOPY_CSCD_LEN) {
		if (p[off] != XCOPY_CSCD_ID) {
			r = xcopy_param_error(cmd, SENSE_UNSUPPORTED_TARGET_DESC, (uint16_t)off);
			goto out;
		}
		/* Only block devices; the LU ID TYPE is ignored (SPC-4 6.4.6.2). */
		if ((p[off + 1] & 0x1f) != 0x00) {
			r = SENSE_COPY_TARGET_UNREACHABLE;
			goto out;
		}
		cscd[i] = xcopy_cscd_lu(p + off);
		/* A detached LU (store closed on a node that is not promoted). */
		if (!cscd[i] || !scsi_lu_attached(cscd[i])) {
			r = SENSE_COPY_TARGET_UNREACHABLE;
			goto out;
		}
	}
	x = calloc(1, sizeof(*x));
	if (!x) {
		r = SENSE_BUSY;
		goto out;
	}
	off = XCOPY_HDR_LEN + tlen;
	for (i = 0; i < nseg; i++, off += XCOPY_SEG_B2B_LEN) {
		r = xcopy_seg_parse(cmd, p + off, off, cscd, ncscd, &x->segs[i]);
		if (r != SENSE_OK)
			goto out;
	}
	x->count = nseg;
	if (nseg == 0)
		goto out;
	/* A LUN removed at run time must not free an LU the copy still uses. */
	for (i = 0; i < ncscd; i++) {
		scsi_lu_get(cscd[i]);
		x->refs[i] = cscd[i];
	}
	job = sbc_job_create(cmd, xcopy_step);
	if (!job) {
		r = SENSE_BUSY;
		goto out;
	}
	job->buf_len = XCOPY_CHUNK;
	job->buf = calloc(1, job->buf_len);
	if (!job->buf) {
		r = SENSE_BUSY;
		goto out;
	}
	/* LIST ID USAGE 10b and 11b: no results are kept. */
	if (usage == 0x00 && task->itn) {
		x->result = xcopy_result_slot(cmd->lu, task->itn, p[0]);
		memset(x->result, 0, sizeof(*x->result));
		x->result->used = true;
		x->result->list_id = p[0];
		x->result->id = task->itn->id;
	}
	job->ctx = x;
	job->ctx_free = xcopy_ctx_free;
	x = NULL;
	r = sbc_job_run(job);
	job = NULL;
out:
	sbc_job_destroy(job);
	xcopy_ctx_free(x);
	return r;
}

/* SPC-4 6.18.4 Table 537: OPERATING PARAMETERS. */
static void xcopy_op_params(struct buf *b)
{
	uint8_t d[46] = {0};

	put_be32(d, sizeof(d) - 4);
	d[4] = 0x01; /* SNLID: LIST ID USAGE 11b supported */
	put_be16(d + 8, XCOPY_MAX_CSCD);
	put_be16(d + 10, XCOPY_MAX_SEGMENTS);
	put_be32(d + 12, XCOPY_MAX_LIST_LEN);
	put_be32(d + 16, XCOPY_MAX_SEGMENT_BYTES);
	put_be16(d + 34, 1); /* TOTAL CONCURRENT COPIES */
	d[36] = 1;	     /* MAXIMUM CONCURRENT COPIES */
	d[37] = 9;	     /* DATA SEGMENT GRANULARITY: 2^9 bytes */
	d[43] = 2;	     /* IMPLEMENTED DESCRIPTOR LIST LENGTH */
	d[44] = XCOPY_SEG_B2B;
	d[45] = XCOPY_CSCD_ID;
	buf_append(b, d, sizeof(d));
}

/* SPC-4 6.18 RECEIVE COPY RESULTS: COPY STATUS (00h), OPERATING PARAMETERS (03h). */
enum sense_reason sbc_cmd_receive_copy_results(struct scsi_cmd *cmd)
{
	const uint8_t *cdb = cmd->task->cdb;
	struct scsi_copy_result *c;
	struct buf b = BUF_INIT;
	uint8_t d[12] = {0};
	enum sense_reason r;

	if ((cdb[1] & 0x1f) == 0x03) {
		xcopy_op_params(&b);
		r = scsi_cmd_data_in(cmd, &b, get_be32(cdb + 10));
		goto out;
	}
	c = xcopy_result_slot(cmd->lu, cmd->task->itn, cdb[2]);
	if (!c->used || c->list_id != cdb[2]) {
		r = scsi_cmd_bad_field(cmd, 2, -1);
		goto out;
	}
	put_be32(d, 8);
	d[4] = c->status;
	put_be16(d + 5, c->segments);
	d[7] = 0xf1; /* TRANSFER COUNT UNITS: kibibytes */
	put_be32(d + 8, (uint32_t)((c->transfer << cmd->lu->block_shift) >> 10));
	r = scsi_cmd_data_in_bytes(cmd, d, sizeof(d), get_be32(cdb + 10));
out:
	buf_release(&b);
	return r;
}
