/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One iSCSI connection: the receive state machine (BHS -> AHS -> header
 * digest -> data -> padding -> data digest, RFC 7143 section 11.2), the
 * transmit queue, the login phase and the dispatch of full-feature PDUs.
 *
 * Header handling is separate from payload handling: when a header is
 * complete, the handler decides where the data segment goes (straight into
 * a task's write buffer for Data-Out and immediate data, so write data is
 * copied once), then the payload is read, then the PDU is processed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <qb/qblog.h>

#include "iscsi/conn.h"
#include "iscsi/pdu.h"
#include "iscsi/server_hook.h"
#include "util/be.h"

/*
 * Connection sockets are polled at libqb's highest priority, like the
 * completion eventfd. libqb dispatches the lower priorities only in some
 * loop iterations (it rotates which ones run) and meanwhile polls again
 * without sleeping: at medium priority every other QD1 command cost one
 * more epoll_wait (docs/performance.md).
 */
#define CONN_LOOP_PRIO QB_LOOP_HIGH

static int32_t conn_io_cb(int32_t fd, int32_t revents, void *data);
static void conn_nop_timer_cb(void *data);

const char *conn_who(const struct iscsi_conn *conn)
{
	static char who[ISCSI_NAME_MAX + 128];

	if (conn->sess)
		snprintf(who, sizeof(who), "%s (isid %s) from %s",
			 conn->sess->params.initiator_name, conn->sess->isid_str, conn->peer);
	else if (conn->initiator[0])
		snprintf(who, sizeof(who), "%s from %s", conn->initiator, conn->peer);
	else
		snprintf(who, sizeof(who), "%s", conn->peer);
	return who;
}

/*
 * A flood of bad logins, connections or PDUs must not fill the disk: such lines
 * are logged at most CONN_LOG_BURST times per CONN_LOG_PERIOD seconds, and
 * how many were suppressed is logged when the next period begins.
 */
#define CONN_LOG_BURST 20
#define CONN_LOG_PERIOD 10

bool conn_log_allowed(void)
{
	static time_t start;
	static unsigned int logged, suppressed;
	time_t now = time(NULL);

	if (now - start >= CONN_LOG_PERIOD || now < start) {
		if (suppressed)
			qb_log(LOG_WARNING,
			       "%u log lines about failed logins, refused connections or "
			       "rejected PDUs suppressed in %d s",
			       suppressed, CONN_LOG_PERIOD);
		start = now;
		logged = 0;
		suppressed = 0;
	}
	if (logged < CONN_LOG_BURST) {
		logged++;
		return true;
	}
	suppressed++;
	return false;
}

/* Connections from the host part of \p peer ("10.0.0.1:3260" -> "10.0.0.1",
 * "[::1]:3260" -> "[::1]"). */
static uint32_t conn_count_from(const struct iscsi_server *srv, const char *peer)
{
	const char *colon = strrchr(peer, ':');
	size_t hlen = colon ? (size_t)(colon - peer) : strlen(peer);
	const struct iscsi_conn *c;
	uint32_t n = 0;

	list_for_each_entry(c, &srv->conns, node)
		if (strncmp(c->peer, peer, hlen) == 0 && c->peer[hlen] == ':')
			n++;
	return n;
}

static void conn_addr_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(sin->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(sin6->sin6_port));
	} else {
		snprintf(buf, len, "?");
	}
}

static void conn_login_timer_cb(void *data)
{
	struct iscsi_conn *conn = data;

	conn->login_timer = 0;
	if (conn->state == CONN_LOGIN)
		conn_close(conn, "login timed out");
}

static void conn_rx_stage_free(struct iscsi_conn *conn)
{
	if (conn->rx_stage)
		munmap(conn->rx_stage, CONN_RX_STAGE);
	conn->rx_stage = NULL;
}

