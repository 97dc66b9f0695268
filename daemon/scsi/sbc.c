/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SBC-3 block commands: READ/WRITE(6/10/12/16), SYNCHRONIZE CACHE,
 * READ CAPACITY, START STOP UNIT, PREVENT ALLOW MEDIUM REMOVAL, PRE-FETCH,
 * READ DEFECT DATA, and the block VPD and mode pages. Reads, writes and
 * flushes are jobs (sbc_job.c) that complete through scsi_completion_run().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include "scsi/scsi_int.h"
#include "util/be.h"

/* SBC-3 5.28 UNMAP: the opcode that must exist before we advertise LBPU. */
#define SBC_OP_UNMAP 0x42
/* SBC-3 5.29 WRITE SAME(10) and 5.31 WRITE SAME(16): for LBPWS10 / LBPWS. */
#define SBC_OP_WRITE_SAME10 0x41
#define SBC_OP_WRITE_SAME16 0x93

bool sbc_lu_unmap_supported(const struct scsi_lu *lu)
{
	return (backend_caps(lu->be) & BACKEND_CAP_UNMAP) && !lu->readonly &&
	       scsi_opcode_find(SBC_OP_UNMAP)->handler;
}

/*
 * SBC-3 4.2.2: the group code (opcode bits 7-5) gives the CDB layout:
 * 0: 6 bytes, 21-bit LBA, 0 blocks means 256 (READ(6)/WRITE(6), SBC-3 5.8);
 * 1, 2: 10 bytes; 5: 12 bytes; 4: 16 bytes. WRITE ATOMIC(16) (SBC-4 5.48)
 * has a 16-bit TRANSFER LENGTH at byte 12 after its ATOMIC BOUNDARY.
 */
void sbc_rw_decode(const uint8_t *cdb, struct sbc_rw *rw)
{
	memset(rw, 0, sizeof(*rw));
	switch (cdb[0] >> 5) {
	case 0:
		rw->lba = get_be24(cdb + 1) & 0x1fffff;
		rw->blocks = cdb[4] ? cdb[4] : 256;
		rw->len_byte = 4;
		return;
	case 1:
	case 2:
		rw->lba = get_be32(cdb + 2);
		rw->blocks = get_be16(cdb + 7);
		rw->len_byte = 7;
		break;
	case 5:
		rw->lba = get_be32(cdb + 2);
		rw->blocks = get_be32(cdb + 6);
		rw->len_byte = 6;
		break;
	default:
		rw->lba = get_be64(cdb + 2);
		if (cdb[0] == 0x9c) {
			rw->blocks = get_be16(cdb + 12);
			rw->len_byte = 12;
		} else {
			rw->blocks = get_be32(cdb + 10);
			rw->len_byte = 10;
		}
		break;
	}
	rw->protect = cdb[1] >> 5;
	rw->fua = cdb[1] & 0x08;
}

bool sbc_range_ok(const struct scsi_lu *lu, uint64_t lba, uint64_t blocks)
{
	return lba < lu->nblocks && blocks <= lu->nblocks - lba;
}

uint32_t sbc_write_flags(const struct scsi_lu *lu, bool fua)
{
	/* SBC-3 6.4.5: with WCE off every write is durable before GOOD. */
	return fua || !lu->wce ? BACKEND_IO_FUA : 0;
}

enum sense_reason sbc_rw_check(struct scsi_cmd *cmd, const struct sbc_rw *rw, bool write)
{
	struct scsi_lu *lu = cmd->lu;
	enum sense_reason r = SENSE_OK;

