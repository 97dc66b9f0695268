/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Connection hooks of the iSCSI server (server.c): the cluster code learns
 * which TCP connections carry a logged-in normal session, to announce them
 * to the other members (ha/repl_msg.h REPL_CONNS) and to stop tickling an
 * initiator that came back (ha/tickle.h). Loop thread only.
 */
#ifndef HATGT_ISCSI_SERVER_HOOK_H
#define HATGT_ISCSI_SERVER_HOOK_H

#include <stdbool.h>
#include <sys/socket.h>

struct iscsi_conn;

/** \p logged_in: the connection entered full feature phase; else it closed.
 * \p local is the portal side, \p peer the initiator's. */
typedef void (*iscsi_server_conn_hook_fn)(void *ctx, bool logged_in, const struct sockaddr *local,
					  const struct sockaddr *peer);

/** Set the hook (NULL: none; connections remembered so far are forgotten). */
void iscsi_server_conn_hook_set(iscsi_server_conn_hook_fn fn, void *ctx);

/* conn.c: a connection of a normal session reached full feature phase. */
void server_conn_logged_in(const struct iscsi_conn *conn);
/* conn.c: a connection is closing (any state; its fd still open). */
void server_conn_closed(const struct iscsi_conn *conn);

#endif
