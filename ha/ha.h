/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Cluster membership and PR replication over corosync CPG, on the daemon's
 * libqb loop. cs_error_t never leaves this directory: functions return 0 or
 * -errno.
 */
#ifndef HATGT_HA_H
#define HATGT_HA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qb/qbloop.h>

#include "ha/repl.h"
#include "scsi/pr_commit.h"

struct ha;

struct ha_callbacks {
	/* The cluster connection or quorum is gone: a promoted daemon stops
	 * serving at once (design.md rule 6, and a daemon without corosync
	 * cannot replicate). */
	void (*must_stop_serving)(void *ctx, const char *why);
	/* Called after every batch of cluster events: PR commands completed
	 * in it have queued responses that should go out now. */
	void (*after_dispatch)(void *ctx);
	void *ctx;
};

/** Join the CPG group. \return 0 or -errno (-ENOTCONN: corosync not
 * running; the daemon retries). */
int ha_start(qb_loop_t *loop, const char *group, const uint8_t digest[REPL_DIGEST_LEN],
	     uint64_t epoch, uint64_t generation, const struct ha_callbacks *cb, struct ha **out);
/** Leave the group (clean LEAVE) and free. Accepts NULL. */
void ha_stop(struct ha *ha);

/** The committer for scsi_pr_committer_set(). */
const struct scsi_pr_committer *ha_committer(struct ha *ha);

/** The configuration was reloaded: use \p digest from now on (and across
 * reconnects), so that a member started later with the new config syncs. */
void ha_digest_set(struct ha *ha, const uint8_t digest[REPL_DIGEST_LEN]);

/** \return 0, -EAGAIN (not synced), -ENOTCONN (no corosync), -EACCES (not quorate). */
int ha_promote(struct ha *ha);
void ha_demote(struct ha *ha);

enum repl_sync_state ha_sync_state(const struct ha *ha);
bool ha_connected(const struct ha *ha);
bool ha_quorate(const struct ha *ha);
size_t ha_members(const struct ha *ha);
uint64_t ha_epoch(const struct ha *ha);
uint64_t ha_generation(const struct ha *ha);
size_t ha_pending(const struct ha *ha);
uint32_t ha_nodeid(const struct ha *ha);

/** A served iSCSI connection logged in or closed: a hint to the other
 * members (repl_conn_note()). \return 0 or -errno (-ENOTCONN, -EAGAIN: not
 * promoted). */
int ha_conn_note(struct ha *ha, bool logged_in, const struct repl_conn *c);
/** The previous promoted member's connections (repl_conns_others()). */
size_t ha_conns_others(const struct ha *ha, struct repl_conn *out, size_t max);

#endif
