/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Task execution: table-driven dispatch, the generic checks every command
 * goes through (LU presence, unit attentions, control byte, service
 * actions), and the completion path for asynchronous backing I/O.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include "scsi/scsi_int.h"

/* I/O requests in flight across all LUs before submissions get BUSY. */
#define SCSI_ENGINE_DEPTH 1024

static struct backend_engine *scsi_io_engine;

#define ROW(op, nm, fn, len, fl) [op] = {.name = nm, .handler = fn, .cdb_len = len, .flags = fl}
#define SPC_NO_UA (SCSI_OP_NO_LU | SCSI_OP_UA_EXEMPT)
/* Shorthands: reads / writes user data on the medium. */
#define RD (SCSI_OP_READS_MEDIUM | SCSI_OP_MEDIUM)
#define WR (SCSI_OP_WRITES_MEDIUM | SCSI_OP_MEDIUM)

/* One row per operation code; an empty row is INVALID COMMAND OPERATION CODE. */
static const struct scsi_opcode scsi_opcodes[256] = {
	ROW(0x00, "TEST UNIT READY", spc_cmd_test_unit_ready, 6,
	    SCSI_OP_PR_ALLOWED | SCSI_OP_MEDIUM),
	ROW(0x03, "REQUEST SENSE", spc_cmd_request_sense, 6, SPC_NO_UA | SCSI_OP_PR_ALLOWED),
	ROW(0x08, "READ(6)", sbc_cmd_read, 6, RD),
	ROW(0x0a, "WRITE(6)", sbc_cmd_write, 6, WR),
	ROW(0x12, "INQUIRY", spc_cmd_inquiry, 6, SPC_NO_UA | SCSI_OP_PR_ALLOWED),
	ROW(0x16, "RESERVE(6)", spc_cmd_reserve, 6, SCSI_OP_PR_OWN),
	ROW(0x17, "RELEASE(6)", spc_cmd_release, 6, SCSI_OP_PR_OWN),
	ROW(0x15, "MODE SELECT(6)", spc_cmd_mode_select, 6, 0),
	ROW(0x1a, "MODE SENSE(6)", spc_cmd_mode_sense, 6, 0),
	ROW(0x1b, "START STOP UNIT", sbc_cmd_start_stop_unit, 6, 0),
	ROW(0x1e, "PREVENT ALLOW MEDIUM REMOVAL", sbc_cmd_prevent_allow, 6, 0),
	ROW(0x25, "READ CAPACITY(10)", sbc_cmd_read_capacity10, 10,
	    SCSI_OP_PR_ALLOWED | SCSI_OP_MEDIUM),
	ROW(0x28, "READ(10)", sbc_cmd_read, 10, RD),
	ROW(0x2a, "WRITE(10)", sbc_cmd_write, 10, WR),
	ROW(0x2e, "WRITE AND VERIFY(10)", sbc_cmd_write_verify, 10, WR),
	ROW(0x2f, "VERIFY(10)", sbc_cmd_verify, 10, RD),
	ROW(0x34, "PRE-FETCH(10)", sbc_cmd_prefetch, 10, RD),
	ROW(0x35, "SYNCHRONIZE CACHE(10)", sbc_cmd_sync_cache, 10, SCSI_OP_MEDIUM),
	ROW(0x37, "READ DEFECT DATA(10)", sbc_cmd_read_defect_data, 10, SCSI_OP_MEDIUM),
	ROW(0x41, "WRITE SAME(10)", sbc_cmd_write_same, 10, WR),
	ROW(0x42, "UNMAP", sbc_cmd_unmap, 10, WR),
	/* SBC-3 5.27: SANITIZE: OVERWRITE, BLOCK ERASE, CRYPTOGRAPHIC ERASE (only
	 * on encrypted LUs: the handler checks), EXIT FAILURE MODE. */
	[0x48] = {.name = "SANITIZE",
		  .handler = sbc_cmd_sanitize,
		  .cdb_len = 10,
		  .flags = WR,
		  .sa_mask = 1u << 0x01 | 1u << 0x02 | 1u << 0x03 | 1u << 0x1f},
	ROW(0x55, "MODE SELECT(10)", spc_cmd_mode_select, 10, 0),
	ROW(0x56, "RESERVE(10)", spc_cmd_reserve, 10, SCSI_OP_PR_OWN),
	ROW(0x57, "RELEASE(10)", spc_cmd_release, 10, SCSI_OP_PR_OWN),
	ROW(0x5a, "MODE SENSE(10)", spc_cmd_mode_sense, 10, 0),
	/* SPC-4 6.15 / 6.16: service actions 0-3 / 0-7. */
	[0x5e] = {.name = "PERSISTENT RESERVE IN",
		  .handler = spc_cmd_pr_in,
		  .cdb_len = 10,
		  .flags = SCSI_OP_PR_CMD,
		  .sa_mask = 0x0f},
	[0x5f] = {.name = "PERSISTENT RESERVE OUT",
		  .handler = spc_cmd_pr_out,
		  .cdb_len = 10,
		  .flags = SCSI_OP_PR_CMD,
		  .sa_mask = 0xff},
	/* SPC-4 6.4 / 6.18: EXTENDED COPY (LID1), RECEIVE COPY RESULTS. */
	[0x83] = {.name = "EXTENDED COPY",
		  .handler = sbc_cmd_extended_copy,
		  .cdb_len = 16,
		  .flags = RD | WR,
		  .sa_mask = 1u << 0x00},
	[0x84] = {.name = "RECEIVE COPY RESULTS",
		  .handler = sbc_cmd_receive_copy_results,
		  .cdb_len = 16,
		  .sa_mask = 1u << 0x00 | 1u << 0x03},
	ROW(0x88, "READ(16)", sbc_cmd_read, 16, RD),
	ROW(0x89, "COMPARE AND WRITE", sbc_cmd_compare_and_write, 16, RD | WR),
	ROW(0x8a, "WRITE(16)", sbc_cmd_write, 16, WR),
	ROW(0x8b, "ORWRITE(16)", sbc_cmd_orwrite, 16, RD | WR),
	ROW(0x8e, "WRITE AND VERIFY(16)", sbc_cmd_write_verify, 16, WR),
	ROW(0x8f, "VERIFY(16)", sbc_cmd_verify, 16, RD),
	ROW(0x90, "PRE-FETCH(16)", sbc_cmd_prefetch, 16, RD),
	ROW(0x91, "SYNCHRONIZE CACHE(16)", sbc_cmd_sync_cache, 16, SCSI_OP_MEDIUM),
	ROW(0x93, "WRITE SAME(16)", sbc_cmd_write_same, 16, WR),
	ROW(0x9c, "WRITE ATOMIC(16)", sbc_cmd_write_atomic, 16, WR),
	/* SBC-3 5.16 / 5.6: SERVICE ACTION IN(16): READ CAPACITY(16), GET LBA STATUS. */
	[0x9e] = {.name = "SERVICE ACTION IN(16)",
		  .handler = sbc_cmd_service_action_in,
		  .cdb_len = 16,
		  .flags = SCSI_OP_MEDIUM,
		  .sa_mask = 1u << 0x10 | 1u << 0x12},
	ROW(0xa0, "REPORT LUNS", spc_cmd_report_luns, 12, SPC_NO_UA | SCSI_OP_PR_ALLOWED),
	/* SPC-4 6.35 / 6.40: REPORT SUPPORTED OPERATION CODES / TASK MANAGEMENT FUNCTIONS. */
	[0xa3] = {.name = "MAINTENANCE IN",
		  .handler = spc_cmd_maintenance_in,
		  .cdb_len = 12,
		  .sa_mask = 1u << 0x0c | 1u << 0x0d},
	ROW(0xa8, "READ(12)", sbc_cmd_read, 12, RD),
	ROW(0xaa, "WRITE(12)", sbc_cmd_write, 12, WR),
	ROW(0xae, "WRITE AND VERIFY(12)", sbc_cmd_write_verify, 12, WR),
	ROW(0xaf, "VERIFY(12)", sbc_cmd_verify, 12, RD),
	ROW(0xb7, "READ DEFECT DATA(12)", sbc_cmd_read_defect_data, 12, SCSI_OP_MEDIUM),
};

