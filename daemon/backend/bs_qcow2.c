/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The qcow2 image store, with backing chains (differencing disks over one
 * golden image). Format: qemu docs/interop/qcow2.txt (see bs_qcow2_spec.h).
 *
 *   LUN -> overlay.qcow2 (read-write) -> golden.qcow2 (read-only, shared) -> base.raw ...
 *
 * A guest offset goes L1 -> L2 -> data cluster. A cluster the overlay has not
 * allocated is read from the next layer down; past the end of a layer, reads
 * give zeros. Writes allocate clusters at the end of the overlay (copying the
 * rest of a partial cluster from the chain first).
 *
 * Threads: everything runs on the event-loop thread, like the rest of the
 * backend. Reads and writes of clusters the overlay holds go to io_uring.
 * A write that allocates does its page-cache work inside submit (copy-on-write
 * read from the chain, refcount, data: pread/pwrite, which hit the page cache
 * almost always) and then waits, off the loop, for the fdatasync that must
 * come before its L1/L2 entries (group commit, below).
 *
 * Allocation in memory first: clusters are reserved at the end of the file
 * at once (host_end only grows, so concurrent allocations never collide), the
 * new L2 entry goes on the layer's pending list, and the L1 table in memory
 * points at a new L2 table at once (its disk copy is pending). Lookups see
 * the pending entries first, so a read of a cluster whose allocation is in
 * flight reads the new cluster (its data is in the page cache already), and a
 * second write to it writes in place and waits for the same commit.
 *
 * Group commit: the writes that allocated (or wrote in place into a pending
 * cluster, or carry FUA, or a FLUSH while anything is pending) join the open
 * group. At the next engine run (so every request of one loop iteration is in
 * it) the group closes: one IORING_OP_FSYNC (datasync) for all of them; then
 * their L1/L2 entries are pwritten (page cache) and the requests complete. A
 * group with a FUA write or a FLUSH syncs once more after the entries. While
 * one group syncs, the next collects, so under load one fdatasync serves
 * everything that arrived during the previous one.
 *
 * Crash consistency (checked with `qemu-img check`):
 * - A cluster's refcount is written before any L1/L2/refcount-table entry
 *   points at it, and its contents (data, zeroed L2 table, refcount block)
 *   before that entry too. Freeing clears the pointer first, then the refcount.
 * - Between "contents + refcount" and "pointer" there is an fdatasync (the
 *   group's), so the order also survives a power cut (the page cache would
 *   otherwise be free to write the pointer first). A crash, SIGKILL or power
 *   cut, at any point can thus leave only leaked clusters (refcount 1, nothing
 *   pointing at them): qemu-img check reports leaks, never errors. Writes that
 *   did not allocate (cluster already in the overlay) are plain writes: like
 *   any volatile cache they are durable after FLUSH or when written with FUA.
 * - Still synchronous (rare): a new refcount block or refcount table (one per
 *   2 GiB of image with 64 KiB clusters) and UNMAP.
 * - The dirty bit (lazy refcounts) is never set: refcounts are always exact.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/fs.h>
#include <qb/qblog.h>
#include <zlib.h>

#include "backend/backend_int.h"
#include "backend/bs_qcow2.h"
#include "backend/bs_qcow2_spec.h"
#include "util/be.h"

#define QCOW2_MAX_DEPTH 16		 /* backing chain layers, loops included */
#define QCOW2_MAX_L1_BYTES (32u << 20)	 /* qemu's bound on the L1 table */
#define QCOW2_MAX_RT_BYTES (8u << 20)	 /* and on the refcount table */
#define QCOW2_L2_CACHE_RW 16		 /* L2 tables cached per overlay */
#define QCOW2_L2_CACHE_SHARED 64	 /* per shared (golden) image */
#define QCOW2_RB_CACHE 4		 /* refcount blocks cached per overlay */
#define QCOW2_MAP_SCAN_MAX (64ull << 20) /* bytes one map_query looks at */

/* One bounded cache of metadata clusters (L2 tables or refcount blocks), LRU. */
struct qcow2_cache_slot {
	uint64_t offset; /* host offset of the cached cluster; 0: empty */
	uint64_t used;	 /* LRU clock */
	uint8_t *data;	 /* one cluster, as on disk (big-endian) */
};

struct qcow2_cache {
	struct qcow2_cache_slot *slots;
	unsigned int n;
	uint64_t clock;
};

/* An L1 or L2 entry of the writable image: in memory now, on disk once its
 * group's fdatasync has made what it points at durable. */
struct qcow2_pending {
	uint64_t pos;	 /* host offset of the 8-byte entry */
	uint64_t value;	 /* host-endian */
	uint64_t gc;	 /* guest cluster index (L2 entry); UINT64_MAX: L1 entry */
	uint64_t l2_off; /* L2 entry: its table */
	unsigned int gen;
};

/*
 * One image of a chain: qcow2 or raw. Read-only layers are shared through a
 * registry keyed by st_dev/st_ino, so the overlays of one golden image share
 * its fd, L1 table and L2 cache.
 */
struct qcow2_layer {
	struct qcow2_layer *reg_next;
	unsigned int refs;
	dev_t dev;
	ino_t ino;
	char *path;
	int fd;
	bool writable;
	bool is_qcow2;
	bool broken; /* a metadata write failed: memory and disk may differ */
	bool warned_compressed;
	bool autoclear;	    /* autoclear feature bits set: cleared once open succeeds */
	uint64_t size;	    /* virtual size */
	uint64_t open_size; /* file size at open */
	uint64_t open_end;  /* host_end at open: clusters below may end at open_size */
	struct qcow2_layer *backing;
	/* qcow2 only */
	unsigned int version;
	unsigned int cluster_bits;
	uint64_t cluster_size;
	unsigned int l2_bits; /* log2 of entries per L2 table */
	unsigned int refcount_order;
	uint64_t *l1; /* host-endian copy */
	uint32_t l1_size;
	uint64_t l1_offset;
	uint64_t *rt; /* refcount table, host-endian */
	uint64_t rt_entries;
	uint64_t rt_offset;
	uint64_t host_end; /* where the next cluster is allocated */
	struct qcow2_cache l2c;
	struct qcow2_cache rbc;
	/* Entries written in memory whose disk write waits for a group commit. */
	struct qcow2_pending *pend;
	size_t npend, cap_pend;
	unsigned int pend_gen; /* the open group: new entries belong to it */
	bool need_group;       /* set by a write that must wait for a group commit */
	/* The last compressed cluster inflated, for sequential reads: zc_entry
	 * is its L2 entry without the COPIED bit (0: none), zc the data. */
	uint64_t zc_entry;
	uint8_t *zc;
};

/* Requests waiting for one group commit, in arrival order (through io->next). */
struct qcow2_group {
	struct backend_io *head, **tail;
	bool durable; /* a FUA write or a FLUSH: sync again after the entries */
};

struct bs_qcow2 {
	struct backend be; /* first: the vtable's view */
	struct qcow2_layer *top;
	/* grp[open] collects; grp[open ^ 1] is syncing when syncing is set. */
	struct qcow2_group grp[2];
	unsigned int open;
	unsigned int sync_gen; /* pend_gen of the syncing group */
	bool syncing;
	bool second;	  /* the syncing group's post-entry sync */
	bool kick_posted; /* kick will close the open group at the next engine run */
	struct backend_io kick, sync;
	/* UNMAPs of pending clusters, resubmitted when a group has committed. */
	struct backend_io *parked;
	/* Batches of entries written / the count the last completed sync covers:
	 * they differ while entries sit unsynced in the page cache. */
	uint64_t meta_written, meta_synced, sync_mark;
};

#define QCOW2_OF(io, member)                                                                       \
	((struct bs_qcow2 *)(void *)((char *)(io)-offsetof(struct bs_qcow2, member)))

/* Every open layer; event-loop thread only, like the rest of the backend. */
static struct qcow2_layer *qcow2_registry;

static void qcow2_layer_put(struct qcow2_layer *l);

/* ---- small helpers ---- */

static int qcow2_pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	return qcow2_rw_all(fd, buf, len, off, false);
}

static int qcow2_sync(struct qcow2_layer *l)
{
	return fdatasync(l->fd) < 0 ? -errno : 0;
}

static uint64_t qcow2_offset_in_cluster(const struct qcow2_layer *l, uint64_t off)
{
	return off & (l->cluster_size - 1);
}

/* ---- metadata caches ---- */

static int qcow2_cache_init(struct qcow2_cache *c, unsigned int n)
{
	c->slots = calloc(n, sizeof(*c->slots));
	c->n = n;
	return c->slots ? 0 : -ENOMEM;
}

static void qcow2_cache_fini(struct qcow2_cache *c)
{
	unsigned int i;

	if (!c->slots)
		return;
	for (i = 0; i < c->n; i++)
		free(c->slots[i].data);
	free(c->slots);
	c->slots = NULL;
}

/* The slot holding \p offset, or the one to reuse for it (empty, else LRU). */
static struct qcow2_cache_slot *qcow2_cache_slot(struct qcow2_cache *c, uint64_t offset, bool *hit)
{
	struct qcow2_cache_slot *victim = &c->slots[0];
	unsigned int i;

	for (i = 0; i < c->n; i++) {
		struct qcow2_cache_slot *s = &c->slots[i];

		if (s->offset == offset) {
			*hit = true;
			s->used = ++c->clock;
			return s;
		}
		if (victim->offset && (!s->offset || s->used < victim->used))
			victim = s;
	}
	*hit = false;
	return victim;
}

/*
 * The cluster at \p offset through the cache. \p fresh: it was just
 * allocated, so it is all zeros and is not read. The pointer is valid until
 * the next call on the same cache. \return 0 or -errno.
 */
