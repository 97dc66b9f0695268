/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SCSI commands over iSCSI (RFC 7143 sections 3.2.4, 11.3-11.8): write data
 * collection (immediate data, unsolicited Data-Out, R2T), execution by the
 * SCSI layer, Data-In and SCSI Response with residuals, and task
 * management.
 *
 * Negotiation gives DataPDUInOrder=Yes and DataSequenceInOrder=Yes (we
 * offer Yes and the result is the OR, 13.19/13.20), so write data arrives
 * at strictly increasing offsets: a task needs only a high-water mark.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <qb/qblog.h>

#include "iscsi/conn.h"
#include "iscsi/pdu.h"
#include "util/be.h"

static void task_exec(struct iscsi_task *task);
static void task_r2t_pump(struct iscsi_task *task);

/*
 * Decode the LUN field (SAM-5 4.6): peripheral device addressing with bus
 * 0, or flat space addressing, single level. \return the LUN or UINT64_MAX.
 */
static uint64_t task_lun_decode(const uint8_t *f)
{
	uint8_t method = f[0] >> 6;
	size_t i;

	for (i = 2; i < 8; i++)
		if (f[i])
			return UINT64_MAX;
	if (method == 0)
		return (f[0] & 0x3f) ? UINT64_MAX : f[1];
	if (method == 1)
		return ((uint64_t)(f[0] & 0x3f) << 8) | f[1];
	return UINT64_MAX;
}

/* A cheap clock (no syscall through the vDSO, ~ms resolution): enough for
 * the latency counters hatgtadm sessions shows. */
static uint64_t task_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static struct iscsi_task *task_find(struct iscsi_conn *conn, uint32_t itt)
{
	struct iscsi_task *t;

	list_for_each_entry(t, &conn->tasks, node)
		if (t->itt == itt)
			return t;
	return NULL;
}

static void task_free(struct iscsi_task *task)
{
	/* A zero-copy READ kept its LU reference: the LU's store owns the
	 * mapping its Data-In was sent from (task_scsi_done). The last byte
	 * has left: release the mapping, then the LU. */
	scsi_task_unmap(&task->scsi);
	if (task->scsi.lu)
		scsi_lu_put(task->scsi.lu);
	task->scsi.lu = NULL;
	scsi_task_release(&task->scsi);
	free(task->wbuf);
	conn_task_recycle(task->conn, task);
}

void task_tx_release(struct iscsi_task *task)
{
	if (--task->tx_refs == 0 && task->state == TASK_DONE)
		task_free(task);
}

/* ---- SCSI Command ------------------------------------------------------- */