	/* SBC-3 4.22: no protection information: the PROTECT field must be 0. */
	if (rw->protect) {
		r = scsi_cmd_bad_field(cmd, 1, 7);
		goto out;
	}
	/* VPD B0h MAXIMUM TRANSFER LENGTH (SBC-3 6.5.3). */
	if ((uint64_t)rw->blocks << lu->block_shift > SCSI_MAX_XFER_BYTES) {
		r = scsi_cmd_bad_field(cmd, rw->len_byte, -1);
		goto out;
	}
	if (write && scsi_lu_write_protected(lu)) {
		r = lu->readonly ? SENSE_WRITE_PROTECTED : SENSE_SOFT_WRITE_PROTECTED;
		goto out;
	}
	/* SBC-3 4.5: LBA OUT OF RANGE, also for TRANSFER LENGTH 0 past the end. */
	if (!sbc_range_ok(lu, rw->lba, rw->blocks)) {
		r = SENSE_LBA_OUT_OF_RANGE;
		goto out;
	}
	cmd->task->xfer_len = rw->blocks << lu->block_shift;
out:
	return r;
}

static enum sense_reason sbc_read_step(struct sbc_job *job, int64_t res)
{
	struct scsi_task *task = job->task;

	if (job->state++ == 0)
		return sbc_job_io(job, job->lu->be, BACKEND_OP_READ,
				  job->lba << job->lu->block_shift, task->in_len, task->in_buf, 0);
	return res < 0 ? sbc_io_reason(BACKEND_OP_READ, res) : SENSE_OK;
}

static enum sense_reason sbc_write_step(struct sbc_job *job, int64_t res)
{
	if (job->state++ == 0)
		return sbc_job_io(job, job->lu->be, BACKEND_OP_WRITE,
				  job->lba << job->lu->block_shift, job->pos,
				  (uint8_t *)job->task->out_buf, job->flags);
	return res < 0 ? sbc_io_reason(BACKEND_OP_WRITE, res) : SENSE_OK;
}

/*
 * Write what the initiator sent. With an overflow (RFC 7143 11.4.5.1: the
 * CDB asks for more than the expected data transfer length) only the whole
 * blocks that came in Data-Out are written, the rest not at all, and the
 * overflow residual tells the initiator so; this is what initiators'
 * conformance suites (libiscsi iSCSIResiduals) expect. A Data-Out that ends
 * inside a block cannot be written as such: INVALID FIELD IN INFORMATION UNIT.
 */
enum sense_reason sbc_write_job(struct scsi_cmd *cmd, const struct sbc_rw *rw)
{
	struct scsi_task *task = cmd->task;
	uint64_t bytes = (uint64_t)rw->blocks << cmd->lu->block_shift;
	enum sense_reason r = SENSE_OK;
	struct sbc_job *job;
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
	job = sbc_job_create(cmd, sbc_write_step);
	if (!job) {
		r = SENSE_BUSY;
		goto out;
	}
	job->lba = rw->lba;
	job->pos = len; /* bytes to write */
	job->flags = sbc_write_flags(cmd->lu, rw->fua);
	job->range.lba = rw->lba;
	job->range.blocks = len >> cmd->lu->block_shift;
	r = sbc_job_run(job);
out:
	return r;
}

static enum sense_reason sbc_rw_exec(struct scsi_cmd *cmd, bool write)
{
	struct scsi_task *task = cmd->task;
	struct sbc_job *job = NULL;
	enum sense_reason r;
	struct sbc_rw rw;
	uint32_t len;

