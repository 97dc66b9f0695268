/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The store for regular files and block devices. Regular files missing at
 * open are created sparse when a size is configured.
 *
 * How a read or write is done, cheapest first (docs/performance.md):
 * - files in memory (tmpfs, ramfs): pread/pwrite on the loop thread. These
 *   file systems do not take RWF_NOWAIT (EOPNOTSUPP), so io_uring punts every
 *   request to an io-wq worker thread: two thread switches per command for
 *   what is a memory copy (half the daemon's CPU at 4 KiB, measured);
 * - other files: preadv2/pwritev2 with RWF_NOWAIT, which succeeds when the
 *   data is in the page cache, until the file system has once answered
 *   EOPNOTSUPP for that direction (then the attempt would only cost a syscall);
 * - the io_uring engine for the rest. Nothing else here blocks except open
 *   and flush_sync.
 * READs may also skip the buffer altogether: backend_read_map() hands the
 * transport a pointer into a read-only mapping of the store, which it gives
 * to sendmsg, when every page of the range is in memory (tmpfs pages or page
 * cache, per cachestat(2)): the send then never waits for a disk, and never
 * allocates a tmpfs hole.
 *
 * The store is mapped in aligned windows of BS_FILE_WIN_SIZE bytes, on
 * demand, at most BS_FILE_WIN_MAX at a time: every page the kernel copies
 * from stays in hatgtd's page tables (and RSS) until its mapping goes, so
 * one mapping of the whole store grew them with every byte ever read (a
 * 4 TiB LUN read once: ~8 GiB of page tables). Each window counts the
 * references handed out for it; one is unmapped only when none is left
 * (evicted, least recently used first, to make room for another; or at
 * close), so a send never reads from an address a later mmap could reuse.
 * A range that crosses a window boundary, or finds every slot referenced,
 * takes the buffered path; so does a short one that would evict a window
 * used recently (random small READs over a large store would remap at
 * every READ, 3x the CPU of a pread).
 *
 * On tmpfs and ramfs a page, once there, stays (short of swap, which the
 * buffered path would wait for as well) until a hole is punched: after
 * BS_FILE_WIN_RECHECK READs of a window, one cachestat(2) of the whole
 * window (~0.5 ms for 64 MiB) can mark it resident, and its READs then
 * skip the per-READ cachestat (one system call, ~0.5 us, per 4 KiB READ:
 * docs/performance.md, session 4). UNMAP clears the mark of the windows it
 * touches. A hole punched by another process in a marked window would be
 * read as zeroes through the mapping, as by pread, but the read allocates
 * the page (the reason for the per-READ check).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/fs.h>
#include <linux/magic.h>

#include "backend/backend_int.h"

/* Per-READ cachestat(2) calls in a window of an in-memory store before one
 * of the whole window (few enough for windows of random READs to get there
 * soon; a 1 MiB sequential stream, 64 READs per window, never pays it). */
#define BS_FILE_WIN_RECHECK 256

/* One mapped window of the store; base NULL: the slot is free. */
struct bs_file_win {
	const uint8_t *base;
	uint64_t start;	     /* store offset of base, a multiple of BS_FILE_WIN_SIZE */
	uint64_t len;	     /* bytes mapped: the window, or less at the end of the store */
	uint64_t used;	     /* LRU stamp: bs_file.win_tick when last handed out */
	unsigned int refs;   /* backend_read_map() references not yet released */
	bool resident;	     /* in-memory store, every page of the window was resident */
	unsigned int checks; /* per-READ cachestat calls since the last whole-window one */
};

struct bs_file {
	struct backend be; /* first: the vtable's view */
	int fd;
	bool in_memory;	      /* tmpfs/ramfs: plain pread/pwrite never wait for a disk */
	bool nowait_read_off; /* the file system refused RWF_NOWAIT once */
	bool nowait_write_off;
	bool cachestat_off; /* the kernel has no cachestat(2): no reads from a mapping */
	uint64_t win_tick;
	struct bs_file_win *win_last; /* the window handed out last: checked first */
	struct bs_file_win wins[BS_FILE_WIN_MAX];
};

/* cachestat(2), Linux 6.5; the system call number is the same on every
 * architecture. The C library and its headers may not know it yet. */
#ifndef __NR_cachestat
#define __NR_cachestat 451
#endif
struct bs_file_cachestat_range {
	uint64_t off;
	uint64_t len;
};
struct bs_file_cachestat {
	uint64_t nr_cache;
	uint64_t nr_dirty;
	uint64_t nr_writeback;
	uint64_t nr_evicted;
	uint64_t nr_recently_evicted;
};

/* Memory file systems, where a read or write is a copy and never waits for a
 * device (short of swap). */
static bool bs_file_is_in_memory(int fd)
{
	struct statfs sfs;

	if (fstatfs(fd, &sfs) < 0)
		return false;
	return sfs.f_type == TMPFS_MAGIC || sfs.f_type == RAMFS_MAGIC;
}

/* Create a sparse file of the configured size; EEXIST means someone was faster. */
static int bs_file_create(const struct backend_config *cfg)
{
	int fd, ret = 0;

	fd = open(cfg->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = errno == EEXIST ? 0 : -errno;
		goto out;
	}
	if (ftruncate(fd, (off_t)cfg->create_size) < 0) {
		ret = -errno;
		unlink(cfg->path);
	}
	close(fd);
out:
	return ret;
}

static int bs_file_open_fd(const struct backend_config *cfg, int *fd)
{
	int flags = (cfg->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	int ret = 0;

	*fd = open(cfg->path, flags);
	if (*fd >= 0 || errno != ENOENT || cfg->create_size == 0 || cfg->readonly) {
		ret = *fd < 0 ? -errno : 0;
		goto out;
	}
	ret = bs_file_create(cfg);
	if (ret < 0)
		goto out;
	*fd = open(cfg->path, flags);
	if (*fd < 0)
		ret = -errno;
out:
	return ret;
}

/*
 * Can we punch holes? Probe past the end of the file, which changes nothing
 * (KEEP_SIZE) but fails with EOPNOTSUPP where unsupported.
 */
static bool bs_file_can_punch(int fd, uint64_t size)
{
	return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)size, 4096) == 0;
}