void task_cmd_header(struct iscsi_conn *conn)
{
	struct iscsi_session *sess = conn->sess;
	const uint8_t *bhs = conn->bhs;
	uint8_t flags = bhs[1];
	uint32_t itt = get_be32(bhs + ISCSI_OFF_ITT);
	uint32_t edtl = get_be32(bhs + ISCSI_OFF_EDTL);
	uint32_t dlen = conn->rx_dlen;
	const uint8_t *ext;
	struct iscsi_task *task;
	uint32_t ext_len;

	conn->rx_discard = true; /* until the command is accepted below */
	if (sess->type != ISCSI_SESSION_NORMAL) {
		/* 11.3: discovery sessions carry only Text and Logout. */
		conn_reject(conn, bhs, ISCSI_REJECT_PROTOCOL_ERROR);
		return;
	}
	if (!session_cmdsn_accept(sess, get_be32(bhs + ISCSI_OFF_SN), iscsi_bhs_immediate(bhs)))
		return;
	if (itt == ISCSI_RSVD_TAG || task_find(conn, itt)) {
		conn_reject(conn, bhs, ISCSI_REJECT_PROTOCOL_ERROR);
		return;
	}
	if ((flags & ISCSI_CMD_READ) && (flags & ISCSI_CMD_WRITE)) {
		/* Bidirectional commands: no command we serve has two. */
		conn_reject(conn, bhs, ISCSI_REJECT_CMD_NOT_SUPPORTED);
		return;
	}
	if (dlen && (!(flags & ISCSI_CMD_WRITE) || !conn->params.immediate_data ||
		     dlen > conn->params.first_burst || dlen > edtl)) {
		/* Immediate data is allowed only for writes, when negotiated,
		 * within FirstBurstLength and the EDTL (3.2.4.2, 13.14). */
		qb_log(LOG_WARNING, "%s: %u bytes of immediate data not allowed (EDTL %u)",
		       conn_who(conn), dlen, edtl);
		conn_reject(conn, bhs, ISCSI_REJECT_PROTOCOL_ERROR);
		return;
	}
	task = conn_task_alloc(conn);
	if (!task) {
		conn_reject(conn, bhs, ISCSI_REJECT_OUT_OF_RESOURCES);
		return;
	}
	task->conn = conn;
	task->itt = itt;
	task->cmdsn = get_be32(bhs + ISCSI_OFF_SN);
	task->start_us = task_now_us();
	task->lun_field = get_be64(bhs + ISCSI_OFF_LUN);
	task->state = TASK_DATA_OUT;
	task->ttt = ISCSI_RSVD_TAG;
	memcpy(task->scsi.cdb, bhs + ISCSI_OFF_CDB, ISCSI_CDB_LEN);
	task->scsi.cdb_len = ISCSI_CDB_LEN;
	ext = iscsi_ahs_find(conn->ahs, conn->ahs_len, ISCSI_AHS_EXTENDED_CDB, &ext_len);
	if (ext_len == UINT32_MAX || (ext && ext_len > SCSI_CDB_MAX - ISCSI_CDB_LEN)) {
		conn_task_recycle(conn, task);
		conn_reject(conn, bhs, ISCSI_REJECT_INVALID_PDU_FIELD);
		return;
	}
	if (ext) {
		memcpy(task->scsi.cdb + ISCSI_CDB_LEN, ext, ext_len);
		task->scsi.cdb_len = (uint8_t)(ISCSI_CDB_LEN + ext_len);
	}
	task->scsi.edtl = edtl;
	task->scsi.dir = (flags & ISCSI_CMD_WRITE)  ? SCSI_DIR_WRITE
			 : (flags & ISCSI_CMD_READ) ? SCSI_DIR_READ
						    : SCSI_DIR_NONE;
	task->scsi.lun = task_lun_decode(bhs + ISCSI_OFF_LUN);
	if (task->scsi.dir == SCSI_DIR_WRITE && edtl) {
		if (edtl > ISCSI_MAX_XFER) {
			/* We cannot buffer it; the SCSI layer refuses such a
			 * transfer length anyway. Execute without data so it
			 * answers with its sense; immediate data is skipped. */
			task->scsi.dir = SCSI_DIR_NONE;
		} else {
			task->wbuf = malloc(edtl);
			if (!task->wbuf) {
				conn_task_recycle(conn, task);
				conn_reject(conn, bhs, ISCSI_REJECT_OUT_OF_RESOURCES);
				return;
			}
			/* Unsolicited data: immediate plus, with InitialR2T=No,
			 * Data-Out up to FirstBurstLength (3.2.4.2). */
			if (conn->params.initial_r2t || (flags & ISCSI_FLAG_FINAL))
				task->unsol_end = dlen; /* no unsolicited Data-Out follows */
			else
				task->unsol_end = edtl < conn->params.first_burst
							  ? edtl
							  : conn->params.first_burst;
			task->r2t_next = task->unsol_end;
			if (dlen) {
				conn->rx_data = task->wbuf;
				conn->rx_discard = false;
			}
		}
	}
	list_add_tail(&task->node, &conn->tasks);
	conn->ntasks++;
	conn->rx_task = task;
	conn->rx_discard = conn->rx_data == NULL && dlen > 0;
}

void task_cmd_done(struct iscsi_conn *conn)
{
	struct iscsi_task *task = conn->rx_task;

	if (!task)
		return;
	if (task->wbuf)
		task->wlen = conn->rx_dlen;
	task->data_sn = 0;
	if (task->scsi.dir != SCSI_DIR_WRITE || task->wlen == task->scsi.edtl) {
		task_exec(task);
		return;
	}
	if (task->wlen >= task->unsol_end)
		task_r2t_pump(task);
}

/* ---- R2T and Data-Out --------------------------------------------------- */

/*
 * End a command that failed in the transport before execution: a SCSI
 * Response with the iSCSI response "Target Failure" (11.4.3). Later
 * Data-Out for its ITT is discarded as for any unknown task.
 */