static int qcow2_cache_get(struct qcow2_layer *l, struct qcow2_cache *c, uint64_t offset,
			   bool fresh, uint8_t **data)
{
	struct qcow2_cache_slot *s;
	bool hit;
	int ret = 0;

	s = qcow2_cache_slot(c, offset, &hit);
	if (hit) {
		if (fresh)
			memset(s->data, 0, l->cluster_size);
		goto done;
	}
	if (!s->data) {
		s->data = calloc(1, l->cluster_size);
		if (!s->data) {
			ret = -ENOMEM;
			goto out;
		}
	}
	s->offset = 0;
	if (fresh)
		memset(s->data, 0, l->cluster_size);
	else
		ret = qcow2_pread_all(l->fd, s->data, l->cluster_size, offset);
	if (ret < 0)
		goto out;
	s->offset = offset;
	s->used = ++c->clock;
done:
	*data = s->data;
out:
	return ret;
}

/* ---- refcounts ---- */

static unsigned int qcow2_rb_entries_bits(const struct qcow2_layer *l)
{
	/* entries per refcount block = cluster bytes * 8 / refcount bits */
	return l->cluster_bits + 3 - l->refcount_order;
}

/* Byte offset of host cluster \p idx's entry inside its refcount block. */
static size_t qcow2_rb_pos(const struct qcow2_layer *l, uint64_t idx)
{
	unsigned int eb = qcow2_rb_entries_bits(l);

	return (size_t)((idx & ((1ull << eb) - 1)) << (l->refcount_order - 3));
}

/* Refcount of host cluster \p idx, read through a block that exists. */
static int qcow2_refcount_locate(struct qcow2_layer *l, uint64_t idx, uint8_t **rb,
				 uint64_t *rb_off, size_t *pos)
{
	unsigned int eb = qcow2_rb_entries_bits(l);
	uint64_t ti = idx >> eb;
	int ret = -EIO;

	if (ti >= l->rt_entries || !(l->rt[ti] & QCOW2_RT_OFFSET_MASK))
		goto out;
	*rb_off = l->rt[ti] & QCOW2_RT_OFFSET_MASK;
	*pos = qcow2_rb_pos(l, idx);
	ret = qcow2_cache_get(l, &l->rbc, *rb_off, false, rb);
out:
	return ret;
}

static uint64_t qcow2_refcount_decode(const struct qcow2_layer *l, const uint8_t *p)
{
	switch (l->refcount_order) {
	case 3:
		return p[0];
	case 4:
		return get_be16(p);
	case 5:
		return get_be32(p);
	default:
		return get_be64(p);
	}
}

static void qcow2_refcount_encode(const struct qcow2_layer *l, uint8_t *p, uint64_t v)
{
	switch (l->refcount_order) {
	case 3:
		p[0] = (uint8_t)v;
		break;
	case 4:
		put_be16(p, (uint16_t)v);
		break;
	case 5:
		put_be32(p, (uint32_t)v);
		break;
	default:
		put_be64(p, v);
		break;
	}
}

/* Write the refcount of host cluster \p idx (its refcount block exists). */
static int qcow2_refcount_set(struct qcow2_layer *l, uint64_t idx, uint64_t v)
{
	size_t width = (size_t)1 << (l->refcount_order - 3), pos;
	uint8_t *rb, bytes[8];
	uint64_t rb_off;
	int ret;

	ret = qcow2_refcount_locate(l, idx, &rb, &rb_off, &pos);
	if (ret < 0)
		goto out;
	qcow2_refcount_encode(l, bytes, v);
	ret = qcow2_pwrite_all(l->fd, bytes, width, rb_off + pos);
	if (ret < 0)
		goto out;
	memcpy(rb + pos, bytes, width);
out:
	return ret;
}

static int qcow2_refcount_get(struct qcow2_layer *l, uint64_t idx, uint64_t *v)
{
	uint8_t *rb;
	uint64_t rb_off;
	size_t pos;
	int ret;

	ret = qcow2_refcount_locate(l, idx, &rb, &rb_off, &pos);
	if (ret == 0)
		*v = qcow2_refcount_decode(l, rb + pos);
	return ret;
}

/*
 * The refcount table is full: write a bigger one (with the refcount blocks
 * that count its own clusters) at the end of the file, then switch the
 * header to it, then free the old one. Until the header write, the new
 * clusters are referenced by nothing and counted by nothing.
 */
static int qcow2_rt_grow(struct qcow2_layer *l)
{
	const uint64_t cs = l->cluster_size;
	unsigned int eb = qcow2_rb_entries_bits(l);
	uint64_t old_off = l->rt_offset, old_clusters = l->rt_entries * 8 / cs;
	uint64_t new_clusters = old_clusters * 2, start = l->host_end, end, i, nrb = 0;
	uint64_t *nrt = NULL, *nrb_off = NULL;
	uint8_t *rb = NULL, *disk = NULL, hdr[12];
	int ret = -EFBIG;

	if (new_clusters * cs > QCOW2_MAX_RT_BYTES)
		goto out;
	ret = -ENOMEM;
	nrt = calloc(new_clusters * cs / 8, sizeof(*nrt));
	rb = calloc(1, cs);
	disk = calloc(1, new_clusters * cs);
	nrb_off = calloc(new_clusters * cs / 8, sizeof(*nrb_off));
	if (!nrt || !rb || !disk || !nrb_off)
		goto out;
	memcpy(nrt, l->rt, l->rt_entries * sizeof(*nrt));
	/* New table, then new refcount blocks until every new cluster is covered. */
	end = start + new_clusters * cs;
	for (i = start / cs; i < end / cs; i++) {
		uint64_t ti = i >> eb;

		if (ti >= new_clusters * cs / 8) {
			ret = -EFBIG;
			goto out;
		}
		if (!nrt[ti]) {
			nrt[ti] = end;
			nrb_off[nrb++] = ti;
			end += cs;
		}
	}
	/* Refcount blocks: one for every new cluster they cover. */
	for (i = 0; i < nrb; i++) {
		uint64_t ti = nrb_off[i], c;

		memset(rb, 0, cs);
		for (c = start / cs; c < end / cs; c++)
			if (c >> eb == ti)
				qcow2_refcount_encode(l, rb + qcow2_rb_pos(l, c), 1);
		ret = qcow2_pwrite_all(l->fd, rb, cs, nrt[ti]);
		if (ret < 0)
			goto out;
	}
	/* New clusters already covered by existing blocks. */
	for (i = start / cs; i < end / cs; i++) {
		if ((i >> eb) < l->rt_entries && l->rt[i >> eb]) {
			ret = qcow2_refcount_set(l, i, 1);
			if (ret < 0)
				goto out;
		}
	}
	for (i = 0; i < new_clusters * cs / 8; i++)
		put_be64(disk + i * 8, nrt[i]);
	ret = qcow2_pwrite_all(l->fd, disk, new_clusters * cs, start);
	if (ret == 0)
		ret = qcow2_sync(l);
	if (ret < 0)
		goto out;
	put_be64(hdr, start);
	put_be32(hdr + 8, (uint32_t)new_clusters);
	ret = qcow2_pwrite_all(l->fd, hdr, sizeof(hdr), QCOW2_H_RT_OFFSET);
	if (ret < 0) {
		l->broken = true;
		goto out;
	}
	free(l->rt);
	l->rt = nrt;
	nrt = NULL;
	l->rt_entries = new_clusters * cs / 8;
	l->rt_offset = start;
	l->host_end = end;
	ret = qcow2_sync(l);
	for (i = 0; ret == 0 && i < old_clusters; i++)
		ret = qcow2_refcount_set(l, old_off / cs + i, 0);
	if (ret < 0)
		l->broken = true;
out:
	free(nrb_off);
	free(disk);
	free(rb);
	free(nrt);
	return ret;
}

/*
 * Allocate one cluster at the end of the file and give it refcount 1
 * (adding a refcount block, or growing the table, first when needed).
 * \return 0 and *off, or -errno.
 */
static int qcow2_cluster_alloc(struct qcow2_layer *l, uint64_t *off)
{
	const uint64_t cs = l->cluster_size;
	unsigned int eb = qcow2_rb_entries_bits(l);
	uint8_t be64[8];
	int ret = 0;

	for (;;) {
		uint64_t idx = l->host_end / cs, ti = idx >> eb, rb_off = l->host_end;
		uint8_t *rb;

		if (ti >= l->rt_entries) {
			ret = qcow2_rt_grow(l);
			if (ret < 0)
				goto out;
			continue;
		}
		if (l->rt[ti]) {
			ret = qcow2_refcount_set(l, idx, 1);
			if (ret < 0)
				goto out;
			*off = l->host_end;
			l->host_end += cs;
			goto out;
		}
		/* A new refcount block in this very cluster, counting itself. */
		ret = qcow2_cache_get(l, &l->rbc, rb_off, true, &rb);
		if (ret < 0)
			goto out;
		qcow2_refcount_encode(l, rb + qcow2_rb_pos(l, idx), 1);
		ret = qcow2_pwrite_all(l->fd, rb, cs, rb_off);
		if (ret == 0)
			ret = qcow2_sync(l);
		if (ret < 0) {
			memset(rb, 0, cs); /* the slot must not claim a block never written */
			goto out;
		}
		put_be64(be64, rb_off);
		ret = qcow2_pwrite_all(l->fd, be64, 8, l->rt_offset + ti * 8);
		if (ret < 0) {
			l->broken = true;
			goto out;
		}
		l->rt[ti] = rb_off;
		l->host_end += cs;
	}
out:
	return ret;
}

/* Drop one reference to host cluster \p off; punch its hole at zero. */
static int qcow2_cluster_free(struct qcow2_layer *l, uint64_t off)
{
	uint64_t idx = off >> l->cluster_bits, v = 0;
	int ret;

	ret = qcow2_refcount_get(l, idx, &v);
	if (ret < 0 || v == 0)
		goto out;
	ret = qcow2_refcount_set(l, idx, v - 1);
	if (ret == 0 && v == 1)
		(void)fallocate(l->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
				(off_t)l->cluster_size);
out:
	return ret;
}