static int bs_file_open(struct backend_engine *eng, const struct backend_config *cfg,
			struct backend **out)
{
	struct bs_file *f;
	struct stat st;
	uint64_t size;
	int fd = -1, ret;

	ret = bs_file_open_fd(cfg, &fd);
	if (ret < 0)
		goto out;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		goto out;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		ret = -ENOMEM;
		goto out;
	}
	f->be.ops = &backend_file_ops;
	f->be.eng = eng;
	f->be.readonly = cfg->readonly;
	f->be.caps = BACKEND_CAP_VOLATILE_CACHE;
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &size) < 0) {
			ret = -errno;
			free(f);
			goto out;
		}
		f->be.caps |= BACKEND_CAP_BLOCK_DEVICE;
		/* fallocate(PUNCH_HOLE) on a block device discards or writes zeros. */
		if (!cfg->readonly)
			f->be.caps |= BACKEND_CAP_UNMAP | BACKEND_CAP_UNMAP_ZEROES;
	} else if (S_ISREG(st.st_mode)) {
		size = (uint64_t)st.st_size;
		f->in_memory = bs_file_is_in_memory(fd);
		if (!cfg->readonly && bs_file_can_punch(fd, size))
			f->be.caps |= BACKEND_CAP_UNMAP | BACKEND_CAP_UNMAP_ZEROES;
	} else {
		ret = -EINVAL;
		free(f);
		goto out;
	}
	f->be.size = size;
	f->fd = fd;
	fd = -1;
	*out = &f->be;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

static void bs_file_close(struct backend *be)
{
	struct bs_file *f = (struct bs_file *)be;
	unsigned int i;

	/* Every reference was released: the LU outlives its zero-copy tasks. */
	for (i = 0; i < BS_FILE_WIN_MAX; i++)
		if (f->wins[i].base)
			munmap((void *)f->wins[i].base, f->wins[i].len);
	close(f->fd);
	free(f);
}

/*
 * Do a read or write at once on the calling (loop) thread: always for files
 * in memory, else only if it need not wait (RWF_NOWAIT). \return true when
 * the request is complete (its completion posted for the next
 * backend_engine_run); false to hand it to io_uring (after a partial
 * transfer, for the rest).
 */
static bool bs_file_try_inline(struct bs_file *f, struct backend_io *io)
{
	bool rd = io->op == BACKEND_OP_READ;
	bool *off = rd ? &f->nowait_read_off : &f->nowait_write_off;
	int flags = f->in_memory ? 0 : RWF_NOWAIT;
	struct iovec iov;
	ssize_t n;

	if (io->progress != 0 || (!rd && io->op != BACKEND_OP_WRITE))
		return false;
	if (!f->in_memory && (*off || (io->flags & BACKEND_IO_FUA)))
		return false;
	/* SBC-3 FUA: RWF_DSYNC makes this range durable before GOOD. */
	if (io->flags & BACKEND_IO_FUA)
		flags |= RWF_DSYNC;
	iov.iov_base = io->buf;
	iov.iov_len = io->len;
	do {
		if (rd)
			n = preadv2(f->fd, &iov, 1, (off_t)io->offset, flags);
		else
			n = pwritev2(f->fd, &iov, 1, (off_t)io->offset, flags);
	} while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EOPNOTSUPP && !f->in_memory)
		*off = true;
	if (n <= 0)
		return false; /* EAGAIN, EOPNOTSUPP, an error, EOF: io_uring does it properly */
	if ((uint64_t)n < io->len) {
		io->progress = (uint64_t)n;
		return false;
	}
	backend_engine_complete(f->be.eng, io, (int64_t)io->len);
	return true;
}

