/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The running targets and their LUN maps (see target.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <qb/qblog.h>

#include "target.h"

void target_registry_init(struct target_registry *reg)
{
	memset(reg, 0, sizeof(*reg));
	list_init(&reg->targets);
	snprintf(reg->vendor, sizeof(reg->vendor), "HATGT");
	snprintf(reg->product, sizeof(reg->product), "VIRTUAL-DISK");
}

static void target_free_allow(struct hatgt_target *t)
{
	size_t i;

	for (i = 0; i < t->nallow; i++)
		free(t->allow[i]);
	free(t->allow);
	t->allow = NULL;
	t->nallow = 0;
}

static void target_free(struct hatgt_target *t)
{
	size_t i;

	for (i = 0; i < HATGT_MAX_LUNS; i++)
		if (t->lus[i])
			scsi_lu_put(t->lus[i]);
	target_free_allow(t);
	OPENSSL_cleanse(&t->auth, sizeof(t->auth));
	free(t);
}

void target_get(struct hatgt_target *t)
{
	t->refs++;
}

void target_put(struct hatgt_target *t)
{
	if (--t->refs == 0)
		target_free(t);
}

static void target_unlink(struct hatgt_target *t)
{
	t->removed = true;
	list_del(&t->node);
	target_put(t);
}

void target_registry_fini(struct target_registry *reg)
{
	struct hatgt_target *t, *tmp;

	list_for_each_entry_safe(t, tmp, &reg->targets, node)
		target_unlink(t);
}

struct hatgt_target *target_find(struct target_registry *reg, const char *name)
{
	struct hatgt_target *t;

	list_for_each_entry(t, &reg->targets, node)
		if (strcmp(t->name, name) == 0)
			return t;
	return NULL;
}

bool target_initiator_allowed(const struct hatgt_target *t, const char *initiator)
{
	size_t i;

	if (t->nallow == 0)
		return true;
	/* iSCSI names compare in their normal (lower-case) form (4.2.7). */
	for (i = 0; i < t->nallow; i++)
		if (strcasecmp(t->allow[i], initiator) == 0)
			return true;
	return false;
}

enum iscsi_lookup_result target_login_lookup(void *ctx, const char *target_name,
					     const char *initiator_name,
					     struct iscsi_auth_cfg *auth)
{
	struct target_registry *reg = ctx;
	struct hatgt_target *t;
	char norm[ISCSI_NAME_MAX];

	if (hatgt_iscsi_name_normalize(target_name, norm, sizeof(norm), NULL) < 0)
		return ISCSI_LOOKUP_NOT_FOUND;
	t = target_find(reg, norm);
	if (!t || t->removed)
		return ISCSI_LOOKUP_NOT_FOUND;
	if (!target_initiator_allowed(t, initiator_name))
		return ISCSI_LOOKUP_FORBIDDEN;
	*auth = t->auth;
	snprintf(auth->target_alias, sizeof(auth->target_alias), "%s", t->alias);
	return ISCSI_LOOKUP_OK;
}

/* The LUN inventory of a running target changed: every nexus of its LUs
 * learns it with REPORTED LUNS DATA HAS CHANGED (SPC-4 6.33). */
static void target_luns_changed(struct hatgt_target *t)
{
	scsi_luns_changed(t->lus, HATGT_MAX_LUNS);
}

static void target_lun_list_rebuild(struct hatgt_target *t)
{
	size_t i, n = 0;

	for (i = 0; i < HATGT_MAX_LUNS; i++)
		if (t->lus[i])
			t->lun_numbers[n++] = i;
	t->lun_list.luns = t->lun_numbers;
	t->lun_list.count = n;
}

static int target_lu_open(const struct target_registry *reg, const struct hatgt_target *t,
			  const struct hatgt_lun_cfg *lc, struct scsi_lu **out, char *err,
			  size_t errlen)
{
	struct scsi_lu_config lcfg;
	int rc;

	memset(&lcfg, 0, sizeof(lcfg));
	lcfg.path = lc->path;
	lcfg.create_size = lc->size;
	lcfg.readonly = lc->readonly;
	lcfg.block_size = lc->block_size;
	lcfg.physical_block_size = lc->physical_block_size;
	lcfg.removable = lc->removable;
	lcfg.key_file = lc->key_file;
	snprintf(lcfg.vendor, sizeof(lcfg.vendor), "%s", reg->vendor);
	snprintf(lcfg.product, sizeof(lcfg.product), "%s", reg->product);
	snprintf(lcfg.revision, sizeof(lcfg.revision), "%s", "0001");
	snprintf(lcfg.serial, sizeof(lcfg.serial), "%s", lc->serial);
	memcpy(lcfg.naa, lc->naa, sizeof(lcfg.naa));
	lcfg.naa_len = lc->naa_len;
	lcfg.target_name = t->name;
	lcfg.rtpi = t->rtpi;
	lcfg.tpgt = t->tpgt;
	lcfg.detached = reg->lu_detached;
	rc = scsi_lu_create(&lcfg, out);
	if (rc < 0)
		snprintf(err, errlen, "target %s LUN %u: cannot open %s: %s", t->name, lc->lun,
			 lc->path, strerror(-rc));
	return rc;
}

static int target_set_access(struct hatgt_target *t, const struct hatgt_target_cfg *tc)
{
	char **allow = NULL;
	size_t i;

	if (tc->nallow) {
		allow = calloc(tc->nallow, sizeof(*allow));
		if (!allow)
			return -ENOMEM;
		for (i = 0; i < tc->nallow; i++) {
			allow[i] = strdup(tc->allow[i]);
			if (!allow[i]) {
				while (i--)
					free(allow[i]);
				free(allow);
				return -ENOMEM;
			}
		}
	}
	target_free_allow(t);
	t->allow = allow;
	t->nallow = tc->nallow;
	t->auth = tc->auth;
	snprintf(t->alias, sizeof(t->alias), "%s", tc->alias ? tc->alias : "");
	t->tpgt = tc->tpgt ? tc->tpgt : 1;
	t->rtpi = tc->rtpi ? tc->rtpi : 1;
	return 0;
}

static struct hatgt_target *target_new(const char *name)
{
	struct hatgt_target *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->refs = 1;
	t->tpgt = 1;
	t->rtpi = 1;
	target_lun_list_rebuild(t);
	return t;
}

/* A LUN whose backing path is the same keeps its open LU (and its UA and
 * reservation state); anything else is opened anew. */
static bool target_lun_same(const struct scsi_lu *lu, const struct hatgt_lun_cfg *lc)
{
	return lu && strcmp(scsi_lu_path(lu), lc->path) == 0;
}

int target_registry_apply(struct target_registry *reg, const struct hatgt_config *cfg, char *err,
			  size_t errlen)
{
	struct scsi_lu *(*opened)[HATGT_MAX_LUNS] = NULL;
	struct hatgt_target **fresh = NULL;
	struct hatgt_target *t, *tmp;
	size_t i, j;
	int rc = 0;

	snprintf(reg->vendor, sizeof(reg->vendor), "%s", cfg->vendor[0] ? cfg->vendor : "HATGT");
	snprintf(reg->product, sizeof(reg->product), "%s",
		 cfg->product[0] ? cfg->product : "VIRTUAL-DISK");
	if (cfg->ntargets) {
		opened = calloc(cfg->ntargets, sizeof(*opened));
		fresh = calloc(cfg->ntargets, sizeof(*fresh));
		if (!opened || !fresh) {
			rc = -ENOMEM;
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	}

	/* Phase 1: open every new LU, so a failure changes nothing. */
	for (i = 0; i < cfg->ntargets; i++) {
		const struct hatgt_target_cfg *tc = &cfg->targets[i];

		t = target_find(reg, tc->name);
		if (!t) {
			fresh[i] = target_new(tc->name);
			if (!fresh[i]) {
				rc = -ENOMEM;
				snprintf(err, errlen, "out of memory");
				goto out;
			}
			t = fresh[i];
		}
		if (fresh[i]) {
			rc = target_set_access(fresh[i], tc);
			if (rc < 0) {
				snprintf(err, errlen, "out of memory");
				goto out;
			}
		}
		for (j = 0; j < tc->nluns; j++) {
			const struct hatgt_lun_cfg *lc = &tc->luns[j];

			if (target_lun_same(t->lus[lc->lun], lc))
				continue;
			rc = target_lu_open(reg, t, lc, &opened[i][lc->lun], err, errlen);
			if (rc < 0)
				goto out;
		}
	}

	/* Phase 2: commit. Targets no longer configured go away. */
	list_for_each_entry_safe(t, tmp, &reg->targets, node) {
		if (!hatgt_config_target(cfg, t->name)) {
			qb_log(LOG_NOTICE, "target %s removed", t->name);
			target_unlink(t);
		}
	}
	for (i = 0; i < cfg->ntargets; i++) {
		const struct hatgt_target_cfg *tc = &cfg->targets[i];
		bool keep[HATGT_MAX_LUNS] = {false};

		bool lun_set_changed = false;

		t = fresh[i] ? fresh[i] : target_find(reg, tc->name);
		if (!fresh[i])
			target_set_access(t, tc);
		for (j = 0; j < tc->nluns; j++) {
			uint32_t lun = tc->luns[j].lun;

			keep[lun] = true;
			if (!opened[i][lun])
				continue;
			if (t->lus[lun])
				scsi_lu_put(t->lus[lun]);
			lun_set_changed = true;
			t->lus[lun] = opened[i][lun];
			opened[i][lun] = NULL;
			qb_log(LOG_NOTICE, "target %s LUN %u: %s (%llu bytes)", t->name, lun,
			       tc->luns[j].path, (unsigned long long)scsi_lu_size(t->lus[lun]));
		}
		for (j = 0; j < HATGT_MAX_LUNS; j++) {
			if (t->lus[j] && !keep[j]) {
				qb_log(LOG_NOTICE, "target %s LUN %zu removed", t->name, j);
				scsi_lu_put(t->lus[j]);
				t->lus[j] = NULL;
				lun_set_changed = true;
			}
		}
		target_lun_list_rebuild(t);
		if (!fresh[i] && lun_set_changed)
			target_luns_changed(t);
		if (fresh[i]) {
			list_add_tail(&t->node, &reg->targets);
			fresh[i] = NULL;
			qb_log(LOG_NOTICE, "target %s added with %zu LUN(s)", t->name,
			       t->lun_list.count);
		}
	}
	rc = 0;
out:
	for (i = 0; i < cfg->ntargets && opened; i++)
		for (j = 0; j < HATGT_MAX_LUNS; j++)
			if (opened[i][j])
				scsi_lu_put(opened[i][j]);
	for (i = 0; i < cfg->ntargets && fresh; i++)
		if (fresh[i])
			target_put(fresh[i]);
	free(opened);
	free(fresh);
	return rc;
}

static size_t target_registry_lu_count(const struct target_registry *reg)
{
	const struct hatgt_target *t;
	size_t i, n = 0;

	list_for_each_entry(t, &reg->targets, node)
		for (i = 0; i < HATGT_MAX_LUNS; i++)
			n += t->lus[i] != NULL;
	return n;
}

int target_registry_attach(struct target_registry *reg, char *err, size_t errlen)
{
	struct scsi_lu **done = NULL;
	struct hatgt_target *t;
	size_t i, ndone = 0, n = target_registry_lu_count(reg);
	int rc = 0;

	if (n) {
		done = calloc(n, sizeof(*done));
		if (!done) {
			rc = -ENOMEM;
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	}
	list_for_each_entry(t, &reg->targets, node) {
		for (i = 0; i < HATGT_MAX_LUNS; i++) {
			struct scsi_lu *lu = t->lus[i];

			if (!lu || scsi_lu_attached(lu))
				continue;
			rc = scsi_lu_attach(lu);
			if (rc < 0) {
				snprintf(err, errlen, "target %s LUN %zu: cannot open %s: %s",
					 t->name, i, scsi_lu_path(lu), strerror(-rc));
				qb_log(LOG_ERR, "%s", err);
				goto out;
			}
			done[ndone++] = lu;
		}
	}
	reg->lu_detached = false;
out:
	/* All or nothing: a node serves every LUN or none. */
	if (rc < 0)
		for (i = 0; i < ndone; i++)
			scsi_lu_detach(done[i]);
	free(done);
	return rc;
}

int target_registry_detach(struct target_registry *reg)
{
	struct hatgt_target *t;
	size_t i;
	int rc = 0, r;

	reg->lu_detached = true;
	list_for_each_entry(t, &reg->targets, node) {
		for (i = 0; i < HATGT_MAX_LUNS; i++) {
			if (!t->lus[i])
				continue;
			r = scsi_lu_detach(t->lus[i]);
			if (r < 0) {
				qb_log(LOG_ERR, "target %s LUN %zu: detach: %s", t->name, i,
				       strerror(-r));
				if (rc == 0)
					rc = r;
			}
		}
	}
	return rc;
}

int target_add(struct target_registry *reg, const char *name, char *err, size_t errlen)
{
	char norm[ISCSI_NAME_MAX];
	const char *why = NULL;
	struct hatgt_target *t;

	if (hatgt_iscsi_name_normalize(name, norm, sizeof(norm), &why) < 0) {
		snprintf(err, errlen, "invalid target name %s: %s", name, why ? why : "bad name");
		return -EINVAL;
	}
	if (target_find(reg, norm)) {
		snprintf(err, errlen, "target exists: %s", norm);
		return -EEXIST;
	}
	t = target_new(norm);
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	list_add_tail(&t->node, &reg->targets);
	qb_log(LOG_NOTICE, "target %s added at runtime", norm);
	return 0;
}

int target_remove(struct target_registry *reg, const char *name, char *err, size_t errlen)
{
	struct hatgt_target *t = target_find(reg, name);

	if (!t) {
		snprintf(err, errlen, "target not found: %s", name);
		return -ENOENT;
	}
	qb_log(LOG_NOTICE, "target %s removed at runtime", name);
	target_unlink(t);
	return 0;
}

int target_lun_add(struct target_registry *reg, struct hatgt_target *t,
		   const struct hatgt_lun_cfg *lc, char *err, size_t errlen)
{
	struct scsi_lu *lu;
	int rc;

	if (lc->lun >= HATGT_MAX_LUNS) {
		snprintf(err, errlen, "LUN %u out of range (0-%d)", lc->lun, HATGT_MAX_LUNS - 1);
		return -ERANGE;
	}
	if (t->lus[lc->lun]) {
		snprintf(err, errlen, "target %s already has LUN %u", t->name, lc->lun);
		return -EEXIST;
	}
	rc = target_lu_open(reg, t, lc, &lu, err, errlen);
	if (rc < 0)
		return rc;
	t->lus[lc->lun] = lu;
	target_lun_list_rebuild(t);
	target_luns_changed(t);
	qb_log(LOG_NOTICE, "target %s LUN %u added at runtime: %s", t->name, lc->lun, lc->path);
	return 0;
}

int target_lun_remove(struct hatgt_target *t, uint32_t lun, char *err, size_t errlen)
{
	if (lun >= HATGT_MAX_LUNS || !t->lus[lun]) {
		snprintf(err, errlen, "LUN not found: %s LUN %u", t->name, lun);
		return -ENOENT;
	}
	scsi_lu_put(t->lus[lun]);
	t->lus[lun] = NULL;
	target_lun_list_rebuild(t);
	target_luns_changed(t);
	qb_log(LOG_NOTICE, "target %s LUN %u removed at runtime", t->name, lun);
	return 0;
}