static void task_fail_transport(struct iscsi_task *task)
{
	struct iscsi_conn *conn = task->conn;
	uint8_t rsp[ISCSI_BHS_LEN] = {0};

	list_del(&task->node);
	conn->ntasks--;
	if (conn->rx_task == task)
		conn->rx_task = NULL;
	rsp[0] = ISCSI_OP_SCSI_RSP;
	rsp[1] = ISCSI_FLAG_FINAL;
	rsp[ISCSI_OFF_RESPONSE] = ISCSI_RESPONSE_TARGET_FAILURE;
	put_be32(rsp + ISCSI_OFF_ITT, task->itt);
	conn_fill_sn(conn, rsp, true);
	conn->sess->nerrors++;
	task_free(task);
	conn_send(conn, rsp, NULL, 0, NULL);
}

/*
 * Solicit the next burst. One R2T at a time: MaxOutstandingR2T may allow
 * more, but sequences arrive in order anyway (DataSequenceInOrder), so one
 * outstanding R2T keeps the bookkeeping to a high-water mark (13.17 lets
 * the target send fewer than the negotiated maximum).
 */
static void task_r2t_pump(struct iscsi_task *task)
{
	struct iscsi_conn *conn = task->conn;
	uint8_t r2t[ISCSI_BHS_LEN] = {0};
	uint32_t len;

	if (task->r2t_out > 0 || task->r2t_next >= task->scsi.edtl)
		return;
	len = task->scsi.edtl - task->r2t_next;
	if (len > conn->params.max_burst)
		len = conn->params.max_burst;
	task->ttt = conn_new_ttt(conn);
	r2t[0] = ISCSI_OP_R2T;
	r2t[1] = ISCSI_FLAG_FINAL;
	put_be64(r2t + ISCSI_OFF_LUN, task->lun_field);
	put_be32(r2t + ISCSI_OFF_ITT, task->itt);
	put_be32(r2t + ISCSI_OFF_TTT, task->ttt);
	conn_fill_sn(conn, r2t, false);
	put_be32(r2t + ISCSI_OFF_DATASN, task->r2t_sn++);
	put_be32(r2t + ISCSI_OFF_BUFOFF, task->r2t_next);
	put_be32(r2t + ISCSI_OFF_RESID, len);
	task->r2t_next += len;
	task->r2t_end = task->r2t_next;
	task->r2t_out++;
	task->data_sn = 0;
	conn_send(conn, r2t, NULL, 0, NULL);
}

void task_data_out_header(struct iscsi_conn *conn)
{
	const uint8_t *bhs = conn->bhs;
	uint32_t itt = get_be32(bhs + ISCSI_OFF_ITT);
	uint32_t ttt = get_be32(bhs + ISCSI_OFF_TTT);
	uint32_t off = get_be32(bhs + ISCSI_OFF_BUFOFF);
	uint32_t datasn = get_be32(bhs + ISCSI_OFF_DATASN);
	uint32_t dlen = conn->rx_dlen;
	struct iscsi_task *task = task_find(conn, itt);
	bool unsolicited;

	conn->rx_discard = true;
	if (!task || task->state != TASK_DATA_OUT) {
		/* Data for a task we aborted or already answered: discard it
		 * (11.7.4: the target drops it). */
		qb_log(LOG_DEBUG, "%s: Data-Out for unknown task 0x%08x discarded", conn_who(conn),
		       itt);
		return;
	}
	unsolicited = task->wlen < task->unsol_end;
	if (unsolicited ? ttt != ISCSI_RSVD_TAG : (task->r2t_out == 0 || ttt != task->ttt)) {
		qb_log(LOG_WARNING, "%s: Data-Out for task 0x%08x with wrong TTT 0x%08x",
		       conn_who(conn), itt, ttt);
		conn_reject(conn, bhs, ISCSI_REJECT_INVALID_PDU_FIELD);
		return;
	}
	if (datasn != task->data_sn) {
		/* 11.7.5: DataSN counts the PDUs of a sequence. At ERL 0 a
		 * missing or repeated PDU cannot be recovered: the command
		 * fails, the connection and the other commands go on. */
		qb_log(LOG_WARNING, "%s: Data-Out for task 0x%08x has DataSN %u, expected %u",
		       conn_who(conn), itt, datasn, task->data_sn);
		conn_reject(conn, bhs, ISCSI_REJECT_PROTOCOL_ERROR);
		task_fail_transport(task);
		return;
	}
	if (off != task->wlen || dlen > task->scsi.edtl - off ||
	    (!unsolicited && dlen > task->r2t_end - off) ||
	    (unsolicited && dlen > task->unsol_end - off)) {
		qb_log(LOG_WARNING,
		       "%s: Data-Out for task 0x%08x at offset %u length %u does not "
		       "fit (have %u of %u)",
		       conn_who(conn), itt, off, dlen, task->wlen, task->scsi.edtl);
		conn_reject(conn, bhs, ISCSI_REJECT_PROTOCOL_ERROR);
		conn_close(conn, "Data-Out offset error");
		return;
	}
	if (dlen) {
		conn->rx_data = task->wbuf + off;
		conn->rx_discard = false;
	}
	conn->rx_task = task;
}

