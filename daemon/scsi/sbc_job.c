/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Multi-step asynchronous commands ("jobs") and the per-LU write range lock.
 *
 * A job is a small state machine: its step function submits one backend
 * request at a time and is called again with the result, until it returns
 * the reason the command ends with. READ and WRITE are one-step jobs;
 * COMPARE AND WRITE reads, compares, then writes; WRITE SAME and SANITIZE
 * loop over chunks; EXTENDED COPY reads from one LU and writes to another.
 *
 * Every write-class job holds its range of blocks for its whole life, so a
 * COMPARE AND WRITE is atomic against any other write to the same blocks
 * (SBC-3 5.3) and overlapping writes are applied in arrival order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include "scsi/scsi_int.h"
#include "util/list.h"

#define SBC_JOB_OP_SANITIZE 0x48 /* SBC-3 5.27 */

static bool scsi_range_overlap(const struct scsi_range *a, const struct scsi_range *b)
{
	return a->lba < b->lba + b->blocks && b->lba < a->lba + a->blocks;
}

static bool scsi_range_conflicts(const struct scsi_range *list, const struct scsi_range *stop,
				 const struct scsi_range *r)
{
	for (; list && list != stop; list = list->next)
		if (scsi_range_overlap(list, r))
			return true;
	return false;
}

bool scsi_range_lock(struct scsi_lu *lu, struct scsi_range *range)
{
	struct scsi_range **tail;

	range->next = NULL;
	/* FIFO: a waiter that overlaps blocks later requests too, so none starves. */
	if (!scsi_range_conflicts(lu->ranges_held, NULL, range) &&
	    !scsi_range_conflicts(lu->ranges_wait, NULL, range)) {
		range->next = lu->ranges_held;
		lu->ranges_held = range;
		return true;
	}
	for (tail = &lu->ranges_wait; *tail; tail = &(*tail)->next)
		;
	*tail = range;
	return false;
}

