/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The admin channel's private wire format (layout in admin_int.h). Decoding
 * trusts nothing: lengths are checked against the message before any read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin_int.h"
#include "util/be.h"

int admin_req_encode(int argc, char *const *argv, unsigned int flags, struct buf *out)
{
	struct qb_ipc_request_header qh;
	uint8_t body[ADMIN_BODY_HDR_LEN];
	size_t args_len = 0, total;
	int i, rc;

	if (argc < 1 || argc > ADMIN_MAX_ARGS)
		return -EINVAL;
	for (i = 0; i < argc; i++) {
		args_len += strlen(argv[i]) + 1;
		if (args_len > HATGT_ADMIN_MAX_MSG)
			return -EMSGSIZE;
	}
	total = ADMIN_REQ_HDR_LEN + args_len;
	if (total > HATGT_ADMIN_MAX_MSG)
		return -EMSGSIZE;
	memset(&qh, 0, sizeof(qh));
	qh.id = ADMIN_MSG_REQUEST;
	qh.size = (int32_t)total;
	put_be32(body, ADMIN_MSG_MAGIC);
	put_be16(body + 4, ADMIN_MSG_VERSION);
	put_be16(body + 6, (uint16_t)flags);
	put_be32(body + 8, (uint32_t)argc);
	put_be32(body + 12, (uint32_t)args_len);
	rc = buf_reserve(out, total);
	if (rc)
		return rc;
	buf_append(out, &qh, sizeof(qh));
	buf_append(out, body, sizeof(body));
	for (i = 0; i < argc; i++)
		buf_append(out, argv[i], strlen(argv[i]) + 1);
	return out->err;
}

void admin_req_release(struct admin_req *req)
{
	free(req->argv);
	free(req->strings);
	memset(req, 0, sizeof(*req));
}

int admin_req_decode(const void *data, size_t len, struct admin_req *req, const char **why)
{
	const uint8_t *body = (const uint8_t *)data + sizeof(struct qb_ipc_request_header);
	struct qb_ipc_request_header qh;
	uint32_t argc, args_len, nuls = 0, i;
	const char *reason = NULL;
	char *s;
	int rc = -EBADMSG;

	memset(req, 0, sizeof(*req));
	if (len < ADMIN_REQ_HDR_LEN) {
		reason = "request shorter than its header";
		goto out;
	}
	if (len > HATGT_ADMIN_MAX_MSG) {
		reason = "request too large";
		goto out;
	}
	memcpy(&qh, data, sizeof(qh));
	if (qh.id != ADMIN_MSG_REQUEST || qh.size < 0 || (size_t)qh.size != len) {
		reason = "bad message id or size";
		goto out;
	}
	if (get_be32(body) != ADMIN_MSG_MAGIC) {
		reason = "bad magic";
		goto out;
	}
	if (get_be16(body + 4) != ADMIN_MSG_VERSION) {
		reason = "unsupported protocol version (hatgtadm and hatgtd differ?)";
		goto out;
	}
	req->flags = get_be16(body + 6);
	if (req->flags & ~HATGT_ADMIN_F_JSON) {
		reason = "unknown request flags";
		goto out;
	}
	argc = get_be32(body + 8);
	args_len = get_be32(body + 12);
	if (argc < 1 || argc > ADMIN_MAX_ARGS) {
		reason = "argument count out of range";
		goto out;
	}
	if (args_len != len - ADMIN_REQ_HDR_LEN) {
		reason = "argument length does not match the message";
		goto out;
	}
	body += ADMIN_BODY_HDR_LEN;
	for (i = 0; i < args_len; i++)
		nuls += body[i] == '\0';
	if (nuls != argc || body[args_len - 1] != '\0') {
		reason = "arguments are not argc NUL-terminated strings";
		goto out;
	}
	if (body[0] == '\0') {
		reason = "empty command";
		goto out;
	}
	rc = -ENOMEM;
	req->strings = calloc(1, args_len);
	req->argv = calloc(argc + 1, sizeof(*req->argv));
	if (!req->strings || !req->argv)
		goto out;
	memcpy(req->strings, body, args_len);
	for (i = 0, s = req->strings; i < argc; i++) {
		req->argv[i] = s;
		s += strlen(s) + 1;
	}
	req->argc = (int)argc;
	rc = 0;
out:
	if (rc)
		admin_req_release(req);
	if (why)
		*why = reason;
	return rc;
}

void admin_rsp_header_put(uint8_t *hdr, int status, size_t text_len)
{
	struct qb_ipc_response_header qh;

	memset(&qh, 0, sizeof(qh));
	qh.id = ADMIN_MSG_REPLY;
	qh.size = (int32_t)(ADMIN_RSP_HDR_LEN + text_len);
	qh.error = 0;
	memcpy(hdr, &qh, sizeof(qh));
	hdr += sizeof(qh);
	put_be32(hdr, ADMIN_MSG_MAGIC);
	put_be16(hdr + 4, ADMIN_MSG_VERSION);
	put_be16(hdr + 6, 0);
	put_be32(hdr + 8, (uint32_t)status);
	put_be32(hdr + 12, (uint32_t)text_len);
}

int admin_rsp_decode(const void *data, size_t len, int *status, const char **text, size_t *text_len)
{
	const uint8_t *body = (const uint8_t *)data + sizeof(struct qb_ipc_response_header);
	struct qb_ipc_response_header qh;
	uint32_t st, tlen;

	if (len < ADMIN_RSP_HDR_LEN || len > HATGT_ADMIN_MAX_MSG)
		return -EBADMSG;
	memcpy(&qh, data, sizeof(qh));
	if (qh.id != ADMIN_MSG_REPLY || qh.size < 0 || (size_t)qh.size != len)
		return -EBADMSG;
	if (get_be32(body) != ADMIN_MSG_MAGIC || get_be16(body + 4) != ADMIN_MSG_VERSION)
		return -EBADMSG;
	st = get_be32(body + 8);
	tlen = get_be32(body + 12);
	if (st > 255 || tlen != len - ADMIN_RSP_HDR_LEN)
		return -EBADMSG;
	*status = (int)st;
	*text = (const char *)body + ADMIN_BODY_HDR_LEN;
	*text_len = tlen;
	return 0;
}
