/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iSCSI sessions: creation at the end of login (with session
 * reinstatement), the CmdSN window, and the session-level PDUs: NOP,
 * Text (SendTargets), Logout, Async Message.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include "iscsi/conn.h"
#include "iscsi/pdu.h"
#include "util/be.h"

/* ---- lifecycle ---------------------------------------------------------- */

static uint16_t session_new_tsih(struct iscsi_server *srv)
{
	struct iscsi_session *s;
	bool used;

	/* TSIH 0 is reserved (11.12.5); skip values still in use. */
	do {
		if (++srv->next_tsih == 0)
			srv->next_tsih = 1;
		used = false;
		list_for_each_entry(s, &srv->sessions, node) {
			if (s->tsih == srv->next_tsih) {
				used = true;
				break;
			}
		}
	} while (used);
	return srv->next_tsih;
}

int session_create(struct iscsi_conn *conn, const struct iscsi_params *p,
		   struct iscsi_session **out)
{
	struct iscsi_server *srv = conn->srv;
	struct iscsi_session *sess, *old, *tmp;
	struct scsi_itn_id id;
	int rc = -ENOMEM;

	sess = calloc(1, sizeof(*sess));
	if (!sess)
		return -ENOMEM;
	sess->srv = srv;
	sess->conn = conn;
	sess->params = *p;
	sess->type = p->session_type;
	memcpy(sess->isid, conn->login_isid, 6);
	iscsi_isid_str(sess->isid, sess->isid_str, sizeof(sess->isid_str));
	/* SPC-4 7.5.4.6: the iSCSI initiator port name. */
	snprintf(sess->initiator_port, sizeof(sess->initiator_port), "%s,i,0x%s", p->initiator_name,
		 sess->isid_str);
	/* The login's CmdSN is the session's first (4.2.2.1). */
	sess->exp_cmdsn = get_be32(conn->bhs + ISCSI_OFF_SN);
	sess->login_time = time(NULL);

	if (sess->type == ISCSI_SESSION_NORMAL) {
		sess->target = target_find(srv->reg, p->target_name);
		if (!sess->target || sess->target->removed) {
			rc = -ENOENT;
			goto fail;
		}
		target_get(sess->target);
		/*
		 * Session reinstatement (6.3.5): a login with TSIH 0 from the
		 * same initiator port (name + ISID) to the same target closes
		 * the old session first. Initiators do this after a failover.
		 */
		list_for_each_entry_safe(old, tmp, &srv->sessions, node) {
			if (old->type == ISCSI_SESSION_NORMAL && old->target == sess->target &&
			    memcmp(old->isid, sess->isid, 6) == 0 &&
			    strcmp(old->params.initiator_name, p->initiator_name) == 0) {
				qb_log(LOG_NOTICE,
				       "session reinstatement: %s (isid %s) logs in again",
				       p->initiator_name, old->isid_str);
				conn_close(old->conn, "session reinstated");
			}
		}
		memset(&id, 0, sizeof(id));
		snprintf(id.initiator_port, sizeof(id.initiator_port), "%s", sess->initiator_port);
		id.rtpi = sess->target->rtpi;
		sess->itn = scsi_itn_create(&id);
		if (!sess->itn)
			goto fail;
	}
	sess->tsih = session_new_tsih(srv);
	list_add_tail(&sess->node, &srv->sessions);
	srv->nsessions++;
	*out = sess;
	return 0;
fail:
	if (sess->target)
		target_put(sess->target);
	free(sess);
	return rc;
}

void session_destroy(struct iscsi_session *sess)
{
	if (!sess)
		return;
	qb_log(sess->type == ISCSI_SESSION_NORMAL ? LOG_NOTICE : LOG_INFO,
	       "%s session of %s (isid %s, tsih %u) ended",
	       sess->type == ISCSI_SESSION_NORMAL ? "normal" : "discovery",
	       sess->params.initiator_name, sess->isid_str, sess->tsih);
	list_del(&sess->node);
	sess->srv->nsessions--;
	scsi_itn_destroy(sess->itn);
	if (sess->target)
		target_put(sess->target);
	free(sess);
}

/* ---- CmdSN window (4.2.2.1) --------------------------------------------- */

uint32_t session_max_cmdsn(const struct iscsi_session *sess)
{
	return sess->exp_cmdsn + ISCSI_CMD_WINDOW - 1;
}