	sbc_rw_decode(task->cdb, &rw);
	r = sbc_rw_check(cmd, &rw, write);
	/* SBC-3 5.9: TRANSFER LENGTH 0 moves nothing and is not an error. */
	if (r != SENSE_OK || rw.blocks == 0)
		goto out;
	if (write) {
		r = sbc_write_job(cmd, &rw);
		goto out;
	}
	/* Data-In is limited to the expected data transfer length (RFC 7143 11.4.5.1). */
	len = task->xfer_len < task->edtl ? task->xfer_len : task->edtl;
	if (len == 0)
		goto out;
	/* Zero-copy: the transport sends the range from a mapping of the store,
	 * read at send time (docs/performance.md, step 7). No job: there is no
	 * I/O to wait for, and reads hold no block range. */
	if (task->in_direct_ok && backend_read_map(cmd->lu->be, rw.lba << cmd->lu->block_shift, len,
						   &task->in_map, &task->in_map_ref) == 0) {
		task->in_len = len;
		goto out;
	}
	/* Not zeroed: the read fills all of it before any byte is sent, and
	 * zeroing cost 9% of the daemon's CPU at 1 MiB reads. */
	task->in_buf = malloc(len);
	if (task->in_buf)
		job = sbc_job_create(cmd, sbc_read_step);
	if (!job) {
		r = SENSE_BUSY;
		goto out;
	}
	task->in_len = len;
	job->lba = rw.lba;
	r = sbc_job_run(job);
out:
	return r;
}

void scsi_task_unmap(struct scsi_task *task)
{
	if (task->in_map_ref)
		backend_read_unmap(task->lu->be, task->in_map_ref);
	task->in_map_ref = NULL;
	task->in_map = NULL;
}

enum sense_reason sbc_cmd_read(struct scsi_cmd *cmd)
{
	return sbc_rw_exec(cmd, false);
}

enum sense_reason sbc_cmd_write(struct scsi_cmd *cmd)
{
	return sbc_rw_exec(cmd, true);
}

static enum sense_reason sbc_flush_step(struct sbc_job *job, int64_t res)
{
	if (job->state++ == 0)
		return sbc_job_io(job, job->lu->be, BACKEND_OP_FLUSH, 0, 0, NULL, 0);
	return res < 0 ? sbc_io_reason(BACKEND_OP_FLUSH, res) : SENSE_OK;
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
	struct sbc_job *job;

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
	job = sbc_job_create(cmd, sbc_flush_step);
	r = job ? sbc_job_run(job) : SENSE_BUSY;
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

/* SBC-3 5.16 READ CAPACITY(16). */
static enum sense_reason sbc_read_capacity16(struct scsi_cmd *cmd)
{
	const uint8_t *cdb = cmd->task->cdb;
	struct scsi_lu *lu = cmd->lu;
	uint8_t d[32] = {0};

	put_be64(d, lu->nblocks - 1);
	put_be32(d + 8, lu->block_size);
	/* LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT; LOWEST ALIGNED LBA 0. */
	d[13] = (uint8_t)lu->pb_exp;
	if (sbc_lu_unmap_supported(lu)) {
		d[14] = 0x80; /* LBPME */
		if (backend_caps(lu->be) & BACKEND_CAP_UNMAP_ZEROES)
			d[14] |= 0x40; /* LBPRZ */
	}
	return scsi_cmd_data_in_bytes(cmd, d, sizeof(d), get_be32(cdb + 10));
}

/* SBC-3 5.16 / 5.6: SERVICE ACTION IN(16): READ CAPACITY(16), GET LBA STATUS. */
enum sense_reason sbc_cmd_service_action_in(struct scsi_cmd *cmd)
{
	if ((cmd->task->cdb[1] & 0x1f) == 0x12)
		return sbc_cmd_get_lba_status(cmd);
	return sbc_read_capacity16(cmd);
}

/*
 * SBC-3 5.25 START STOP UNIT. There is nothing to spin, so START alone
 * changes nothing; a POWER CONDITION other than 0 makes START and LOEJ
 * ignored. With LOEJ a removable LU ejects (START 0) or loads (START 1) its
 * medium; a fixed one has nothing to eject and accepts. While removal is
 * prevented (5.13) an eject is refused, and on a removable LU a load too
 * (libiscsi's PreventAllow.Eject expects that).
 */
enum sense_reason sbc_cmd_start_stop_unit(struct scsi_cmd *cmd)
{
	const uint8_t *cdb = cmd->task->cdb;
	struct scsi_lu *lu = cmd->lu;
	bool start = cdb[4] & 0x01;
	enum sense_reason r = SENSE_OK;

