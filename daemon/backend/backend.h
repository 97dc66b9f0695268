/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Backing stores behind one small vtable, and the asynchronous I/O engine
 * they submit to.
 *
 * The engine owns the completion path: an eventfd that becomes readable
 * when I/O has completed, and backend_engine_run(), which calls every
 * completed request's done() on the caller's (event-loop) thread. The
 * current engine is io_uring with a registered eventfd. A store that cannot
 * use io_uring (a worker pool, a network store) completes its requests with
 * backend_engine_complete(), which goes through the same eventfd, so the
 * SCSI layer sees one completion path whatever the store.
 *
 * Nothing here blocks the event loop except backend_flush_sync(), which is
 * meant for demote and shutdown.
 */
#ifndef HATGT_BACKEND_H
#define HATGT_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct backend;
struct backend_engine;

/* Capabilities a store reports; the SCSI layer advertises only these. */
#define BACKEND_CAP_UNMAP (1u << 0)	     /* BACKEND_OP_UNMAP deallocates */
#define BACKEND_CAP_UNMAP_ZEROES (1u << 1)   /* unmapped blocks read back as zeros */
#define BACKEND_CAP_VOLATILE_CACHE (1u << 2) /* writes may sit in a cache: flush matters */
#define BACKEND_CAP_BLOCK_DEVICE (1u << 3)   /* a block device, not a regular file */
#define BACKEND_CAP_CRYPTO_ERASE (1u << 4)   /* backend_crypto_erase() works (encrypted store) */

enum backend_op {
	BACKEND_OP_READ = 0,
	BACKEND_OP_WRITE,
	BACKEND_OP_FLUSH, /* make every completed write durable */
	BACKEND_OP_UNMAP, /* deallocate [offset, offset + len) */
};

/* Request flags. */
#define BACKEND_IO_FUA (1u << 0) /* WRITE: durable before completion (SBC-3 FUA) */

/*
 * One request. The submitter owns the memory and keeps it (and buf) alive
 * until done() has been called. done() gets len on success or -errno.
 */
struct backend_io {
	enum backend_op op;
	uint32_t flags;
	uint64_t offset; /* bytes */
	uint64_t len;	 /* bytes; 0 for FLUSH */
	uint8_t *buf;	 /* READ: destination; WRITE: source (not modified) */
	void (*done)(struct backend_io *io, int64_t res);

	/* Private to the backend and the engine. */
	uint64_t progress; /* bytes done so far (short transfers are resumed) */
	struct backend *be;
	int fd;
	struct backend_io *next;
	int64_t res;
};

/* Counters a store keeps, for tests and the admin interface. */
struct backend_stats {
	uint64_t reads;
	uint64_t writes;
	uint64_t fua_writes; /* writes submitted with a durability flag */
	uint64_t flushes;    /* cache flushes submitted */
	uint64_t unmaps;
	uint64_t errors;
};

struct backend_config {
	const char *path;
	uint64_t create_size; /* >0: create a sparse regular file of this size if missing */
	bool readonly;
	/* Non-NULL: the store is encrypted at rest (bs_crypt.c) with a media key
	 * kept, wrapped by the key in this file, in a header on the store itself,
	 * so every node that shares the store and the key file reads the same data. */
	const char *key_file;
};

/* The vtable one kind of store implements. */
struct backend_ops {
	const char *name;
	int (*open)(struct backend_engine *eng, const struct backend_config *cfg,
		    struct backend **out);
	void (*close)(struct backend *be);
	/* Start a request; 0 (done() will follow, never from inside submit) or -errno. */
	int (*submit)(struct backend *be, struct backend_io *io);
	int (*flush_sync)(struct backend *be);
	/* Optional: is [offset, ...) allocated, and for how many bytes? */
	int (*map_query)(struct backend *be, uint64_t offset, bool *mapped, uint64_t *len);
	/* Optional: re-read the size of the backing file or device into be->size. */
	int (*size_refresh)(struct backend *be);
	/* Optional: replace the media encryption key (SBC-3 SANITIZE CRYPTOGRAPHIC
	 * ERASE). Blocking; no request may be in flight. */
	int (*crypto_erase)(struct backend *be);
	/* Optional: [offset, offset + len) is readable in memory now, at *p,
	 * until read_unmap(be, *ref) (backend_read_map). */
	int (*read_map)(struct backend *be, uint64_t offset, uint64_t len, const uint8_t **p,
			void **ref);
	void (*read_unmap)(struct backend *be, void *ref);
};

/* Common part of every store; implementations embed it first. */
struct backend {
	const struct backend_ops *ops;
	struct backend_engine *eng;
	uint64_t size; /* bytes */
	uint32_t caps;
	bool readonly;
	struct backend_stats stats;
};

/** Create the I/O engine with room for \p depth requests in flight.
 * \return 0 and *out, or -errno (-ENOMEM, or io_uring setup errors). */
int backend_engine_create(unsigned int depth, struct backend_engine **out);
/** Destroy the engine. Requests still in flight are abandoned: callers wait
 * for their completions first. Accepts NULL. */
