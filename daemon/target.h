/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The running targets: names, LUN maps, access rules. Built from the config
 * (target_registry_apply) and changed at runtime by hatgtadm. Sessions hold a
 * reference on their target; tasks hold a reference on their LU, so a LUN or
 * target removed at runtime goes away when the last user lets go.
 */
#ifndef HATGT_TARGET_H
#define HATGT_TARGET_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "iscsi/login.h"
#include "scsi/scsi.h"
#include "util/list.h"

struct hatgt_target {
	struct list_head node;
	char name[ISCSI_NAME_MAX];
	char alias[ISCSI_ALIAS_MAX];
	struct scsi_lu *lus[HATGT_MAX_LUNS]; /* indexed by LUN number */
	uint64_t lun_numbers[HATGT_MAX_LUNS];
	struct scsi_lun_list lun_list; /* view of lun_numbers for REPORT LUNS */
	char **allow;		       /* copy; nallow == 0: anyone */
	size_t nallow;
	struct iscsi_auth_cfg auth;
	uint16_t tpgt;
	uint16_t rtpi;
	unsigned int refs;
	bool removed;
};

struct target_registry {
	struct list_head targets;
	char vendor[9];
	char product[17];
	/* LUs are created without opening their backing store (cluster mode,
	 * not promoted); target_registry_attach() clears it, _detach() sets it. */
	bool lu_detached;
};

void target_registry_init(struct target_registry *reg);
/** Drop every target (shutdown). */
void target_registry_fini(struct target_registry *reg);

/**
 * Make the running targets match cfg: add new targets and LUNs, remove the
 * ones no longer configured, replace LUNs whose path changed, update access
 * rules. Sessions on a removed target are closed by the caller (see
 * removed flag). Every LU the config names is opened before anything is
 * changed, so a config whose LUN cannot be opened changes nothing.
 * \return 0, or -errno with a reason in err.
 */
int target_registry_apply(struct target_registry *reg, const struct hatgt_config *cfg, char *err,
			  size_t errlen);

/**
 * Open the backing store of every LU (promotion), and create LUs attached from
 * now on. If one fails, the LUs this call attached are detached again, the
 * registry stays detached, and err (also logged) names the target, LUN, path
 * and reason. \return 0 or -errno.
 */
int target_registry_attach(struct target_registry *reg, char *err, size_t errlen);
/**
 * Flush and close the backing store of every LU (demotion, after the
 * transports drained), and create LUs detached from now on. Every LU ends
 * detached; \return 0 or the first error (a failed flush, logged).
 */
int target_registry_detach(struct target_registry *reg);

struct hatgt_target *target_find(struct target_registry *reg, const char *name);
void target_get(struct hatgt_target *t);
void target_put(struct hatgt_target *t);

/** The LU at a LUN, or NULL. */
static inline struct scsi_lu *target_lu(const struct hatgt_target *t, uint64_t lun)
{
	return lun < HATGT_MAX_LUNS ? t->lus[lun] : NULL;
}

bool target_initiator_allowed(const struct hatgt_target *t, const char *initiator);

/** Login callback (struct iscsi_login_env::target_lookup); ctx is the registry. */
enum iscsi_lookup_result target_login_lookup(void *ctx, const char *target_name,
					     const char *initiator_name,
					     struct iscsi_auth_cfg *auth);

/** Runtime changes (hatgtadm). \return 0 or -errno with a reason in err. */
int target_add(struct target_registry *reg, const char *name, char *err, size_t errlen);
int target_remove(struct target_registry *reg, const char *name, char *err, size_t errlen);
int target_lun_add(struct target_registry *reg, struct hatgt_target *t,
		   const struct hatgt_lun_cfg *lc, char *err, size_t errlen);
int target_lun_remove(struct hatgt_target *t, uint32_t lun, char *err, size_t errlen);

#endif