void task_data_out_done(struct iscsi_conn *conn)
{
	struct iscsi_task *task = conn->rx_task;
	bool final = conn->bhs[1] & ISCSI_FLAG_FINAL;
	bool unsolicited;

	if (!task)
		return;
	unsolicited = task->wlen < task->unsol_end;
	task->wlen += conn->rx_dlen;
	task->data_sn++;
	conn->sess->bytes_written += conn->rx_dlen;
	if (final) {
		task->data_sn = 0;
		if (unsolicited) {
			/* The unsolicited burst may end short of FirstBurstLength
			 * (F bit, 3.2.4.2): solicit from where it really ended. */
			task->unsol_end = task->wlen;
			task->r2t_next = task->wlen;
		} else if (task->wlen >= task->r2t_end) {
			task->r2t_out--;
		}
	}
	if (task->wlen == task->scsi.edtl) {
		task_exec(task);
		return;
	}
	if (task->wlen >= task->unsol_end && task->r2t_out == 0)
		task_r2t_pump(task);
}

/* ---- execution and response --------------------------------------------- */

static void task_tmf_done(struct iscsi_tmf *tmf);

static void task_send_response(struct iscsi_task *task)
{
	struct iscsi_conn *conn = task->conn;
	struct scsi_task *st = &task->scsi;
	uint32_t in_len = st->in_len > st->edtl ? st->edtl : st->in_len;
	uint8_t rsp[ISCSI_BHS_LEN] = {0};
	uint8_t resid_flags = 0;
	uint32_t resid = 0, off = 0, datasn = 0, burst = 0;
	uint8_t sense[2 + SCSI_SENSE_MAX];
	int rc;

	/* Residuals (11.4.5): the CDB's transfer length against the EDTL. */
	if (st->xfer_len > st->edtl) {
		resid_flags = ISCSI_RSP_OVERFLOW;
		resid = st->xfer_len - st->edtl;
	} else if (st->xfer_len < st->edtl) {
		resid_flags = ISCSI_RSP_UNDERFLOW;
		resid = st->edtl - st->xfer_len;
	}

	/* Data-In (11.7): status rides in the last PDU when there is no sense. */
	if (st->dir == SCSI_DIR_READ && in_len > 0) {
		bool with_status = st->status == SCSI_STATUS_GOOD && st->sense_len == 0;

		while (off < in_len) {
			uint32_t n = in_len - off;
			bool last;

			if (n > conn->params.max_xmit_dsl)
				n = conn->params.max_xmit_dsl;
			if (n > conn->params.max_burst - burst)
				n = conn->params.max_burst - burst;
			last = off + n == in_len;
			burst += n;
			memset(rsp, 0, sizeof(rsp));
			rsp[0] = ISCSI_OP_DATA_IN;
			/* F ends each MaxBurstLength sequence (11.7.1). */
			if (last || burst == conn->params.max_burst)
				rsp[1] |= ISCSI_FLAG_FINAL;
			if (burst == conn->params.max_burst)
				burst = 0;
			put_be64(rsp + ISCSI_OFF_LUN, task->lun_field);
			put_be32(rsp + ISCSI_OFF_ITT, task->itt);
			put_be32(rsp + ISCSI_OFF_TTT, ISCSI_RSVD_TAG);
			if (last && with_status) {
				rsp[1] |= ISCSI_DATAIN_STATUS | resid_flags;
				rsp[ISCSI_OFF_STATUS] = st->status;
				conn_fill_sn(conn, rsp, true);
				put_be32(rsp + ISCSI_OFF_RESID, resid);
			} else {
				conn_fill_sn(conn, rsp, false);
				put_be32(rsp + ISCSI_OFF_SN, 0);
			}
			put_be32(rsp + ISCSI_OFF_DATASN, datasn++);
			put_be32(rsp + ISCSI_OFF_BUFOFF, off);
			/* Zero-copy READ: straight from the store's mapping. */
			rc = conn_send(conn, rsp, st->in_map ? st->in_map + off : st->in_buf + off,
				       n, task);
			if (rc < 0)
				return;
			off += n;
		}
		conn->sess->bytes_read += in_len;
		if (with_status)
			return;
	}

	memset(rsp, 0, sizeof(rsp));
	rsp[0] = ISCSI_OP_SCSI_RSP;
	rsp[1] = ISCSI_FLAG_FINAL | resid_flags;
	rsp[ISCSI_OFF_RESPONSE] = ISCSI_RESPONSE_COMPLETED;
	rsp[ISCSI_OFF_STATUS] = st->status;
	put_be32(rsp + ISCSI_OFF_ITT, task->itt);
	conn_fill_sn(conn, rsp, true);
	put_be32(rsp + ISCSI_OFF_DATASN, st->dir == SCSI_DIR_READ ? datasn : task->r2t_sn);
	put_be32(rsp + ISCSI_OFF_RESID, resid);
	if (st->status != SCSI_STATUS_GOOD)
		conn->sess->nerrors++;
	if (st->sense_len) {
		/* 11.4.7: SenseLength, then the sense data. */
		put_be16(sense, st->sense_len);
		memcpy(sense + 2, st->sense, st->sense_len);
		conn_send(conn, rsp, sense, 2u + st->sense_len, NULL);
	} else {
		conn_send(conn, rsp, NULL, 0, NULL);
	}
}