static void bs_file_win_unmark(struct bs_file *f, uint64_t offset, uint64_t len);

static int bs_file_submit(struct backend *be, struct backend_io *io)
{
	struct bs_file *f = (struct bs_file *)be;

	io->fd = f->fd; /* remembered for resuming short transfers */
	if (io->op == BACKEND_OP_UNMAP)
		bs_file_win_unmark(f, io->offset, io->len);
	if (bs_file_try_inline(f, io))
		return 0;
	return backend_uring_queue(be->eng, f->fd, io);
}

/* All of [offset, offset + len) in memory now (cachestat(2): resident pages
 * of tmpfs, or page cache)? Then reading it never waits for a device, and
 * reading it through a mapping never allocates (a tmpfs hole would). */
static bool bs_file_range_resident(struct bs_file *f, uint64_t offset, uint64_t len)
{
	struct bs_file_cachestat_range range = {.off = offset, .len = len};
	struct bs_file_cachestat cs;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t pages = (offset + len + page - 1) / page - offset / page;

	if (f->cachestat_off)
		return false;
	if (syscall(__NR_cachestat, f->fd, &range, &cs, 0) < 0) {
		if (errno == ENOSYS || errno == EOPNOTSUPP)
			f->cachestat_off = true;
		return false;
	}
	return cs.nr_cache >= pages;
}

/* bs_file_range_resident() for a READ from the mapped window \p w: without a system call when \p w
 * is marked resident (see the top of the file), else asking and, every BS_FILE_WIN_RECHECK asks,
 * asking for the whole window. */
static bool bs_file_win_resident(struct bs_file *f, struct bs_file_win *w, uint64_t offset,
				 uint64_t len)
{
	if (w->resident)
		return true;
	if (!bs_file_range_resident(f, offset, len))
		return false;
	if (f->in_memory && ++w->checks >= BS_FILE_WIN_RECHECK) {
		w->checks = 0;
		w->resident = bs_file_range_resident(f, w->start, w->len);
	}
	return true;
}

/* A hole is being punched in [offset, offset + len): the windows it touches
 * need the per-READ check again. */
static void bs_file_win_unmark(struct bs_file *f, uint64_t offset, uint64_t len)
{
	unsigned int i;

	for (i = 0; i < BS_FILE_WIN_MAX; i++) {
		struct bs_file_win *w = &f->wins[i];

		if (w->base && offset < w->start + w->len && w->start < offset + len) {
			w->resident = false;
			w->checks = 0;
		}
	}
}

/*
 * The mapped window holding [offset, offset + len) (in one window: the
 * caller checked), or NULL and in *slot where to map it: a free slot, or
 * the least recently used unreferenced window if the READ is long or that
 * window idle (BS_FILE_WIN_EVICT_LEN); NULL: nowhere, every window is
 * referenced or worth keeping.
 */
static struct bs_file_win *bs_file_win_find(struct bs_file *f, uint64_t offset, uint64_t len,
					    struct bs_file_win **slot)
{
	uint64_t start = offset & ~(BS_FILE_WIN_SIZE - 1);
	struct bs_file_win *w = f->win_last, *victim = NULL;
	unsigned int i;

	if (w && w->base && w->start == start && offset + len <= w->start + w->len)
		goto out;
	w = NULL;
	for (i = 0; i < BS_FILE_WIN_MAX; i++) {
		struct bs_file_win *c = &f->wins[i];

		if (c->base && c->start == start) {
			w = c;
			break;
		}
		if (c->refs == 0 &&
		    (!victim || (victim->base && (!c->base || c->used < victim->used))))
			victim = c;
	}
	if (victim && victim->base && len < BS_FILE_WIN_EVICT_LEN &&
	    f->win_tick - victim->used < BS_FILE_WIN_IDLE)
		victim = NULL;
	/* Mapped when the store was smaller: remap it, once nobody sends from it. */
	if (w && offset + len > w->start + w->len) {
		victim = w->refs ? NULL : w;
		w = NULL;
	}
out:
	*slot = w ? NULL : victim;
	return w;
}