static bool session_seen_test(const struct iscsi_session *s, uint32_t sn)
{
	uint32_t bit = sn % (ISCSI_CMD_WINDOW * 2);

	return s->seen[bit / 64] & (1ull << (bit % 64));
}

static void session_seen_set(struct iscsi_session *s, uint32_t sn, bool on)
{
	uint32_t bit = sn % (ISCSI_CMD_WINDOW * 2);

	if (on)
		s->seen[bit / 64] |= 1ull << (bit % 64);
	else
		s->seen[bit / 64] &= ~(1ull << (bit % 64));
}

bool session_cmdsn_accept(struct iscsi_session *sess, uint32_t cmdsn, bool immediate)
{
	/* Immediate commands carry CmdSN but do not advance it. */
	if (immediate)
		return true;
	/* "An iSCSI target MUST silently ignore any non-immediate command
	 * outside of this range or non-immediate duplicates within the
	 * range." */
	if (iscsi_sn_lt(cmdsn, sess->exp_cmdsn) || iscsi_sn_lt(session_max_cmdsn(sess), cmdsn)) {
		if (conn_log_allowed())
			qb_log(LOG_WARNING,
			       "%s (isid %s): CmdSN %u outside the window [%u, %u], ignored",
			       sess->params.initiator_name, sess->isid_str, cmdsn, sess->exp_cmdsn,
			       session_max_cmdsn(sess));
		return false;
	}
	if (session_seen_test(sess, cmdsn)) {
		if (conn_log_allowed())
			qb_log(LOG_WARNING, "%s (isid %s): duplicate CmdSN %u ignored",
			       sess->params.initiator_name, sess->isid_str, cmdsn);
		return false;
	}
	session_seen_set(sess, cmdsn, true);
	/* A command may arrive ahead of a gap; ExpCmdSN moves past every
	 * contiguous received CmdSN. */
	while (session_seen_test(sess, sess->exp_cmdsn)) {
		session_seen_set(sess, sess->exp_cmdsn, false);
		sess->exp_cmdsn++;
	}
	return true;
}

/* ---- NOP (11.18, 11.19) ------------------------------------------------- */

void session_handle_nop_out(struct iscsi_conn *conn, const uint8_t *data, uint32_t len)
{
	const uint8_t *req = conn->bhs;
	uint32_t itt = get_be32(req + ISCSI_OFF_ITT);
	uint32_t ttt = get_be32(req + ISCSI_OFF_TTT);
	uint8_t rsp[ISCSI_BHS_LEN] = {0};

	if (itt == ISCSI_RSVD_TAG) {
		/* An answer to our ping, or a ping that wants no answer; such
		 * a NOP-Out must be immediate (11.18.1). */
		if (ttt != ISCSI_RSVD_TAG && ttt == conn->ping_ttt)
			conn->ping_ttt = ISCSI_RSVD_TAG;
		else if (ttt != ISCSI_RSVD_TAG)
			qb_log(LOG_DEBUG, "NOP-Out with unknown TTT 0x%08x from %s", ttt,
			       conn_who(conn));
		return;
	}
	if (ttt != ISCSI_RSVD_TAG) {
		/* A ping initiated by the initiator must carry TTT 0xffffffff. */
		conn_reject(conn, req, ISCSI_REJECT_INVALID_PDU_FIELD);
		return;
	}
	if (!session_cmdsn_accept(conn->sess, get_be32(req + ISCSI_OFF_SN),
				  iscsi_bhs_immediate(req)))
		return;
	rsp[0] = ISCSI_OP_NOP_IN;
	rsp[1] = ISCSI_FLAG_FINAL;
	memcpy(rsp + ISCSI_OFF_LUN, req + ISCSI_OFF_LUN, 8);
	put_be32(rsp + ISCSI_OFF_ITT, itt);
	put_be32(rsp + ISCSI_OFF_TTT, ISCSI_RSVD_TAG);
	conn_fill_sn(conn, rsp, true);
	/* Echo the ping data (11.19.4), limited to what the initiator takes. */
	if (len > conn->params.max_xmit_dsl)
		len = conn->params.max_xmit_dsl;
	conn_send(conn, rsp, data, len, NULL);
}