/* ---- entries pending a group commit ---- */

/*
 * Room for one more element in the growable array \p arr, \p n used of
 * *\p cap (\p first on the first growth, then doubling; one allocation).
 * \return the array to use from now on (\p arr, or a copy that replaced
 * it), or NULL when out of memory (\p arr unchanged).
 */
static void *qcow2_array_room(void *arr, size_t *cap, size_t n, size_t size, size_t first)
{
	size_t ncap = *cap ? *cap * 2 : first;
	void *x;

	if (n < *cap)
		return arr;
	x = calloc(ncap, size);
	if (!x)
		return NULL;
	if (n)
		memcpy(x, arr, n * size);
	free(arr);
	*cap = ncap;
	return x;
}

/*
 * Put the entry at host offset \p pos (value \p value; \p gc its guest
 * cluster, UINT64_MAX for an L1 entry; \p l2_off its L2 table) on the
 * pending list of the open group. \return 0 or -ENOMEM (nothing added).
 */
static int qcow2_pending_add(struct qcow2_layer *l, uint64_t pos, uint64_t value, uint64_t gc,
			     uint64_t l2_off)
{
	struct qcow2_pending *x;
	int ret = 0;

	x = qcow2_array_room(l->pend, &l->cap_pend, l->npend, sizeof(*x), 16);
	if (!x) {
		ret = -ENOMEM;
		goto out;
	}
	l->pend = x;
	l->pend[l->npend++] = (struct qcow2_pending){
		.pos = pos, .value = value, .gc = gc, .l2_off = l2_off, .gen = l->pend_gen};
	l->need_group = true;
out:
	return ret;
}

/* The pending L2 entry of guest offset \p off, or NULL. */
static const struct qcow2_pending *qcow2_pending_find(const struct qcow2_layer *l, uint64_t off)
{
	uint64_t gc = off >> l->cluster_bits;
	size_t i;

	for (i = l->npend; i-- > 0;)
		if (l->pend[i].gc == gc)
			return &l->pend[i];
	return NULL;
}

/* Is an allocation of a guest cluster of [off, off + len) in flight? */
static bool qcow2_pending_overlaps(const struct qcow2_layer *l, uint64_t off, uint64_t len)
{
	uint64_t first = off >> l->cluster_bits, last = (off + len - 1) >> l->cluster_bits;
	size_t i;

	for (i = 0; len && i < l->npend; i++)
		if (l->pend[i].gc != UINT64_MAX && l->pend[i].gc >= first && l->pend[i].gc <= last)
			return true;
	return false;
}

/* The cached cluster at \p offset, or NULL (nothing is read). */
static uint8_t *qcow2_cache_peek(struct qcow2_cache *c, uint64_t offset)
{
	unsigned int i;

	for (i = 0; i < c->n; i++)
		if (c->slots[i].offset == offset)
			return c->slots[i].data;
	return NULL;
}

/*
 * Take the entries of group \p gen (of every group when \p all) off the
 * pending list; \p write: pwrite them (what they point at is durable) and
 * update the cached L2 tables, else drop them (their group failed: the
 * clusters leak). *wrote: how many were written. A failed write leaves the
 * image broken (memory and disk differ). \return 0 or -errno.
 */
static int qcow2_pending_take(struct qcow2_layer *l, unsigned int gen, bool all, bool write,
			      size_t *wrote)
{
	size_t i, keep = 0;
	int ret = 0;

	*wrote = 0;
	for (i = 0; i < l->npend; i++) {
		struct qcow2_pending *p = &l->pend[i];
		uint8_t b[8], *l2;

		if (!all && p->gen != gen) {
			l->pend[keep++] = *p;
			continue;
		}
		if (!write || ret < 0)
			continue;
		put_be64(b, p->value);
		ret = qcow2_pwrite_all(l->fd, b, sizeof(b), p->pos);
		if (ret < 0)
			continue;
		(*wrote)++;
		l2 = p->gc == UINT64_MAX ? NULL : qcow2_cache_peek(&l->l2c, p->l2_off);
		if (l2)
			memcpy(l2 + (p->pos - p->l2_off), b, sizeof(b));
	}
	l->npend = keep;
	if (ret < 0)
		l->broken = true;
	return ret;
}

/* ---- L1 / L2 ---- */

/*
 * The L2 table for guest offset \p off: *l2 (cached cluster) and its host
 * offset, or *l2 = NULL when the L1 entry is empty.
 */
static int qcow2_l2_get(struct qcow2_layer *l, uint64_t off, uint8_t **l2, uint64_t *l2_off)
{
	uint64_t l1i = off >> (l->cluster_bits + l->l2_bits), e, lo;
	int ret = 0;

	*l2 = NULL;
	if (l1i >= l->l1_size)
		goto out; /* the header check makes this unreachable for off < size */
	e = l->l1[l1i];
	lo = e & QCOW2_L1_OFFSET_MASK;
	if (!lo)
		goto out;
	if (qcow2_offset_in_cluster(l, lo) || lo + l->cluster_size > l->host_end) {
		qb_log(LOG_ERR, "qcow2 %s: L1 entry %llu points outside the image (0x%llx)",
		       l->path, (unsigned long long)l1i, (unsigned long long)lo);
		ret = -EIO;
		goto out;
	}
	*l2_off = lo;
	ret = qcow2_cache_get(l, &l->l2c, lo, false, l2);
out:
	return ret;
}

static size_t qcow2_l2_index(const struct qcow2_layer *l, uint64_t off)
{
	return (size_t)((off >> l->cluster_bits) & ((1ull << l->l2_bits) - 1));
}

/* The L2 entry for \p off (0 when there is no L2 table). */
static int qcow2_l2_entry(struct qcow2_layer *l, uint64_t off, uint64_t *e)
{
	const struct qcow2_pending *p = l->npend ? qcow2_pending_find(l, off) : NULL;
	uint8_t *l2;
	uint64_t l2_off;
	int ret;

	*e = 0;
	if (p) {
		*e = p->value; /* allocation in flight: the new cluster */
		return 0;
	}
	ret = qcow2_l2_get(l, off, &l2, &l2_off);
	if (ret == 0 && l2)
		*e = get_be64(l2 + qcow2_l2_index(l, off) * 8);
	return ret;
}

static bool qcow2_entry_zero(const struct qcow2_layer *l, uint64_t e)
{
	/* Bit 0 is the zero flag from version 3 on; reserved before. */
	return l->version >= 3 && (e & QCOW2_L2_ZERO);
}

/* ---- reads through the chain ---- */

/*
 * Where the bytes of a read come from: (fd, host offset) extents, merged when
 * contiguous. A synchronous reader (copy-on-write fills) preads each at once;
 * the asynchronous one (READ requests) collects them for the engine.
 */
struct qcow2_extent {
	int fd;
	uint64_t host;
	uint8_t *buf;
	uint64_t len;
};

struct qcow2_reader {
	bool sync;
	struct qcow2_extent *ext;
	size_t n, cap;
};

static int qcow2_reader_add(struct qcow2_reader *rd, const struct qcow2_layer *l, uint64_t host,
			    uint8_t *buf, uint64_t len)
{
	struct qcow2_extent *e, *x;
	int ret = 0;

	/* A cluster qemu left short at the end of the file reads zeros past it. */
	if (host < l->open_end && host + len > l->open_size) {
		uint64_t keep = host < l->open_size ? l->open_size - host : 0;

		memset(buf + keep, 0, len - keep);
		len = keep;
	}
	if (len == 0)
		goto out;
	if (rd->sync) {
		ret = qcow2_pread_all(l->fd, buf, len, host);
		goto out;
	}
	e = rd->n ? &rd->ext[rd->n - 1] : NULL;
	if (e && e->fd == l->fd && e->host + e->len == host && e->buf + e->len == buf &&
	    e->len + len <= INT_MAX) {
		e->len += len;
		goto out;
	}
	x = qcow2_array_room(rd->ext, &rd->cap, rd->n, sizeof(*x), 8);
	if (!x) {
		ret = -ENOMEM;
		goto out;
	}
	rd->ext = x;
	rd->ext[rd->n++] = (struct qcow2_extent){.fd = l->fd, .host = host, .buf = buf, .len = len};
out:
	return ret;
}

static int qcow2_layer_read(struct qcow2_layer *l, struct qcow2_reader *rd, uint64_t off,
			    uint8_t *buf, uint64_t len);

/* Writing or discarding a compressed cluster of the writable image itself. */
static int qcow2_compressed_refuse(struct qcow2_layer *l)
{
	if (!l->warned_compressed)
		qb_log(LOG_ERR,
		       "qcow2 %s: writes into its own compressed clusters are not supported "
		       "(use it as a backing file, or qemu-img convert -O qcow2 without -c)",
		       l->path);
	l->warned_compressed = true;
	return -EOPNOTSUPP;
}

/* Inflate \p in (raw deflate, qcow2 spec "Compressed Clusters") into exactly
 * one cluster at \p out. \return 0, -ENOMEM, or -EIO (short or corrupt). */
static int qcow2_inflate(struct qcow2_layer *l, uint8_t *in, uint64_t in_len, uint8_t *out)
{
	z_stream zs = {0};
	int zr, ret = -EIO;

	zr = inflateInit2(&zs, -QCOW2_COMPRESSED_WBITS);
	if (zr != Z_OK) {
		ret = zr == Z_MEM_ERROR ? -ENOMEM : -EIO;
		goto out;
	}
	zs.next_in = in;
	zs.avail_in = (uInt)in_len;
	zs.next_out = out;
	zs.avail_out = (uInt)l->cluster_size;
	zr = inflate(&zs, Z_FINISH);
	/* The sectors read may hold bytes past the stream's end: once one
	 * cluster is out, Z_BUF_ERROR (stream not finished) is as good as the end. */
	if (zs.avail_out == 0 && (zr == Z_STREAM_END || zr == Z_BUF_ERROR || zr == Z_OK))
		ret = 0;
	else if (zr == Z_MEM_ERROR)
		ret = -ENOMEM;
	inflateEnd(&zs);
out:
	return ret;
}