/* Map the window starting at \p start into \p slot, unmapping what it held
 * (unreferenced). \return 0 or -errno from mmap (the slot is then free). */
static int bs_file_win_map(struct bs_file *f, struct bs_file_win *slot, uint64_t start)
{
	int ret = 0;
	void *p;

	if (slot->base) {
		munmap((void *)slot->base, slot->len);
		slot->base = NULL;
	}
	slot->resident = false;
	slot->checks = 0;
	slot->len = f->be.size - start < BS_FILE_WIN_SIZE ? f->be.size - start : BS_FILE_WIN_SIZE;
	p = mmap(NULL, slot->len, PROT_READ, MAP_SHARED, f->fd, (off_t)start);
	if (p == MAP_FAILED) {
		ret = -errno;
		goto out;
	}
	slot->base = p;
	slot->start = start;
out:
	return ret;
}

static int bs_file_read_map(struct backend *be, uint64_t offset, uint64_t len, const uint8_t **p,
			    void **ref)
{
	struct bs_file *f = (struct bs_file *)be;
	struct bs_file_win *w, *slot;
	int ret = -EOPNOTSUPP;

	/* In one window, with a window to send it from? Then is it in memory
	 * (one system call)? A READ refused here costs no system call. */
	if (((offset + len - 1) ^ offset) >= BS_FILE_WIN_SIZE)
		goto out;
	w = bs_file_win_find(f, offset, len, &slot);
	if (w) {
		if (!bs_file_win_resident(f, w, offset, len))
			goto out;
	} else {
		/* Not mapped: slot (NULL when every window is busy) is where
		 * to map it. */
		if (!slot || !bs_file_range_resident(f, offset, len) ||
		    bs_file_win_map(f, slot, offset & ~(BS_FILE_WIN_SIZE - 1)) < 0)
			goto out;
		slot->checks = 1; /* this READ asked */
		w = slot;
	}
	w->refs++;
	w->used = ++f->win_tick;
	f->win_last = w;
	*p = w->base + (offset - w->start);
	*ref = w;
	ret = 0;
out:
	return ret;
}

static void bs_file_read_unmap(struct backend *be, void *ref)
{
	struct bs_file_win *w = ref;

	(void)be;
	/* Stays mapped for the next READ: unmapped when evicted or at close. */
	w->refs--;
}

static int bs_file_flush_sync(struct backend *be)
{
	struct bs_file *f = (struct bs_file *)be;

	return fdatasync(f->fd) < 0 ? -errno : 0;
}

/*
 * SEEK_DATA / SEEK_HOLE from \p offset: in a hole, the extent runs to the
 * next data; in data, to the next hole. Block devices have no holes to see.
 */
static int bs_file_map_query(struct backend *be, uint64_t offset, bool *mapped, uint64_t *len)
{
	struct bs_file *f = (struct bs_file *)be;
	off_t data, hole;
	int ret = 0;

	if (be->caps & BACKEND_CAP_BLOCK_DEVICE)
		goto out;
	data = lseek(f->fd, (off_t)offset, SEEK_DATA);
	if (data < 0 && errno != ENXIO) {
		ret = -errno;
		goto out;
	}
	if (data < 0 || (uint64_t)data >= be->size)
		data = (off_t)be->size; /* ENXIO: only a hole to the end */
	if ((uint64_t)data > offset) {
		*mapped = false;
		*len = (uint64_t)data - offset;
		goto out;
	}
	hole = lseek(f->fd, (off_t)offset, SEEK_HOLE);
	if (hole < 0) {
		ret = -errno;
		goto out;
	}
	if ((uint64_t)hole > be->size)
		hole = (off_t)be->size;
	*mapped = true;
	*len = (uint64_t)hole - offset;
out:
	return ret;
}

static int bs_file_size_refresh(struct backend *be)
{
	struct bs_file *f = (struct bs_file *)be;
	struct stat st;
	uint64_t size;
	int ret = 0;

	if (be->caps & BACKEND_CAP_BLOCK_DEVICE) {
		if (ioctl(f->fd, BLKGETSIZE64, &size) < 0) {
			ret = -errno;
			goto out;
		}
	} else {
		if (fstat(f->fd, &st) < 0) {
			ret = -errno;
			goto out;
		}
		size = (uint64_t)st.st_size;
	}
	be->size = size;
out:
	return ret;
}

const struct backend_ops backend_file_ops = {
	.name = "file",
	.open = bs_file_open,
	.close = bs_file_close,
	.submit = bs_file_submit,
	.flush_sync = bs_file_flush_sync,
	.map_query = bs_file_map_query,
	.size_refresh = bs_file_size_refresh,
	.read_map = bs_file_read_map,
	.read_unmap = bs_file_read_unmap,
};
