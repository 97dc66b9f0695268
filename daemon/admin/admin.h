/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Admin interface: a libqb IPC server in the daemon, a client in hatgtadm.
 *
 * Wire format (hatgt_ private, versioned): a request is the command line as
 * argv strings; the reply is an exit status and text (a table for people, or
 * JSON when the request carries --json). The daemon owns the command table
 * (struct admin_cmd); this module moves bytes.
 */
#ifndef HATGT_ADMIN_H
#define HATGT_ADMIN_H

#include <qb/qbloop.h>

#include "util/buf.h"

#define HATGT_ADMIN_DEFAULT_NAME "hatgt"
#define HATGT_ADMIN_MAX_MSG (1024 * 1024)

/* Exit statuses of hatgtadm (and of admin commands). */
enum hatgt_admin_status {
	HATGT_ADMIN_OK = 0,
	HATGT_ADMIN_ERR = 1,	   /* the command failed; the text says why */
	HATGT_ADMIN_USAGE = 2,	   /* bad command line */
	HATGT_ADMIN_NOT_FOUND = 3, /* no such target/LUN/session */
	HATGT_ADMIN_NO_DAEMON = 4, /* cannot reach hatgtd */
};

/*
 * A command handler: argv[0] is the verb. json: the caller asked for JSON.
 * Writes its reply text into out. \return an enum hatgt_admin_status.
 */
struct admin_cmd {
	const char *verb;
	const char *usage;
	int (*fn)(void *ctx, int argc, char **argv, int json, struct buf *out);
};

struct admin_server;

/** Serve the command table on the libqb IPC service name. \return 0 or -errno. */
int admin_server_start(qb_loop_t *loop, const char *name, const struct admin_cmd *cmds,
		       size_t ncmds, void *ctx, struct admin_server **out);
/** Accepts NULL. */
void admin_server_stop(struct admin_server *srv);

/** Client side: send argv, wait up to timeout_ms, fill reply text.
 * \return an enum hatgt_admin_status (HATGT_ADMIN_NO_DAEMON when the daemon
 * cannot be reached). */
int admin_client_call(const char *name, int argc, char **argv, int timeout_ms, struct buf *reply);

/* Request flags (admin_client_call_flags()). */
#define HATGT_ADMIN_F_JSON 0x1u /* the caller wants JSON; handlers get json = 1 */

/** Like admin_client_call() with request flags (HATGT_ADMIN_F_JSON).
 * admin_client_call() sends no flags; either way a "--json" argument after
 * the verb also sets json for the handler (the server strips it).
 * The reply text is appended to reply and NUL-terminated (not counted in
 * reply->len); on failure it says what went wrong, for stderr. */
int admin_client_call_flags(const char *name, int argc, char **argv, unsigned int flags,
			    int timeout_ms, struct buf *reply);

/** Append s as a quoted JSON string (RFC 8259 section 7), for handlers
 * that answer in JSON. \return 0 or -ENOMEM. */
int admin_json_str(struct buf *b, const char *s);

#endif