const struct scsi_opcode *scsi_opcode_find(uint8_t opcode)
{
	return &scsi_opcodes[opcode];
}

bool scsi_lu_write_protected(const struct scsi_lu *lu)
{
	return lu->readonly || lu->swp;
}

struct backend_engine *scsi_engine(void)
{
	return scsi_io_engine;
}

int scsi_init(void)
{
	int ret = 0;

	if (!scsi_io_engine)
		ret = backend_engine_create(SCSI_ENGINE_DEPTH, &scsi_io_engine);
	if (ret < 0)
		qb_log(LOG_ERR, "cannot set up the I/O engine: %s", strerror(-ret));
	return ret;
}

void scsi_fini(void)
{
	backend_engine_destroy(scsi_io_engine);
	scsi_io_engine = NULL;
}

int scsi_completion_fd(void)
{
	return scsi_io_engine ? backend_engine_fd(scsi_io_engine) : -1;
}

void scsi_completion_run(void)
{
	if (scsi_io_engine)
		backend_engine_run(scsi_io_engine);
}

void scsi_completion_hold(void)
{
	if (scsi_io_engine)
		backend_engine_hold(scsi_io_engine);
}

void scsi_completion_release(void)
{
	if (scsi_io_engine)
		backend_engine_release(scsi_io_engine);
}