	if ((cdb[4] & 0xf0) || !(cdb[4] & 0x02))
		goto out;
	if (scsi_lu_removal_prevented(lu) && (lu->removable || !start)) {
		r = SENSE_REMOVAL_PREVENTED;
		goto out;
	}
	if (!lu->removable)
		goto out;
	if (start && lu->medium_absent && cmd->task->itn)
		/* The other nexuses learn that the medium may have changed. */
		scsi_ua_establish_others(lu, cmd->task->itn, SENSE_UA_MEDIUM_CHANGED);
	lu->medium_absent = !start;
	qb_log(LOG_INFO, "%s: medium %s", lu->path, start ? "loaded" : "ejected");
out:
	return r;
}

/*
 * SBC-3 5.13 PREVENT ALLOW MEDIUM REMOVAL: PREVENT 00b allows, 01b prevents,
 * per I_T nexus: removal is prevented while any nexus prevents it.
 */
enum sense_reason sbc_cmd_prevent_allow(struct scsi_cmd *cmd)
{
	uint8_t prevent = cmd->task->cdb[4] & 0x03;
	struct scsi_ua_slot *slot;
	enum sense_reason r = SENSE_OK;

	/* 10b and 11b are obsolete in SBC-3. */
	if (prevent & 0x02) {
		r = scsi_cmd_bad_field(cmd, 4, 1);
		goto out;
	}
	if (!cmd->task->itn)
		goto out;
	/* The dispatch path created the slot; this only finds it. */
	slot = scsi_ua_slot_get(cmd->lu, cmd->task->itn);
	if (!slot) {
		r = SENSE_BUSY;
		goto out;
	}
	slot->prevent = prevent;
out:
	return r;
}

/*
 * SBC-3 5.19 / 5.20 READ DEFECT DATA(10/12): we know of no defects, so the
 * lists are empty, in the format the initiator asked for (SBC-3 6.2).
 */
enum sense_reason sbc_cmd_read_defect_data(struct scsi_cmd *cmd)
{
	const uint8_t *cdb = cmd->task->cdb;
	uint8_t d[8] = {0};

	/* The header echoes REQ_PLIST, REQ_GLIST and the DEFECT LIST FORMAT. */
	if (cdb[0] == 0xb7) {
		d[1] = (uint8_t)(cdb[1] & 0x1f);
		return scsi_cmd_data_in_bytes(cmd, d, 8, get_be32(cdb + 6));
	}
	d[1] = (uint8_t)(cdb[2] & 0x1f);
	return scsi_cmd_data_in_bytes(cmd, d, 4, get_be16(cdb + 7));
}

/*
 * SBC-3 5.10 / 5.11 PRE-FETCH(10/16): the page cache does its own read-ahead,
 * so only the range is checked. GOOD, not CONDITION MET: we do not promise
 * that the blocks stay cached.
 */
enum sense_reason sbc_cmd_prefetch(struct scsi_cmd *cmd)
{
	struct sbc_rw rw;
	enum sense_reason r;