/*
 * Bytes [in, in + len) of the compressed cluster with L2 entry \p e, into
 * \p buf. Done synchronously with pread, like metadata (a compressed cluster
 * must be inflated before any of it can be returned); the last cluster
 * inflated is kept, so a sequential read inflates each cluster once.
 * Compressed clusters are only read (never written or freed) here, so the
 * cached copy cannot go stale. \return 0 or -errno.
 */
static int qcow2_compressed_read(struct qcow2_layer *l, uint64_t e, uint64_t in, uint8_t *buf,
				 uint64_t len)
{
	unsigned int x = 62 - (l->cluster_bits - 8);
	uint64_t key = e & ~QCOW2_ENTRY_COPIED, coff = e & ((1ull << x) - 1);
	uint64_t nsect = ((e & ~(QCOW2_ENTRY_COPIED | QCOW2_ENTRY_COMPRESSED)) >> x) + 1;
	uint64_t csize = nsect * QCOW2_COMPRESSED_SECTOR - (coff & (QCOW2_COMPRESSED_SECTOR - 1));
	uint8_t *cin = NULL;
	int ret = 0;

	if (l->zc && l->zc_entry == key)
		goto copy;
	if (coff >= l->open_size) {
		qb_log(LOG_ERR,
		       "qcow2 %s: compressed cluster at 0x%llx is past the end of the file",
		       l->path, (unsigned long long)coff);
		ret = -EIO;
		goto out;
	}
	if (!l->zc) {
		l->zc = calloc(1, l->cluster_size);
		if (!l->zc) {
			ret = -ENOMEM;
			goto out;
		}
	}
	l->zc_entry = 0;
	cin = calloc(1, csize);
	if (!cin) {
		ret = -ENOMEM;
		goto out;
	}
	/* Past the end of the file reads zeros: the stream then ends short. */
	ret = qcow2_pread_all(l->fd, cin, csize, coff);
	if (ret == 0)
		ret = qcow2_inflate(l, cin, csize, l->zc);
	if (ret == -EIO)
		qb_log(LOG_ERR, "qcow2 %s: compressed cluster at 0x%llx (%llu bytes) is corrupt",
		       l->path, (unsigned long long)coff, (unsigned long long)csize);
	if (ret < 0)
		goto out;
	l->zc_entry = key;
copy:
	memcpy(buf, l->zc + in, len);
out:
	free(cin);
	return ret;
}

/* One piece of a read that stays inside one cluster of \p l. */
static int qcow2_cluster_read(struct qcow2_layer *l, struct qcow2_reader *rd, uint64_t off,
			      uint8_t *buf, uint64_t len)
{
	uint64_t e, host;
	int ret;

	ret = qcow2_l2_entry(l, off, &e);
	if (ret < 0)
		goto out;
	host = e & QCOW2_L2_OFFSET_MASK;
	if (e & QCOW2_ENTRY_COMPRESSED) {
		ret = qcow2_compressed_read(l, e, qcow2_offset_in_cluster(l, off), buf, len);
	} else if (qcow2_entry_zero(l, e)) {
		memset(buf, 0, len);
	} else if (host) {
		if (qcow2_offset_in_cluster(l, host)) {
			qb_log(LOG_ERR, "qcow2 %s: unaligned data cluster 0x%llx", l->path,
			       (unsigned long long)host);
			ret = -EIO;
			goto out;
		}
		ret = qcow2_reader_add(rd, l, host + qcow2_offset_in_cluster(l, off), buf, len);
	} else if (l->backing) {
		ret = qcow2_layer_read(l->backing, rd, off, buf, len);
	} else {
		memset(buf, 0, len);
	}
out:
	return ret;
}

/* Read [off, off + len) of layer \p l's virtual disk; zeros past its end. */
static int qcow2_layer_read(struct qcow2_layer *l, struct qcow2_reader *rd, uint64_t off,
			    uint8_t *buf, uint64_t len)
{
	uint64_t in = off < l->size ? (len < l->size - off ? len : l->size - off) : 0;
	int ret = 0;

	memset(buf + in, 0, len - in);
	if (!l->is_qcow2) {
		ret = in ? qcow2_reader_add(rd, l, off, buf, in) : 0;
		goto out;
	}
	while (in > 0) {
		uint64_t n = l->cluster_size - qcow2_offset_in_cluster(l, off);

		if (n > in)
			n = in;
		ret = qcow2_cluster_read(l, rd, off, buf, n);
		if (ret < 0)
			goto out;
		off += n;
		buf += n;
		in -= n;
	}
out:
	return ret;
}

/* Does any layer hold data for [off, off + len)? (zero clusters do not) */
static int qcow2_layer_mapped(struct qcow2_layer *l, uint64_t off, uint64_t len, bool *mapped)
{
	uint64_t e, n;
	int ret = 0;

	*mapped = false;
	if (off >= l->size)
		goto out;
	if (len > l->size - off)
		len = l->size - off;
	if (!l->is_qcow2) {
		*mapped = true; /* a raw layer: assume data (no hole probing) */
		goto out;
	}
	while (len > 0 && !*mapped) {
		n = l->cluster_size - qcow2_offset_in_cluster(l, off);
		if (n > len)
			n = len;
		ret = qcow2_l2_entry(l, off, &e);
		if (ret < 0)
			goto out;
		if (e & QCOW2_ENTRY_COMPRESSED)
			*mapped = true;
		else if (qcow2_entry_zero(l, e))
			*mapped = false;
		else if (e & QCOW2_L2_OFFSET_MASK)
			*mapped = true;
		else if (l->backing)
			ret = qcow2_layer_mapped(l->backing, off, n, mapped);
		if (ret < 0)
			goto out;
		off += n;
		len -= n;
	}
out:
	return ret;
}

/* ---- writes to the overlay ---- */

/*
 * The L2 table for \p off, allocating it if the L1 entry is empty:
 * cluster + refcount, zeros written; the L1 entry in memory at once, on disk
 * after the group's fdatasync.
 */
static int qcow2_l2_ensure(struct qcow2_layer *l, uint64_t off, uint8_t **l2, uint64_t *l2_off)
{
	uint64_t l1i = off >> (l->cluster_bits + l->l2_bits), n;
	int ret;

	if (l->l1[l1i] && !(l->l1[l1i] & QCOW2_ENTRY_COPIED)) {
		qb_log(LOG_ERR, "qcow2 %s: L2 table %llu is shared (snapshot): not written",
		       l->path, (unsigned long long)l1i);
		ret = -EIO;
		goto out;
	}
	ret = qcow2_l2_get(l, off, l2, l2_off);
	if (ret < 0 || *l2)
		goto out;
	ret = qcow2_cluster_alloc(l, &n);
	if (ret < 0)
		goto out;
	ret = qcow2_cache_get(l, &l->l2c, n, true, l2);
	if (ret == 0)
		ret = qcow2_pwrite_all(l->fd, *l2, l->cluster_size, n);
	/* Pending first: memory must never point where the disk never will. */
	if (ret == 0)
		ret = qcow2_pending_add(l, l->l1_offset + l1i * 8, n | QCOW2_ENTRY_COPIED,
					UINT64_MAX, 0);
	if (ret == 0)
		l->l1[l1i] = n | QCOW2_ENTRY_COPIED;
	*l2_off = n;
out:
	return ret;
}

/* The L2 table for \p off (allocated if need be) as a private copy to edit. */
static int qcow2_l2_copy(struct qcow2_layer *l, uint64_t off, uint64_t *l2_off, uint8_t **copy)
{
	uint8_t *l2;
	int ret;

	ret = qcow2_l2_ensure(l, off, &l2, l2_off);
	if (ret < 0)
		goto out;
	*copy = calloc(1, l->cluster_size);
	if (!*copy) {
		ret = -ENOMEM;
		goto out;
	}
	memcpy(*copy, l2, l->cluster_size);
out:
	return ret;
}

/*
 * The new contents of one cluster that the overlay does not hold (or holds
 * as a preallocated zero cluster): the chain's data (or zeros) under the
 * written piece. \p cbuf is one cluster.
 */
static int qcow2_cow_fill(struct qcow2_layer *l, uint64_t e, uint64_t off, const uint8_t *src,
			  uint64_t len, uint8_t *cbuf)
{
	uint64_t start = off - qcow2_offset_in_cluster(l, off);
	struct qcow2_reader sync_rd = {.sync = true};
	int ret = 0;

	if (len < l->cluster_size) {
		if (qcow2_entry_zero(l, e) || !l->backing)
			memset(cbuf, 0, l->cluster_size);
		else
			ret = qcow2_layer_read(l->backing, &sync_rd, start, cbuf, l->cluster_size);
	}
	if (ret == 0)
		memcpy(cbuf + (off - start), src, len);
	return ret;
}

/*
 * Write [off, off + len), all inside one L2 table's span. Clusters already
 * in the overlay are written in place; the others get new clusters (data +
 * refcount) whose L2 entries go on the pending list for the group commit.
 */