static void task_scsi_done(struct scsi_task *st)
{
	struct iscsi_task *task = (struct iscsi_task *)st;
	struct iscsi_conn *conn = task->conn;

	/* The LU reference goes now, unless the Data-In is still to be read
	 * from its store's mapping (zero-copy READ): then when the task is freed. */
	if (st->lu && !st->in_map) {
		scsi_lu_put(st->lu);
		st->lu = NULL;
	}
	list_del(&task->node);
	conn->ntasks--;
	if (task->aborted || conn->state == CONN_CLOSED) {
		/* No response for an aborted task (11.5.1); a TMF may be
		 * waiting for it to leave the backend. */
		struct iscsi_tmf *tmf = task->tmf;

		task_free(task);
		if (tmf && --tmf->waiting == 0)
			task_tmf_done(tmf);
	} else {
		uint64_t lat = task_now_us() - task->start_us;
		struct iscsi_session *sess = conn->sess;

		sess->nlat++;
		sess->lat_sum_us += lat;
		if (lat > sess->lat_max_us)
			sess->lat_max_us = lat;
		task->state = TASK_DONE;
		task->tx_refs++; /* hold the task while queueing */
		task_send_response(task);
		task_tx_release(task);
	}
	if (conn->srv->draining && conn->ntasks == 0 && conn->state == CONN_FFP)
		conn_close(conn, "target draining");
	conn_put(conn);
}

static void task_exec(struct iscsi_task *task)
{
	struct iscsi_conn *conn = task->conn;
	struct iscsi_session *sess = conn->sess;
	struct scsi_task *st = &task->scsi;

	task->state = TASK_EXEC;
	st->lu = target_lu(sess->target, st->lun);
	if (st->lu)
		scsi_lu_get(st->lu);
	st->itn = sess->itn;
	st->lun_list = &sess->target->lun_list;
	st->out_buf = task->wbuf;
	st->out_len = task->wlen;
	st->done = task_scsi_done;
	/* Data-In may come straight from a mapping of the LUN's store, not
	 * through a buffer, when the data digest does not need the bytes. */
	st->in_direct_ok = st->dir == SCSI_DIR_READ && iscsi_datain_direct_ok(&conn->params);
	conn_get(conn);
	scsi_task_exec(st);
}

