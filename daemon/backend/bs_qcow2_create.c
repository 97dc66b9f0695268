/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qcow2 images outside the store: recognising one (backend_qcow2_probe),
 * telling a backing file's format and size, and writing a fresh overlay
 * (backend_qcow2_create_overlay) the way `qemu-img create -f qcow2 -b B -F FMT`
 * lays it out, so qemu's tools read it as their own.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/fs.h>

#include "backend/backend_int.h"
#include "backend/bs_qcow2.h"
#include "backend/bs_qcow2_spec.h"
#include "util/be.h"

int qcow2_path_resolve(const char *image_path, const char *name, char *out, size_t out_len)
{
	const char *slash = strrchr(image_path, '/');
	int n;

	if (name[0] == '/' || !slash)
		n = snprintf(out, out_len, "%s", name);
	else
		n = snprintf(out, out_len, "%.*s/%s", (int)(slash - image_path), image_path, name);
	return n < 0 || (size_t)n >= out_len ? -ENAMETOOLONG : 0;
}

/*
 * Open \p path read-only (O_NONBLOCK: a FIFO must not hang us), and for a
 * regular file read its first \p len bytes (*got: fewer at EOF). *fd is
 * left open for the caller (or -1). \return 0 or -errno.
 */
static int qcow2_head_read(const char *path, int *fd, struct stat *st, uint8_t *buf, size_t len,
			   size_t *got)
{
	ssize_t n = 0;
	int ret = 0;

	*got = 0;
	*fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (*fd < 0 || fstat(*fd, st) < 0) {
		ret = -errno;
		goto out;
	}
	if (S_ISREG(st->st_mode))
		n = pread(*fd, buf, len, 0);
	if (n < 0)
		ret = -errno;
	else
		*got = (size_t)n;
out:
	return ret;
}

int backend_qcow2_probe(const char *path)
{
	uint8_t magic[4];
	struct stat st;
	size_t got;
	int fd, ret;

	ret = qcow2_head_read(path, &fd, &st, magic, sizeof(magic), &got);
	/* Block devices are served raw: a qcow2 header on one is guest data. */
	if (ret == 0)
		ret = S_ISREG(st.st_mode) && got == sizeof(magic) && get_be32(magic) == QCOW2_MAGIC;
	if (fd >= 0)
		close(fd);
	return ret;
}

