/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Between the stores and the engine: only code under daemon/backend/
 * includes this.
 */
#ifndef HATGT_BACKEND_INT_H
#define HATGT_BACKEND_INT_H

#include "backend/backend.h"

/** Queue \p io against \p fd on the io_uring engine and submit it.
 * io->be must be set. \return 0 or -errno (-EAGAIN when the ring is full). */
int backend_uring_queue(struct backend_engine *eng, int fd, struct backend_io *io);

#endif