enum sense_reason scsi_cmd_bad_field(struct scsi_cmd *cmd, uint16_t byte, int8_t bit)
{
	cmd->field.valid = true;
	cmd->field.in_cdb = true;
	cmd->field.byte = byte;
	cmd->field.bit = bit;
	return SENSE_INVALID_FIELD_IN_CDB;
}

enum sense_reason scsi_cmd_data_in(struct scsi_cmd *cmd, struct buf *b, uint32_t alloc_len)
{
	struct scsi_task *task = cmd->task;
	enum sense_reason r = SENSE_OK;
	uint32_t n;

	if (b->err) {
		r = SENSE_BUSY;
		goto out;
	}
	n = b->len < alloc_len ? (uint32_t)b->len : alloc_len;
	task->xfer_len = n;
	task->in_len = n < task->edtl ? n : task->edtl;
	if (task->in_len) {
		task->in_buf = b->data;
		b->data = NULL;
	}
out:
	buf_release(b);
	return r;
}

enum sense_reason scsi_cmd_data_in_bytes(struct scsi_cmd *cmd, const void *p, size_t len,
					 uint32_t alloc_len)
{
	struct buf b = BUF_INIT;

	buf_append(&b, p, len);
	return scsi_cmd_data_in(cmd, &b, alloc_len);
}

void scsi_task_finish(struct scsi_task *task, enum sense_reason reason,
		      const struct sense_field *field)
{
	task->status = sense_status(reason);
	task->sense_len = 0;
	/* SPC-4 7.5.8: the control mode page's D_SENSE picks descriptor format. */
	if (task->status == SCSI_STATUS_CHECK_CONDITION)
		task->sense_len = (uint8_t)sense_build(reason, field, task->lu && task->lu->d_sense,
						       task->sense, sizeof(task->sense));
	if (task->status != SCSI_STATUS_GOOD) {
		/* No data goes with an error status. */
		free(task->in_buf);
		task->in_buf = NULL;
		task->in_len = 0;
	}
	task->done(task);
}

/* The checks every command goes through before its handler, in SAM-5 order. */
static enum sense_reason scsi_cmd_dispatch(struct scsi_cmd *cmd)
{
	struct scsi_task *task = cmd->task;
	const struct scsi_opcode *op = scsi_opcode_find(task->cdb[0]);
	struct scsi_ua_slot *slot;
	enum sense_reason r = SENSE_OK;

