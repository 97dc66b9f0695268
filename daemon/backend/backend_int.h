/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Between the stores and the engine: only code under daemon/backend/
 * includes this.
 */
#ifndef HATGT_BACKEND_INT_H
#define HATGT_BACKEND_INT_H

#include "backend/backend.h"

/* Zero-copy READs map a plain file store in aligned windows of this size,
 * at most BS_FILE_WIN_MAX at a time (bs_file.c): at most 1 GiB mapped per
 * store, so at most ~2 MiB of page tables and 1 GiB of RssFile/RssShmem. */
#define BS_FILE_WIN_SIZE (UINT64_C(64) << 20)
#define BS_FILE_WIN_MAX 16
/* Unmapping a window and mapping another (and faulting its pages in again)
 * costs ~20 us: a READ evicts one only when it is at least this long, or
 * when the window has not been used for BS_FILE_WIN_IDLE READs from any
 * window (a sequential stream). Random small READs over a store larger than
 * the windows take the buffered path instead of remapping on every READ. */
#define BS_FILE_WIN_EVICT_LEN (256u * 1024)
#define BS_FILE_WIN_IDLE 1024

/** Queue \p io against \p fd on the io_uring engine and submit it.
 * io->be must be set. \return 0 or -errno (-EAGAIN when the ring is full). */
int backend_uring_queue(struct backend_engine *eng, int fd, struct backend_io *io);

/* The qcow2 image store (bs_qcow2.c); backend_file_ops is in backend.h. */
extern const struct backend_ops backend_qcow2_ops;

/** Is \p path a qcow2 image (its header magic)? \return 1 yes, 0 no (also
 * for block devices and files shorter than a header), -errno when it cannot
 * be read. bs_qcow2.c. */
int backend_qcow2_probe(const char *path);

/** Put the encryption layer (bs_crypt.c) over \p inner, already open, using
 * cfg->key_file. On success *out owns inner; on failure inner is closed.
 * \return 0 or -errno. */
int backend_crypt_wrap(struct backend_engine *eng, const struct backend_config *cfg,
		       struct backend *inner, struct backend **out);

#endif