	sbc_rw_decode(cmd->task->cdb, &rw);
	if (!sbc_range_ok(cmd->lu, rw.lba, rw.blocks))
		r = SENSE_LBA_OUT_OF_RANGE;
	else
		r = SENSE_OK;
	return r;
}

/* SBC-3 6.5.3 Block Limits VPD page body (after the 4-byte header). */
void sbc_vpd_block_limits(const struct scsi_lu *lu, struct buf *b)
{
	uint8_t d[0x3c] = {0};
	uint32_t max_blocks = SCSI_MAX_XFER_BYTES >> lu->block_shift;
	uint32_t unmap_gran = 4096 >> lu->block_shift;

	/* Offsets are page bytes minus the 4-byte header. */
	d[1] = SBC_CAW_MAX_BLOCKS; /* MAXIMUM COMPARE AND WRITE LENGTH */
	/* OPTIMAL TRANSFER LENGTH GRANULARITY: one physical block (SBC-3 6.5.3). */
	put_be16(d + 2, (uint16_t)(1u << lu->pb_exp));
	put_be32(d + 4, max_blocks);  /* MAXIMUM TRANSFER LENGTH */
	put_be32(d + 8, max_blocks);  /* OPTIMAL TRANSFER LENGTH */
	put_be32(d + 12, max_blocks); /* MAXIMUM PREFETCH LENGTH */
	if (sbc_lu_unmap_supported(lu)) {
		put_be32(d + 16, max_blocks); /* MAXIMUM UNMAP LBA COUNT */
		put_be32(d + 20, 256);	      /* MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT */
		/* OPTIMAL UNMAP GRANULARITY: a 4 KiB filesystem block or a
		 * physical block, whichever is larger. */
		if (unmap_gran < 1u << lu->pb_exp)
			unmap_gran = 1u << lu->pb_exp;
		put_be32(d + 24, unmap_gran);
	}
	put_be64(d + 32, SBC_WRITE_SAME_MAX_BLOCKS(lu)); /* MAXIMUM WRITE SAME LENGTH */
	/* SBC-4 6.6.4: MAXIMUM ATOMIC TRANSFER LENGTH; no alignment or granularity. */
	put_be32(d + 40, SBC_ATOMIC_MAX_BYTES >> lu->block_shift);
	buf_append(b, d, sizeof(d));
}

/* SBC-3 6.5.2 Block Device Characteristics VPD page body. */
void sbc_vpd_block_characteristics(const struct scsi_lu *lu, struct buf *b)
{
	uint8_t d[0x3c] = {0};

	put_be16(d, 0x0001); /* MEDIUM ROTATION RATE: non-rotating medium */
	/* SBC-3 6.5.2 WABEREQ 01b: reads after a SANITIZE BLOCK ERASE succeed. */
	if (sbc_lu_unmap_supported(lu))
		d[3] = 0x40;
	/* WACEREQ 01b: reads after a CRYPTOGRAPHIC ERASE succeed (the old data
	 * decrypts to unspecified bytes); 00b where it is not supported. */
	if (backend_caps(lu->be) & BACKEND_CAP_CRYPTO_ERASE)
		d[3] |= 0x10;
	buf_append(b, d, sizeof(d));
}

/* SBC-3 6.5.4 Logical Block Provisioning VPD page body. */
void sbc_vpd_provisioning(const struct scsi_lu *lu, struct buf *b)
{
	uint8_t d[4] = {0};

	if (sbc_lu_unmap_supported(lu)) {
		d[1] = 0x80; /* LBPU */
		if (scsi_opcode_find(SBC_OP_WRITE_SAME16)->handler)
			d[1] |= 0x40; /* LBPWS */
		if (scsi_opcode_find(SBC_OP_WRITE_SAME10)->handler)
			d[1] |= 0x20; /* LBPWS10 */
		if (backend_caps(lu->be) & BACKEND_CAP_UNMAP_ZEROES)
			d[1] |= 0x04; /* LBPRZ */
		d[2] = 0x02;	      /* PROVISIONING TYPE: thin */
	}
	buf_append(b, d, sizeof(d));
}

/*
 * SBC-3 6.4.5 Caching mode page. WCE is changeable where the store has a
 * volatile cache: with WCE 0 every write is written through (FUA).
 */
void sbc_mode_page_caching(const struct scsi_lu *lu, bool changeable, struct buf *b)
{
	uint8_t p[20] = {0x08, 0x12};
	bool cache = backend_caps(lu->be) & BACKEND_CAP_VOLATILE_CACHE;

	if (changeable ? cache : lu->wce)
		p[2] = 0x04;
	buf_append(b, p, sizeof(p));
}
