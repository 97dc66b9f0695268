/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The asynchronous I/O engine: one io_uring per daemon with an eventfd
 * registered for completions, reaped on the event-loop thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include <liburing.h>

#include "backend/backend_int.h"

struct backend_engine {
	struct io_uring ring;
	bool ring_ok;
	int efd;
	/* The eventfd can be signalled only while requests are in the ring or
	 * after a kick; otherwise backend_engine_run() need not read it. */
	unsigned int inflight; /* submitted to io_uring, not yet reaped */
	bool kicked;	       /* written by backend_engine_kick(), not yet read */
	/* backend_engine_hold(): completions are posted without a kick and
	 * SQEs wait in the ring, both until the last release. */
	unsigned int holds;
	unsigned int queued; /* SQEs prepared but not yet submitted */
	/* Completions posted with backend_engine_complete(), in order. */
	struct backend_io *deferred_head;
	struct backend_io **deferred_tail;
};

int backend_engine_create(unsigned int depth, struct backend_engine **out)
{
	struct backend_engine *eng;
	int ret;

	eng = calloc(1, sizeof(*eng));
	if (!eng) {
		ret = -ENOMEM;
		goto out;
	}
	eng->deferred_tail = &eng->deferred_head;
	eng->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (eng->efd < 0) {
		ret = -errno;
		goto out;
	}
	ret = io_uring_queue_init(depth ? depth : 256, &eng->ring, 0);
	if (ret < 0)
		goto out;
	eng->ring_ok = true;
	ret = io_uring_register_eventfd(&eng->ring, eng->efd);
	if (ret < 0)
		goto out;
	*out = eng;
	eng = NULL;
	ret = 0;
out:
	backend_engine_destroy(eng);
	return ret;
}

void backend_engine_destroy(struct backend_engine *eng)
{
	if (!eng)
		return;
	if (eng->ring_ok)
		io_uring_queue_exit(&eng->ring);
	if (eng->efd >= 0)
		close(eng->efd);
	free(eng);
}

int backend_engine_fd(const struct backend_engine *eng)
{
	return eng->efd;
}

static void backend_engine_kick(struct backend_engine *eng)
{
	uint64_t one = 1;

	eng->kicked = true;
	/* Only fails with EAGAIN when the counter is saturated: still readable. */
	if (write(eng->efd, &one, sizeof(one)) < 0)
		return;
}

void backend_engine_complete(struct backend_engine *eng, struct backend_io *io, int64_t res)
{
	bool idle = eng->deferred_head == NULL;

	io->res = res;
	io->next = NULL;
	*eng->deferred_tail = io;
	eng->deferred_tail = &io->next;
	/* One wake-up covers every completion queued before the next run;
	 * none while held: the release runs them. */
	if (idle && !eng->holds)
		backend_engine_kick(eng);
}

static void backend_uring_prep(struct io_uring_sqe *sqe, int fd, struct backend_io *io)
{
	uint64_t off = io->offset + io->progress;
	unsigned int left = (unsigned int)(io->len - io->progress);

	switch (io->op) {
	case BACKEND_OP_READ:
		io_uring_prep_read(sqe, fd, io->buf + io->progress, left, off);
		break;
	case BACKEND_OP_WRITE:
		io_uring_prep_write(sqe, fd, io->buf + io->progress, left, off);
		/* SBC-3 5.x FUA: durable before GOOD; RWF_DSYNC syncs this range only. */
		if (io->flags & BACKEND_IO_FUA)
			sqe->rw_flags = RWF_DSYNC;
		break;
	case BACKEND_OP_FLUSH:
		io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
		break;
	case BACKEND_OP_UNMAP:
		io_uring_prep_fallocate(sqe, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					(off_t)io->offset, (off_t)io->len);
		break;
	}
	io_uring_sqe_set_data(sqe, io);
}

/* Submit the SQEs prepared during a hold. \return 0 or -errno. */
static int backend_uring_submit_queued(struct backend_engine *eng)
{
	int ret = 0;

	if (!eng->queued)
		goto out;
	ret = io_uring_submit(&eng->ring);
	if (ret < 0)
		goto out;
	/* The kernel may take fewer (it stops at an SQE it cannot start,
	 * which completes with an error); the rest stay in the ring and go
	 * with the next submission. */
	if ((unsigned int)ret > eng->queued)
		ret = (int)eng->queued;
	eng->inflight += (unsigned int)ret;
	eng->queued -= (unsigned int)ret;
	ret = 0;
out:
	return ret;
}