int conn_create(struct iscsi_server *srv, int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct iscsi_conn *conn;
	int one = 1, rc;

	conn = calloc(1, sizeof(*conn));
	if (!conn)
		return -ENOMEM;
	conn->srv = srv;
	conn->fd = fd;
	conn->refs = 1;
	conn->state = CONN_LOGIN;
	conn->ping_ttt = ISCSI_RSVD_TAG;
	conn->next_ttt = 1;
	conn->last_rx = time(NULL);
	list_init(&conn->txq);
	list_init(&conn->tasks);
	iscsi_params_rfc_defaults(&conn->params);
	conn->params.max_recv_dsl = ISCSI_LOGIN_MAX_DSL;
	conn->params.max_xmit_dsl = ISCSI_LOGIN_MAX_DSL;
	conn->rx_state = RX_BHS;
	conn->rx_ptr = conn->bhs;
	conn->rx_want = ISCSI_BHS_LEN;
	/* Its own mapping, not the heap: only the pages recv() writes are
	 * ever resident (an idle session costs one page, docs/performance.md
	 * "Scale"), and they go back to the system when the connection ends
	 * (from the heap, with the trim threshold main.c sets, every page a
	 * connection ever touched stayed resident, and a flood of connections
	 * grew the RSS round after round: hostile_flood.sh). */
	conn->rx_stage = mmap(NULL, CONN_RX_STAGE, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (conn->rx_stage == MAP_FAILED) {
		conn->rx_stage = NULL;
		rc = -ENOMEM;
		goto fail;
	}

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
		conn_addr_str(&ss, conn->peer, sizeof(conn->peer));
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		conn_addr_str(&ss, conn->local, sizeof(conn->local));
	if (conn_count_from(srv, conn->peer) >= srv->cfg->max_connections_per_address) {
		/* docs/limits.md: closed at once, before any allocation. */
		if (conn_log_allowed())
			qb_log(LOG_WARNING,
			       "refusing connection from %s: max_connections_per_address (%u) "
			       "reached",
			       conn->peer, srv->cfg->max_connections_per_address);
		rc = -EMFILE;
		goto fail;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);

	conn->login = iscsi_login_create(&srv->login_env);
	if (!conn->login) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = qb_loop_poll_add(srv->loop, CONN_LOOP_PRIO, fd, POLLIN, conn, conn_io_cb);
	if (rc < 0)
		goto fail;
	qb_loop_timer_add(srv->loop, QB_LOOP_LOW, (uint64_t)srv->cfg->login_timeout * 1000000000ull,
			  conn, conn_login_timer_cb, &conn->login_timer);
	list_add_tail(&conn->node, &srv->conns);
	srv->nconns++;
	qb_log(LOG_INFO, "connection from %s to %s", conn->peer, conn->local);
	return 0;
fail:
	iscsi_login_destroy(conn->login);
	conn_rx_stage_free(conn);
	free(conn);
	return rc;
}

/*
 * Per-connection free lists: a task and a tx PDU per command would
 * otherwise cost a calloc and a free each (docs/performance.md). Bounded,
 * and emptied when the connection goes.
 */
static void *conn_pool_get(struct conn_pool *p, size_t size)
{
	void *obj = p->head;

	if (!obj)
		return calloc(1, size);
	p->head = *(void **)obj;
	p->n--;
	memset(obj, 0, size);
	return obj;
}

static void conn_pool_put(struct conn_pool *p, void *obj)
{
	if (p->n >= CONN_POOL_MAX) {
		free(obj);
		return;
	}
	*(void **)obj = p->head;
	p->head = obj;
	p->n++;
}

static void conn_pool_drain(struct conn_pool *p)
{
	while (p->head) {
		void *obj = p->head;

		p->head = *(void **)obj;
		free(obj);
	}
	p->n = 0;
}

struct iscsi_task *conn_task_alloc(struct iscsi_conn *conn)
{
	return conn_pool_get(&conn->task_pool, sizeof(struct iscsi_task));
}

void conn_task_recycle(struct iscsi_conn *conn, struct iscsi_task *task)
{
	conn_pool_put(&conn->task_pool, task);
}

void conn_get(struct iscsi_conn *conn)
{
	conn->refs++;
}

void conn_put(struct iscsi_conn *conn)
{
	if (--conn->refs > 0)
		return;
	buf_release(&conn->text_rsp);
	free(conn->ahs);
	free(conn->rx_owned);
	conn_rx_stage_free(conn);
	conn_pool_drain(&conn->task_pool);
	conn_pool_drain(&conn->tx_pool);
	free(conn);
}

static void conn_txpdu_free(struct iscsi_conn *conn, struct iscsi_txpdu *tx)
{
	if (tx->task)
		task_tx_release(tx->task);
	free(tx->owned);
	conn_pool_put(&conn->tx_pool, tx);
}

static void conn_rx_reset(struct iscsi_conn *conn)
{
	free(conn->ahs);
	conn->ahs = NULL;
	conn->ahs_len = 0;
	free(conn->rx_owned);
	conn->rx_owned = NULL;
	conn->rx_data = NULL;
	conn->rx_dlen = 0;
	conn->rx_task = NULL;
	conn->rx_discard = false;
	conn->rx_state = RX_BHS;
	conn->rx_ptr = conn->bhs;
	conn->rx_want = ISCSI_BHS_LEN;
	conn->rx_got = 0;
}

static int conn_txq_send_now(struct iscsi_conn *conn);

void conn_close(struct iscsi_conn *conn, const char *why)
{
	struct iscsi_server *srv = conn->srv;
	struct iscsi_txpdu *tx, *tmp;

	if (conn->state == CONN_CLOSED)
		return;
	if (why)
		qb_log(conn->sess ? LOG_NOTICE : LOG_INFO, "closing connection of %s: %s",
		       conn_who(conn), why);
	/* A draining server closes a busy connection as its last command
	 * completes, its response maybe still queued: write what the socket
	 * takes now (sendmsg: a zero-copy Data-In is read by the kernel, EFAULT
	 * and never SIGBUS if its file shrank). A parked connection sends the
	 * rest later (server_conn_closed). */
	if (srv->draining && !list_empty(&conn->txq))
		conn_txq_send_now(conn);
	conn->state = CONN_CLOSED;
	server_conn_closed(conn);
	qb_loop_poll_del(srv->loop, conn->fd);
	close(conn->fd);
	conn->fd = -1;
	if (conn->login_timer) {
		qb_loop_timer_del(srv->loop, conn->login_timer);
		conn->login_timer = 0;
	}
	if (conn->nop_timer) {
		qb_loop_timer_del(srv->loop, conn->nop_timer);
		conn->nop_timer = 0;
	}
	list_for_each_entry_safe(tx, tmp, &conn->txq, node) {
		list_del(&tx->node);
		conn_txpdu_free(conn, tx);
	}
	conn_rx_reset(conn);
	task_abort_all(conn);
	if (conn->sess) {
		session_destroy(conn->sess);
		conn->sess = NULL;
	}
	iscsi_login_destroy(conn->login);
	conn->login = NULL;
	list_del(&conn->node);
	srv->nconns--;
	if (srv->draining && list_empty(&srv->conns) && srv->drained) {
		void (*cb)(void *) = srv->drained;

		srv->drained = NULL;
		cb(srv->drained_arg);
	}
	conn_put(conn);
	/* The last connection is gone: give the heap's free pages back to the
	 * system (main.c keeps them while busy, for the data buffers; without
	 * this a burst left the RSS at its peak, and fragmentation grew it burst
	 * after burst: hostile_*.sh). */
	if (srv->nconns == 0)
		malloc_trim(0);
}

static void conn_poll_set(struct iscsi_conn *conn)
{
	/* While draining we read no new commands. */
	int32_t ev = (conn->srv->draining ? 0 : POLLIN) | (conn->polled_out ? POLLOUT : 0);

	qb_loop_poll_mod(conn->srv->loop, CONN_LOOP_PRIO, conn->fd, ev, conn, conn_io_cb);
}

static void conn_poll_out(struct iscsi_conn *conn, bool on)
{
	if (conn->polled_out == on || conn->state == CONN_CLOSED)
		return;
	conn->polled_out = on;
	conn_poll_set(conn);
}

void conn_pause_rx(struct iscsi_conn *conn)
{
	if (conn->state != CONN_CLOSED)
		conn_poll_set(conn);
}

static ssize_t conn_tx_send_iov(void *ctx, const struct iovec *iov, int cnt)
{
	struct iscsi_conn *conn = ctx;
	struct msghdr msg;
	ssize_t n;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = (struct iovec *)iov;
	msg.msg_iovlen = (size_t)cnt;
	n = sendmsg(conn->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	return n < 0 ? -errno : n;
}

static void conn_tx_sent(void *ctx, struct iscsi_txpdu *tx)
{
	conn_txpdu_free(ctx, tx);
}

/* Write as much of the queue as the socket takes, without blocking.
 * \return 0 (all written) or -errno (-EAGAIN: the socket is full). */
static int conn_txq_send_now(struct iscsi_conn *conn)
{
	const struct iscsi_tx_ops ops = {
		.send_iov = conn_tx_send_iov,
		.sent = conn_tx_sent,
		.ctx = conn,
	};

	return iscsi_txq_send(&conn->txq, &ops);
}

/* Write as much of the queue as the socket takes. \return 0 or -errno. */
static int conn_flush(struct iscsi_conn *conn)
{
	int rc;

	rc = conn_txq_send_now(conn);
	if (rc == -EAGAIN || rc == -EWOULDBLOCK) {
		conn_poll_out(conn, true);
		return 0;
	}
	if (rc < 0) {
		/* EFAULT: a zero-copy Data-In points past the end of a LUN
		 * file that shrank since the READ (the mapping faults; only
		 * the kernel touches it, so no SIGBUS). Part of the PDU may
		 * be out, and there are no right bytes to finish it with: the
		 * connection goes and the initiator retries elsewhere or
		 * later (docs/performance.md, step 7). */
		if (rc == -EFAULT)
			qb_log(LOG_WARNING,
			       "%s: LUN file ended inside a Data-In being sent (file shrank?): "
			       "dropping the connection",
			       conn_who(conn));
		return rc;
	}
	conn_poll_out(conn, false);
	if (conn->state == CONN_LOGGED_OUT)
		conn_close(conn, NULL);
	return 0;
}

/*
 * Nonzero while a socket handler runs: it flushes every dirty connection
 * before it returns, so conn_send() need not schedule server_flush_job
 * (a job makes libqb's next epoll_wait a non-blocking one, an extra
 * syscall per QD1 command, and costs a malloc). One server per process.
 */
static unsigned int conn_flush_by_handler;

static void server_flush_job(void *data)
{
	struct iscsi_server *srv = data;

	srv->flush_scheduled = false;
	iscsi_server_flush(srv);
}

void iscsi_server_flush(struct iscsi_server *srv)
{
	struct iscsi_conn *conn;

	/* This flush does the job's work: drop it (it would cost one more
	 * non-blocking epoll_wait in libqb's loop). */
	if (srv->flush_scheduled &&
	    qb_loop_job_del(srv->loop, QB_LOOP_HIGH, srv, server_flush_job) == 0)
		srv->flush_scheduled = false;
	while (!list_empty(&srv->dirty)) {
		conn = list_first_entry(&srv->dirty, struct iscsi_conn, dirty_node);
		list_del(&conn->dirty_node);
		conn->dirty = false;
		if (conn->state != CONN_CLOSED && conn_flush(conn) < 0)
			conn_close(conn, "send failed");
		conn_put(conn);
	}
}

/* Queue \p tx; the connection is flushed at the end of this loop iteration. */
static void conn_txq_add(struct iscsi_conn *conn, struct iscsi_txpdu *tx)
{
	int rc;

	list_add_tail(&tx->node, &conn->txq);
	/* Output goes out once per loop iteration (iscsi_server_flush), so
	 * the responses of a batch of completions share one sendmsg; not at
	 * all while output is backed up (POLLOUT flushes). */
	if (!conn->polled_out && !conn->dirty) {
		struct iscsi_server *srv = conn->srv;

		conn->dirty = true;
		conn_get(conn);
		list_add_tail(&conn->dirty_node, &srv->dirty);
		/* The socket and completion handlers flush when they are done;
		 * anything else (timers, admin) is caught by this job. */
		if (!srv->flush_scheduled && !conn_flush_by_handler) {
			rc = qb_loop_job_add(srv->loop, QB_LOOP_HIGH, srv, server_flush_job);
			srv->flush_scheduled = rc == 0;
		}
	}
}

/* Padding of data segments (RFC 7143 11.1). */
static const uint8_t conn_zeros[4];

/* Append a piece to \p tx. */
static void conn_txpdu_add(struct iscsi_txpdu *tx, const void *base, size_t len)
{
	tx->iov[tx->iovcnt].iov_base = (void *)base;
	tx->iov[tx->iovcnt++].iov_len = len;
	tx->total += len;
}

/* A tx PDU from the pool with its BHS (DataSegmentLength \p len) and
 * header digest, holding a tx reference on \p task if set. NULL: no memory. */
static struct iscsi_txpdu *conn_txpdu_get(struct iscsi_conn *conn, const uint8_t *bhs, uint32_t len,
					  struct iscsi_task *task)
{
	struct iscsi_txpdu *tx;

	tx = conn_pool_get(&conn->tx_pool, sizeof(*tx));
	if (!tx)
		return NULL;
	memcpy(tx->bhs, bhs, ISCSI_BHS_LEN);
	iscsi_bhs_set_dslen(tx->bhs, len);
	tx->data_len = len;
	if (task) {
		tx->task = task;
		task->tx_refs++;
	}
	conn_txpdu_add(tx, tx->bhs, ISCSI_BHS_LEN);
	if (conn->params.header_digest) {
		iscsi_digest_put(tx->hdigest, iscsi_crc32c_final(iscsi_crc32c(
						      ISCSI_CRC32C_SEED, tx->bhs, ISCSI_BHS_LEN)));
		conn_txpdu_add(tx, tx->hdigest, ISCSI_DIGEST_LEN);
	}
	return tx;
}

int conn_send(struct iscsi_conn *conn, const uint8_t *bhs, const uint8_t *data, uint32_t len,
	      struct iscsi_task *task)
{
	struct iscsi_txpdu *tx;
	uint32_t pad = iscsi_pad_len(len);

	if (conn->state == CONN_CLOSED)
		return -ENOTCONN;
	tx = conn_txpdu_get(conn, bhs, len, task);
	if (!tx)
		return -ENOMEM;
	if (len && !task) {
		tx->owned = malloc(len);
		if (!tx->owned) {
			conn_txpdu_free(conn, tx);
			return -ENOMEM;
		}
		memcpy(tx->owned, data, len);
		data = tx->owned;
	}
	tx->data = data;
	if (len) {
		conn_txpdu_add(tx, data, len);
		if (pad)
			conn_txpdu_add(tx, conn_zeros, pad);
		if (conn->params.data_digest) {
			iscsi_digest_put(tx->ddigest, iscsi_digest_data(data, len));
			conn_txpdu_add(tx, tx->ddigest, ISCSI_DIGEST_LEN);
		}
	}
	conn_txq_add(conn, tx);
	return 0;
}

void conn_fill_sn(struct iscsi_conn *conn, uint8_t *bhs, bool advance)
{
	put_be32(bhs + ISCSI_OFF_SN, conn->stat_sn);
	if (advance)
		conn->stat_sn++;
	if (conn->sess) {
		put_be32(bhs + ISCSI_OFF_EXPSN, conn->sess->exp_cmdsn);
		put_be32(bhs + ISCSI_OFF_MAXCMDSN, session_max_cmdsn(conn->sess));
	}
}

uint32_t conn_new_ttt(struct iscsi_conn *conn)
{
	uint32_t ttt = conn->next_ttt++;

	if (conn->next_ttt == ISCSI_RSVD_TAG)
		conn->next_ttt = 1;
	return ttt;
}

void conn_reject(struct iscsi_conn *conn, const uint8_t *bhs, uint8_t reason)
{
	uint8_t rsp[ISCSI_BHS_LEN] = {0};

	if (conn_log_allowed())
		qb_log(LOG_WARNING, "rejecting %s from %s: reason 0x%02x",
		       iscsi_opcode_name(iscsi_bhs_opcode(bhs)), conn_who(conn), reason);
	rsp[0] = ISCSI_OP_REJECT;
	rsp[1] = ISCSI_FLAG_FINAL;
	rsp[2] = reason;
	put_be32(rsp + ISCSI_OFF_ITT, ISCSI_RSVD_TAG);
	conn_fill_sn(conn, rsp, true);
	if (conn->sess)
		conn->sess->nerrors++;
	conn_send(conn, rsp, bhs, ISCSI_BHS_LEN, NULL);
}

/* ---- login phase -------------------------------------------------------- */

static void conn_login_reply_error(struct iscsi_conn *conn, uint8_t cls, uint8_t detail,
				   const char *why)
{
	uint8_t rsp[ISCSI_BHS_LEN] = {0};

	rsp[0] = ISCSI_OP_LOGIN_RSP;
	memcpy(rsp + ISCSI_OFF_ISID, conn->bhs + ISCSI_OFF_ISID, 6);
	memcpy(rsp + ISCSI_OFF_ITT, conn->bhs + ISCSI_OFF_ITT, 4);
	rsp[ISCSI_OFF_LOGIN_STATUS] = cls;
	rsp[ISCSI_OFF_LOGIN_STATUS + 1] = detail;
	conn_fill_sn(conn, rsp, true);
	put_be32(rsp + ISCSI_OFF_EXPSN, get_be32(conn->bhs + ISCSI_OFF_SN));
	put_be32(rsp + ISCSI_OFF_MAXCMDSN, get_be32(conn->bhs + ISCSI_OFF_SN));
	if (conn_log_allowed())
		qb_log(LOG_WARNING, "login of %s failed (status 0x%02x%02x): %s", conn_who(conn),
		       cls, detail, why);
	conn->state = CONN_LOGGED_OUT; /* close once the response is out */
	conn_send(conn, rsp, NULL, 0, NULL);
}

/* Sessions logged in to the target named \p name (any case, 4.2.7). */
static uint32_t conn_target_sessions(const struct iscsi_server *srv, const char *name)
{
	char norm[ISCSI_NAME_MAX];
	const struct iscsi_session *s;
	uint32_t n = 0;

	if (hatgt_iscsi_name_normalize(name, norm, sizeof(norm), NULL) < 0)
		return 0;
	list_for_each_entry(s, &srv->sessions, node)
		if (s->target && strcmp(s->target->name, norm) == 0)
			n++;
	return n;
}

static void conn_login_pdu(struct iscsi_conn *conn)
{
	const uint8_t *bhs = conn->bhs;
	struct iscsi_login_req req = {0};
	struct iscsi_login_rsp rsp = {0};
	uint8_t out[ISCSI_BHS_LEN] = {0};
	struct iscsi_session *sess = NULL;
	const struct iscsi_params *p;
	int rc;

	if (iscsi_bhs_opcode(bhs) != ISCSI_OP_LOGIN_REQ) {
		/* 11.12: only Login Requests before full feature phase. */
		conn_login_reply_error(conn, ISCSI_LOGIN_STATUS_INITIATOR_ERR,
				       ISCSI_LOGIN_DETAIL_INVALID_DURING_LOGIN,
				       "non-login PDU during login");
		return;
	}
	req.transit = bhs[1] & ISCSI_FLAG_TRANSIT;
	req.cont = bhs[1] & ISCSI_FLAG_CONTINUE;
	req.csg = (bhs[1] >> ISCSI_LOGIN_CSG_SHIFT) & ISCSI_LOGIN_STAGE_MASK;
	req.nsg = bhs[1] & ISCSI_LOGIN_STAGE_MASK;
	req.version_max = bhs[ISCSI_OFF_VMAX];
	req.version_min = bhs[ISCSI_OFF_VMIN];
	memcpy(req.isid, bhs + ISCSI_OFF_ISID, 6);
	req.tsih = get_be16(bhs + ISCSI_OFF_TSIH);
	req.itt = get_be32(bhs + ISCSI_OFF_ITT);
	req.cid = get_be16(bhs + ISCSI_OFF_CID);
	req.cmdsn = get_be32(bhs + ISCSI_OFF_SN);
	req.expstatsn = get_be32(bhs + ISCSI_OFF_EXPSN);
	req.data = conn->rx_data;
	req.data_len = conn->rx_dlen;
	memcpy(conn->login_isid, req.isid, 6);
	conn->cid = req.cid;

	if (req.tsih != 0) {
		/* One connection per session at ERL 0: there is no session to
		 * add a connection to (11.12.5, status 0x020a). */
		conn_login_reply_error(conn, ISCSI_LOGIN_STATUS_INITIATOR_ERR,
				       ISCSI_LOGIN_DETAIL_SESSION_DOES_NOT_EXIST,
				       "TSIH names no session (one connection per session)");
		return;
	}
	if (conn->srv->draining) {
		conn_login_reply_error(conn, ISCSI_LOGIN_STATUS_TARGET_ERR,
				       ISCSI_LOGIN_DETAIL_SERVICE_UNAVAILABLE,
				       "target shutting down");
		return;
	}

	rc = iscsi_login_step(conn->login, &req, &rsp);
	if (rc < 0) {
		conn_login_reply_error(conn, ISCSI_LOGIN_STATUS_TARGET_ERR,
				       ISCSI_LOGIN_DETAIL_OUT_OF_RESOURCES, "out of memory");
		return;
	}
	p = iscsi_login_params(conn->login);
	if (p && p->initiator_name[0])
		snprintf(conn->initiator, sizeof(conn->initiator), "%s", p->initiator_name);
	if (rsp.fail) {
		conn_login_reply_error(conn, rsp.status_class, rsp.status_detail,
				       rsp.reason ? rsp.reason : "refused");
		return;
	}

	if (rsp.complete) {
		if (conn->srv->nsessions >= conn->srv->cfg->max_sessions) {
			conn_login_reply_error(conn, ISCSI_LOGIN_STATUS_TARGET_ERR,
					       ISCSI_LOGIN_DETAIL_OUT_OF_RESOURCES,
					       "session limit reached");
			return;
		}
		if (p->session_type == ISCSI_SESSION_NORMAL &&
		    conn_target_sessions(conn->srv, p->target_name) >=
			    conn->srv->cfg->max_sessions_per_target) {
			conn_login_reply_error(conn, ISCSI_LOGIN_STATUS_TARGET_ERR,
					       ISCSI_LOGIN_DETAIL_OUT_OF_RESOURCES,
					       "max_sessions_per_target reached");
			return;
		}
		rc = session_create(conn, p, &sess);
		if (rc < 0) {
			conn_login_reply_error(conn, ISCSI_LOGIN_STATUS_TARGET_ERR,
					       rc == -ENOENT
						       ? ISCSI_LOGIN_DETAIL_SERVICE_UNAVAILABLE
						       : ISCSI_LOGIN_DETAIL_OUT_OF_RESOURCES,
					       "cannot create session");
			return;
		}
	}

	out[0] = ISCSI_OP_LOGIN_RSP;
	out[1] = (uint8_t)((rsp.transit ? ISCSI_FLAG_TRANSIT : 0) |
			   (rsp.cont ? ISCSI_FLAG_CONTINUE : 0) |
			   (rsp.csg << ISCSI_LOGIN_CSG_SHIFT) | rsp.nsg);
	out[ISCSI_OFF_VMAX] = 0;
	out[ISCSI_OFF_VMIN] = 0;
	memcpy(out + ISCSI_OFF_ISID, req.isid, 6);
	put_be16(out + ISCSI_OFF_TSIH, sess ? sess->tsih : 0);
	put_be32(out + ISCSI_OFF_ITT, req.itt);
	out[ISCSI_OFF_LOGIN_STATUS] = rsp.status_class;
	out[ISCSI_OFF_LOGIN_STATUS + 1] = rsp.status_detail;
	/* The first response sets StatSN from the initiator's ExpStatSN. */
	if (conn->stat_sn == 0)
		conn->stat_sn = req.expstatsn;
	put_be32(out + ISCSI_OFF_SN, conn->stat_sn++);
	if (sess) {
		put_be32(out + ISCSI_OFF_EXPSN, sess->exp_cmdsn);
		put_be32(out + ISCSI_OFF_MAXCMDSN, session_max_cmdsn(sess));
	} else {
		/* Login requests do not advance CmdSN (4.2.2.1). */
		put_be32(out + ISCSI_OFF_EXPSN, req.cmdsn);
		put_be32(out + ISCSI_OFF_MAXCMDSN, req.cmdsn + ISCSI_CMD_WINDOW - 1);
	}
	conn_send(conn, out, rsp.data, (uint32_t)rsp.data_len, NULL);
	if (!sess || conn->state == CONN_CLOSED)
		return;

	/* Full feature phase: the negotiated parameters take effect for the
	 * PDUs after the final Login Response (6.2). */
	conn->sess = sess;
	conn->params = *p;
	p = &conn->params; /* the login, which p pointed into, goes now */
	conn->state = CONN_FFP;
	iscsi_login_destroy(conn->login);
	conn->login = NULL;
	if (conn->login_timer) {
		qb_loop_timer_del(conn->srv->loop, conn->login_timer);
		conn->login_timer = 0;
	}
	if (conn->srv->cfg->nop_interval)
		qb_loop_timer_add(conn->srv->loop, QB_LOOP_LOW,
				  (uint64_t)conn->srv->cfg->nop_interval * 1000000000ull, conn,
				  conn_nop_timer_cb, &conn->nop_timer);
	qb_log(LOG_NOTICE,
	       "%s session of %s logged in%s%s (tsih %u, digests %s/%s, MaxRecvDSL %u, "
	       "MaxBurst %u, FirstBurst %u, ImmediateData %s, InitialR2T %s)",
	       sess->type == ISCSI_SESSION_DISCOVERY ? "discovery" : "normal", conn_who(conn),
	       sess->target ? " to " : "", sess->target ? sess->target->name : "", sess->tsih,
	       p->header_digest ? "CRC32C" : "None", p->data_digest ? "CRC32C" : "None",
	       p->max_xmit_dsl, p->max_burst, p->first_burst, p->immediate_data ? "Yes" : "No",
	       p->initial_r2t ? "Yes" : "No");
	server_conn_logged_in(conn);
}

/* ---- liveness ----------------------------------------------------------- */

static void conn_nop_timer_cb(void *data)
{
	struct iscsi_conn *conn = data;
	struct iscsi_server *srv = conn->srv;
	time_t now = time(NULL);

	conn->nop_timer = 0;
	if (conn->state != CONN_FFP)
		return;
	if (conn->ping_ttt != ISCSI_RSVD_TAG &&
	    now - conn->last_rx >= (time_t)srv->cfg->nop_timeout) {
		conn_close(conn, "initiator did not answer NOP-In ping");
		return;
	}
	/* Ping only an idle connection: any PDU proves the peer is alive. */
	if (conn->ping_ttt == ISCSI_RSVD_TAG &&
	    now - conn->last_rx >= (time_t)srv->cfg->nop_interval)
		session_send_nop_ping(conn);
	if (conn->state == CONN_FFP)
		qb_loop_timer_add(srv->loop, QB_LOOP_LOW,
				  (uint64_t)srv->cfg->nop_interval * 1000000000ull, conn,
				  conn_nop_timer_cb, &conn->nop_timer);
	iscsi_server_flush(srv);
}

/* ---- receive ------------------------------------------------------------ */

/*
 * Per-session limits on a new SCSI Command (docs/limits.md): commands
 * outstanding, immediate ones included (they bypass the CmdSN window,
 * 3.2.2.1), and the write buffers the connection holds.
 */
static bool conn_cmd_over_limits(const struct iscsi_conn *conn)
{
	const struct hatgt_config *cfg = conn->srv->cfg;
	uint64_t mem = 0, edtl = get_be32(conn->bhs + ISCSI_OFF_EDTL);
	const struct iscsi_task *t;

	if (conn->ntasks >= cfg->max_commands_per_session)
		return true;
	if (!(conn->bhs[1] & ISCSI_CMD_WRITE) || edtl > ISCSI_MAX_XFER)
		return false; /* no buffer: task.c refuses writes over ISCSI_MAX_XFER */
	list_for_each_entry(t, &conn->tasks, node)
		if (t->wbuf)
			mem += t->scsi.edtl;
	return mem + edtl > ((uint64_t)cfg->max_connection_memory_mb << 20);
}

/* Over a limit the command ends at once with TASK SET FULL (SAM-5 5.3.1),
 * which initiators retry later; its CmdSN is consumed as for any command. */
static void conn_cmd_task_set_full(struct iscsi_conn *conn)
{
	uint8_t rsp[ISCSI_BHS_LEN] = {0};
	uint32_t edtl = get_be32(conn->bhs + ISCSI_OFF_EDTL);

	conn->rx_discard = true;
	if (!session_cmdsn_accept(conn->sess, get_be32(conn->bhs + ISCSI_OFF_SN),
				  iscsi_bhs_immediate(conn->bhs)))
		return;
	rsp[0] = ISCSI_OP_SCSI_RSP;
	rsp[1] = ISCSI_FLAG_FINAL | (edtl ? ISCSI_RSP_UNDERFLOW : 0);
	rsp[ISCSI_OFF_RESPONSE] = ISCSI_RESPONSE_COMPLETED;
	rsp[ISCSI_OFF_STATUS] = SCSI_STATUS_TASK_SET_FULL;
	memcpy(rsp + ISCSI_OFF_ITT, conn->bhs + ISCSI_OFF_ITT, 4);
	conn_fill_sn(conn, rsp, true);
	put_be32(rsp + ISCSI_OFF_RESID, edtl);
	conn->sess->nerrors++;
	conn_send(conn, rsp, NULL, 0, NULL);
}

static void conn_poll_note_cmd(struct iscsi_conn *conn);

/* The header (BHS, AHS, digest) is complete: check it and decide where the
 * data segment goes. \return 0, or -EPROTO to close the connection. */
static int conn_header_done(struct iscsi_conn *conn)
{
	uint8_t op = iscsi_bhs_opcode(conn->bhs);
	uint32_t dlen = iscsi_bhs_dslen(conn->bhs);
	int rc;

	rc = iscsi_bhs_check(conn->bhs, conn->params.max_recv_dsl);
	if (rc < 0) {
		qb_log(LOG_WARNING, "%s from %s: data segment of %u bytes exceeds the declared %u",
		       iscsi_opcode_name(op), conn_who(conn), dlen, conn->params.max_recv_dsl);
		return -EPROTO;
	}
	conn->rx_dlen = dlen;
	if (rc > 0) {
		conn->rx_discard = true;
		conn_reject(conn, conn->bhs, (uint8_t)rc);
	} else if (conn->state == CONN_FFP) {
		if (op == ISCSI_OP_SCSI_CMD)
			conn_poll_note_cmd(conn);
		if (op == ISCSI_OP_SCSI_CMD && conn->sess->type == ISCSI_SESSION_NORMAL &&
		    conn_cmd_over_limits(conn))
			conn_cmd_task_set_full(conn);
		else if (op == ISCSI_OP_SCSI_CMD)
			task_cmd_header(conn);
		else if (op == ISCSI_OP_DATA_OUT)
			task_data_out_header(conn);
		if (conn->state == CONN_CLOSED)
			return -EPROTO;
	}
	if (dlen && !conn->rx_data) {
		/* Not claimed by a task: a private buffer (login, text, NOP,
		 * or data we read only to skip). */
		conn->rx_owned = malloc(dlen);
		if (!conn->rx_owned)
			return -ENOMEM;
		conn->rx_data = conn->rx_owned;
	}
	return 0;
}

static void conn_pdu_done(struct iscsi_conn *conn)
{
	uint8_t op = iscsi_bhs_opcode(conn->bhs);

	if (conn->rx_discard)
		return;
	if (conn->state == CONN_LOGIN) {
		conn_login_pdu(conn);
		return;
	}
	if (conn->state != CONN_FFP)
		return;
	conn->sess->ncmds++;
	switch (op) {
	case ISCSI_OP_SCSI_CMD:
		task_cmd_done(conn);
		break;
	case ISCSI_OP_DATA_OUT:
		task_data_out_done(conn);
		break;
	case ISCSI_OP_NOP_OUT:
		session_handle_nop_out(conn, conn->rx_data, conn->rx_dlen);
		break;
	case ISCSI_OP_TEXT_REQ:
		session_handle_text(conn, conn->rx_data, conn->rx_dlen);
		break;
	case ISCSI_OP_LOGOUT_REQ:
		session_handle_logout(conn);
		break;
	case ISCSI_OP_TMF_REQ:
		task_handle_tmf(conn);
		break;
	case ISCSI_OP_LOGIN_REQ:
		/* 11.12: a Login Request in full feature phase is a protocol error. */
		conn_reject(conn, conn->bhs, ISCSI_REJECT_PROTOCOL_ERROR);
		break;
	case ISCSI_OP_SNACK:
		/* SNACK needs ERL >= 1; we negotiated 0 (11.16). */
		conn_reject(conn, conn->bhs, ISCSI_REJECT_CMD_NOT_SUPPORTED);
		break;
	default:
		conn_reject(conn, conn->bhs, ISCSI_REJECT_CMD_NOT_SUPPORTED);
		break;
	}
}

/* Move the receive state machine on after a piece is complete.
 * \return 0, or -errno to close. */
static int conn_rx_advance(struct iscsi_conn *conn)
{
	uint32_t crc;
	int rc;

	switch (conn->rx_state) {
	case RX_BHS:
		conn->ahs_len = iscsi_bhs_ahs_len(conn->bhs);
		if (conn->ahs_len) {
			conn->ahs = malloc(conn->ahs_len);
			if (!conn->ahs)
				return -ENOMEM;
			conn->rx_state = RX_AHS;
			conn->rx_ptr = conn->ahs;
			conn->rx_want = conn->ahs_len;
			return 0;
		}
		/* fall through */
	case RX_AHS:
		if (conn->params.header_digest) {
			conn->rx_state = RX_HDIGEST;
			conn->rx_ptr = conn->digest;
			conn->rx_want = ISCSI_DIGEST_LEN;
			return 0;
		}
		/* fall through */
	case RX_HDIGEST:
		if (conn->params.header_digest) {
			crc = iscsi_crc32c(ISCSI_CRC32C_SEED, conn->bhs, ISCSI_BHS_LEN);
			crc = iscsi_crc32c_final(iscsi_crc32c(crc, conn->ahs, conn->ahs_len));
			if (crc != iscsi_digest_get(conn->digest)) {
				/* At ERL 0 a header digest error leaves nothing
				 * to trust: drop the connection (7.8). */
				qb_log(LOG_WARNING, "header digest error from %s", conn_who(conn));
				return -EBADMSG;
			}
		}
		rc = conn_header_done(conn);
		if (rc < 0)
			return rc;
		if (conn->rx_dlen) {
			conn->rx_state = RX_DATA;
			conn->rx_ptr = conn->rx_data;
			conn->rx_want = conn->rx_dlen;
			return 0;
		}
		goto pdu_done;
	case RX_DATA:
		if (iscsi_pad_len(conn->rx_dlen)) {
			conn->rx_state = RX_PAD;
			conn->rx_ptr = conn->pad;
			conn->rx_want = iscsi_pad_len(conn->rx_dlen);
			return 0;
		}
		/* fall through */
	case RX_PAD:
		if (conn->params.data_digest) {
			conn->rx_state = RX_DDIGEST;
			conn->rx_ptr = conn->digest;
			conn->rx_want = ISCSI_DIGEST_LEN;
			return 0;
		}
		goto pdu_done;
	case RX_DDIGEST:
		crc = iscsi_crc32c(ISCSI_CRC32C_SEED, conn->rx_data, conn->rx_dlen);
		crc = iscsi_crc32c_final(
			iscsi_crc32c(crc, conn->pad, iscsi_pad_len(conn->rx_dlen)));
		if (crc != iscsi_digest_get(conn->digest)) {
			/* 7.8: reject the PDU with "data digest error". A
			 * Data-Out or immediate data lost this way cannot be
			 * recovered at ERL 0, so the connection goes too. */
			uint8_t op = iscsi_bhs_opcode(conn->bhs);

			qb_log(LOG_WARNING, "data digest error in %s from %s",
			       iscsi_opcode_name(op), conn_who(conn));
			if (op == ISCSI_OP_DATA_OUT || op == ISCSI_OP_SCSI_CMD)
				return -EBADMSG;
			conn_reject(conn, conn->bhs, ISCSI_REJECT_DATA_DIGEST);
			conn_rx_reset(conn);
			return 0;
		}
		goto pdu_done;
	}
	return 0;
pdu_done:
	conn_pdu_done(conn);
	if (conn->state != CONN_CLOSED)
		conn_rx_reset(conn);
	return 0;
}

/*
 * One recv() for the piece the state machine waits for: straight into its
 * destination when it is large (write data), else as much as the staging
 * buffer takes, which usually holds the rest of the PDU and the next ones.
 * \return 0 with *n bytes for the piece (0: all went to the staging buffer
 * or the socket is empty, *drained tells which), or -errno.
 */
static int conn_recv(struct iscsi_conn *conn, uint32_t *n, bool *drained)
{
	uint32_t left = conn->rx_want - conn->rx_got;
	bool direct = left >= CONN_RX_STAGE;
	uint8_t *dst = direct ? conn->rx_ptr + conn->rx_got : conn->rx_stage;
	size_t want = direct ? left : CONN_RX_STAGE;
	ssize_t r;
	int rc = 0;

	*n = 0;
	do {
		r = recv(conn->fd, dst, want, MSG_DONTWAIT);
	} while (r < 0 && errno == EINTR);
	if (r == 0) {
		rc = -ECONNRESET;
		goto out;
	}
	if (r < 0) {
		*drained = true;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			rc = -errno;
		goto out;
	}
	conn->last_rx = time(NULL);
	/* A stream socket returns less than asked only when it has no more
	 * for now: the next recv() would be EAGAIN, so leave it to epoll. */
	*drained = (size_t)r < want;
	if (direct) {
		*n = (uint32_t)r;
	} else {
		conn->rx_stage_len = (uint32_t)r;
		conn->rx_stage_off = 0;
	}
out:
	return rc;
}

/* Feed the state machine from the staging buffer and the socket until the
 * socket is empty. \return 0, or -errno to close. */
static int conn_read(struct iscsi_conn *conn)
{
	int budget = 64; /* recv() calls per wakeup, so one busy connection cannot starve others */
	bool drained = false;
	uint32_t n;
	int rc = 0;

	while (conn->state != CONN_CLOSED && conn->state != CONN_LOGGED_OUT) {
		if (conn->rx_stage_off < conn->rx_stage_len) {
			n = conn->rx_stage_len - conn->rx_stage_off;
			if (n > conn->rx_want - conn->rx_got)
				n = conn->rx_want - conn->rx_got;
			memcpy(conn->rx_ptr + conn->rx_got, conn->rx_stage + conn->rx_stage_off, n);
			conn->rx_stage_off += n;
		} else {
			/* Staged bytes are always consumed first, so stopping
			 * here leaves nothing behind that epoll would not report. */
			if (drained || budget-- == 0)
				break;
			rc = conn_recv(conn, &n, &drained);
			if (rc < 0)
				break;
		}
		conn->rx_got += n;
		if (n == 0 || conn->rx_got < conn->rx_want)
			continue;
		conn->rx_got = 0;
		rc = conn_rx_advance(conn);
		if (rc < 0)
			break;
	}
	return rc;
}

static uint64_t conn_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * poll_us: while a job is queued, libqb's loop calls epoll_wait without a
 * timeout, so a job that queues itself again keeps the loop polling for
 * poll_us after the last socket event instead of going to sleep. A
 * request that arrives meanwhile is picked up without the wake-up of a
 * sleeping thread (on virtual machines a cross-CPU wake-up costs tens of
 * microseconds, most of a QD1 round trip), at the price of the CPU spent
 * polling (which also takes CPU from anything else on the machine: with
 * deep queues the initiators are the bottleneck and polling slows them).
 * docs/tuning.md has the figures. A zero-delay timer, not a job: libqb
 * sleeps in epoll_wait even with jobs queued.
 *
 * poll_us = auto polls (CONN_POLL_AUTO_US) only while the initiators wait
 * for us: each SCSI command tells how many commands its initiator had
 * outstanding when it sent it, at least: the responses we sent that it had
 * not yet seen (StatSN - its ExpStatSN, RFC 7143 11.3.1 / 4.2.2.2) plus the
 * commands we still hold. At most CONN_POLL_AUTO_QD on
 * CONN_POLL_AUTO_STREAK commands in a row is a latency-bound initiator
 * (QD1: every round trip pays the wake-up); one deeper command stops the
 * polling, since deep queues keep the loop busy anyway and polling would
 * only take CPU from them.
 */
#define CONN_POLL_AUTO_US 200
#define CONN_POLL_AUTO_QD 2
#define CONN_POLL_AUTO_STREAK 4

/* The polling window now, in microseconds; 0: sleep. */
static uint32_t conn_poll_window_us(const struct iscsi_server *srv)
{
	if (srv->cfg->poll_us != HATGT_POLL_AUTO)
		return srv->cfg->poll_us;
	return srv->poll_lowqd >= CONN_POLL_AUTO_STREAK ? CONN_POLL_AUTO_US : 0;
}

static void conn_poll_note_cmd(struct iscsi_conn *conn)
{
	struct iscsi_server *srv = conn->srv;
	uint32_t unseen = conn->stat_sn - get_be32(conn->bhs + ISCSI_OFF_EXPSN);

	if (srv->cfg->poll_us != HATGT_POLL_AUTO)
		return;
	/* unseen wraps to a huge value for a bogus ExpStatSN: deep. */
	if (unseen < CONN_POLL_AUTO_QD && unseen + conn->ntasks < CONN_POLL_AUTO_QD) {
		if (srv->poll_lowqd < CONN_POLL_AUTO_STREAK)
			srv->poll_lowqd++;
	} else {
		srv->poll_lowqd = 0;
	}
}

/*
 * One pass of libqb's loop costs several epoll_wait calls and its timer
 * bookkeeping (~3 us here), and a command that arrives while we poll waited
 * on average half a pass before we saw it. So within a pass, spin for up to
 * CONN_POLL_SPIN_NS on one poll() over the connection sockets and the
 * completion eventfd, and hand a socket that becomes readable straight to
 * conn_io_cb(); the eventfd ends the spin for libqb to dispatch. With more
 * than CONN_POLL_SPIN_FDS connections, or one backed up for output, there is
 * no spin. What the spin does not watch (new connections, admin requests,
 * signals, timers) waits at most CONN_POLL_SPIN_NS longer. 4 KiB random
 * reads at queue depth 1: docs/performance.md, session 4.
 */
#define CONN_POLL_SPIN_NS 20000
#define CONN_POLL_SPIN_FDS 8

/* Spin until \p end at the latest (nanoseconds, conn_mono_ns()). */
static void conn_poll_spin(struct iscsi_server *srv, uint64_t end)
{
	struct pollfd pfd[CONN_POLL_SPIN_FDS + 1];
	struct iscsi_conn *conns[CONN_POLL_SPIN_FDS];
	struct iscsi_conn *c;
	nfds_t n = 0, i;
	int ready;

	if (srv->nconns > CONN_POLL_SPIN_FDS || srv->draining)
		return;
	list_for_each_entry(c, &srv->conns, node) {
		if (c->polled_out)
			return;
		pfd[n].fd = c->fd;
		pfd[n].events = POLLIN;
		conns[n++] = c;
	}
	pfd[n].fd = scsi_completion_fd();
	pfd[n].events = POLLIN;
	ready = iscsi_poll_spin(pfd, (unsigned int)n + 1, end, conn_mono_ns);
	if (ready <= 0 || pfd[n].revents)
		return;
	for (i = 0; i < n; i++)
		conn_get(conns[i]);
	for (i = 0; i < n; i++)
		if (pfd[i].revents && conns[i]->state != CONN_CLOSED)
			conn_io_cb(conns[i]->fd, pfd[i].revents, conns[i]);
	for (i = 0; i < n; i++)
		conn_put(conns[i]);
}

static void conn_poll_job(void *data)
{
	struct iscsi_server *srv = data;
	uint64_t window = (uint64_t)conn_poll_window_us(srv) * 1000;
	uint64_t now = conn_mono_ns();

	if (window && now - srv->last_activity_ns < window) {
		uint64_t end = srv->last_activity_ns + window;

		conn_poll_spin(srv, end - now > CONN_POLL_SPIN_NS ? now + CONN_POLL_SPIN_NS : end);
		if (qb_loop_timer_add(srv->loop, QB_LOOP_HIGH, 0, srv, conn_poll_job, NULL) == 0)
			return;
	}
	srv->polling = false;
	srv->polled_ns += conn_mono_ns() - srv->poll_started_ns;
}

static void conn_poll_kick(struct iscsi_server *srv)
{
	if (!srv->cfg->poll_us)
		return;
	srv->last_activity_ns = conn_mono_ns();
	if (!srv->polling && conn_poll_window_us(srv) &&
	    qb_loop_timer_add(srv->loop, QB_LOOP_HIGH, 0, srv, conn_poll_job, NULL) == 0) {
		srv->polling = true;
		srv->poll_started_ns = srv->last_activity_ns;
	}
}

uint64_t iscsi_server_polled_ns(const struct iscsi_server *srv)
{
	return srv->polled_ns + (srv->polling ? conn_mono_ns() - srv->poll_started_ns : 0);
}

static int32_t conn_io_cb(int32_t fd, int32_t revents, void *data)
{
	struct iscsi_conn *conn = data;
	int rc = 0;

	conn_poll_kick(conn->srv);
	conn_get(conn);
	conn_flush_by_handler++;
	/* Completions the store posts while this event is processed run at
	 * the release below, without the eventfd, and the io_uring requests
	 * it starts go in one submission (backend_engine_hold). */
	scsi_completion_hold();
	if (revents & POLLOUT) {
		rc = conn_flush(conn);
		if (rc < 0)
			conn_close(conn, "send failed");
	}
	if (conn->state != CONN_CLOSED && (revents & (POLLIN | POLLHUP | POLLERR))) {
		rc = conn_read(conn);
		if (rc == -ECONNRESET)
			conn_close(conn, conn->state == CONN_LOGGED_OUT
						 ? NULL
						 : "connection closed by peer");
		else if (rc == -EPROTO || rc == -EBADMSG)
			conn_close(conn, "protocol error");
		else if (rc < 0)
			conn_close(conn, strerror(-rc));
	}
	/* Commands the store completed at once (page cache, tmpfs) answer in
	 * this iteration, together with the other output, instead of after
	 * one more epoll_wait for the completion eventfd. */
	scsi_completion_run();
	scsi_completion_release();
	iscsi_server_flush(conn->srv);
	conn_flush_by_handler--;
	conn_put(conn);
	return 0;
}