int qcow2_image_identify(const char *path, const char **format, uint64_t *size)
{
	uint8_t hdr[QCOW2_H_V2_LEN];
	struct stat st;
	size_t n;
	int fd, ret;

	ret = qcow2_head_read(path, &fd, &st, hdr, sizeof(hdr), &n);
	if (ret < 0)
		goto out;
	if (S_ISBLK(st.st_mode)) {
		*format = "raw";
		if (ioctl(fd, BLKGETSIZE64, size) < 0)
			ret = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		goto out;
	}
	if (n >= 4 && get_be32(hdr) == QCOW2_MAGIC) {
		if (n < sizeof(hdr)) {
			ret = -EINVAL; /* truncated header */
			goto out;
		}
		*format = "qcow2";
		*size = get_be64(hdr + QCOW2_H_SIZE);
		goto out;
	}
	*format = "raw";
	*size = (uint64_t)st.st_size;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

int qcow2_rw_all(int fd, void *buf, size_t len, uint64_t off, bool write)
{
	uint8_t *p = buf;
	int ret = 0;

	while (len > 0) {
		ssize_t n = write ? pwrite(fd, p, len, (off_t)off) : pread(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			goto out;
		}
		if (n == 0) {
			/* Reads past the end of the file: the spec's "reads as zeros". */
			if (write)
				ret = -EIO;
			else
				memset(p, 0, len);
			goto out;
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
out:
	return ret;
}

int qcow2_pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	/* Not modified: qcow2_rw_all only reads from buf when writing. */
	return qcow2_rw_all(fd, (void *)(uintptr_t)buf, len, off, true);
}

/*
 * Cluster 0: header, backing format extension, end of extensions, backing
 * file name. Cluster 1: refcount table. Cluster 2: the refcount block that
 * counts clusters 0..3+l1_clusters-1. Clusters 3...: the (empty) L1 table.
 */
static int qcow2_overlay_write(int fd, const char *backing, const char *format, uint64_t size)
{
	const uint64_t cs = 1ull << QCOW2_DEFAULT_CLUSTER_BITS;
	const uint64_t l2_span = cs * (cs / 8); /* bytes one L2 table maps */
	size_t name_len = strlen(backing), fmt_len = strlen(format);
	uint64_t l1_size, l1_clusters, i, name_off;
	uint8_t *meta = NULL, *h, *ext;
	int ret = -EINVAL;

	l1_size = (size + l2_span - 1) / l2_span;
	l1_clusters = (l1_size * 8 + cs - 1) / cs;
	/* qemu's bound on the L1 table (32 MiB), and one refcount block covers it. */
	if (size == 0 || l1_size * 8 > 32 * 1024 * 1024 || name_len > QCOW2_MAX_BACKING_NAME)
		goto out;
	meta = calloc(3, cs);
	if (!meta) {
		ret = -ENOMEM;
		goto out;
	}
	h = meta;
	put_be32(h + QCOW2_H_MAGIC, QCOW2_MAGIC);
	put_be32(h + QCOW2_H_VERSION, 3);
	put_be32(h + QCOW2_H_CLUSTER_BITS, QCOW2_DEFAULT_CLUSTER_BITS);
	put_be64(h + QCOW2_H_SIZE, size);
	put_be32(h + QCOW2_H_L1_SIZE, (uint32_t)l1_size);
	put_be64(h + QCOW2_H_L1_OFFSET, 3 * cs);
	put_be64(h + QCOW2_H_RT_OFFSET, cs);
	put_be32(h + QCOW2_H_RT_CLUSTERS, 1);
	put_be32(h + QCOW2_H_REFCOUNT_ORDER, QCOW2_DEFAULT_REFCOUNT_ORDER);
	put_be32(h + QCOW2_H_HEADER_LEN, QCOW2_H_V3_FULL_LEN);
	/* Backing file format extension: the name of the format, padded to 8. */
	ext = h + QCOW2_H_V3_FULL_LEN;
	put_be32(ext, QCOW2_EXT_BACKING_FORMAT);
	put_be32(ext + 4, (uint32_t)fmt_len);
	memcpy(ext + 8, format, fmt_len);
	ext += 8 + ((fmt_len + 7) & ~(size_t)7);
	put_be32(ext, QCOW2_EXT_END); /* and a zero length: already zero */
	ext += 8;
	name_off = (uint64_t)(ext - h);
	memcpy(ext, backing, name_len);
	put_be64(h + QCOW2_H_BACKING_OFFSET, name_off);
	put_be32(h + QCOW2_H_BACKING_SIZE, (uint32_t)name_len);
	/* Refcount table entry 0 -> the refcount block in cluster 2. */
	put_be64(meta + cs, 2 * cs);
	for (i = 0; i < 3 + l1_clusters; i++)
		put_be16(meta + 2 * cs + i * 2, 1);
	ret = qcow2_pwrite_all(fd, meta, 3 * cs, 0);
	if (ret < 0)
		goto out;
	/* The L1 table reads as zeros: extend the file over it. */
	if (ftruncate(fd, (off_t)((3 + l1_clusters) * cs)) < 0 || fdatasync(fd) < 0)
		ret = -errno;
out:
	free(meta);
	return ret;
}

int backend_qcow2_create_overlay(const char *path, const char *backing)
{
	char resolved[PATH_MAX];
	const char *format = NULL;
	uint64_t size = 0;
	int fd = -1, ret = -EINVAL;

	if (!path || !path[0] || !backing || !backing[0])
		goto out;
	ret = qcow2_path_resolve(path, backing, resolved, sizeof(resolved));
	if (ret < 0)
		goto out;
	ret = qcow2_image_identify(resolved, &format, &size);
	if (ret < 0)
		goto out;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	ret = qcow2_overlay_write(fd, backing, format, size);
	if (ret < 0)
		unlink(path);
out:
	if (fd >= 0)
		close(fd);
	return ret;
}
