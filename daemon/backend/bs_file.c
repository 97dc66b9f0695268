/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The store for regular files and block devices. Regular files missing at
 * open are created sparse when a size is configured. I/O goes through the
 * io_uring engine; nothing here blocks except open and flush_sync.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/fs.h>

#include "backend/backend_int.h"

struct bs_file {
	struct backend be; /* first: the vtable's view */
	int fd;
};

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

	close(f->fd);
	free(f);
}

static int bs_file_submit(struct backend *be, struct backend_io *io)
{
	struct bs_file *f = (struct bs_file *)be;

	return backend_uring_queue(be->eng, f->fd, io);
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
};
