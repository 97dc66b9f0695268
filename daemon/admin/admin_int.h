/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Admin channel internals: the private wire format (admin_wire.c) and the
 * request dispatch, pure code that the unit tests drive without IPC.
 *
 * Every message starts with libqb's own header (native byte order, as libqb
 * requires), followed by our part in big-endian:
 *
 * Request (after struct qb_ipc_request_header, id ADMIN_MSG_REQUEST):
 *   0  be32 magic "HTGA"
 *   4  be16 version (1)
 *   6  be16 flags (HATGT_ADMIN_F_JSON)
 *   8  be32 argc (1..ADMIN_MAX_ARGS)
 *  12  be32 args_len: the bytes that follow
 *  16  argv[0] NUL argv[1] NUL ... argv[argc-1] NUL
 *
 * Reply (after struct qb_ipc_response_header, id ADMIN_MSG_REPLY):
 *   0  be32 magic "HTGA"
 *   4  be16 version (1)
 *   6  be16 reserved (0)
 *   8  be32 status (enum hatgt_admin_status)
 *  12  be32 text_len: the bytes that follow
 *  16  text (UTF-8, not NUL-terminated)
 *
 * Both are at most HATGT_ADMIN_MAX_MSG bytes in all.
 */
#ifndef HATGT_ADMIN_INT_H
#define HATGT_ADMIN_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <qb/qbipc_common.h>

#include "admin/admin.h"

#define ADMIN_MSG_MAGIC 0x48544741u /* "HTGA" */
#define ADMIN_MSG_VERSION 1
#define ADMIN_MSG_REQUEST (QB_IPC_MSG_USER_START + 1)
#define ADMIN_MSG_REPLY (QB_IPC_MSG_USER_START + 2)
#define ADMIN_MAX_ARGS 256
#define ADMIN_BODY_HDR_LEN 16
#define ADMIN_REQ_HDR_LEN (sizeof(struct qb_ipc_request_header) + ADMIN_BODY_HDR_LEN)
#define ADMIN_RSP_HDR_LEN (sizeof(struct qb_ipc_response_header) + ADMIN_BODY_HDR_LEN)
#define ADMIN_MAX_TEXT (HATGT_ADMIN_MAX_MSG - ADMIN_RSP_HDR_LEN)

/* A decoded request. argv[argc] is NULL; argv points into strings. */
struct admin_req {
	int argc;
	char **argv;
	unsigned int flags;
	char *strings;
};

/** Encode a request into out (appended). \return 0, -EINVAL (argc out of
 * range), -EMSGSIZE (larger than HATGT_ADMIN_MAX_MSG) or -ENOMEM. */
int admin_req_encode(int argc, char *const *argv, unsigned int flags, struct buf *out);
/** Decode and check a request. \return 0 (release req with
 * admin_req_release()), -EBADMSG with *why set to a static reason, or
 * -ENOMEM. */
int admin_req_decode(const void *data, size_t len, struct admin_req *req, const char **why);
/** Free what admin_req_decode() allocated. Accepts a zeroed req. */
void admin_req_release(struct admin_req *req);

/** Fill the ADMIN_RSP_HDR_LEN bytes of a reply header for text_len bytes of
 * text, which the caller sends right after it. */
void admin_rsp_header_put(uint8_t *hdr, int status, size_t text_len);
/** Decode a reply. *text points into data. \return 0 or -EBADMSG. */
int admin_rsp_decode(const void *data, size_t len, int *status, const char **text,
		     size_t *text_len);

/** Run one request against the command table: the built-in "help", the
 * table's verbs, or "unknown command". Strips "--json" arguments into the
 * json flag. \return the status; the reply text is in out. */
int admin_request_dispatch(const struct admin_cmd *cmds, size_t ncmds, void *ctx,
			   struct admin_req *req, struct buf *out);

/** Access policy: root and the daemon's own user. */
int admin_uid_allowed(uid_t uid, uid_t self);

#endif