static int qcow2_write_span(struct qcow2_layer *l, uint64_t off, const uint8_t *src, uint64_t len)
{
	const uint64_t cs = l->cluster_size;
	size_t i = qcow2_l2_index(l, off);
	uint8_t *l2, *cbuf = NULL;
	uint64_t l2_off;
	int ret;

	ret = qcow2_l2_ensure(l, off, &l2, &l2_off);
	for (; ret == 0 && len > 0; i++) {
		uint64_t in = qcow2_offset_in_cluster(l, off), n = cs - in, e, host, nc;

		if (n > len)
			n = len;
		ret = qcow2_l2_entry(l, off, &e);
		if (ret < 0)
			goto out;
		host = e & QCOW2_L2_OFFSET_MASK;
		if (e & QCOW2_ENTRY_COMPRESSED) {
			ret = qcow2_compressed_refuse(l);
			goto out;
		}
		if (host && !(e & QCOW2_ENTRY_COPIED)) {
			qb_log(LOG_ERR,
			       "qcow2 %s: cluster 0x%llx is shared (snapshot): not written",
			       l->path, (unsigned long long)host);
			ret = -EIO;
			goto out;
		}
		if (host && !qcow2_entry_zero(l, e)) {
			ret = qcow2_pwrite_all(l->fd, src, n, host + in);
			/* A cluster qemu left short at the end of the file grew. */
			if (ret == 0 && host + in + n > l->open_size)
				l->open_size = host + in + n;
			/* Into a cluster whose allocation is in flight: wait for it. */
			if (l->npend && qcow2_pending_find(l, off))
				l->need_group = true;
		} else {
			if (!cbuf) {
				cbuf = calloc(1, cs);
				if (!cbuf) {
					ret = -ENOMEM;
					goto out;
				}
			}
			ret = qcow2_cow_fill(l, e, off, src, n, cbuf);
			nc = host;
			if (ret == 0 && !nc)
				ret = qcow2_cluster_alloc(l, &nc);
			if (ret == 0)
				ret = qcow2_pwrite_all(l->fd, cbuf, cs, nc);
			if (ret == 0)
				ret = qcow2_pending_add(l, l2_off + i * 8, nc | QCOW2_ENTRY_COPIED,
							off >> l->cluster_bits, l2_off);
		}
		off += n;
		src += n;
		len -= n;
	}
out:
	free(cbuf);
	return ret;
}

/* Split [off, off + len) at L2-table boundaries; \p fn does one span. */
static int qcow2_split(struct qcow2_layer *l, uint64_t off, const uint8_t *src, uint64_t len,
		       int (*fn)(struct qcow2_layer *, uint64_t, const uint8_t *, uint64_t))
{
	uint64_t span = 1ull << (l->cluster_bits + l->l2_bits);
	int ret = 0;

	while (ret == 0 && len > 0) {
		uint64_t n = span - (off & (span - 1));

		if (n > len)
			n = len;
		ret = fn(l, off, src, n);
		off += n;
		if (src)
			src += n;
		len -= n;
	}
	return ret;
}

/*
 * Discard whole clusters of one L2 span: over a backing file the entry
 * becomes a zero cluster (v3), so the golden data under it stays hidden;
 * without one it becomes unallocated. The entries are written, synced, and
 * only then are the old clusters' refcounts dropped.
 */
static int qcow2_discard_span(struct qcow2_layer *l, uint64_t off, const uint8_t *unused,
			      uint64_t len)
{
	uint64_t l2_off, ne = l->backing ? QCOW2_L2_ZERO : 0;
	size_t first = qcow2_l2_index(l, off), n = (size_t)(len >> l->cluster_bits), i;
	uint8_t *l2, *pend = NULL;
	int ret;

	(void)unused;
	ret = qcow2_l2_get(l, off, &l2, &l2_off);
	if (ret < 0 || (!l2 && !l->backing))
		goto out; /* nothing allocated and nothing under it: already zeros */
	ret = qcow2_l2_copy(l, off, &l2_off, &pend);
	if (ret < 0)
		goto out;
	for (i = first; i < first + n; i++) {
		if (get_be64(pend + i * 8) & QCOW2_ENTRY_COMPRESSED) {
			ret = qcow2_compressed_refuse(l);
			goto out;
		}
		put_be64(pend + i * 8, ne);
	}
	ret = qcow2_pwrite_all(l->fd, pend + first * 8, n * 8, l2_off + first * 8);
	if (ret < 0) {
		l->broken = true;
		goto out;
	}
	ret = qcow2_cache_get(l, &l->l2c, l2_off, false, &l2);
	if (ret < 0)
		goto out;
	/* Keep the old entries (now in pend's place) to free their clusters. */
	for (i = first; i < first + n; i++) {
		uint64_t old = get_be64(l2 + i * 8);

		put_be64(l2 + i * 8, ne);
		put_be64(pend + i * 8, old);
	}
	ret = qcow2_sync(l);
	for (i = first; ret == 0 && i < first + n; i++) {
		uint64_t host = get_be64(pend + i * 8) & QCOW2_L2_OFFSET_MASK;

		if (host)
			ret = qcow2_cluster_free(l, host);
	}
	if (ret < 0)
		l->broken = true;
out:
	free(pend);
	return ret;
}

/* UNMAP: whole clusters are discarded; the partial ones at the ends get zeros. */
static int qcow2_discard(struct qcow2_layer *l, uint64_t off, uint64_t len)
{
	const uint64_t cs = l->cluster_size;
	uint64_t head = (cs - qcow2_offset_in_cluster(l, off)) & (cs - 1), tail;
	uint8_t *zeros = NULL;
	int ret = 0;

	if (head > len)
		head = len;
	tail = (len - head) & (cs - 1);
	if (head || tail) {
		zeros = calloc(1, cs);
		if (!zeros) {
			ret = -ENOMEM;
			goto out;
		}
	}
	if (head)
		ret = qcow2_split(l, off, zeros, head, qcow2_write_span);
	if (ret == 0 && len - head - tail)
		ret = qcow2_split(l, off + head, NULL, len - head - tail, qcow2_discard_span);
	if (ret == 0 && tail)
		ret = qcow2_split(l, off + len - tail, zeros, tail, qcow2_write_span);
out:
	free(zeros);
	return ret;
}

/* ---- opening a chain ---- */

static void qcow2_layer_free(struct qcow2_layer *l)
{
	struct qcow2_layer **pp;

	for (pp = &qcow2_registry; *pp; pp = &(*pp)->reg_next) {
		if (*pp == l) {
			*pp = l->reg_next;
			break;
		}
	}
	qcow2_layer_put(l->backing);
	qcow2_cache_fini(&l->l2c);
	qcow2_cache_fini(&l->rbc);
	free(l->zc);
	free(l->pend);
	free(l->rt);
	free(l->l1);
	free(l->path);
	if (l->fd >= 0)
		close(l->fd);
	free(l);
}

static void qcow2_layer_put(struct qcow2_layer *l)
{
	if (l && --l->refs == 0)
		qcow2_layer_free(l);
}

struct qcow2_open_ctx {
	unsigned int depth;
	dev_t dev[QCOW2_MAX_DEPTH];
	ino_t ino[QCOW2_MAX_DEPTH];
};

static int qcow2_layer_open(const char *path, const char *format, bool writable,
			    struct qcow2_open_ctx *ctx, struct qcow2_layer **out);

/* Header extensions: the backing format; refuse what we cannot honour. */
static int qcow2_ext_parse(struct qcow2_layer *l, const uint8_t *c0, uint64_t c0_len,
			   uint64_t start, char *fmt, size_t fmt_len)
{
	uint64_t p = start;
	int ret = -EINVAL;

	while (p + 8 <= c0_len) {
		uint32_t type = get_be32(c0 + p), len = get_be32(c0 + p + 4);

		if (type == QCOW2_EXT_END) {
			ret = 0;
			goto out;
		}
		if (len > c0_len - p - 8) {
			qb_log(LOG_ERR,
			       "qcow2 %s: header extension 0x%08x runs past the first "
			       "cluster",
			       l->path, type);
			goto out;
		}
		if (type == QCOW2_EXT_BACKING_FORMAT) {
			if (len == 0 || len >= fmt_len) {
				qb_log(LOG_ERR, "qcow2 %s: bad backing format extension", l->path);
				goto out;
			}
			memcpy(fmt, c0 + p + 8, len);
			fmt[len] = '\0';
		} else if (type == QCOW2_EXT_DATA_FILE || type == QCOW2_EXT_CRYPTO) {
			qb_log(LOG_ERR, "qcow2 %s: %s is not supported", l->path,
			       type == QCOW2_EXT_DATA_FILE ? "an external data file"
							   : "encryption");
			ret = -EOPNOTSUPP;
			goto out;
		}
		/* Anything else (feature names, bitmaps, unknown): skipped. */
		p += 8 + (((uint64_t)len + 7) & ~7ull);
	}
	/* The end marker must be in the first cluster. */
	qb_log(LOG_ERR, "qcow2 %s: header extensions are not terminated", l->path);
out:
	return ret;
}

static const char *const qcow2_incompat_names[] = {
	"dirty (refcounts need repair: qemu-img check -r all)",
	"corrupt (qemu-img check -r all)",
	"external data file",
	"compression type other than zlib",
	"extended L2 entries (subclusters)",
};

/* Version-3 feature bits: refuse every incompatible one; note autoclear ones. */
static int qcow2_features_check(struct qcow2_layer *l, const uint8_t *h)
{
	uint64_t inc = get_be64(h + QCOW2_H_INCOMPAT);
	unsigned int bit;
	int ret = 0;

	for (bit = 0; bit < 64; bit++) {
		if (!(inc & (1ull << bit)))
			continue;
		if (bit < sizeof(qcow2_incompat_names) / sizeof(qcow2_incompat_names[0]))
			qb_log(LOG_ERR, "qcow2 %s: incompatible feature bit %u set: %s", l->path,
			       bit, qcow2_incompat_names[bit]);
		else
			qb_log(LOG_ERR, "qcow2 %s: unknown incompatible feature bit %u", l->path,
			       bit);
		ret = inc & QCOW2_INCOMPAT_DIRTY || inc & QCOW2_INCOMPAT_CORRUPT ? -EINVAL
										 : -EOPNOTSUPP;
	}
	l->autoclear = get_be64(h + QCOW2_H_AUTOCLEAR) != 0;
	return ret;
}

