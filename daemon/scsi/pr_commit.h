/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * How a persistent reservation change is committed (design.md section 3).
 *
 * The SCSI layer decodes a PERSISTENT RESERVE OUT (and SPC-2 RESERVE /
 * RELEASE), encodes it as a versioned command message (pr.h,
 * pr_cmd_encode) and hands the bytes to the committer in effect. The
 * committer makes every member of the cluster apply the same message, in
 * the same order, by calling scsi_pr_deliver() on each, and then tells the
 * SCSI layer the result for the originating task through done().
 *
 *  - standalone (main.c, cluster = none): the local committer calls
 *    scsi_pr_deliver() at once, then done();
 *  - cluster (ha/): CPG agreed-order multicast; every member (the sender
 *    included) calls scsi_pr_deliver() in its deliver callback; done() runs
 *    on the sender once every member of the membership has acknowledged
 *    (or has left and been fenced).
 *
 * scsi_pr_deliver() applies the message to the LU named in it (by its NAA
 * designator, identical on every node), persists APTPL state to state_dir
 * atomically before returning, queues the unit attentions and aborts the
 * preempted tasks it implies. It is deterministic: the same sequence of
 * messages gives the same state on every member.
 *
 * The SCSI layer never includes anything from ha/.
 */
#ifndef HATGT_SCSI_PR_COMMIT_H
#define HATGT_SCSI_PR_COMMIT_H

#include <stddef.h>
#include <stdint.h>

#include "scsi/scsi.h"

/* What applying a message produced, for the originating task. */
struct scsi_pr_result {
	uint8_t status; /* enum scsi_status */
	uint8_t sense_len;
	uint8_t sense[SCSI_SENSE_MAX];
};

typedef void (*scsi_pr_done_fn)(void *arg, const struct scsi_pr_result *res);

struct scsi_pr_committer {
	/**
	 * Commit one encoded message. done(arg, res) is called exactly once,
	 * on the loop thread, possibly before submit() returns; res is the
	 * result of applying the message on this node, or, when the commit
	 * could not be completed (lost quorum, shutting down), a result the
	 * committer made up (e.g. BUSY or a CHECK CONDITION).
	 * \return 0, or -errno when nothing was submitted (done not called).
	 */
	int (*submit)(void *ctx, const uint8_t *msg, size_t len, scsi_pr_done_fn done, void *arg);
	void *ctx;
};

/** Set the committer (NULL: the local one). Call before serving. */
void scsi_pr_committer_set(const struct scsi_pr_committer *c);

/**
 * Apply one message on this node (see above). res may be NULL on members
 * that did not originate it. \return 0, or -errno for a message that
 * cannot be decoded or names an LU this node does not have (logged; the
 * state is unchanged), or -EIO / -ENOMEM when this node could not apply
 * or persist a change that the others will have applied: its state has
 * diverged and it must resynchronise (ha/ leaves and rejoins).
 */
int scsi_pr_deliver(const uint8_t *msg, size_t len, struct scsi_pr_result *res);

/**
 * Whole PR state of every LU, for a joining member (design.md rule 3), and
 * its installation on the joiner. The format is versioned and carries
 * every LU's NAA, PRgeneration, reservation and registrations.
 * \return 0 or -errno (-EINVAL: malformed; nothing installed).
 */
int scsi_pr_snapshot(uint8_t **out, size_t *len);
int scsi_pr_snapshot_install(const uint8_t *buf, size_t len);

/** Where APTPL state files live (state_dir). Call before creating LUs, which
 * load their APTPL state when they are created. */
void scsi_pr_state_dir_set(const char *dir);

/**
 * The replication position (epoch, generation) recorded with APTPL state,
 * so that after a whole-cluster restart the newest state wins (design.md
 * rule 3). ha/ sets it after every delivered message and epoch change;
 * standalone, it stays (0, n).
 */
void scsi_pr_position_set(uint64_t epoch, uint64_t generation);
/** The highest position found in the APTPL files loaded at start. */
void scsi_pr_position_get(uint64_t *epoch, uint64_t *generation);

#endif
