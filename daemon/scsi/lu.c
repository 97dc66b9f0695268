/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Logical unit lifecycle: identity from config, backing store (attached and
 * detached as the cluster role changes), references.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include "scsi/scsi_int.h"

/*
 * SPC-4 4.4.1: INQUIRY strings are printable ASCII, left aligned, space
 * padded. An empty configured string takes the default.
 */
static int scsi_lu_str_pad(char *dst, size_t width, const char *src, size_t src_max,
			   const char *dflt)
{
	size_t len = strnlen(src, src_max), i;
	int ret = 0;

	if (len == 0) {
		src = dflt;
		len = strlen(dflt);
	}
	if (len > width) {
		ret = -EINVAL;
		goto out;
	}
	memset(dst, ' ', width);
	for (i = 0; i < len; i++) {
		if (src[i] < 0x20 || src[i] > 0x7e) {
			ret = -EINVAL;
			goto out;
		}
		dst[i] = src[i];
	}
out:
	return ret;
}

static int scsi_lu_config_check(const struct scsi_lu_config *cfg, uint32_t *bs,
				unsigned int *pb_exp)
{
	uint32_t pbs;
	int ret = -EINVAL;

	if (!cfg || !cfg->path || !cfg->path[0])
		goto out;
	*bs = cfg->block_size ? cfg->block_size : 512;
	/* SBC-3 logical block lengths we serve: powers of two, 512..4096. */
	if (*bs < 512 || *bs > 4096 || (*bs & (*bs - 1)))
		goto out;
	/* SBC-3 5.16: 2^exponent logical blocks per physical block, 4-bit exponent. */
	pbs = cfg->physical_block_size ? cfg->physical_block_size : *bs;
	if (pbs < *bs || (pbs & (pbs - 1)) || pbs / *bs > 1u << 15)
		goto out;
	*pb_exp = (unsigned int)__builtin_ctz(pbs / *bs);
	if (cfg->naa_len != 8 && cfg->naa_len != 16)
		goto out;
	if (!memchr(cfg->serial, '\0', sizeof(cfg->serial)))
		goto out;
	ret = 0;
out:
	return ret;
}

static int scsi_lu_identity_set(struct scsi_lu *lu, const struct scsi_lu_config *cfg)
{
	int ret;

	ret = scsi_lu_str_pad(lu->vendor, sizeof(lu->vendor), cfg->vendor, sizeof(cfg->vendor),
			      "HATGT");
	if (ret == 0)
		ret = scsi_lu_str_pad(lu->product, sizeof(lu->product), cfg->product,
				      sizeof(cfg->product), "VIRTUAL-DISK");
	if (ret == 0)
		ret = scsi_lu_str_pad(lu->revision, sizeof(lu->revision), cfg->revision,
				      sizeof(cfg->revision), "0001");
	if (ret < 0)
		goto out;
	memcpy(lu->serial, cfg->serial, sizeof(lu->serial));
	memcpy(lu->naa, cfg->naa, cfg->naa_len);
	lu->naa_len = cfg->naa_len;
	lu->rtpi = cfg->rtpi;
	lu->tpgt = cfg->tpgt;
	lu->path = strdup(cfg->path);
	if (cfg->target_name)
		lu->target_name = strdup(cfg->target_name);
	if (!lu->path || (cfg->target_name && !lu->target_name))
		ret = -ENOMEM;
out:
	return ret;
}

/* Every live LU (event-loop thread only). */
static struct scsi_lu *scsi_lu_head;

static void scsi_lu_link(struct scsi_lu *lu)
{
	lu->next = scsi_lu_head;
	if (scsi_lu_head)
		scsi_lu_head->prev = lu;
	scsi_lu_head = lu;
}

static void scsi_lu_unlink(struct scsi_lu *lu)
{
	if (lu->prev)
		lu->prev->next = lu->next;
	else if (scsi_lu_head == lu)
		scsi_lu_head = lu->next;
	if (lu->next)
		lu->next->prev = lu->prev;
	lu->prev = NULL;
	lu->next = NULL;
}