/* ---- task management (11.5, 11.6) --------------------------------------- */

static void task_tmf_send(struct iscsi_tmf *tmf)
{
	struct iscsi_conn *conn = tmf->conn;
	uint8_t rsp[ISCSI_BHS_LEN] = {0};

	if (conn->state != CONN_FFP)
		return;
	rsp[0] = ISCSI_OP_TMF_RSP;
	rsp[1] = ISCSI_FLAG_FINAL;
	rsp[ISCSI_OFF_RESPONSE] = tmf->response;
	put_be32(rsp + ISCSI_OFF_ITT, get_be32(tmf->req + ISCSI_OFF_ITT));
	conn_fill_sn(conn, rsp, true);
	conn_send(conn, rsp, NULL, 0, NULL);
}

static void task_tmf_done(struct iscsi_tmf *tmf)
{
	struct iscsi_conn *conn = tmf->conn;
	struct iscsi_session *s, *tmp;

	if (tmf->reset_lu) {
		scsi_lu_reset(tmf->reset_lu);
		scsi_lu_put(tmf->reset_lu);
	}
	task_tmf_send(tmf);
	if (tmf->cold_reset && conn->sess) {
		/* 11.5.1: a cold reset ends every session of the target,
		 * after the response to the requester. */
		const struct hatgt_target *t = conn->sess->target;

		list_for_each_entry_safe(s, tmp, &conn->srv->sessions, node)
			if (s->target == t && s->conn != conn)
				conn_close(s->conn, "target cold reset");
		conn->state = CONN_LOGGED_OUT;
		if (list_empty(&conn->txq))
			conn_close(conn, "target cold reset");
	}
	conn_put(conn);
	free(tmf);
}

/* Abort one task on behalf of a TMF. */
static void task_abort_one(struct iscsi_task *task, struct iscsi_tmf *tmf)
{
	struct iscsi_conn *conn = task->conn;

	if (task->state == TASK_DATA_OUT) {
		list_del(&task->node);
		conn->ntasks--;
		if (conn->rx_task == task)
			conn->rx_task = NULL;
		task_free(task);
	} else if (task->state == TASK_EXEC && !task->aborted) {
		task->aborted = true;
		if (tmf && !task->tmf) {
			task->tmf = tmf;
			tmf->waiting++;
		}
		/* A SANITIZE goes on without its task (SBC-3 4.11), which may
		 * end here: task is not touched after this. The TMF's own hold
		 * (waiting = 1) keeps it from completing inside this call. */
		scsi_task_abort(&task->scsi);
	}
}

/* Abort the tasks of every session of the requester's target that match
 * (all LUNs when lun is UINT64_MAX). */
static void task_abort_matching(struct iscsi_tmf *tmf, bool all_sessions, uint64_t lun)
{
	struct iscsi_conn *conn = tmf->conn;
	struct iscsi_session *s;
	struct iscsi_task *t, *tmp;

	list_for_each_entry(s, &conn->srv->sessions, node) {
		if (s->target != conn->sess->target || (!all_sessions && s != conn->sess))
			continue;
		list_for_each_entry_safe(t, tmp, &s->conn->tasks, node)
			if (lun == UINT64_MAX || t->scsi.lun == lun)
				task_abort_one(t, tmf);
	}
}