void session_send_nop_ping(struct iscsi_conn *conn)
{
	uint8_t rsp[ISCSI_BHS_LEN] = {0};

	conn->ping_ttt = conn_new_ttt(conn);
	conn->ping_sent = time(NULL);
	rsp[0] = ISCSI_OP_NOP_IN;
	rsp[1] = ISCSI_FLAG_FINAL;
	put_be32(rsp + ISCSI_OFF_ITT, ISCSI_RSVD_TAG);
	put_be32(rsp + ISCSI_OFF_TTT, conn->ping_ttt);
	/* A target ping does not advance StatSN (11.19.3). */
	conn_fill_sn(conn, rsp, false);
	conn_send(conn, rsp, NULL, 0, NULL);
}

void session_send_async_logout(struct iscsi_conn *conn, uint16_t seconds)
{
	uint8_t rsp[ISCSI_BHS_LEN] = {0};

	rsp[0] = ISCSI_OP_ASYNC;
	rsp[1] = ISCSI_FLAG_FINAL;
	put_be32(rsp + ISCSI_OFF_ITT, ISCSI_RSVD_TAG);
	conn_fill_sn(conn, rsp, false);
	rsp[ISCSI_OFF_ASYNC_EVENT] = ISCSI_ASYNC_LOGOUT_REQUEST;
	/* Parameter3: seconds the initiator has to log out (11.9.1). */
	put_be16(rsp + ISCSI_OFF_ASYNC_PARAM3, seconds);
	conn_send(conn, rsp, NULL, 0, NULL);
}

/* ---- Text: SendTargets (6.2, 11.10, 11.11, appendix C) ------------------ */

static void session_portal_addr(const struct iscsi_conn *conn, const struct hatgt_portal *pt,
				char *buf, size_t len)
{
	/* A wildcard portal is reported as the address this connection
	 * reached, which is one the initiator can use. */
	if (strncmp(pt->text, "0.0.0.0:", 8) == 0 || strncmp(pt->text, "[::]:", 5) == 0)
		snprintf(buf, len, "%s", conn->local);
	else
		snprintf(buf, len, "%s", pt->text);
}

static void session_add_target(struct iscsi_conn *conn, struct buf *b, const struct hatgt_target *t)
{
	const struct hatgt_config *cfg = conn->srv->cfg;
	char addr[128], val[160];
	size_t i;

	buf_add_kv(b, "TargetName", t->name);
	for (i = 0; i < cfg->nportals; i++) {
		session_portal_addr(conn, &cfg->portals[i], addr, sizeof(addr));
		snprintf(val, sizeof(val), "%s,%u", addr, t->tpgt);
		buf_add_kv(b, "TargetAddress", val);
	}
}

static void session_send_text_chunk(struct iscsi_conn *conn)
{
	uint8_t rsp[ISCSI_BHS_LEN] = {0};
	size_t left = conn->text_rsp.len - conn->text_off;
	uint32_t n = left > conn->params.max_xmit_dsl ? conn->params.max_xmit_dsl : (uint32_t)left;
	bool last = n == left;

	rsp[0] = ISCSI_OP_TEXT_RSP;
	rsp[1] = last ? ISCSI_FLAG_FINAL : ISCSI_FLAG_CONTINUE;
	put_be32(rsp + ISCSI_OFF_ITT, conn->text_itt);
	if (!last)
		conn->text_ttt = conn_new_ttt(conn);
	put_be32(rsp + ISCSI_OFF_TTT, last ? ISCSI_RSVD_TAG : conn->text_ttt);
	conn_fill_sn(conn, rsp, true);
	conn_send(conn, rsp, conn->text_rsp.data ? conn->text_rsp.data + conn->text_off : NULL, n,
		  NULL);
	conn->text_off += n;
	if (last) {
		buf_release(&conn->text_rsp);
		conn->text_off = 0;
		conn->text_ttt = ISCSI_RSVD_TAG;
	}
}

