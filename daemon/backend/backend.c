/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Store-independent checks in front of the vtable. */
#include <errno.h>
#include <limits.h>

#include "backend/backend_int.h"

int backend_open(struct backend_engine *eng, const struct backend_config *cfg, struct backend **out)
{
	struct backend *inner = NULL;
	int ret = -EINVAL;

	if (!eng || !cfg || !cfg->path || !cfg->path[0] || !out)
		goto out;
	/* qcow2 images are recognised by their header; anything else is raw. */
	ret = backend_qcow2_probe(cfg->path);
	if (ret < 0 && ret != -ENOENT)
		goto out;
	if (ret == 1)
		ret = backend_qcow2_ops.open(eng, cfg, &inner);
	else
		ret = backend_file_ops.open(eng, cfg, &inner);
	if (ret < 0)
		goto out;
	if (cfg->key_file) {
		ret = backend_crypt_wrap(eng, cfg, inner, out);
		goto out;
	}
	*out = inner;
out:
	return ret;
}

void backend_close(struct backend *be)
{
	if (be)
		be->ops->close(be);
}

static int backend_io_check(const struct backend *be, const struct backend_io *io)
{
	int ret = -EINVAL;

	if (!io->done)
		goto out;
	switch (io->op) {
	case BACKEND_OP_READ:
		if (!io->buf)
			goto out;
		break;
	case BACKEND_OP_WRITE:
		if (be->readonly) {
			ret = -EROFS;
			goto out;
		}
		if (!io->buf)
			goto out;
		break;
	case BACKEND_OP_FLUSH:
		ret = 0;
		goto out;
	case BACKEND_OP_UNMAP:
		if (be->readonly) {
			ret = -EROFS;
			goto out;
		}
		if (!(be->caps & BACKEND_CAP_UNMAP)) {
			ret = -EOPNOTSUPP;
			goto out;
		}
		break;
	default:
		goto out;
	}
	/* A completion reports bytes in an int. */
	if (io->len == 0 || io->len > INT_MAX || io->offset > be->size ||
	    io->len > be->size - io->offset)
		goto out;
	ret = 0;
out:
	return ret;
}

int backend_submit(struct backend *be, struct backend_io *io)
{
	int ret;

	ret = backend_io_check(be, io);
	if (ret < 0)
		goto out;
	io->be = be;
	io->progress = 0;
	io->next = NULL;
	ret = be->ops->submit(be, io);
	if (ret < 0)
		goto out;
	switch (io->op) {
	case BACKEND_OP_READ:
		be->stats.reads++;
		break;
	case BACKEND_OP_WRITE:
		be->stats.writes++;
		if (io->flags & BACKEND_IO_FUA)
			be->stats.fua_writes++;
		break;
	case BACKEND_OP_FLUSH:
		be->stats.flushes++;
		break;
	case BACKEND_OP_UNMAP:
		be->stats.unmaps++;
		break;
	}
out:
	return ret;
}

int backend_flush_sync(struct backend *be)
{
	return be->ops->flush_sync(be);
}

int backend_map_query(struct backend *be, uint64_t offset, bool *mapped, uint64_t *len)
{
	int ret = 0;

	if (offset >= be->size) {
		ret = -EINVAL;
		goto out;
	}
	*mapped = true;
	*len = be->size - offset;
	if (be->ops->map_query)
		ret = be->ops->map_query(be, offset, mapped, len);
out:
	return ret;
}

int backend_crypto_erase(struct backend *be)
{
	return be->ops->crypto_erase ? be->ops->crypto_erase(be) : -EOPNOTSUPP;
}

int backend_size_refresh(struct backend *be)
{
	return be->ops->size_refresh ? be->ops->size_refresh(be) : 0;
}

int backend_read_map(struct backend *be, uint64_t offset, uint64_t len, const uint8_t **p,
		     void **ref)
{
	int ret = -EINVAL;

	if (len == 0 || len > INT_MAX || offset > be->size || len > be->size - offset)
		goto out;
	ret = -EOPNOTSUPP;
	if (!be->ops->read_map)
		goto out;
	ret = be->ops->read_map(be, offset, len, p, ref);
	if (ret == 0)
		be->stats.reads++;
out:
	return ret;
}

void backend_read_unmap(struct backend *be, void *ref)
{
	if (ref && be->ops->read_unmap)
		be->ops->read_unmap(be, ref);
}