void backend_engine_destroy(struct backend_engine *eng);
/** The fd that becomes readable when requests have completed. */
int backend_engine_fd(const struct backend_engine *eng);
/** Call done() for every completed request. \return how many completed. */
unsigned int backend_engine_run(struct backend_engine *eng);
/** Batch until the matching backend_engine_release(): while held,
 * backend_engine_complete() does not signal the eventfd and requests for
 * io_uring wait in its submission queue. Holds nest. Meant around the
 * processing of one event-loop event and its output flush. */
void backend_engine_hold(struct backend_engine *eng);
/** End a hold. The last release submits the queued requests with one
 * io_uring_submit and calls done() of every completion posted meanwhile
 * (and of those these done() calls post), on the caller's thread, without
 * the eventfd. A release without a hold does nothing. */
void backend_engine_release(struct backend_engine *eng);
/** Complete \p io with \p res from the next backend_engine_run(). For
 * stores that do not use io_uring, and for errors found after submit. */
void backend_engine_complete(struct backend_engine *eng, struct backend_io *io, int64_t res);

/** Open a store: a regular file (created sparse if missing and
 * cfg->create_size > 0) or a block device.
 * \return 0 and *out, or -errno: -ENOENT missing and no create_size, -EINVAL
 * bad config, -EROFS, -EACCES, -ENOMEM... */
int backend_open(struct backend_engine *eng, const struct backend_config *cfg,
		 struct backend **out);
/** Close a store. No request may be in flight. Accepts NULL. */
void backend_close(struct backend *be);
/** Submit a request. \return 0 (done() will be called later, on the event
 * loop) or -errno (done() will not be called): -EINVAL out of range or bad
 * op, -EROFS write to a read-only store, -EOPNOTSUPP unmap unsupported,
 * -EAGAIN engine full. */
int backend_submit(struct backend *be, struct backend_io *io);
/** Make everything written so far durable. Blocking: demote/shutdown only. */
int backend_flush_sync(struct backend *be);
/** Provisioning state at byte \p offset (SBC-3 GET LBA STATUS): *mapped and
 * the bytes *len from \p offset on that share it. A store that cannot tell
 * reports everything mapped. Quick (lseek SEEK_DATA/SEEK_HOLE).
 * \return 0 or -errno (-EINVAL offset at or past the end). */
int backend_map_query(struct backend *be, uint64_t offset, bool *mapped, uint64_t *len);
/** Re-read the store's size (after the file or device was resized).
 * \return 0 or -errno; be->size is unchanged on error. */
int backend_size_refresh(struct backend *be);

/** Make everything on the store unreadable by replacing its media encryption
 * key (SBC-3 4.11 cryptographic erase). Blocking, no request in flight.
 * \return 0, -EOPNOTSUPP (store not encrypted) or -errno. */
int backend_crypto_erase(struct backend *be);

/** Zero-copy READ from a mapping of the store: is [offset, offset + len)
 * in memory now (tmpfs/ramfs pages or page cache, per cachestat(2)), so that
 * the transport can send it from *p with no read into a buffer and no wait
 * for a device? Plain file and block device stores only. The store is mapped
 * in bounded pieces on demand; *ref is an opaque reference that keeps the
 * piece holding *p mapped until backend_read_unmap(be, *ref), which the
 * caller must call exactly once, after the last byte was sent and before
 * backend_close. The bytes are read when sent; past the end of a file that
 * shrank since, the mapping faults (sendmsg fails with EFAULT, never SIGBUS:
 * only the kernel touches it).
 * \return 0, *p and *ref; -EOPNOTSUPP (use BACKEND_OP_READ: not resident,
 * the range crosses a mapping boundary, every mapping slot is in use, mmap
 * failed, or the store has no mappings); -EINVAL (out of range or len 0). */
int backend_read_map(struct backend *be, uint64_t offset, uint64_t len, const uint8_t **p,
		     void **ref);
/** Release a reference from backend_read_map(). Accepts a NULL \p ref. */
void backend_read_unmap(struct backend *be, void *ref);

static inline uint64_t backend_size(const struct backend *be)
{
	return be->size;
}

static inline uint32_t backend_caps(const struct backend *be)
{
	return be->caps;
}

static inline const struct backend_stats *backend_stats(const struct backend *be)
{
	return &be->stats;
}

/** Create a qcow2 overlay at \p path (which must not exist) whose backing
 * file is \p backing (a qcow2 or raw image; stored in the header as given,
 * so a relative name is relative to the overlay's directory), with the
 * backing file's virtual size. The new image reads exactly as the backing
 * file until written (qemu-img create -f qcow2 -b BACKING -F FMT PATH).
 * bs_qcow2.c. \return 0 or -errno (-EEXIST, -ENOENT backing missing...). */
int backend_qcow2_create_overlay(const char *path, const char *backing);

/* The regular file / block device store (bs_file.c). */
extern const struct backend_ops backend_file_ops;

#endif
