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

struct iscsi_server;

/* Parked connections (docs/ha.md "Planned failover"). A demotion in park
 * mode keeps the sockets of logged-in normal sessions open but silent: no
 * further command is read or answered, no FIN or RST is sent, and their
 * hints stay announced, so that the node promoted next tickles them once it
 * holds the portal address and the initiator reconnects there at once. */

/** Hold parked sockets at most this long (then closed silently). */
#define ISCSI_SERVER_PARK_HOLD_S 10

/** Like iscsi_server_drain() (no new commands are read, in-flight ones
 * finish and their responses go out), but each connection of a normal
 * session is parked instead of closed: the socket stays open, its closing
 * is not announced to the conn hook, and the responses still queued when it
 * leaves the server are sent from the parked socket. drained(arg) runs once
 * when no connection is left; one log line says how many were parked.
 * Parked sockets close silently (iscsi_server_park_close()) at exit
 * (iscsi_server_fini()) and after ISCSI_SERVER_PARK_HOLD_S seconds, and
 * with an RST when this node serves the portals again. */
void iscsi_server_drain_park(struct iscsi_server *srv, void (*drained)(void *arg), void *arg);
/** Close every parked socket. reset: with an RST (the initiators
 * reconnect at once: call it once the portals listen again); else without
 * sending a FIN or RST (TCP_REPAIR; without CAP_NET_ADMIN a plain close,
 * logged once). */
void iscsi_server_park_close(struct iscsi_server *srv, bool reset);

/* conn.c: a connection of a normal session reached full feature phase. */
void server_conn_logged_in(const struct iscsi_conn *conn);
/* conn.c: a connection is closing (any state; its fd still open, its
 * transmit queue not yet freed). */
void server_conn_closed(const struct iscsi_conn *conn);

#endif
