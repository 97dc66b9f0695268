/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The admin channel over libqb IPC: the server runs in the daemon's qb_loop,
 * the client is hatgtadm. One request, one reply; the daemon owns the verbs
 * (struct admin_cmd), this file answers "help" and unknown verbs itself.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <qb/qbipcc.h>
#include <qb/qbipcs.h>
#include <qb/qbloop.h>

#include "admin/admin_int.h"

struct admin_server {
	qb_ipcs_service_t *svc;
	const struct admin_cmd *cmds;
	size_t ncmds;
	void *ctx;
	uid_t self_uid;
};

/*
 * libqb's poll callbacks (struct qb_ipcs_poll_handlers) carry no user
 * pointer, so the loop they feed is per process: one admin server at a time.
 */
static qb_loop_t *admin_loop;

int admin_uid_allowed(uid_t uid, uid_t self)
{
	return uid == 0 || uid == self;
}

int admin_json_str(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	char esc[7];
	const char *run = s;

	buf_append(b, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_append(b, run, (size_t)(s - run));
		run = s + 1;
		/* RFC 8259 section 7: quote, backslash and controls must be escaped. */
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			buf_append(b, esc, 2);
		} else if (c == '\n') {
			buf_append(b, "\\n", 2);
		} else if (c == '\t') {
			buf_append(b, "\\t", 2);
		} else {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			buf_append(b, esc, 6);
		}
	}
	buf_append(b, run, (size_t)(s - run));
	return buf_append(b, "\"", 1);
}

static int admin_help_write(const struct admin_cmd *cmds, size_t ncmds, int json, struct buf *out)
{
	int width = (int)strlen("help");
	size_t i;

	if (json) {
		buf_printf(out, "{\"commands\":[{\"verb\":\"help\",\"usage\":\"help\"}");
		for (i = 0; i < ncmds; i++) {
			buf_printf(out, ",{\"verb\":");
			admin_json_str(out, cmds[i].verb);
			buf_printf(out, ",\"usage\":");
			admin_json_str(out, cmds[i].usage ? cmds[i].usage : "");
			buf_printf(out, "}");
		}
		buf_printf(out, "]}\n");
		return HATGT_ADMIN_OK;
	}
	for (i = 0; i < ncmds; i++)
		if (strlen(cmds[i].verb) > (size_t)width && strlen(cmds[i].verb) < 32)
			width = (int)strlen(cmds[i].verb);
	buf_printf(out, "commands:\n");
	buf_printf(out, "  %-*s  %s\n", width, "help", "list the commands");
	for (i = 0; i < ncmds; i++)
		buf_printf(out, "  %-*s  %s\n", width, cmds[i].verb,
			   cmds[i].usage ? cmds[i].usage : "");
	return HATGT_ADMIN_OK;
}

/* An error line, or {"error": "..."} for JSON callers. */
__attribute__((format(printf, 3, 4))) static void admin_error_write(struct buf *out, int json,
								    const char *fmt, ...)
{
	struct buf m = BUF_INIT;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_reserve(&m, (size_t)n + 1)) {
		out->err = -ENOMEM;
		goto out;
	}
	va_start(ap, fmt);
	vsnprintf((char *)m.data, (size_t)n + 1, fmt, ap);
	va_end(ap);
	if (json) {
		buf_printf(out, "{\"error\":");
		admin_json_str(out, (const char *)m.data);
		buf_printf(out, "}\n");
	} else {
		buf_printf(out, "%s\n", (const char *)m.data);
	}
out:
	buf_release(&m);
}

int admin_request_dispatch(const struct admin_cmd *cmds, size_t ncmds, void *ctx,
			   struct admin_req *req, struct buf *out)
{
	int i, n = 1, json = !!(req->flags & HATGT_ADMIN_F_JSON);
	size_t c;

	/* "--json" anywhere after the verb is the same as the flag. */
	for (i = 1; i < req->argc; i++) {
		if (!strcmp(req->argv[i], "--json"))
			json = 1;
		else
			req->argv[n++] = req->argv[i];
	}
	req->argc = n;
	req->argv[n] = NULL;
	if (!strcmp(req->argv[0], "help"))
		return admin_help_write(cmds, ncmds, json, out);
	for (c = 0; c < ncmds; c++)
		if (!strcmp(cmds[c].verb, req->argv[0]))
			return cmds[c].fn(ctx, req->argc, req->argv, json, out);
	admin_error_write(out, json, "unknown command: %s (try help)", req->argv[0]);
	return HATGT_ADMIN_USAGE;
}

