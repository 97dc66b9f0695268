/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Portals (listening sockets), accepting connections, draining on
 * shutdown, and the session listing for hatgtadm.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <qb/qblog.h>

#include "iscsi/conn.h"
#include "iscsi/iscsi.h"
#include "iscsi/server_hook.h"

static int server_random_bytes(void *ctx, uint8_t *buf, size_t len)
{
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -EIO;
}

static void server_login_env_update(struct iscsi_server *srv)
{
	struct iscsi_login_env *env = &srv->login_env;

	env->target_lookup = target_login_lookup;
	env->ctx = srv->reg;
	env->discovery_auth = srv->cfg->discovery_auth;
	env->random_bytes = server_random_bytes;
	env->tpgt = 1;
	iscsi_params_defaults(&env->target_defaults);
}

static void server_abort_nexus(void *ctx, struct scsi_lu *lu, const struct scsi_itn_id *id)
{
	task_abort_nexus(ctx, lu, id);
}

int iscsi_server_init(struct iscsi_server *srv, qb_loop_t *loop, struct target_registry *reg,
		      const struct hatgt_config *cfg)
{
	memset(srv, 0, sizeof(*srv));
	srv->loop = loop;
	srv->reg = reg;
	srv->cfg = cfg;
	list_init(&srv->conns);
	list_init(&srv->dirty);
	list_init(&srv->sessions);
	server_login_env_update(srv);
	scsi_abort_hook_set(server_abort_nexus, srv);
	return 0;
}

static int32_t server_accept_cb(int32_t fd, int32_t revents, void *data)
{
	struct iscsi_server *srv = data;
	int i;

	/* Accept a bounded batch per wakeup. */
	for (i = 0; i < 32; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd < 0) {
			/* EMFILE leaves the listener readable: rate-limit the line. */
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    conn_log_allowed())
				qb_log(LOG_WARNING, "accept: %s", strerror(errno));
			break;
		}
		if (!srv->draining && srv->nconns >= srv->cfg->max_connections) {
			/* docs/limits.md: closed at once, before any allocation. */
			if (conn_log_allowed())
				qb_log(LOG_WARNING,
				       "refusing a connection: max_connections (%u) reached",
				       srv->cfg->max_connections);
			close(cfd);
			continue;
		}
		if (srv->draining || conn_create(srv, cfd) < 0)
			close(cfd);
	}
	return 0;
}