/* Bounds of the header's fields against the file and the format. */
static int qcow2_header_check(struct qcow2_layer *l, const uint8_t *h, uint64_t file_size)
{
	uint64_t cs = l->cluster_size, l2_span = 1ull << (l->cluster_bits + l->l2_bits);
	uint64_t need_l1 = (l->size + l2_span - 1) / l2_span;
	uint64_t rt_clusters = get_be32(h + QCOW2_H_RT_CLUSTERS);
	const char *why = NULL;

	if (get_be32(h + QCOW2_H_CRYPT_METHOD))
		why = "encrypted images are not supported";
	else if (l->size > (1ull << 56) || l->l1_size < need_l1)
		why = "L1 table too small for the disk size";
	else if ((uint64_t)l->l1_size * 8 > QCOW2_MAX_L1_BYTES)
		why = "L1 table too big";
	else if ((l->l1_size && (l->l1_offset & (cs - 1))) ||
		 l->l1_offset + (uint64_t)l->l1_size * 8 > file_size)
		why = "L1 table offset unaligned or past the end of the file";
	else if (!rt_clusters || rt_clusters * cs > QCOW2_MAX_RT_BYTES)
		why = "refcount table size out of range";
	else if ((l->rt_offset & (cs - 1)) || l->rt_offset + rt_clusters * cs > file_size)
		why = "refcount table offset unaligned or past the end of the file";
	else if (l->writable && get_be32(h + QCOW2_H_NB_SNAPSHOTS))
		why = "internal snapshots are not supported on a writable image";
	else if (l->writable && (l->refcount_order < 3 || l->refcount_order > 6))
		why = "refcount widths below 8 bits are not supported for writing";
	else if (l->refcount_order > 6)
		why = "refcount order out of range";
	if (why)
		qb_log(LOG_ERR, "qcow2 %s: %s", l->path, why);
	return why ? -EINVAL : 0;
}

/* Read and check the header, extensions, L1 and refcount tables. */
static int qcow2_header_load(struct qcow2_layer *l, uint64_t file_size, char *bname,
			     size_t bname_len, char *bfmt, size_t bfmt_len)
{
	uint8_t h[QCOW2_H_V3_FULL_LEN] = {0}, *c0 = NULL, *tab = NULL;
	uint64_t c0_len, boff, i, rt_bytes, hlen = QCOW2_H_V2_LEN;
	uint32_t bsize;
	int ret = -EINVAL;

	if (file_size < QCOW2_H_V2_LEN) {
		qb_log(LOG_ERR, "qcow2 %s: truncated header", l->path);
		goto out;
	}
	ret = qcow2_pread_all(l->fd, h, sizeof(h), 0);
	if (ret < 0)
		goto out;
	ret = -EINVAL;
	l->version = get_be32(h + QCOW2_H_VERSION);
	l->cluster_bits = get_be32(h + QCOW2_H_CLUSTER_BITS);
	if (get_be32(h) != QCOW2_MAGIC || (l->version != 2 && l->version != 3)) {
		qb_log(LOG_ERR, "qcow2 %s: bad magic or unsupported version %u", l->path,
		       l->version);
		goto out;
	}
	if (l->cluster_bits < QCOW2_MIN_CLUSTER_BITS || l->cluster_bits > QCOW2_MAX_CLUSTER_BITS) {
		qb_log(LOG_ERR, "qcow2 %s: cluster_bits %u out of range", l->path, l->cluster_bits);
		goto out;
	}
	l->cluster_size = 1ull << l->cluster_bits;
	l->l2_bits = l->cluster_bits - 3;
	l->refcount_order = QCOW2_DEFAULT_REFCOUNT_ORDER;
	if (l->version >= 3) {
		hlen = get_be32(h + QCOW2_H_HEADER_LEN);
		l->refcount_order = get_be32(h + QCOW2_H_REFCOUNT_ORDER);
		if (file_size < QCOW2_H_V3_LEN || hlen < QCOW2_H_V3_LEN || (hlen & 7) ||
		    hlen > l->cluster_size) {
			qb_log(LOG_ERR, "qcow2 %s: truncated header or bad header length", l->path);
			goto out;
		}
		ret = qcow2_features_check(l, h);
		if (ret < 0)
			goto out;
		ret = -EINVAL;
	}
	l->size = get_be64(h + QCOW2_H_SIZE);
	l->l1_size = get_be32(h + QCOW2_H_L1_SIZE);
	l->l1_offset = get_be64(h + QCOW2_H_L1_OFFSET);
	l->rt_offset = get_be64(h + QCOW2_H_RT_OFFSET);
	ret = qcow2_header_check(l, h, file_size);
	if (ret < 0)
		goto out;
	/* First cluster: extensions and the backing file name. */
	c0_len = file_size < l->cluster_size ? file_size : l->cluster_size;
	c0 = calloc(1, c0_len);
	if (!c0) {
		ret = -ENOMEM;
		goto out;
	}
	ret = qcow2_pread_all(l->fd, c0, c0_len, 0);
	if (ret == 0)
		ret = qcow2_ext_parse(l, c0, c0_len, hlen, bfmt, bfmt_len);
	if (ret < 0)
		goto out;
	ret = -EINVAL;
	boff = get_be64(h + QCOW2_H_BACKING_OFFSET);
	bsize = get_be32(h + QCOW2_H_BACKING_SIZE);
	if (boff) {
		if (bsize == 0 || bsize > QCOW2_MAX_BACKING_NAME || bsize >= bname_len ||
		    boff > c0_len || bsize > c0_len - boff) {
			qb_log(LOG_ERR, "qcow2 %s: bad backing file name offset or length",
			       l->path);
			goto out;
		}
		memcpy(bname, c0 + boff, bsize);
		bname[bsize] = '\0';
		if (strlen(bname) != bsize) {
			qb_log(LOG_ERR, "qcow2 %s: NUL in the backing file name", l->path);
			goto out;
		}
	}
	/* The L1 table, host-endian. */
	ret = -ENOMEM;
	l->l1 = calloc(l->l1_size ? l->l1_size : 1, sizeof(*l->l1));
	rt_bytes = (uint64_t)get_be32(h + QCOW2_H_RT_CLUSTERS) * l->cluster_size;
	l->rt_entries = rt_bytes / 8;
	l->rt = calloc(l->rt_entries, sizeof(*l->rt));
	tab = calloc(1, rt_bytes > (uint64_t)l->l1_size * 8 ? rt_bytes : (uint64_t)l->l1_size * 8);
	if (!l->l1 || !l->rt || !tab)
		goto out;
	ret = qcow2_pread_all(l->fd, tab, (size_t)l->l1_size * 8, l->l1_offset);
	if (ret < 0)
		goto out;
	for (i = 0; i < l->l1_size; i++)
		l->l1[i] = get_be64(tab + i * 8);
	ret = qcow2_pread_all(l->fd, tab, rt_bytes, l->rt_offset);
	if (ret < 0)
		goto out;
	for (i = 0; i < l->rt_entries; i++) {
		l->rt[i] = get_be64(tab + i * 8) & QCOW2_RT_OFFSET_MASK;
		if (l->rt[i] && ((l->rt[i] & (l->cluster_size - 1)) ||
				 l->rt[i] + l->cluster_size > file_size)) {
			qb_log(LOG_ERR, "qcow2 %s: refcount block %llu outside the image", l->path,
			       (unsigned long long)i);
			ret = -EINVAL;
			goto out;
		}
	}
	ret = 0;
out:
	free(tab);
	free(c0);
	return ret;
}

/* The backing file: opened read-only, shared, one level deeper. */
static int qcow2_backing_open(struct qcow2_layer *l, const char *bname, const char *bfmt,
			      struct qcow2_open_ctx *ctx)
{
	char path[PATH_MAX];
	int ret;

	ret = qcow2_path_resolve(l->path, bname, path, sizeof(path));
	if (ret < 0) {
		qb_log(LOG_ERR, "qcow2 %s: backing file name too long", l->path);
		goto out;
	}
	if (bfmt[0] && strcmp(bfmt, "qcow2") != 0 && strcmp(bfmt, "raw") != 0) {
		qb_log(LOG_ERR, "qcow2 %s: backing format '%s' is not supported", l->path, bfmt);
		ret = -EOPNOTSUPP;
		goto out;
	}
	ret = qcow2_layer_open(path, bfmt[0] ? bfmt : NULL, false, ctx, &l->backing);
	if (ret == -ENOENT)
		qb_log(LOG_ERR, "qcow2 %s: backing file %s is missing", l->path, path);
out:
	return ret;
}

static struct qcow2_layer *qcow2_registry_find(dev_t dev, ino_t ino)
{
	struct qcow2_layer *l;

	for (l = qcow2_registry; l; l = l->reg_next)
		if (l->dev == dev && l->ino == ino)
			return l;
	return NULL;
}

/* Everything but the shared-registry lookup: \p fd is ours to keep. */
static int qcow2_layer_init(struct qcow2_layer *l, const struct stat *st, const char *format,
			    struct qcow2_open_ctx *ctx)
{
	char bname[QCOW2_MAX_BACKING_NAME + 1] = "", bfmt[16] = "";
	uint64_t fsize = (uint64_t)st->st_size;
	uint8_t magic[4] = {0};
	int ret;