void session_handle_text(struct iscsi_conn *conn, const uint8_t *data, uint32_t len)
{
	struct iscsi_session *sess = conn->sess;
	const uint8_t *req = conn->bhs;
	const uint8_t *pos = data, *end = data + len;
	uint32_t ttt = get_be32(req + ISCSI_OFF_TTT);
	struct hatgt_target *t;
	struct iscsi_kv kv;
	int rc;

	if (!session_cmdsn_accept(sess, get_be32(req + ISCSI_OFF_SN), iscsi_bhs_immediate(req)))
		return;
	if (req[1] & ISCSI_FLAG_CONTINUE) {
		/* We do not need multi-PDU text requests: nothing we answer
		 * is that long on the way in. */
		conn_reject(conn, req, ISCSI_REJECT_CMD_NOT_SUPPORTED);
		return;
	}
	if (ttt != ISCSI_RSVD_TAG) {
		/* The initiator asks for the next part of a long response. */
		if (ttt != conn->text_ttt || conn->text_rsp.len == 0) {
			conn_reject(conn, req, ISCSI_REJECT_INVALID_PDU_FIELD);
			return;
		}
		conn->text_itt = get_be32(req + ISCSI_OFF_ITT);
		session_send_text_chunk(conn);
		return;
	}
	/* A new request resets an unfinished one (6.2). */
	buf_release(&conn->text_rsp);
	conn->text_off = 0;
	conn->text_itt = get_be32(req + ISCSI_OFF_ITT);

	while ((rc = iscsi_text_next(&pos, end, &kv)) > 0) {
		char key[64];

		snprintf(key, sizeof(key), "%.*s", (int)kv.key_len, kv.key);
		if (strcmp(key, "SendTargets") == 0) {
			bool all = kv.value_len == 3 && memcmp(kv.value, "All", 3) == 0;

			/* "All" only in discovery sessions; in a normal session
			 * an empty value means the session's target (C.3). */
			if (all && sess->type != ISCSI_SESSION_DISCOVERY) {
				buf_add_kv(&conn->text_rsp, "SendTargets", "Reject");
				continue;
			}
			list_for_each_entry(t, &conn->srv->reg->targets, node) {
				if (t->removed)
					continue;
				if (!target_initiator_allowed(t, sess->params.initiator_name))
					continue;
				if (sess->type == ISCSI_SESSION_NORMAL && kv.value_len == 0) {
					if (t != sess->target)
						continue;
				} else if (!all && (strlen(t->name) != kv.value_len ||
						    memcmp(t->name, kv.value, kv.value_len) != 0)) {
					continue;
				}
				session_add_target(conn, &conn->text_rsp, t);
			}
		} else if (key[0] == 'X' && (key[1] == '-' || key[1] == '#')) {
			buf_add_kv(&conn->text_rsp, key, "NotUnderstood");
		} else {
			/* We renegotiate nothing in full feature phase. */
			buf_add_kv(&conn->text_rsp, key, "NotUnderstood");
		}
	}
	if (rc < 0 || conn->text_rsp.err) {
		buf_release(&conn->text_rsp);
		conn_reject(conn, req,
			    rc < 0 ? ISCSI_REJECT_PROTOCOL_ERROR : ISCSI_REJECT_OUT_OF_RESOURCES);
		return;
	}
	session_send_text_chunk(conn);
}

/* ---- Logout (11.14, 11.15) ---------------------------------------------- */

void session_handle_logout(struct iscsi_conn *conn)
{
	const uint8_t *req = conn->bhs;
	uint8_t reason = req[1] & ISCSI_LOGOUT_REASON_MASK;
	uint8_t rsp[ISCSI_BHS_LEN] = {0};

	/* The Logout's CmdSN is counted even when immediate is not set. */
	session_cmdsn_accept(conn->sess, get_be32(req + ISCSI_OFF_SN), iscsi_bhs_immediate(req));
	rsp[0] = ISCSI_OP_LOGOUT_RSP;
	rsp[1] = ISCSI_FLAG_FINAL;
	put_be32(rsp + ISCSI_OFF_ITT, get_be32(req + ISCSI_OFF_ITT));
	switch (reason) {
	case ISCSI_LOGOUT_CLOSE_SESSION:
	case ISCSI_LOGOUT_CLOSE_CONNECTION:
		if (reason == ISCSI_LOGOUT_CLOSE_CONNECTION &&
		    get_be16(req + ISCSI_OFF_LOGOUT_CID) != conn->cid) {
			rsp[2] = ISCSI_LOGOUT_RSP_CID_NOT_FOUND;
			break;
		}
		rsp[2] = ISCSI_LOGOUT_RSP_OK;
		break;
	case ISCSI_LOGOUT_REMOVE_FOR_RECOVERY:
		rsp[2] = ISCSI_LOGOUT_RSP_NO_RECOVERY;
		break;
	default:
		conn_reject(conn, req, ISCSI_REJECT_INVALID_PDU_FIELD);
		return;
	}
	conn_fill_sn(conn, rsp, true);
	qb_log(LOG_INFO, "logout of %s (reason %u, response %u)", conn_who(conn), reason, rsp[2]);
	if (rsp[2] == ISCSI_LOGOUT_RSP_OK)
		conn->state = CONN_LOGGED_OUT;
	conn_send(conn, rsp, NULL, 0, NULL);
}
