/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the qcow2 store (bs_qcow2.c) and overlay creation. */
#ifndef HATGT_BS_QCOW2_H
#define HATGT_BS_QCOW2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Resolve \p name, a backing file name from the image at \p image_path: an
 * absolute name as is, a relative one against the image's directory (as qemu
 * does). \return 0, or -ENAMETOOLONG when \p out (of \p out_len) is too small. */
int qcow2_path_resolve(const char *image_path, const char *name, char *out, size_t out_len);

/** Format and virtual size of the image at \p path: "qcow2" (size from the
 * header) or "raw" (file or block device size). \return 0 or -errno. */
int qcow2_image_identify(const char *path, const char **format, uint64_t *size);

/** pread (\p write false) or pwrite all of \p len bytes at \p off, retrying
 * short transfers; reads past the end of the file give zeros.
 * \return 0 or -errno. */
int qcow2_rw_all(int fd, void *buf, size_t len, uint64_t off, bool write);

/** pwrite all of \p buf at \p off (retrying short writes). \return 0 or -errno. */
int qcow2_pwrite_all(int fd, const void *buf, size_t len, uint64_t off);

#endif
