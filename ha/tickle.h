/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tickle ACKs after a promotion (docs/replication.md "Connection hints"):
 * for each connection the previous promoted member served on one of our
 * portals, send tickle_pkt_build()'s ACK from a raw socket once the portal
 * address is up here, then every TICKLE_EVERY_MS for TICKLE_FOR_MS, or
 * until a connection from that initiator address logs in again.
 * Needs CAP_NET_RAW; without it, one log line and no tickles.
 */
#ifndef HATGT_HA_TICKLE_H
#define HATGT_HA_TICKLE_H

#include <stddef.h>
#include <sys/socket.h>

#include <qb/qbloop.h>

#include "ha/repl_msg.h"

#define TICKLE_POLL_MS 10	/* is the portal address up yet? */
#define TICKLE_ARP_GRACE_MS 50	/* then let IPaddr2 announce it */
#define TICKLE_EVERY_MS 200	/* then one ACK per connection this often ... */
#define TICKLE_FOR_MS 5000	/* ... for this long */
#define TICKLE_WAIT_IP_MS 15000 /* give up on a portal address that never comes up */

struct tickle;

/** Start tickling \p n connections (copied). \p *out is NULL when there is
 * nothing to do (n == 0, no raw socket); the one log line of the promotion
 * says why. \return 0 or -ENOMEM. */
int tickle_start(qb_loop_t *loop, const struct repl_conn *conns, size_t n, struct tickle **out);
/** A connection from \p initiator logged in: stop tickling one (the
 * oldest) connection from that address that has been sent an ACK already;
 * connections not tickled yet are kept (another session of the same host
 * says nothing about them). Accepts NULL \p t. */
void tickle_login(struct tickle *t, const struct sockaddr *initiator);
/** Stop and free. Accepts NULL. */
void tickle_stop(struct tickle *t);

#endif