void task_handle_tmf(struct iscsi_conn *conn)
{
	struct iscsi_session *sess = conn->sess;
	const uint8_t *req = conn->bhs;
	uint8_t func = req[1] & ISCSI_TMF_FUNC_MASK;
	uint32_t cmdsn = get_be32(req + ISCSI_OFF_SN);
	uint32_t rtt = get_be32(req + ISCSI_OFF_RTT);
	uint32_t refcmdsn = get_be32(req + ISCSI_OFF_REFCMDSN);
	uint64_t lun = task_lun_decode(req + ISCSI_OFF_LUN);
	struct iscsi_tmf *tmf;
	struct iscsi_task *t;

	if (sess->type != ISCSI_SESSION_NORMAL) {
		conn_reject(conn, req, ISCSI_REJECT_PROTOCOL_ERROR);
		return;
	}
	if (!session_cmdsn_accept(sess, cmdsn, iscsi_bhs_immediate(req)))
		return;
	tmf = calloc(1, sizeof(*tmf));
	if (!tmf) {
		conn_reject(conn, req, ISCSI_REJECT_OUT_OF_RESOURCES);
		return;
	}
	tmf->conn = conn;
	conn_get(conn);
	memcpy(tmf->req, req, ISCSI_BHS_LEN);
	tmf->waiting = 1; /* ours, dropped at the end of this function */
	tmf->response = ISCSI_TMF_RSP_COMPLETE;

	qb_log(LOG_NOTICE, "task management function %u (LUN %llu, task 0x%08x) from %s", func,
	       (unsigned long long)lun, rtt, conn_who(conn));
	switch (func) {
	case ISCSI_TMF_ABORT_TASK:
		t = task_find(conn, rtt);
		if (t) {
			task_abort_one(t, tmf);
		} else if (!iscsi_sn_lt(refcmdsn, sess->exp_cmdsn) &&
			   iscsi_sn_le(refcmdsn, session_max_cmdsn(sess)) &&
			   iscsi_sn_lt(refcmdsn, cmdsn)) {
			/* 11.5.1: a task not yet received is considered
			 * received and complete. */
			session_cmdsn_accept(sess, refcmdsn, false);
		} else {
			tmf->response = ISCSI_TMF_RSP_NO_TASK;
		}
		break;
	case ISCSI_TMF_ABORT_TASK_SET:
		task_abort_matching(tmf, false, lun);
		break;
	case ISCSI_TMF_CLEAR_TASK_SET:
		task_abort_matching(tmf, true, lun);
		break;
	case ISCSI_TMF_LUN_RESET:
		tmf->reset_lu = target_lu(sess->target, lun);
		if (!tmf->reset_lu) {
			tmf->response = ISCSI_TMF_RSP_NO_LUN;
			break;
		}
		scsi_lu_get(tmf->reset_lu);
		task_abort_matching(tmf, true, lun);
		break;
	case ISCSI_TMF_TARGET_WARM_RESET:
	case ISCSI_TMF_TARGET_COLD_RESET: {
		size_t i;

		task_abort_matching(tmf, true, UINT64_MAX);
		for (i = 0; i < HATGT_MAX_LUNS; i++)
			if (sess->target->lus[i])
				scsi_lu_reset(sess->target->lus[i]);
		tmf->cold_reset = func == ISCSI_TMF_TARGET_COLD_RESET;
		break;
	}
	case ISCSI_TMF_CLEAR_ACA:
		/* We never set NACA, so there is never an ACA to clear. */
		tmf->response = ISCSI_TMF_RSP_NOT_SUPPORTED;
		break;
	case ISCSI_TMF_TASK_REASSIGN:
		tmf->response = ISCSI_TMF_RSP_NO_REASSIGN;
		break;
	default:
		tmf->response = ISCSI_TMF_RSP_REJECTED;
		break;
	}
	if (--tmf->waiting == 0)
		task_tmf_done(tmf);
}

void task_abort_nexus(struct iscsi_server *srv, struct scsi_lu *lu, const struct scsi_itn_id *id)
{
	struct iscsi_session *s;
	struct iscsi_task *t, *tmp;

	/* PREEMPT AND ABORT (SPC-4 5.14.11.2.3): the preempted nexus' tasks
	 * on this LU end without a response. */
	list_for_each_entry(s, &srv->sessions, node) {
		if (!s->target || s->target->rtpi != id->rtpi ||
		    strcmp(s->initiator_port, id->initiator_port) != 0)
			continue;
		list_for_each_entry_safe(t, tmp, &s->conn->tasks, node)
			if (target_lu(s->target, t->scsi.lun) == lu)
				task_abort_one(t, NULL);
	}
}

void task_abort_unstarted(struct iscsi_conn *conn)
{
	struct iscsi_task *t, *tmp;

	list_for_each_entry_safe(t, tmp, &conn->tasks, node)
		if (t->state == TASK_DATA_OUT)
			task_abort_one(t, NULL);
}

void task_abort_all(struct iscsi_conn *conn)
{
	struct iscsi_task *t, *tmp;

	list_for_each_entry_safe(t, tmp, &conn->tasks, node)
		task_abort_one(t, NULL);
}