int iscsi_server_listen(struct iscsi_server *srv, char *err, size_t errlen)
{
	const struct hatgt_config *cfg = srv->cfg;
	size_t i;
	int one = 1;

	for (i = 0; i < cfg->nportals; i++) {
		const struct hatgt_portal *pt = &cfg->portals[i];
		int fd = socket(pt->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (fd < 0)
			goto fail;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		/* Bind even before the portal IP arrives (pacemaker may start
		 * us before IPaddr2), so the order does not matter. */
		setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
		if (pt->addr.ss_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (bind(fd, (const struct sockaddr *)&pt->addr, pt->addr_len) < 0 ||
		    listen(fd, 1024) < 0) {
			int e = errno;

			close(fd);
			errno = e;
			goto fail;
		}
		if (qb_loop_poll_add(srv->loop, QB_LOOP_HIGH, fd, POLLIN, srv, server_accept_cb) <
		    0) {
			close(fd);
			errno = ENOMEM;
			goto fail;
		}
		srv->listen_fds[srv->nlisten++] = fd;
		qb_log(LOG_NOTICE, "listening on %s", pt->text);
	}
	return 0;
fail:
	snprintf(err, errlen, "cannot listen on %s: %s", cfg->portals[i].text, strerror(errno));
	iscsi_server_unlisten(srv);
	return -errno;
}

void iscsi_server_unlisten(struct iscsi_server *srv)
{
	size_t i;

	for (i = 0; i < srv->nlisten; i++) {
		qb_loop_poll_del(srv->loop, srv->listen_fds[i]);
		close(srv->listen_fds[i]);
	}
	srv->nlisten = 0;
}

void iscsi_server_close_target(struct iscsi_server *srv, const struct hatgt_target *t)
{
	struct iscsi_session *s, *tmp;

	list_for_each_entry_safe(s, tmp, &srv->sessions, node)
		if (s->target == t)
			conn_close(s->conn, "target removed");
}

void iscsi_server_set_config(struct iscsi_server *srv, const struct hatgt_config *cfg)
{
	struct iscsi_session *s, *tmp;

	srv->cfg = cfg;
	server_login_env_update(srv);
	list_for_each_entry_safe(s, tmp, &srv->sessions, node)
		if (s->target && s->target->removed)
			conn_close(s->conn, "target removed by reload");
}

/*
 * Drain after asking for logouts (RFC 7143 11.9.1, AsyncEvent 1 "target
 * requests Logout"): the initiator logs out within Parameter3 seconds and
 * reconnects at once (libiscsi, open-iscsi), instead of noticing a dropped
 * connection. One server per process, so the pending state lives here.
 */
#define SERVER_LOGOUT_POLL_NS (20ull * 1000 * 1000)

static struct {
	struct iscsi_server *srv;
	void (*drained)(void *arg);
	void *arg;
	qb_loop_timer_handle timer;
	unsigned int polls_left;
} server_logout;

/* Parked connections (server_hook.h), one server per process. */
struct server_parked {
	struct list_head node;
	int fd;
	struct buf unsent; /* responses still queued when the connection left */
	size_t off;	   /* of which written to the socket */
	bool polled;	   /* waiting for POLLOUT */
};

static struct {
	struct iscsi_server *srv;
	bool parking; /* the current drain parks instead of closing */
	void (*drained)(void *arg);
	void *arg;
	unsigned int nparked;  /* by the current drain */
	struct list_head list; /* struct server_parked */
	qb_loop_timer_handle timer;
	bool timer_armed;
	bool repair_refused_logged;
} server_park = {.list = LIST_HEAD_INIT(server_park.list)};

static void server_logout_cancel(struct iscsi_server *srv)
{
	if (server_logout.srv != srv)
		return;
	qb_loop_timer_del(srv->loop, server_logout.timer);
	memset(&server_logout, 0, sizeof(server_logout));
}

void iscsi_server_drain(struct iscsi_server *srv, void (*drained)(void *arg), void *arg)
{
	struct iscsi_conn *c, *tmp;

	server_logout_cancel(srv);
	srv->draining = true;
	srv->drained = drained;
	srv->drained_arg = arg;
	iscsi_server_unlisten(srv);
	/* Idle connections close now; busy ones when their last command
	 * completes (task.c), after its response is queued. */
	list_for_each_entry_safe(c, tmp, &srv->conns, node) {
		task_abort_unstarted(c);
		if (c->ntasks == 0)
			conn_close(c, "target draining");
		else
			conn_pause_rx(c);
	}
	if (list_empty(&srv->conns) && srv->drained) {
		srv->drained = NULL;
		drained(arg);
	}
}

/* Connections still logged in: full feature phase, or the Logout Response not sent yet. */
static unsigned int server_logged_in(const struct iscsi_server *srv)
{
	const struct iscsi_conn *c;
	unsigned int n = 0;

	list_for_each_entry(c, &srv->conns, node)
		n += c->state == CONN_FFP || c->state == CONN_LOGGED_OUT;
	return n;
}

static void server_logout_poll(void *data)
{
	struct iscsi_server *srv = data;
	void (*drained)(void *arg) = server_logout.drained;
	void *arg = server_logout.arg;
	unsigned int left = server_logged_in(srv);

	if (left && server_logout.polls_left && --server_logout.polls_left) {
		qb_loop_timer_add(srv->loop, QB_LOOP_HIGH, SERVER_LOGOUT_POLL_NS, srv,
				  server_logout_poll, &server_logout.timer);
		return;
	}
	memset(&server_logout, 0, sizeof(server_logout));
	if (left)
		qb_log(LOG_NOTICE, "%u connection(s) did not log out in time: closing them", left);
	iscsi_server_drain(srv, drained, arg);
}

void iscsi_server_drain_logout(struct iscsi_server *srv, unsigned int wait_ms,
			       void (*drained)(void *arg), void *arg)
{
	struct iscsi_conn *c;
	unsigned int n = 0;
	/* Parameter3: whole seconds, at least 1 (0 would ask for nothing). */
	uint16_t secs = (uint16_t)(wait_ms / 1000 ? wait_ms / 1000 : 1);

	server_logout_cancel(srv);
	server_park.parking = false;
	iscsi_server_unlisten(srv);
	list_for_each_entry(c, &srv->conns, node) {
		if (c->state != CONN_FFP || !c->sess)
			continue;
		session_send_async_logout(c, secs);
		n++;
	}
	if (n == 0 || wait_ms == 0) {
		iscsi_server_drain(srv, drained, arg);
		return;
	}
	iscsi_server_flush(srv);
	qb_log(LOG_NOTICE,
	       "asked %u connection(s) to log out (RFC 7143 AsyncEvent 1); closing the rest in %u "
	       "ms",
	       n, wait_ms);
	server_logout.srv = srv;
	server_logout.drained = drained;
	server_logout.arg = arg;
	server_logout.polls_left = (unsigned int)(wait_ms * 1000000ull / SERVER_LOGOUT_POLL_NS) + 1;
	if (qb_loop_timer_add(srv->loop, QB_LOOP_HIGH, SERVER_LOGOUT_POLL_NS, srv,
			      server_logout_poll, &server_logout.timer) < 0) {
		memset(&server_logout, 0, sizeof(server_logout));
		iscsi_server_drain(srv, drained, arg);
	}
}

static void server_park_drained(void *data)
{
	void (*drained)(void *arg) = server_park.drained;
	void *arg = server_park.arg;

	server_park.drained = NULL;
	server_park.arg = NULL;
	qb_log(LOG_NOTICE,
	       "parked %u connection(s): open and silent, no logout asked; the next promoted "
	       "node tickles them",
	       server_park.nparked);
	if (drained)
		drained(arg);
}

void iscsi_server_drain_park(struct iscsi_server *srv, void (*drained)(void *arg), void *arg)
{
	server_logout_cancel(srv);
	server_park.srv = srv;
	server_park.parking = true;
	server_park.nparked = 0;
	server_park.drained = drained;
	server_park.arg = arg;
	iscsi_server_drain(srv, server_park_drained, srv);
}

void iscsi_server_undrain(struct iscsi_server *srv)
{
	srv->draining = false;
	srv->drained = NULL;
	server_park.parking = false;
}

void iscsi_server_stop_now(struct iscsi_server *srv)
{
	struct iscsi_conn *c, *tmp;

	server_logout_cancel(srv);
	server_park.parking = false;
	iscsi_server_unlisten(srv);
	list_for_each_entry_safe(c, tmp, &srv->conns, node)
		conn_close(c, "service stopped");
}

void iscsi_server_fini(struct iscsi_server *srv)
{
	struct iscsi_conn *c, *tmp;

	server_logout_cancel(srv);
	iscsi_server_flush(srv);
	iscsi_server_unlisten(srv);
	list_for_each_entry_safe(c, tmp, &srv->conns, node)
		conn_close(c, NULL);
	iscsi_server_park_close(srv, false);
}

/*
 * Parking. A connection leaves a draining server (conn_close) as its last
 * command completes, after writing what the socket took of the queued
 * responses. What the socket did not take (it was full) is copied (a
 * zero-copy Data-In points into a store that closes next) and written from
 * the parked socket: an executed command's response reaches the initiator;
 * a command read after the pause never is, and is never executed.
 */

/* Append the bytes of conn's transmit queue not yet sent to out.
 * \return 0 or -ENOMEM. */
static int server_txq_copy(const struct iscsi_conn *conn, struct buf *out)
{
	const struct iscsi_txpdu *tx;
	int i;

	list_for_each_entry(tx, &conn->txq, node) {
		size_t skip = tx->sent;

		for (i = 0; i < tx->iovcnt; i++) {
			const struct iovec *v = &tx->iov[i];

			if (skip >= v->iov_len) {
				skip -= v->iov_len;
				continue;
			}
			buf_append(out, (const uint8_t *)v->iov_base + skip, v->iov_len - skip);
			skip = 0;
		}
	}
	return out->err;
}

/* Write what the socket takes, without blocking. \return 0 (all written),
 * -EAGAIN or another -errno. */
static int server_bytes_send(int fd, const struct buf *b, size_t *off)
{
	while (*off < b->len) {
		ssize_t n = send(fd, b->data + *off, b->len - *off, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		*off += (size_t)n;
	}
	return 0;
}

static int32_t server_parked_writable(int32_t fd, int32_t revents, void *data);

/* Write the rest of p's responses; poll for POLLOUT while some are left. */
static void server_parked_send(struct server_parked *p)
{
	qb_loop_t *loop = server_park.srv->loop;
	int rc = server_bytes_send(p->fd, &p->unsent, &p->off);

	if (rc == -EAGAIN && !p->polled)
		p->polled = qb_loop_poll_add(loop, QB_LOOP_HIGH, p->fd, POLLOUT, p,
					     server_parked_writable) == 0;
	else if (rc != -EAGAIN && p->polled)
		p->polled = qb_loop_poll_del(loop, p->fd) != 0;
}

static int32_t server_parked_writable(int32_t fd, int32_t revents, void *data)
{
	server_parked_send(data);
	return 0;
}

/* Forget p's connection. reset: with an RST, so that the initiator
 * reconnects at once (we serve its portal again). Otherwise without a word:
 * with TCP_REPAIR set, closing sends neither FIN nor RST (the
 * checkpoint/restore mode); it needs CAP_NET_ADMIN, else the close is a
 * plain one (a FIN, or an RST if commands arrived meanwhile). */
static void server_parked_close(struct server_parked *p, bool reset)
{
	struct linger abort_close = {.l_onoff = 1, .l_linger = 0};
	int one = 1, outq = 0;

	if (p->polled)
		qb_loop_poll_del(server_park.srv->loop, p->fd);
	if (ioctl(p->fd, SIOCOUTQ, &outq) == 0 && (outq > 0 || p->off < p->unsent.len))
		qb_log(LOG_INFO,
		       "parked connection closed with %zu byte(s) of responses unsent and %d "
		       "unacknowledged: their commands are retried on the new session",
		       p->unsent.len - p->off, outq);
	if (reset) {
		/* A linger of 0 s: close() sends an RST. */
		if (setsockopt(p->fd, SOL_SOCKET, SO_LINGER, &abort_close, sizeof(abort_close)) < 0)
			qb_log(LOG_WARNING,
			       "parked connection: SO_LINGER refused (%s): closing it "
			       "with a FIN",
			       strerror(errno));
	} else if (setsockopt(p->fd, IPPROTO_TCP, TCP_REPAIR, &one, sizeof(one)) < 0 &&
		   !server_park.repair_refused_logged) {
		server_park.repair_refused_logged = true;
		qb_log(LOG_WARNING,
		       "parked connections: TCP_REPAIR refused (%s; needs CAP_NET_ADMIN): closing "
		       "them normally, initiators see a FIN",
		       strerror(errno));
	}
	close(p->fd);
	list_del(&p->node);
	buf_release(&p->unsent);
	free(p);
}

void iscsi_server_park_close(struct iscsi_server *srv, bool reset)
{
	struct server_parked *p, *tmp;

	if (server_park.timer_armed) {
		qb_loop_timer_del(srv->loop, server_park.timer);
		server_park.timer_armed = false;
	}
	if (reset && !list_empty(&server_park.list))
		qb_log(LOG_NOTICE, "resetting the connections parked by the last demotion: their "
				   "initiators reconnect at once");
	list_for_each_entry_safe(p, tmp, &server_park.list, node)
		server_parked_close(p, reset);
}

static void server_park_expired(void *data)
{
	struct iscsi_server *srv = data;

	server_park.timer_armed = false;
	qb_log(LOG_INFO, "parked connections held %d s: closing them silently",
	       ISCSI_SERVER_PARK_HOLD_S);
	iscsi_server_park_close(srv, false);
}

/* Keep conn's socket open (a duplicate of its fd: conn_close closes the
 * original), with its queued responses. \return 0 or -errno. */
static int server_conn_park(const struct iscsi_conn *conn)
{
	struct iscsi_server *srv = conn->srv;
	struct server_parked *p = calloc(1, sizeof(*p));
	int rc = -ENOMEM;

	if (!p)
		goto out;
	p->fd = -1;
	rc = server_txq_copy(conn, &p->unsent);
	if (rc < 0)
		goto out;
	p->fd = fcntl(conn->fd, F_DUPFD_CLOEXEC, 0);
	if (p->fd < 0) {
		rc = -errno;
		goto out;
	}
	list_add_tail(&p->node, &server_park.list);
	server_park.nparked++;
	if (!server_park.timer_armed)
		server_park.timer_armed =
			qb_loop_timer_add(srv->loop, QB_LOOP_HIGH,
					  ISCSI_SERVER_PARK_HOLD_S * 1000000000ull, srv,
					  server_park_expired, &server_park.timer) == 0;
	qb_log(LOG_NOTICE, "parked the connection of %s (%zu byte(s) of responses to send)",
	       conn_who(conn), p->unsent.len);
	server_parked_send(p);
	p = NULL;
out:
	if (p) {
		buf_release(&p->unsent);
		free(p);
	}
	if (rc < 0)
		qb_log(LOG_WARNING, "cannot park the connection of %s (%s): closing it",
		       conn_who(conn), strerror(-rc));
	return rc;
}

/* A connection leaving a draining server: park it if the drain parks and
 * it belongs to a normal session. \return true if parked. */
static bool server_conn_leave(const struct iscsi_conn *conn)
{
	if (!conn->srv->draining || !server_park.parking || conn->fd < 0 || !conn->sess ||
	    conn->sess->type == ISCSI_SESSION_DISCOVERY)
		return false;
	return server_conn_park(conn) == 0;
}

/*
 * Connection hooks (server_hook.h). The addresses are taken at login and
 * kept: once the initiator has reset the connection, getpeername() fails.
 */
struct server_hooked_conn {
	struct list_head node;
	const struct iscsi_conn *conn;
	struct sockaddr_storage local;
	struct sockaddr_storage peer;
};

static struct {
	iscsi_server_conn_hook_fn fn;
	void *ctx;
	struct list_head conns; /* struct server_hooked_conn */
} server_hook = {.conns = LIST_HEAD_INIT(server_hook.conns)};

void iscsi_server_conn_hook_set(iscsi_server_conn_hook_fn fn, void *ctx)
{
	struct server_hooked_conn *h, *tmp;

	server_hook.fn = fn;
	server_hook.ctx = ctx;
	if (fn)
		return;
	list_for_each_entry_safe(h, tmp, &server_hook.conns, node) {
		list_del(&h->node);
		free(h);
	}
}

void server_conn_logged_in(const struct iscsi_conn *conn)
{
	struct server_hooked_conn *h;
	socklen_t llen = sizeof(h->local), plen = sizeof(h->peer);

	if (!server_hook.fn || !conn->sess || conn->sess->type == ISCSI_SESSION_DISCOVERY)
		return;
	/* Out of memory or an unnamed socket: one hint less, nothing else. */
	h = calloc(1, sizeof(*h));
	if (!h)
		return;
	if (getsockname(conn->fd, (struct sockaddr *)&h->local, &llen) < 0 ||
	    getpeername(conn->fd, (struct sockaddr *)&h->peer, &plen) < 0) {
		free(h);
		return;
	}
	h->conn = conn;
	list_add_tail(&h->node, &server_hook.conns);
	server_hook.fn(server_hook.ctx, true, (const struct sockaddr *)&h->local,
		       (const struct sockaddr *)&h->peer);
}

void server_conn_closed(const struct iscsi_conn *conn)
{
	struct server_hooked_conn *h, *tmp;
	/* A parked connection stays announced: the next promoted node
	 * tickles it (docs/replication.md "Connection hints"). */
	bool parked = server_conn_leave(conn);

	list_for_each_entry_safe(h, tmp, &server_hook.conns, node) {
		if (h->conn != conn)
			continue;
		list_del(&h->node);
		if (server_hook.fn && !parked)
			server_hook.fn(server_hook.ctx, false, (const struct sockaddr *)&h->local,
				       (const struct sockaddr *)&h->peer);
		free(h);
		return;
	}
}

static void server_json_str(struct buf *out, const char *s)
{
	buf_append(out, "\"", 1);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_printf(out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			buf_printf(out, "\\u%04x", (unsigned char)*s);
		else
			buf_append(out, s, 1);
	}
	buf_append(out, "\"", 1);
}

void iscsi_server_sessions_show(const struct iscsi_server *srv, bool json, struct buf *out)
{
	const struct iscsi_session *s;
	bool first = true;

	if (json)
		buf_printf(out, "[");
	else
		buf_printf(out, "%-5s %-40s %-12s %-40s %-22s %s\n", "TSIH", "INITIATOR", "ISID",
			   "TARGET", "PEER", "PARAMETERS");
	list_for_each_entry(s, &srv->sessions, node) {
		const struct iscsi_params *p = &s->params;
		const char *tname = s->target ? s->target->name : "(discovery)";

		if (json) {
			buf_printf(out, "%s{\"tsih\":%u,\"initiator\":", first ? "" : ",", s->tsih);
			server_json_str(out, p->initiator_name);
			buf_printf(out, ",\"isid\":\"%s\",\"target\":", s->isid_str);
			server_json_str(out, tname);
			buf_printf(
				out,
				",\"peer\":\"%s\",\"type\":\"%s\",\"header_digest\":\"%s\","
				"\"data_digest\":\"%s\",\"max_recv_dsl\":%u,\"max_xmit_dsl\":%u,"
				"\"max_burst\":%u,\"first_burst\":%u,\"immediate_data\":%s,"
				"\"initial_r2t\":%s,\"max_outstanding_r2t\":%u,\"commands\":%llu,"
				"\"bytes_read\":%llu,\"bytes_written\":%llu,\"errors\":%llu,"
				"\"latency_avg_us\":%llu,\"latency_max_us\":%llu}",
				s->conn->peer,
				s->type == ISCSI_SESSION_DISCOVERY ? "discovery" : "normal",
				p->header_digest ? "CRC32C" : "None",
				p->data_digest ? "CRC32C" : "None", p->max_recv_dsl,
				p->max_xmit_dsl, p->max_burst, p->first_burst,
				p->immediate_data ? "true" : "false",
				p->initial_r2t ? "true" : "false", p->max_outstanding_r2t,
				(unsigned long long)s->ncmds, (unsigned long long)s->bytes_read,
				(unsigned long long)s->bytes_written,
				(unsigned long long)s->nerrors,
				(unsigned long long)(s->nlat ? s->lat_sum_us / s->nlat : 0),
				(unsigned long long)s->lat_max_us);
		} else {
			buf_printf(
				out,
				"%-5u %-40s %-12s %-40s %-22s HeaderDigest=%s DataDigest=%s "
				"MaxRecvDSL=%u MaxXmitDSL=%u MaxBurst=%u FirstBurst=%u "
				"ImmediateData=%s InitialR2T=%s cmds=%llu read=%llu written=%llu "
				"errors=%llu lat_avg_us=%llu lat_max_us=%llu\n",
				s->tsih, p->initiator_name, s->isid_str, tname, s->conn->peer,
				p->header_digest ? "CRC32C" : "None",
				p->data_digest ? "CRC32C" : "None", p->max_recv_dsl,
				p->max_xmit_dsl, p->max_burst, p->first_burst,
				p->immediate_data ? "Yes" : "No", p->initial_r2t ? "Yes" : "No",
				(unsigned long long)s->ncmds, (unsigned long long)s->bytes_read,
				(unsigned long long)s->bytes_written,
				(unsigned long long)s->nerrors,
				(unsigned long long)(s->nlat ? s->lat_sum_us / s->nlat : 0),
				(unsigned long long)s->lat_max_us);
		}
		first = false;
	}
	if (json)
		buf_printf(out, "]\n");
}