void scsi_lu_all_itn_gone(const struct scsi_itn *itn)
{
	struct scsi_lu *lu;

	for (lu = scsi_lu_head; lu; lu = lu->next) {
		scsi_ua_slot_drop(lu, itn->instance);
		/* SPC-2 5.5.1: I_T nexus loss releases its SPC-2 reservation. */
		scsi_lu_pr_itn_gone(lu, &itn->id);
	}
}

struct scsi_lu *scsi_lu_next(struct scsi_lu *lu)
{
	return lu ? lu->next : scsi_lu_head;
}

struct scsi_lu *scsi_lu_find_naa(const uint8_t *naa, size_t len)
{
	struct scsi_lu *lu;

	for (lu = scsi_lu_head; lu; lu = lu->next)
		if (lu->naa_len == len && memcmp(lu->naa, naa, len) == 0)
			break;
	return lu;
}

static void scsi_lu_free(struct scsi_lu *lu)
{
	if (!lu)
		return;
	scsi_lu_unlink(lu);
	backend_close(lu->be);
	scsi_ua_release(lu);
	scsi_lu_pr_fini(lu);
	free(lu->target_name);
	free(lu->key_file);
	free(lu->path);
	free(lu);
}

int scsi_lu_attach(struct scsi_lu *lu)
{
	struct backend_config bcfg = {0};
	struct backend *be = NULL;
	uint64_t nblocks;
	int ret = 0;

	if (lu->be)
		goto out;
	bcfg.path = lu->path;
	bcfg.create_size = lu->create_size;
	bcfg.readonly = lu->readonly;
	bcfg.key_file = lu->key_file;
	ret = backend_open(scsi_engine(), &bcfg, &be);
	if (ret < 0) {
		qb_log(LOG_ERR, "cannot open %s: %s", lu->path, strerror(-ret));
		goto out;
	}
	nblocks = backend_size(be) >> lu->block_shift;
	if (nblocks == 0) {
		qb_log(LOG_ERR, "%s is smaller than one %u-byte block", lu->path, lu->block_size);
		ret = -EINVAL;
		goto out;
	}
	/* SBC-3 4.10: a store that changed size while detached (resized, or
	 * grown on the shared disk by the peer) is a capacity change. */
	if (lu->nblocks && nblocks != lu->nblocks) {
		qb_log(LOG_NOTICE, "%s: capacity %llu -> %llu blocks since the last attach",
		       lu->path, (unsigned long long)lu->nblocks, (unsigned long long)nblocks);
		scsi_ua_establish(lu, NULL, SENSE_UA_CAPACITY_CHANGED);
	}
	lu->nblocks = nblocks;
	/* SBC-3 6.4.5: the write cache starts enabled where there is one. */
	lu->wce = backend_caps(be) & BACKEND_CAP_VOLATILE_CACHE;
	lu->be = be;
	be = NULL;
	qb_log(LOG_INFO, "%s attached (%llu blocks)", lu->path, (unsigned long long)nblocks);
out:
	backend_close(be);
	return ret;
}

int scsi_lu_detach(struct scsi_lu *lu)
{
	int ret = 0;

	if (!lu->be)
		goto out;
	/* The creator holds one reference; tasks, jobs and copies in flight
	 * hold the others. The caller drains and retries. */
	if (lu->refs > 1) {
		ret = -EBUSY;
		goto out;
	}
	if (!lu->readonly) {
		ret = backend_flush_sync(lu->be);
		if (ret < 0)
			qb_log(LOG_ERR, "%s: flush before detach failed: %s", lu->path,
			       strerror(-ret));
	}
	backend_close(lu->be);
	lu->be = NULL;
	qb_log(LOG_INFO, "%s detached", lu->path);
out:
	return ret;
}

bool scsi_lu_attached(const struct scsi_lu *lu)
{
	return lu->be != NULL;
}