void scsi_range_unlock(struct scsi_lu *lu, struct scsi_range *range)
{
	struct scsi_range **pp, *w;

	for (pp = &lu->ranges_held; *pp && *pp != range; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = range->next;
	range->next = NULL;
	/* Grant, in order, every waiter clear of the held and the earlier waiters. */
	pp = &lu->ranges_wait;
	while ((w = *pp)) {
		if (scsi_range_conflicts(lu->ranges_held, NULL, w) ||
		    scsi_range_conflicts(lu->ranges_wait, w, w)) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		w->next = lu->ranges_held;
		lu->ranges_held = w;
		w->granted(w);
		/* granted() may have locked or unlocked ranges: scan again. */
		pp = &lu->ranges_wait;
	}
}

enum sense_reason sbc_io_reason(enum backend_op op, int64_t res)
{
	if (res == -ENOSPC)
		return SENSE_SPACE_ALLOC_FAILED;
	if (res == -EROFS)
		return SENSE_WRITE_PROTECTED;
	if (res == -EAGAIN)
		return SENSE_BUSY;
	return op == BACKEND_OP_READ ? SENSE_READ_ERROR : SENSE_WRITE_ERROR;
}

struct sbc_job *sbc_job_create(struct scsi_cmd *cmd, sbc_job_fn step)
{
	struct sbc_job *job = calloc(1, sizeof(*job));

	if (!job)
		goto out;
	job->task = cmd->task;
	job->lu = cmd->lu;
	job->step = step;
	job->field = cmd->field;
	job->opcode = cmd->task->cdb[0];
	scsi_lu_get(cmd->lu);
out:
	return job;
}

void sbc_job_destroy(struct sbc_job *job)
{
	if (!job)
		return;
	if (job->range_held)
		scsi_range_unlock(job->lu, &job->range);
	free(job->buf);
	if (job->ctx_free)
		job->ctx_free(job->ctx);
	else
		free(job->ctx);
	scsi_lu_put(job->lu);
	free(job);
}

static void sbc_job_finish(struct sbc_job *job, enum sense_reason r)
{
	struct scsi_task *task = job->detached ? NULL : job->task;
	struct sense_field field = job->field;

	if (job->detached && r != SENSE_OK)
		qb_log(LOG_ERR, "%s: background command 0x%02x failed: reason %d", job->lu->path,
		       job->opcode, (int)r);
	if (task)
		task->priv = NULL;
	/* Release the range (waking waiters) before the initiator hears of it. */
	sbc_job_destroy(job);
	if (task)
		scsi_task_finish(task, r, &field);
}

void sbc_job_detach(struct sbc_job *job)
{
	struct scsi_task *task = job->task;

	job->detached = true;
	job->task = NULL;
	task->priv = NULL;
	scsi_task_finish(task, SENSE_OK, NULL);
}

/*
 * The transport aborts \p task (ABORT TASK, ABORT TASK SET, a reset, the
 * loss of its I_T nexus). SBC-3 4.11: a sanitize operation, once started,
 * runs to its end whatever happens to the SANITIZE command: the LU stays
 * NOT READY, SANITIZE IN PROGRESS until then. So a SANITIZE job goes on
 * detached and the task finishes now, and the task management function is
 * not held up for the length of the operation. Any other task keeps
 * running (its I/O cannot be cancelled) and finishes as usual.
 * \return true if task->done has been called.
 */
bool scsi_task_abort(struct scsi_task *task)
{
	struct scsi_range *rg;
	struct sbc_job *job;

	if (!task->lu || !task->lu->sanitizing)
		return false;
	/* Every held range is the range of a job. */
	for (rg = task->lu->ranges_held; rg; rg = rg->next) {
		job = container_of(rg, struct sbc_job, range);
		if (job->task == task && job->opcode == SBC_JOB_OP_SANITIZE && !job->detached) {
			sbc_job_detach(job);
			return true;
		}
	}
	return false;
}

static void sbc_job_continue(struct sbc_job *job, int64_t res)
{
	enum sense_reason r = job->step(job, res);

	if (r != SENSE_ASYNC)
		sbc_job_finish(job, r);
}

static void sbc_job_io_done(struct backend_io *bio, int64_t res)
{
	struct sbc_job *job = (struct sbc_job *)bio;

	if (res < 0)
		qb_log(LOG_ERR, "%s: I/O error at offset %llu length %llu: %s", job->lu->path,
		       (unsigned long long)bio->offset, (unsigned long long)bio->len,
		       strerror((int)-res));
	sbc_job_continue(job, res);
}

static void sbc_job_granted(struct scsi_range *range)
{
	struct sbc_job *job = (struct sbc_job *)((char *)range - offsetof(struct sbc_job, range));

	job->range_held = true;
	sbc_job_continue(job, 0);
}

enum sense_reason sbc_job_run(struct sbc_job *job)
{
	job->task->priv = job;
	if (job->range.blocks) {
		job->range.granted = sbc_job_granted;
		if (!scsi_range_lock(job->lu, &job->range))
			goto out;
		job->range_held = true;
	}
	sbc_job_continue(job, 0);
out:
	return SENSE_ASYNC;
}

enum sense_reason sbc_job_io(struct sbc_job *job, struct backend *be, enum backend_op op,
			     uint64_t offset, uint64_t len, uint8_t *buf, uint32_t flags)
{
	enum sense_reason r = SENSE_ASYNC;
	int ret;

	memset(&job->bio, 0, sizeof(job->bio));
	job->bio.op = op;
	job->bio.flags = flags;
	job->bio.offset = offset;
	job->bio.len = len;
	job->bio.buf = buf;
	job->bio.done = sbc_job_io_done;
	ret = backend_submit(be, &job->bio);
	if (ret == -EAGAIN)
		r = SENSE_BUSY;
	else if (ret == -EROFS)
		r = SENSE_WRITE_PROTECTED;
	else if (ret < 0)
		r = SENSE_INTERNAL_FAILURE;
	return r;
}