static int32_t admin_conn_accept(qb_ipcs_connection_t *c, uid_t uid, gid_t gid)
{
	struct admin_server *srv = qb_ipcs_connection_service_context_get(c);

	if (!srv || !admin_uid_allowed(uid, srv->self_uid))
		return -EACCES;
	return 0;
}

static void admin_reply_send(qb_ipcs_connection_t *c, int status, const void *text, size_t len)
{
	uint8_t hdr[ADMIN_RSP_HDR_LEN];
	struct iovec iov[2];

	admin_rsp_header_put(hdr, status, len);
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = (void *)text;
	iov[1].iov_len = len;
	qb_ipcs_response_sendv(c, iov, len ? 2 : 1);
}

static int32_t admin_msg_process(qb_ipcs_connection_t *c, void *data, size_t size)
{
	struct admin_server *srv = qb_ipcs_connection_service_context_get(c);
	static const char nomem[] = "hatgtd: out of memory\n";
	static const char toolarge[] = "hatgtd: reply too large\n";
	struct admin_req req;
	struct buf out = BUF_INIT;
	const char *why = NULL;
	int status, rc;

	rc = admin_req_decode(data, size, &req, &why);
	if (rc == -EBADMSG) {
		status = HATGT_ADMIN_USAGE;
		buf_printf(&out, "malformed request: %s\n", why);
	} else if (rc) {
		status = HATGT_ADMIN_ERR;
	} else {
		status = admin_request_dispatch(srv->cmds, srv->ncmds, srv->ctx, &req, &out);
	}
	admin_req_release(&req);
	if (rc == -ENOMEM || out.err)
		admin_reply_send(c, HATGT_ADMIN_ERR, nomem, sizeof(nomem) - 1);
	else if (out.len > ADMIN_MAX_TEXT)
		admin_reply_send(c, HATGT_ADMIN_ERR, toolarge, sizeof(toolarge) - 1);
	else
		admin_reply_send(c, status, out.data, out.len);
	buf_release(&out);
	return 0;
}

static int32_t admin_job_add(enum qb_loop_priority p, void *data, qb_loop_job_dispatch_fn fn)
{
	return qb_loop_job_add(admin_loop, p, data, fn);
}

static int32_t admin_dispatch_add(enum qb_loop_priority p, int32_t fd, int32_t evts, void *data,
				  qb_ipcs_dispatch_fn_t fn)
{
	return qb_loop_poll_add(admin_loop, p, fd, evts, data, fn);
}

static int32_t admin_dispatch_mod(enum qb_loop_priority p, int32_t fd, int32_t evts, void *data,
				  qb_ipcs_dispatch_fn_t fn)
{
	return qb_loop_poll_mod(admin_loop, p, fd, evts, data, fn);
}

static int32_t admin_dispatch_del(int32_t fd)
{
	return qb_loop_poll_del(admin_loop, fd);
}

int admin_server_start(qb_loop_t *loop, const char *name, const struct admin_cmd *cmds,
		       size_t ncmds, void *ctx, struct admin_server **out)
{
	static struct qb_ipcs_service_handlers handlers = {
		.connection_accept = admin_conn_accept,
		.msg_process = admin_msg_process,
	};
	static struct qb_ipcs_poll_handlers poll = {
		.job_add = admin_job_add,
		.dispatch_add = admin_dispatch_add,
		.dispatch_mod = admin_dispatch_mod,
		.dispatch_del = admin_dispatch_del,
	};
	struct admin_server *srv = NULL;
	int rc;

	*out = NULL;
	if (!loop || !name || !*name)
		return -EINVAL;
	if (admin_loop && admin_loop != loop)
		return -EBUSY;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->cmds = cmds;
	srv->ncmds = ncmds;
	srv->ctx = ctx;
	srv->self_uid = geteuid();
	admin_loop = loop;
	/* Shared memory: replies up to HATGT_ADMIN_MAX_MSG without depending
	 * on socket buffer limits. */
	srv->svc = qb_ipcs_create(name, 0, QB_IPC_SHM, &handlers);
	if (!srv->svc) {
		rc = errno ? -errno : -ENOMEM;
		goto fail;
	}
	qb_ipcs_service_context_set(srv->svc, srv);
	qb_ipcs_poll_handlers_set(srv->svc, &poll);
	qb_ipcs_enforce_buffer_size(srv->svc, HATGT_ADMIN_MAX_MSG);
	rc = qb_ipcs_run(srv->svc);
	if (rc < 0)
		goto fail;
	*out = srv;
	return 0;
fail:
	admin_server_stop(srv);
	return rc;
}