int scsi_lu_create(const struct scsi_lu_config *cfg, struct scsi_lu **out)
{
	struct scsi_lu *lu = NULL;
	unsigned int pb_exp = 0;
	uint32_t bs;
	int ret;

	ret = scsi_lu_config_check(cfg, &bs, &pb_exp);
	if (ret < 0)
		goto out;
	if (!scsi_engine()) {
		/* scsi_init() first. */
		ret = -EINVAL;
		goto out;
	}
	lu = calloc(1, sizeof(*lu));
	if (!lu) {
		ret = -ENOMEM;
		goto out;
	}
	lu->refs = 1;
	lu->block_size = bs;
	lu->block_shift = (unsigned int)__builtin_ctz(bs);
	lu->pb_exp = pb_exp;
	lu->readonly = cfg->readonly;
	lu->removable = cfg->removable;
	lu->create_size = cfg->create_size;
	ret = scsi_lu_identity_set(lu, cfg);
	if (ret < 0)
		goto out;
	if (cfg->key_file) {
		lu->key_file = strdup(cfg->key_file);
		if (!lu->key_file) {
			ret = -ENOMEM;
			goto out;
		}
	}
	if (!cfg->detached) {
		ret = scsi_lu_attach(lu);
		if (ret < 0)
			goto out;
	}
	/* SPC-4 5.12.5: restore APTPL state; a corrupt file fails the LU. */
	ret = scsi_lu_pr_init(lu);
	if (ret < 0)
		goto out;
	scsi_lu_link(lu);
	*out = lu;
	lu = NULL;
out:
	scsi_lu_free(lu);
	return ret;
}

void scsi_lu_get(struct scsi_lu *lu)
{
	lu->refs++;
}

void scsi_lu_put(struct scsi_lu *lu)
{
	if (lu && --lu->refs == 0)
		scsi_lu_free(lu);
}

uint64_t scsi_lu_size(const struct scsi_lu *lu)
{
	return lu->nblocks << lu->block_shift;
}

const char *scsi_lu_path(const struct scsi_lu *lu)
{
	return lu->path;
}

int scsi_lu_flush_sync(struct scsi_lu *lu)
{
	return lu->readonly || !lu->be ? 0 : backend_flush_sync(lu->be);
}

void scsi_lu_reset(struct scsi_lu *lu)
{
	/* SAM-5 6.3.3: every I_T nexus gets BUS DEVICE RESET FUNCTION OCCURRED. */
	scsi_ua_establish(lu, NULL, SENSE_UA_LU_RESET);
	/* SPC-2 5.5.1: the SPC-2 reservation goes; persistent ones stay. */
	scsi_lu_pr_reset(lu);
	/* SBC-3 5.13: a reset allows medium removal again (the medium stays as it is). */
	scsi_lu_prevent_clear(lu);
}

int scsi_lu_resize(struct scsi_lu *lu)
{
	uint64_t nblocks;
	int ret = -ENODEV;

	if (!lu->be)
		goto out;
	ret = backend_size_refresh(lu->be);
	if (ret < 0)
		goto out;
	nblocks = backend_size(lu->be) >> lu->block_shift;
	if (nblocks == 0) {
		ret = -EINVAL;
		goto out;
	}
	if (nblocks != lu->nblocks) {
		qb_log(LOG_NOTICE, "%s: capacity %llu -> %llu blocks", lu->path,
		       (unsigned long long)lu->nblocks, (unsigned long long)nblocks);
		lu->nblocks = nblocks;
		/* SBC-3 4.10: CAPACITY DATA HAS CHANGED for every I_T nexus. */
		scsi_ua_establish(lu, NULL, SENSE_UA_CAPACITY_CHANGED);
	}
out:
	return ret;
}

void scsi_luns_changed(struct scsi_lu *const *lus, size_t count)
{
	size_t i;

	/* SPC-4 6.33: REPORTED LUNS DATA HAS CHANGED on the target's other LUs. */
	for (i = 0; i < count; i++)
		if (lus[i])
			scsi_ua_establish(lus[i], NULL, SENSE_UA_LUNS_CHANGED);
}