	l->open_size = fsize;
	if (S_ISBLK(st->st_mode)) {
		ret = ioctl(l->fd, BLKGETSIZE64, &l->size) < 0 ? -errno : 0;
		l->open_size = l->open_end = l->size;
		goto out;
	}
	ret = qcow2_pread_all(l->fd, magic, sizeof(magic), 0);
	if (ret < 0)
		goto out;
	/* A backing format of "raw" wins over the magic (guest data may hold one). */
	l->is_qcow2 = format ? strcmp(format, "qcow2") == 0 : get_be32(magic) == QCOW2_MAGIC;
	if (!l->is_qcow2) {
		l->size = fsize;
		l->open_end = fsize;
		goto out;
	}
	ret = qcow2_cache_init(&l->l2c, l->writable ? QCOW2_L2_CACHE_RW : QCOW2_L2_CACHE_SHARED);
	if (ret == 0)
		ret = qcow2_cache_init(&l->rbc, QCOW2_RB_CACHE);
	if (ret == 0)
		ret = qcow2_header_load(l, fsize, bname, sizeof(bname), bfmt, sizeof(bfmt));
	if (ret < 0)
		goto out;
	l->host_end = (fsize + l->cluster_size - 1) & ~(l->cluster_size - 1);
	l->open_end = l->host_end;
	if (bname[0])
		ret = qcow2_backing_open(l, bname, bfmt, ctx);
	if (ret == 0 && l->writable && l->autoclear) {
		uint8_t zero[8] = {0};

		/* We do not keep bitmaps etc. up to date: say so, as the spec asks
		 * of a writer that does not know them. A refused image is untouched. */
		ret = qcow2_pwrite_all(l->fd, zero, sizeof(zero), QCOW2_H_AUTOCLEAR);
	}
out:
	return ret;
}

/*
 * Open one layer and, recursively, its backing chain. Read-only layers
 * already open elsewhere are shared. \p ctx holds the layers above, to stop
 * loops and over-deep chains.
 */
static int qcow2_layer_open(const char *path, const char *format, bool writable,
			    struct qcow2_open_ctx *ctx, struct qcow2_layer **out)
{
	struct qcow2_layer *l = NULL;
	struct stat st;
	unsigned int i;
	int fd, ret;

	/* O_NONBLOCK: a backing name (from the image, so untrusted) naming a FIFO
	 * must not hang the daemon in open(); cleared again for regular files,
	 * where io_uring would otherwise answer EAGAIN instead of waiting. */
	fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	ret = -EINVAL;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		qb_log(LOG_ERR, "qcow2 %s: neither a regular file nor a block device", path);
		goto out;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		ret = -errno;
		goto out;
	}
	for (i = 0; i < ctx->depth; i++) {
		if (ctx->dev[i] == st.st_dev && ctx->ino[i] == st.st_ino) {
			qb_log(LOG_ERR, "qcow2 %s: backing chain loops back to itself", path);
			goto out;
		}
	}
	if (ctx->depth >= QCOW2_MAX_DEPTH) {
		qb_log(LOG_ERR, "qcow2 %s: backing chain deeper than %d", path, QCOW2_MAX_DEPTH);
		goto out;
	}
	l = qcow2_registry_find(st.st_dev, st.st_ino);
	if (l) {
		/* Shared read-only; never under a writer (it would change under us). */
		if (writable || l->writable) {
			qb_log(LOG_ERR, "qcow2 %s: already open %s", path,
			       l->writable ? "for writing" : "as a backing file");
			l = NULL;
			ret = -EBUSY;
			goto out;
		}
		l->refs++;
		*out = l;
		l = NULL;
		ret = 0;
		goto out;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		ret = -ENOMEM;
		goto out;
	}
	l->refs = 1;
	l->fd = fd;
	fd = -1;
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	l->writable = writable;
	l->path = strdup(path);
	if (!l->path) {
		ret = -ENOMEM;
		goto out;
	}
	ctx->dev[ctx->depth] = st.st_dev;
	ctx->ino[ctx->depth] = st.st_ino;
	ctx->depth++;
	ret = qcow2_layer_init(l, &st, format, ctx);
	ctx->depth--;
	if (ret < 0)
		goto out;
	l->reg_next = qcow2_registry;
	qcow2_registry = l;
	*out = l;
	l = NULL;
out:
	if (l)
		qcow2_layer_free(l);
	if (fd >= 0)
		close(fd);
	return ret;
}

/* ---- asynchronous data I/O ---- */

/*
 * A READ is resolved through the metadata (synchronously: L1 in memory, L2
 * tables in the cache or the page cache), zero ranges are filled at once, and
 * the data extents go to the engine, each against its layer's fd. So does a
 * WRITE whose clusters are all in the overlay already (no metadata changes)
 * and committed; a WRITE that allocates is done in the page cache (qcow2_do)
 * and completes with its group commit. The request
 * completes when the last extent does. Clusters are only ever allocated at
 * the end of the overlay and never reused, so an extent in flight cannot
 * come to hold another block's data meanwhile.
 */
struct qcow2_read_sub {
	struct backend_io io;
	struct qcow2_read *req;
};

struct qcow2_read {
	struct backend_io *parent;
	unsigned int pending;
	int64_t err;
	struct qcow2_read_sub sub[];
};

static void qcow2_read_sub_done(struct backend_io *io, int64_t res)
{
	struct qcow2_read *req = ((struct qcow2_read_sub *)io)->req;
	struct backend_io *parent = req->parent;
	int64_t err;

	if (res < 0 && !req->err)
		req->err = res;
	if (--req->pending)
		return;
	err = req->err;
	free(req);
	parent->done(parent, err ? err : (int64_t)parent->len);
}

/* Start the extents of \p rd for \p io. \return 0 or -errno (nothing started). */
static int qcow2_extents_start(struct backend *be, struct backend_io *io, struct qcow2_reader *rd)
{
	struct qcow2_read *req;
	size_t i;
	int ret = 0;

	if (rd->n == 0) {
		backend_engine_complete(be->eng, io, (int64_t)io->len);
		goto out;
	}
	req = calloc(1, sizeof(*req) + rd->n * sizeof(req->sub[0]));
	if (!req) {
		ret = -ENOMEM;
		goto out;
	}
	req->parent = io;
	req->pending = (unsigned int)rd->n + 1; /* + 1: none completes the request early */
	for (i = 0; i < rd->n; i++) {
		struct qcow2_read_sub *sub = &req->sub[i];

		sub->req = req;
		sub->io.op = io->op;
		sub->io.flags = io->flags & BACKEND_IO_FUA; /* RWF_DSYNC per extent */
		sub->io.offset = rd->ext[i].host;
		sub->io.len = rd->ext[i].len;
		sub->io.buf = rd->ext[i].buf;
		sub->io.done = qcow2_read_sub_done;
		sub->io.be = be;
		/* Ring full: this extent is done here and now instead. */
		if (backend_uring_queue(be->eng, rd->ext[i].fd, &sub->io) < 0) {
			int r = qcow2_rw_all(rd->ext[i].fd, sub->io.buf, sub->io.len,
					     sub->io.offset, io->op == BACKEND_OP_WRITE);

			if (r == 0 && io->op == BACKEND_OP_WRITE && (io->flags & BACKEND_IO_FUA))
				r = fdatasync(rd->ext[i].fd) < 0 ? -errno : 0;

			req->pending--;
			if (r < 0 && !req->err)
				req->err = r;
		}
	}
	/* Drop the guard reference; if everything was read here, complete later. */
	if (--req->pending == 0) {
		int64_t res = req->err ? req->err : (int64_t)io->len;

		free(req);
		backend_engine_complete(be->eng, io, res);
	}
out:
	return ret;
}

/*
 * Plan a WRITE of clusters the overlay holds already: their extents in \p rd.
 * \return 1 planned, 0 when some cluster needs allocation (or is a zero or
 * short cluster, or its allocation is in flight: the page-cache path handles
 * those), or -errno.
 */
static int qcow2_write_plan(struct qcow2_layer *l, struct qcow2_reader *rd, uint64_t off,
			    uint8_t *buf, uint64_t len)
{
	int ret = 1;

	while (ret == 1 && len > 0) {
		uint64_t in = qcow2_offset_in_cluster(l, off), n = l->cluster_size - in, e, host;

		if (n > len)
			n = len;
		ret = qcow2_l2_entry(l, off, &e);
		if (ret < 0)
			goto out;
		host = e & QCOW2_L2_OFFSET_MASK;
		/* An allocation in flight: the write waits for its commit. */
		if (!host || !(e & QCOW2_ENTRY_COPIED) || (e & QCOW2_ENTRY_COMPRESSED) ||
		    qcow2_entry_zero(l, e) || qcow2_offset_in_cluster(l, host) ||
		    (host < l->open_end && host + in + n > l->open_size) ||
		    (l->npend && qcow2_pending_find(l, off))) {
			ret = 0;
			goto out;
		}
		ret = qcow2_reader_add(rd, l, host + in, buf, n);
		if (ret == 0)
			ret = 1;
		off += n;
		buf += n;
		len -= n;
	}
out:
	return ret;
}

/* ---- group commit ---- */

static void qcow2_sync_done(struct backend_io *io, int64_t res);

/* Start the fdatasync of the syncing group (io_uring; when the ring is full,
 * here and now, completed from the next engine run). */
static void qcow2_sync_issue(struct bs_qcow2 *q)
{
	int ret = -EIO;

	memset(&q->sync, 0, sizeof(q->sync));
	q->sync.op = BACKEND_OP_FLUSH;
	q->sync.done = qcow2_sync_done;
	q->sync.be = &q->be;
	q->sync_mark = q->meta_written;
	if (!q->top->broken)
		ret = backend_uring_queue(q->be.eng, q->top->fd, &q->sync);
	if (ret == -EAGAIN) /* ring full: here and now, completed from the next run */
		backend_engine_complete(q->be.eng, &q->sync, qcow2_sync(q->top));
	else if (ret < 0)
		backend_engine_complete(q->be.eng, &q->sync, ret);
}

/* Close the open group and sync it; the next group starts collecting. */
static void qcow2_group_start(struct bs_qcow2 *q)
{
	q->syncing = true;
	q->second = false;
	q->open ^= 1;
	q->sync_gen = q->top->pend_gen++;
	qcow2_sync_issue(q);
}

static void qcow2_kick_done(struct backend_io *io, int64_t res)
{
	struct bs_qcow2 *q = QCOW2_OF(io, kick);

	(void)res;
	q->kick_posted = false;
	if (!q->syncing && q->grp[q->open].head)
		qcow2_group_start(q);
}