	cmd->op = op;
	/* SPC-4 4.6.4.2 / SAM-5 5.9.4: no LU: only a few commands work. */
	if (!cmd->lu && !(op->flags & SCSI_OP_NO_LU)) {
		r = SENSE_LUN_NOT_SUPPORTED;
		goto out;
	}
	/* SPC-4 5.16.2.4.4: the backing store is closed (cluster node not
	 * promoted; the portals are closed then, so this is a safety net).
	 * Every command, so nothing reaches a NULL backend; pending unit
	 * attentions stay queued for when the LU is attached again. */
	if (cmd->lu && !cmd->lu->be) {
		r = SENSE_LU_STANDBY;
		goto out;
	}
	if (cmd->lu && task->itn) {
		slot = scsi_ua_slot_get(cmd->lu, task->itn);
		/* SAM-5 5.14: report (and clear) a pending UA except for these. */
		if (!slot)
			r = SENSE_BUSY;
		else if (!(op->flags & SCSI_OP_UA_EXEMPT))
			r = scsi_ua_slot_pop(slot);
		if (r != SENSE_OK)
			goto out;
	}
	if (!op->handler) {
		cmd->field = (struct sense_field){true, true, 0, -1};
		r = SENSE_INVALID_OPCODE;
	} else if (cmd->lu && cmd->lu->sanitizing && !(op->flags & SCSI_OP_NO_LU)) {
		/* SBC-3 4.11: only INQUIRY, REPORT LUNS, REQUEST SENSE during SANITIZE. */
		r = SENSE_SANITIZE_IN_PROGRESS;
	} else if (cmd->lu && cmd->lu->medium_absent && (op->flags & SCSI_OP_MEDIUM)) {
		/* SBC-3 5.25: the medium was ejected; INQUIRY, MODE SENSE, START STOP
		 * UNIT, PREVENT ALLOW and the like still work. */
		r = SENSE_MEDIUM_NOT_PRESENT;
	} else if (task->cdb_len < op->cdb_len) {
		r = scsi_cmd_bad_field(cmd, 0, -1);
	} else if (task->cdb[op->cdb_len - 1] & 0x04) {
		/* SAM-5 5.2 CONTROL byte: NACA unsupported (INQUIRY NormACA = 0). */
		r = scsi_cmd_bad_field(cmd, op->cdb_len - 1, 2);
	} else if (op->sa_mask && !(op->sa_mask & (1u << (task->cdb[1] & 0x1f)))) {
		r = scsi_cmd_bad_field(cmd, 1, 4);
	} else {
		/* SPC-4 5.12.1: reservation conflicts (spc_pr.c). */
		r = scsi_pr_check(cmd);
		if (r == SENSE_OK)
			r = op->handler(cmd);
	}
out:
	return r;
}

void scsi_task_exec(struct scsi_task *task)
{
	struct scsi_cmd cmd = {.task = task, .lu = task->lu};
	enum sense_reason r;

	task->status = SCSI_STATUS_GOOD;
	task->sense_len = 0;
	task->in_buf = NULL;
	task->in_len = 0;
	task->xfer_len = 0;
	task->priv = NULL;
	if (task->cdb_len == 0 || task->cdb_len > SCSI_CDB_MAX) {
		r = SENSE_INVALID_OPCODE;
		goto out;
	}
	r = scsi_cmd_dispatch(&cmd);
	qb_log(LOG_DEBUG, "lun %llu op 0x%02x %s: reason %d", (unsigned long long)task->lun,
	       task->cdb[0], cmd.op->name ? cmd.op->name : "unknown", (int)r);
out:
	if (r != SENSE_ASYNC)
		scsi_task_finish(task, r, &cmd.field);
}

void scsi_task_release(struct scsi_task *task)
{
	free(task->in_buf);
	task->in_buf = NULL;
	task->in_len = 0;
	free(task->priv);
	task->priv = NULL;
}