int backend_uring_queue(struct backend_engine *eng, int fd, struct backend_io *io)
{
	struct io_uring_sqe *sqe;
	int ret;

	io->fd = fd; /* remembered for resuming short transfers */
	sqe = io_uring_get_sqe(&eng->ring);
	if (!sqe && eng->queued) {
		/* The submission queue is full of held SQEs: send them now. */
		ret = backend_uring_submit_queued(eng);
		if (ret < 0)
			goto out;
		sqe = io_uring_get_sqe(&eng->ring);
	}
	if (!sqe) {
		ret = -EAGAIN;
		goto out;
	}
	backend_uring_prep(sqe, fd, io);
	eng->queued++;
	ret = eng->holds ? 0 : backend_uring_submit_queued(eng);
	if (ret < 0) {
		/* Not in the kernel, and the caller will consider the request
		 * failed: turn the SQE into a NOP that posts no completion, so
		 * that the next submission does not start it after all. */
		io_uring_prep_nop(sqe);
		io_uring_sqe_set_data(sqe, NULL);
		sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
		eng->queued--;
	}
out:
	return ret;
}

/* Run the completions posted with backend_engine_complete(). Detached first:
 * done() may post new ones (left for the caller's next round). \return how many. */
static unsigned int backend_uring_run_deferred(struct backend_engine *eng)
{
	struct backend_io *io = eng->deferred_head, *next;
	unsigned int n = 0;

	eng->deferred_head = NULL;
	eng->deferred_tail = &eng->deferred_head;
	for (; io; io = next) {
		next = io->next;
		io->done(io, io->res);
		n++;
	}
	return n;
}

void backend_engine_hold(struct backend_engine *eng)
{
	eng->holds++;
}

void backend_engine_release(struct backend_engine *eng)
{
	if (!eng->holds || --eng->holds)
		return;
	/* done() below may queue and post more: keep those batched too. */
	eng->holds++;
	do {
		/* On failure the SQEs stay queued for the next queue or release. */
		if (backend_uring_submit_queued(eng) < 0) {
			/* io_uring_submit() failed (ENOMEM, EBUSY): retried later. */
		}
		backend_uring_run_deferred(eng);
	} while (eng->deferred_head);
	eng->holds--;
}

/*
 * A read or write that moved fewer bytes than asked continues where it
 * stopped. \return true when resubmitted; false when \p res is final (or
 * with *res = -EIO when the remainder could not be resubmitted).
 */
static bool backend_uring_resume(struct backend_engine *eng, struct backend_io *io, int *res)
{
	bool rw = io->op == BACKEND_OP_READ || io->op == BACKEND_OP_WRITE;

	if (!rw || *res <= 0 || io->progress + (uint64_t)*res >= io->len)
		return false;
	io->progress += (uint64_t)*res;
	*res = 0;
	if (backend_uring_queue(eng, io->fd, io) == 0)
		return true;
	*res = -EIO;
	return false;
}

static void backend_uring_finish(struct backend_io *io, int res)
{
	int64_t r;

	if (res < 0)
		r = res;
	else if (io->op == BACKEND_OP_READ || io->op == BACKEND_OP_WRITE)
		/* Short of the end: the file shrank under us. */
		r = io->progress + (uint64_t)res == io->len ? (int64_t)io->len : -EIO;
	else
		r = (int64_t)io->len;
	if (r < 0)
		io->be->stats.errors++;
	io->done(io, r);
}

unsigned int backend_engine_run(struct backend_engine *eng)
{
	struct io_uring_cqe *cqe;
	struct backend_io *io;
	unsigned int n = 0;
	uint64_t cnt;

	/* Nothing in flight, nothing posted: the loop calls this after every
	 * socket event, so skip the read() that would say EAGAIN. */
	if (!eng->inflight && !eng->kicked && !eng->deferred_head)
		return 0;
	/* Only posted completions, during a hold: the eventfd was not
	 * written, so there is nothing to read. */
	if ((eng->inflight || eng->kicked) && read(eng->efd, &cnt, sizeof(cnt)) < 0) {
		/* EAGAIN: nothing signalled, but reaping is harmless. */
	}
	eng->kicked = false;
	while (io_uring_peek_cqe(&eng->ring, &cqe) == 0) {
		int res = cqe->res;

		io = io_uring_cqe_get_data(cqe);
		io_uring_cqe_seen(&eng->ring, cqe);
		if (!io)
			continue; /* a withdrawn SQE (backend_uring_queue) that failed */
		eng->inflight--;
		/* The last completion may have signalled the eventfd after the
		 * read() above: clear that too, or the loop would wake for it
		 * while the skip above keeps it readable. */
		if (!eng->inflight && read(eng->efd, &cnt, sizeof(cnt)) < 0) {
			/* EAGAIN: it was not signalled again. */
		}
		if (backend_uring_resume(eng, io, &res))
			continue;
		backend_uring_finish(io, res);
		n++;
	}
	return n + backend_uring_run_deferred(eng);
}
