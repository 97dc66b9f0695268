/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The PR replication state machine (design.md section 3), independent of
 * corosync: ha.c feeds it CPG deliveries, configuration changes and quorum
 * changes, and it answers through struct repl_ops. Being pure, it is
 * tested with N in-process replicas behind a scripted total order.
 *
 * Rules it implements:
 *  1. A PR command is multicast in agreed order; every member applies it in
 *     delivery order (the sender too).
 *  2. The sender completes it only when every member of the membership in
 *     which it was delivered has acknowledged it, or has left cleanly
 *     (LEAVE, PROCDOWN), or its node went down and has been fenced.
 *     There is no timer that completes a command.
 *  3. A member that joins is SYNCING until it has installed a snapshot
 *     from the source (the promoted member, else the synced member with the
 *     highest (epoch, generation)); when no member is synced (the whole
 *     cluster restarted) the member with the highest (epoch, generation)
 *     becomes the source, but only while quorate.
 *  A member whose config digest differs from the source's never syncs.
 */
#ifndef HATGT_HA_REPL_H
#define HATGT_HA_REPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ha/repl_msg.h"
#include "scsi/pr_commit.h"

/* CPG reasons for a member leaving (corosync's values, cpg.h). */
enum repl_leave_reason {
	REPL_LEFT_CLEANLY = 2,	/* CPG_REASON_LEAVE */
	REPL_LEFT_NODEDOWN = 3, /* CPG_REASON_NODEDOWN */
	REPL_LEFT_PROCDOWN = 5, /* CPG_REASON_PROCDOWN */
};

struct repl_member {
	uint32_t nodeid;
	uint32_t pid;
	uint32_t reason; /* for left members: enum repl_leave_reason */
};

struct repl_ops {
	/** Multicast in agreed order. \return 0 or -errno. */
	int (*send)(void *ctx, const uint8_t *msg, size_t len);
	/** Multicast a hint (REPL_CONNS) in agreed order, once, without
	 * waiting or retrying. NULL: send is used. */
	int (*send_hint)(void *ctx, const uint8_t *msg, size_t len);
	/** Apply an encoded PR command (scsi_pr_deliver). */
	int (*apply)(void *ctx, const uint8_t *cmd, size_t len, struct scsi_pr_result *res);
	int (*snapshot)(void *ctx, uint8_t **out, size_t *len);
	int (*install)(void *ctx, const uint8_t *buf, size_t len);
	/** Tell the outside the replication position (for APTPL files). */
	void (*position)(void *ctx, uint64_t epoch, uint64_t generation);
	/** Has node nodeid been fenced after time t (seconds, as given by
	 * the ha layer when the node went down)? */
	bool (*fenced)(void *ctx, uint32_t nodeid, uint64_t down_since);
	uint64_t (*now)(void *ctx);
	/** Leave the group for good (our config differs from the cluster's). */
	void (*leave)(void *ctx);
	/** This member failed to apply a command the others applied: leave
	 * and rejoin as a syncing member, from the loop (not from inside a
	 * delivery). */
	void (*diverged)(void *ctx);
	/** A line for the log; level is a syslog priority. */
	void (*log)(void *ctx, int level, const char *msg);
	void *ctx;
};

enum repl_sync_state {
	REPL_SYNCING = 0,
	REPL_SYNCED,
	REPL_CONFIG_MISMATCH, /* our config differs from the cluster's: never synced */
};

struct repl;

/** \return NULL on ENOMEM. (epoch, generation) is where this member's own
 * state (from APTPL files) stands. */
struct repl *repl_create(const struct repl_ops *ops, uint32_t nodeid, uint32_t pid,
			 const uint8_t digest[REPL_DIGEST_LEN], uint64_t epoch,
			 uint64_t generation);
/** Accepts NULL. Pending commands get a BUSY result. */
void repl_destroy(struct repl *r);

/** The committer's submit (scsi/pr_commit.h). \return 0 or -EAGAIN when this
 * member is not synced, -ENOMEM. */
int repl_submit(struct repl *r, const uint8_t *cmd, size_t len, scsi_pr_done_fn done, void *arg);

void repl_deliver(struct repl *r, uint32_t nodeid, uint32_t pid, const uint8_t *msg, size_t len);
void repl_confchg(struct repl *r, const struct repl_member *members, size_t nmembers,
		  const struct repl_member *left, size_t nleft, const struct repl_member *joined,
		  size_t njoined);
void repl_quorum(struct repl *r, bool quorate);
/** Re-check nodes waiting for fencing (call from a timer). */
void repl_fence_poll(struct repl *r);
/** The configuration was reloaded: announce \p digest from the next HELLO on,
 * so that a member started later with the new config matches. */
void repl_digest_set(struct repl *r, const uint8_t digest[REPL_DIGEST_LEN]);
/** This member became promoted: announce a new epoch. \return 0 or -errno. */
int repl_promote(struct repl *r);
void repl_demote(struct repl *r);

/** While promoted: tell the other members that an iSCSI connection entered
 * full feature phase (\p logged_in) or closed (REPL_CONNS, a hint: no
 * acknowledgement). \return 0, -EAGAIN when not promoted, or -errno. */
int repl_conn_note(struct repl *r, bool logged_in, const struct repl_conn *c);
/** Copy up to \p max connections announced by other members (the previous
 * promoted member's), oldest first, for tickle ACKs. Call before
 * repl_promote(): the new epoch clears them. \return how many. */
size_t repl_conns_others(const struct repl *r, struct repl_conn *out, size_t max);
/** A hint could not be sent (corosync busy): true until repl_conns_retry()
 * sent all our connections again (FULL). Call it from a timer. */
bool repl_conns_unsent(const struct repl *r);
void repl_conns_retry(struct repl *r);

enum repl_sync_state repl_sync_state(const struct repl *r);
size_t repl_nmembers(const struct repl *r);
size_t repl_npending(const struct repl *r);
uint64_t repl_epoch(const struct repl *r);
uint64_t repl_generation(const struct repl *r);
const char *repl_sync_state_name(enum repl_sync_state s);

#endif