void admin_server_stop(struct admin_server *srv)
{
	if (!srv)
		return;
	if (srv->svc)
		qb_ipcs_destroy(srv->svc);
	free(srv);
	admin_loop = NULL;
}

/* The reply text for a failure on the client side. \return status. */
__attribute__((format(printf, 3, 4))) static int admin_client_fail(struct buf *reply, int status,
								   const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n > 0 && !buf_reserve(reply, (size_t)n + 1)) {
		va_start(ap, fmt);
		vsnprintf((char *)reply->data + reply->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
		reply->len += (size_t)n;
	}
	return status;
}

int admin_client_call_flags(const char *name, int argc, char **argv, unsigned int flags,
			    int timeout_ms, struct buf *reply)
{
	qb_ipcc_connection_t *conn = NULL;
	struct buf req = BUF_INIT;
	uint8_t *rsp = NULL;
	const char *text;
	struct iovec iov;
	size_t text_len;
	ssize_t n;
	int rc, status;

	rc = admin_req_encode(argc, argv, flags, &req);
	if (rc) {
		status = admin_client_fail(reply, HATGT_ADMIN_USAGE, "%s\n",
					   rc == -ENOMEM ? "out of memory"
							 : "command line too long");
		goto out;
	}
	rsp = calloc(1, HATGT_ADMIN_MAX_MSG);
	if (!rsp) {
		status = admin_client_fail(reply, HATGT_ADMIN_ERR, "out of memory\n");
		goto out;
	}
	conn = qb_ipcc_connect(name, HATGT_ADMIN_MAX_MSG);
	if (!conn) {
		if (errno == EACCES || errno == EPERM)
			status = admin_client_fail(reply, HATGT_ADMIN_NO_DAEMON,
						   "permission denied by hatgtd (service %s): "
						   "run as root\n",
						   name);
		else
			status = admin_client_fail(reply, HATGT_ADMIN_NO_DAEMON,
						   "cannot connect to hatgtd (service %s): "
						   "is it running?\n",
						   name);
		goto out;
	}
	iov.iov_base = req.data;
	iov.iov_len = req.len;
	n = qb_ipcc_sendv_recv(conn, &iov, 1, rsp, HATGT_ADMIN_MAX_MSG,
			       timeout_ms <= 0 ? -1 : timeout_ms);
	if (n == -ETIMEDOUT || n == -EAGAIN) {
		status = admin_client_fail(reply, HATGT_ADMIN_NO_DAEMON,
					   "no reply from hatgtd (service %s) within %d ms\n", name,
					   timeout_ms);
		goto out;
	}
	if (n < 0) {
		status = admin_client_fail(reply, HATGT_ADMIN_NO_DAEMON,
					   "lost the connection to hatgtd (service %s): error %d\n",
					   name, (int)-n);
		goto out;
	}
	if (admin_rsp_decode(rsp, (size_t)n, &status, &text, &text_len)) {
		status = admin_client_fail(reply, HATGT_ADMIN_ERR,
					   "malformed reply from hatgtd (service %s)\n", name);
		goto out;
	}
	buf_append(reply, text, text_len);
out:
	/* NUL-terminate for the caller's convenience, without counting it. */
	if (!buf_reserve(reply, 1))
		reply->data[reply->len] = '\0';
	if (conn)
		qb_ipcc_disconnect(conn);
	free(rsp);
	buf_release(&req);
	return status;
}

int admin_client_call(const char *name, int argc, char **argv, int timeout_ms, struct buf *reply)
{
	return admin_client_call_flags(name, argc, argv, 0, timeout_ms, reply);
}