/* \p io waits for the open group's commit, then completes with \p res (or
 * the commit's error). */
static void qcow2_group_join(struct bs_qcow2 *q, struct backend_io *io, int64_t res)
{
	struct qcow2_group *g = &q->grp[q->open];

	if (!g->head)
		g->tail = &g->head;
	io->res = res;
	io->next = NULL;
	*g->tail = io;
	g->tail = &io->next;
	if (io->op == BACKEND_OP_FLUSH || (io->flags & BACKEND_IO_FUA))
		g->durable = true;
	/* Close the group at the next engine run, after this loop iteration's
	 * other requests have joined it. */
	if (!q->syncing && !q->kick_posted) {
		q->kick_posted = true;
		q->kick.be = &q->be;
		q->kick.done = qcow2_kick_done;
		backend_engine_complete(q->be.eng, &q->kick, 0);
	}
}

static int qcow2_submit(struct backend *be, struct backend_io *io);

/*
 * The syncing group's fdatasync is done: its data and refcounts are durable,
 * so its L1/L2 entries are written; a group with FUA or FLUSH syncs them
 * too. Then the next group starts, the parked UNMAPs go again, and the
 * requests complete (last: done() may close the store).
 */
static void qcow2_sync_done(struct backend_io *io, int64_t res)
{
	struct bs_qcow2 *q = QCOW2_OF(io, sync);
	struct qcow2_layer *l = q->top;
	struct qcow2_group *g = &q->grp[q->open ^ 1];
	struct backend_io *r, *next, *parked;
	size_t wrote = 0;
	int ret;

	if (res < 0) {
		qb_log(LOG_ERR, "qcow2 %s: fdatasync: %s", l->path, strerror((int)-res));
		l->broken = true; /* the kernel may have dropped the dirty pages */
	} else {
		q->meta_synced = q->sync_mark;
	}
	if (!q->second) {
		ret = qcow2_pending_take(l, q->sync_gen, false, res >= 0, &wrote);
		if (res >= 0 && ret < 0)
			res = ret;
		if (wrote)
			q->meta_written++;
		if (res >= 0 && wrote && g->durable) {
			q->second = true;
			qcow2_sync_issue(q);
			return;
		}
	}
	r = g->head;
	g->head = NULL;
	g->tail = &g->head;
	g->durable = false;
	q->syncing = false;
	if (q->grp[q->open].head)
		qcow2_group_start(q);
	parked = q->parked;
	q->parked = NULL;
	for (; parked; parked = next) {
		next = parked->next;
		if (qcow2_submit(&q->be, parked) < 0) /* only refuses bad requests */
			backend_engine_complete(q->be.eng, parked, -EIO);
	}
	for (; r; r = next) {
		int64_t rr = res < 0 ? res : r->res < 0 ? r->res : (int64_t)r->len;

		next = r->next;
		if (rr < 0)
			r->be->stats.errors++;
		r->done(r, rr);
	}
}

/* Anything waiting for a commit (a FLUSH must wait for it too)? */
static bool qcow2_group_busy(const struct bs_qcow2 *q)
{
	return q->syncing || q->grp[q->open].head || q->top->npend;
}

/* ---- the vtable ---- */

static int qcow2_open(struct backend_engine *eng, const struct backend_config *cfg,
		      struct backend **out)
{
	struct qcow2_open_ctx ctx = {0};
	struct bs_qcow2 *q;
	int ret;

	q = calloc(1, sizeof(*q));
	if (!q) {
		ret = -ENOMEM;
		goto out;
	}
	ret = qcow2_layer_open(cfg->path, "qcow2", !cfg->readonly, &ctx, &q->top);
	if (ret < 0)
		goto out;
	q->be.ops = &backend_qcow2_ops;
	q->be.eng = eng;
	q->be.readonly = cfg->readonly;
	q->be.size = q->top->size;
	q->be.caps = BACKEND_CAP_VOLATILE_CACHE;
	/* Discarding over a backing file needs the v3 zero flag (else the golden
	 * data would show through); either way discarded blocks read zeros. */
	if (!cfg->readonly && (q->top->version >= 3 || !q->top->backing))
		q->be.caps |= BACKEND_CAP_UNMAP | BACKEND_CAP_UNMAP_ZEROES;
	*out = &q->be;
	q = NULL;
out:
	free(q);
	return ret;
}

static void qcow2_close(struct backend *be)
{
	struct bs_qcow2 *q = (struct bs_qcow2 *)be;

	qcow2_layer_put(q->top);
	free(q);
}

/* A WRITE or UNMAP done in the page cache; sets top->need_group when it must
 * wait for a group commit before it completes. */
static int64_t qcow2_do(struct bs_qcow2 *q, struct backend_io *io)
{
	struct qcow2_layer *l = q->top;
	int ret = -EIO;

	l->need_group = false;
	if (l->broken)
		goto out;
	switch (io->op) {
	case BACKEND_OP_WRITE:
		ret = qcow2_split(l, io->offset, io->buf, io->len, qcow2_write_span);
		/* SBC-3 FUA: durable (data and metadata) before GOOD: the group's
		 * syncs (the pwrites above were not). */
		if (io->flags & BACKEND_IO_FUA)
			l->need_group = true;
		break;
	case BACKEND_OP_UNMAP:
		ret = qcow2_discard(l, io->offset, io->len);
		break;
	default:
		ret = -EINVAL;
		break;
	}
out:
	return ret < 0 ? ret : (int64_t)io->len;
}

static int qcow2_submit(struct backend *be, struct backend_io *io)
{
	struct bs_qcow2 *q = (struct bs_qcow2 *)be;
	bool join = false;
	int64_t res;

	/* FLUSH: only the overlay is ever written; io_uring fdatasyncs it,
	 * after the commits in flight when there are any. */
	if (io->op == BACKEND_OP_FLUSH) {
		if (!qcow2_group_busy(q))
			return backend_uring_queue(be->eng, q->top->fd, io);
		qcow2_group_join(q, io, 0);
		return 0;
	}
	/* An UNMAP of a cluster whose allocation is in flight waits for it (its
	 * entries are written synchronously and would be overwritten). */
	if (io->op == BACKEND_OP_UNMAP && qcow2_pending_overlaps(q->top, io->offset, io->len)) {
		io->next = q->parked;
		q->parked = io;
		return 0;
	}
	/* Reads, and writes that allocate nothing, go to the engine (planned 1).
	 * Not a FUA write while entries wait unsynced in the page cache: its
	 * data alone would be durable. */
	if (io->op == BACKEND_OP_READ || (io->op == BACKEND_OP_WRITE && !q->top->broken)) {
		struct qcow2_reader rd = {0};
		int planned = 1;

		if (io->op == BACKEND_OP_READ)
			res = qcow2_layer_read(q->top, &rd, io->offset, io->buf, io->len);
		else if ((io->flags & BACKEND_IO_FUA) && q->meta_written != q->meta_synced)
			res = planned = 0;
		else
			res = planned = qcow2_write_plan(q->top, &rd, io->offset, io->buf, io->len);
		if (planned == 1 && res >= 0)
			res = qcow2_extents_start(be, io, &rd);
		else if (planned == 0)
			res = qcow2_do(q, io); /* a write that allocates */
		join = planned == 0 && q->top->need_group;
		free(rd.ext);
		if (planned == 1 && res == 0)
			return 0;
	} else {
		res = qcow2_do(q, io);
		join = q->top->need_group;
	}
	if (join) {
		qcow2_group_join(q, io, res);
		return 0;
	}
	if (res < 0)
		be->stats.errors++;
	backend_engine_complete(be->eng, io, res);
	return 0;
}

/* Blocking (demote, shutdown): sync, write every pending entry, sync again.
 * The groups in flight then find their entries written. */
static int qcow2_flush_sync(struct backend *be)
{
	struct bs_qcow2 *q = (struct bs_qcow2 *)be;
	size_t wrote;
	int ret = 0;

	if (!q->top->writable)
		goto out;
	ret = qcow2_sync(q->top);
	if (ret == 0 && q->top->npend)
		ret = qcow2_pending_take(q->top, 0, true, true, &wrote);
	if (ret == 0)
		ret = qcow2_sync(q->top);
out:
	return ret;
}

/*
 * GET LBA STATUS: a block is mapped when any layer of the chain holds data
 * for it (the overlay or a backing file), because with UNMAP_ZEROES an
 * initiator may take "deallocated" to mean "reads zeros". Zero clusters and
 * clusters allocated nowhere are deallocated. Cluster granularity (of each
 * layer); a query looks at most QCOW2_MAP_SCAN_MAX bytes ahead.
 */
static int qcow2_map_query(struct backend *be, uint64_t offset, bool *mapped, uint64_t *len)
{
	struct qcow2_layer *l = ((struct bs_qcow2 *)be)->top;
	uint64_t off = offset, end = be->size, n;
	bool first, m;
	int ret;

	if (end - offset > QCOW2_MAP_SCAN_MAX)
		end = offset + QCOW2_MAP_SCAN_MAX;
	n = l->cluster_size - qcow2_offset_in_cluster(l, off);
	ret = qcow2_layer_mapped(l, off, n < end - off ? n : end - off, &first);
	if (ret < 0)
		goto out;
	for (off += n; off < end; off += l->cluster_size) {
		ret = qcow2_layer_mapped(l, off, l->cluster_size, &m);
		if (ret < 0)
			goto out;
		if (m != first)
			break;
	}
	*mapped = first;
	*len = (off < end ? off : end) - offset;
out:
	return ret;
}

const struct backend_ops backend_qcow2_ops = {
	.name = "qcow2",
	.open = qcow2_open,
	.close = qcow2_close,
	.submit = qcow2_submit,
	.flush_sync = qcow2_flush_sync,
	.map_query = qcow2_map_query,
};
