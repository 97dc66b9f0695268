/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The verbs of hatgtadm, executed in the daemon on the loop thread.
 * Every handler answers a table for people or JSON for scripts, and an
 * error names what was not found ("target not found: iqn...").
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <qb/qblog.h>

#include "backend/backend.h"
#include "daemon.h"
#include "ha/ha.h"

static void cmd_vreply(struct buf *out, int json, int status, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

static void cmd_vreply(struct buf *out, int json, int status, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (!json) {
		buf_printf(out, "%s\n", msg);
		return;
	}
	buf_printf(out,
		   status == HATGT_ADMIN_OK ? "{\"ok\":true,\"message\":"
					    : "{\"ok\":false,\"status\":%d,\"error\":",
		   status);
	admin_json_str(out, msg);
	buf_printf(out, "}\n");
}

/* An error: text for people, {"ok":false,"status":N,"error":"..."} for
 * scripts. \return status. */
static int cmd_err(struct buf *out, int json, int status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int cmd_err(struct buf *out, int json, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cmd_vreply(out, json, status, fmt, ap);
	va_end(ap);
	return status;
}

/* A one-line success: {"ok":true,"message":"..."} in JSON. */
static int cmd_ok(struct buf *out, int json, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int cmd_ok(struct buf *out, int json, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cmd_vreply(out, json, HATGT_ADMIN_OK, fmt, ap);
	va_end(ap);
	return HATGT_ADMIN_OK;
}

static int cmd_status(void *ctx, int argc, char **argv, int json, struct buf *out)
{
	struct hatgt_daemon *d = ctx;
	struct hatgt_target *t;
	size_t ntargets = 0, nluns = 0;
	const char *cluster = d->ha ? "corosync" : "none";
	size_t members = d->ha ? ha_members(d->ha) : 0;
	bool quorate = d->ha ? ha_quorate(d->ha) : true;
	unsigned long long epoch = d->ha ? (unsigned long long)ha_epoch(d->ha) : 0;
	unsigned long long gen = d->ha ? (unsigned long long)ha_generation(d->ha) : 0;
	size_t pending = d->ha ? ha_pending(d->ha) : 0;
	/* poll_us (docs/tuning.md): the mode, and the time spent polling. */
	unsigned long long polled_ms = iscsi_server_polled_ns(&d->srv) / 1000000;
	char poll[16];

	if (d->cfg && d->cfg->poll_us == HATGT_POLL_AUTO)
		snprintf(poll, sizeof(poll), "auto");
	else
		snprintf(poll, sizeof(poll), "%u", d->cfg ? d->cfg->poll_us : 0);

	list_for_each_entry(t, &d->reg.targets, node) {
		ntargets++;
		nluns += t->lun_list.count;
	}
	if (json) {
		buf_printf(out,
			   "{\"version\":\"%s\",\"role\":\"%s\",\"state\":\"%s\","
			   "\"cluster\":\"%s\",\"members\":%zu,\"quorate\":%s,\"epoch\":%llu,"
			   "\"generation\":%llu,\"pending_pr\":%zu,"
			   "\"uptime\":%ld,\"targets\":%zu,\"luns\":%zu,\"sessions\":%u,"
			   "\"connections\":%u,\"poll_us\":\"%s\",\"polled_ms\":%llu,"
			   "\"config\":",
			   PACKAGE_VERSION, daemon_role_name(d),
			   d->stopping ? "stopping" : "running", cluster, members,
			   quorate ? "true" : "false", epoch, gen, pending,
			   (long)(time(NULL) - d->start_time), ntargets, nluns, d->srv.nsessions,
			   d->srv.nconns, poll, polled_ms);
		admin_json_str(out, d->config_path ? d->config_path : "<embedded default>");
		buf_printf(out, "}\n");
	} else {
		buf_printf(out, "hatgtd %s\nrole:        %s\nstate:       %s\ncluster:     %s\n",
			   PACKAGE_VERSION, daemon_role_name(d),
			   d->stopping ? "stopping" : "running", cluster);
		if (d->ha)
			buf_printf(out,
				   "members:     %zu\nquorate:     %s\nepoch:       %llu\n"
				   "generation:  %llu\npending PR:  %zu\n",
				   members, quorate ? "yes" : "no", epoch, gen, pending);
		buf_printf(out,
			   "uptime:      %lds\nconfig:      %s\ntargets:     %zu\n"
			   "luns:        %zu\nsessions:    %u\nconnections: %u\n"
			   "poll_us:     %s (polled %llu ms)\n",
			   (long)(time(NULL) - d->start_time),
			   d->config_path ? d->config_path : "<embedded default>", ntargets, nluns,
			   d->srv.nsessions, d->srv.nconns, poll, polled_ms);
	}
	return HATGT_ADMIN_OK;
}

static int cmd_role(void *ctx, int argc, char **argv, int json, struct buf *out)
{
	struct hatgt_daemon *d = ctx;

	if (json)
		buf_printf(out, "{\"role\":\"%s\"}\n", daemon_role_name(d));
	else
		buf_printf(out, "%s\n", daemon_role_name(d));
	return HATGT_ADMIN_OK;
}

static int cmd_promote(void *ctx, int argc, char **argv, int json, struct buf *out)
{
	struct hatgt_daemon *d = ctx;
	char err[512];

	if (daemon_promote(d, err, sizeof(err)) < 0)
		return cmd_err(out, json, HATGT_ADMIN_ERR, "%s", err);
	return cmd_ok(out, json, "%s", daemon_role_name(d));
}

static int cmd_demote(void *ctx, int argc, char **argv, int json, struct buf *out)
{
	struct hatgt_daemon *d = ctx;
	char err[512];

	if (daemon_demote(d, err, sizeof(err)) < 0)
		return cmd_err(out, json, HATGT_ADMIN_ERR, "%s", err);
	/* Demotion completes asynchronously: poll "role" for "unpromoted". */
	return cmd_ok(out, json, "%s", daemon_role_name(d));
}

static int cmd_targets(void *ctx, int argc, char **argv, int json, struct buf *out)
{
	struct hatgt_daemon *d = ctx;
	struct hatgt_target *t;
	bool first = true;

	if (json)
		buf_printf(out, "[");
	else
		buf_printf(out, "%-56s %-5s %-5s %-8s %s\n", "TARGET", "LUNS", "TPGT", "ACCESS",
			   "AUTH");
	list_for_each_entry(t, &d->reg.targets, node) {
		const char *auth = t->auth.mutual.user[0] ? "mutual-chap"
				   : t->auth.chap.user[0] ? "chap"
							  : "none";

		if (json) {
			size_t i;

			buf_printf(out, "%s{\"name\":", first ? "" : ",");
			admin_json_str(out, t->name);
			buf_printf(out,
				   ",\"luns\":%zu,\"tpgt\":%u,\"rtpi\":%u,\"auth\":\"%s\","
				   "\"allow\":[",
				   t->lun_list.count, t->tpgt, t->rtpi, auth);
			for (i = 0; i < t->nallow; i++) {
				if (i)
					buf_printf(out, ",");
				admin_json_str(out, t->allow[i]);
			}
			buf_printf(out, "]}");
		} else {
			buf_printf(out, "%-56s %-5zu %-5u %-8s %s\n", t->name, t->lun_list.count,
				   t->tpgt, t->nallow ? "list" : "any", auth);
		}
		first = false;
	}
	if (json)
		buf_printf(out, "]\n");
	return HATGT_ADMIN_OK;
}

static int cmd_luns(void *ctx, int argc, char **argv, int json, struct buf *out)
{
	struct hatgt_daemon *d = ctx;
	struct hatgt_target *t;
	bool first = true;
	size_t i;

	if (argc > 2)
		return cmd_err(out, json, HATGT_ADMIN_USAGE, "usage: luns [TARGET]");
	if (argc == 2 && !target_find(&d->reg, argv[1]))
		return cmd_err(out, json, HATGT_ADMIN_NOT_FOUND, "target not found: %s", argv[1]);
	if (json)
		buf_printf(out, "[");
	else
		buf_printf(out, "%-56s %-4s %-14s %-8s %s\n", "TARGET", "LUN", "SIZE", "STATE",
			   "PATH");
	list_for_each_entry(t, &d->reg.targets, node) {
		if (argc == 2 && strcmp(t->name, argv[1]) != 0)
			continue;
		for (i = 0; i < HATGT_MAX_LUNS; i++) {
			struct scsi_lu *lu = t->lus[i];

			if (!lu)
				continue;
			if (json) {
				buf_printf(out, "%s{\"target\":", first ? "" : ",");
				admin_json_str(out, t->name);
				/* attached: the backing store is open (in a cluster,
				 * only on the promoted node; docs/ha.md). */
				buf_printf(out,
					   ",\"lun\":%zu,\"size\":%llu,\"attached\":%s,\"path\":",
					   i, (unsigned long long)scsi_lu_size(lu),
					   scsi_lu_attached(lu) ? "true" : "false");
				admin_json_str(out, scsi_lu_path(lu));
				buf_printf(out, "}");
			} else {
				buf_printf(out, "%-56s %-4zu %-14llu %-8s %s\n", t->name, i,
					   (unsigned long long)scsi_lu_size(lu),
					   scsi_lu_attached(lu) ? "attached" : "detached",
					   scsi_lu_path(lu));
			}
			first = false;
		}
	}
	if (json)
		buf_printf(out, "]\n");
	return HATGT_ADMIN_OK;
}

static int cmd_sessions(void *ctx, int argc, char **argv, int json, struct buf *out)
{
	struct hatgt_daemon *d = ctx;

	iscsi_server_sessions_show(&d->srv, json, out);
	return HATGT_ADMIN_OK;
}

static int cmd_add_target(void *ctx, int argc, char **argv, int json, struct buf *out)
{
	struct hatgt_daemon *d = ctx;
	char err[512];
	int rc;

	if (argc != 2)
		return cmd_err(out, json, HATGT_ADMIN_USAGE, "usage: add-target IQN");
	rc = target_add(&d->reg, argv[1], err, sizeof(err));
	if (rc < 0)
		return cmd_err(out, json, rc == -EINVAL ? HATGT_ADMIN_USAGE : HATGT_ADMIN_ERR, "%s",
			       err);
	return cmd_ok(out, json, "target added: %s", argv[1]);
}

static int cmd_remove_target(void *ctx, int argc, char **argv, int json, struct buf *out)
{
	struct hatgt_daemon *d = ctx;
	struct hatgt_target *t;
	char err[512];

	if (argc != 2)
		return cmd_err(out, json, HATGT_ADMIN_USAGE, "usage: remove-target IQN");
	t = target_find(&d->reg, argv[1]);
	if (!t)
		return cmd_err(out, json, HATGT_ADMIN_NOT_FOUND, "target not found: %s", argv[1]);
	target_get(t);
	target_remove(&d->reg, argv[1], err, sizeof(err));
	iscsi_server_close_target(&d->srv, t);
	target_put(t);
	return cmd_ok(out, json, "target removed: %s", argv[1]);
}

/* A decimal number in [min, max]: digits only (strtoul alone would take
 * " 1", "+1" and "-1"). \return 0 or -EINVAL/-ERANGE. */
static int cmd_parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

static int cmd_parse_lun(const char *s, uint32_t *lun)
{
	unsigned long v;

	if (cmd_parse_ulong(s, 0, HATGT_MAX_LUNS - 1, &v) < 0)
		return -EINVAL;
	*lun = (uint32_t)v;
	return 0;
}

static int cmd_add_lun(void *ctx, int argc, char **argv, int json, struct buf *out)
{
	struct hatgt_daemon *d = ctx;
	struct hatgt_lun_cfg lc;
	struct hatgt_target *t;
	char err[512];
	int i;

	if (argc < 4)
		return cmd_err(out, json, HATGT_ADMIN_USAGE,
			       "usage: add-lun TARGET LUN PATH [size=SIZE] [readonly] "
			       "[block_size=512|4096]");
	t = target_find(&d->reg, argv[1]);
	if (!t)
		return cmd_err(out, json, HATGT_ADMIN_NOT_FOUND, "target not found: %s", argv[1]);
	memset(&lc, 0, sizeof(lc));
	if (cmd_parse_lun(argv[2], &lc.lun) < 0)
		return cmd_err(out, json, HATGT_ADMIN_USAGE, "invalid LUN: %s (0-255)", argv[2]);
	lc.path = argv[3];
	lc.block_size = 512;
	for (i = 4; i < argc; i++) {
		if (strncmp(argv[i], "size=", 5) == 0) {
			if (hatgt_parse_size(argv[i] + 5, &lc.size) < 0)
				return cmd_err(out, json, HATGT_ADMIN_USAGE, "invalid size: %s",
					       argv[i] + 5);
		} else if (strcmp(argv[i], "readonly") == 0) {
			lc.readonly = true;
		} else if (strcmp(argv[i], "block_size=4096") == 0) {
			lc.block_size = 4096;
		} else if (strcmp(argv[i], "block_size=512") == 0) {
			lc.block_size = 512;
		} else {
			return cmd_err(out, json, HATGT_ADMIN_USAGE, "unknown option: %s", argv[i]);
		}
	}
	if (hatgt_config_lun_identity(t->name, lc.lun, lc.serial, lc.naa, &lc.naa_len) < 0)
		return cmd_err(out, json, HATGT_ADMIN_ERR, "cannot derive the identity of %s",
			       t->name);
	if (target_lun_add(&d->reg, t, &lc, err, sizeof(err)) < 0)
		return cmd_err(out, json, HATGT_ADMIN_ERR, "%s", err);
	return cmd_ok(out, json, "LUN %u added to %s: %s", lc.lun, t->name, lc.path);
}

static int cmd_remove_lun(void *ctx, int argc, char **argv, int json, struct buf *out)
{
	struct hatgt_daemon *d = ctx;
	struct hatgt_target *t;
	uint32_t lun;
	char err[512];

	if (argc != 3)
		return cmd_err(out, json, HATGT_ADMIN_USAGE, "usage: remove-lun TARGET LUN");
	t = target_find(&d->reg, argv[1]);
	if (!t)
		return cmd_err(out, json, HATGT_ADMIN_NOT_FOUND, "target not found: %s", argv[1]);
	if (cmd_parse_lun(argv[2], &lun) < 0)
		return cmd_err(out, json, HATGT_ADMIN_USAGE, "invalid LUN: %s (0-255)", argv[2]);
	if (target_lun_remove(t, lun, err, sizeof(err)) < 0)
		return cmd_err(out, json, HATGT_ADMIN_NOT_FOUND, "%s", err);
	return cmd_ok(out, json, "LUN %u removed from %s", lun, t->name);
}

static int cmd_resize_lun(void *ctx, int argc, char **argv, int json, struct buf *out)
{
	struct hatgt_daemon *d = ctx;
	struct hatgt_target *t;
	struct scsi_lu *lu;
	uint64_t size = 0, old;
	struct stat st;
	uint32_t lun;
	bool shrink = argc == 5 && strcmp(argv[4], "shrink") == 0;
	int rc;

	if (argc < 3 || argc > 5 || (argc == 5 && !shrink))
		return cmd_err(out, json, HATGT_ADMIN_USAGE,
			       "usage: resize-lun TARGET LUN [SIZE [shrink]]");
	t = target_find(&d->reg, argv[1]);
	if (!t)
		return cmd_err(out, json, HATGT_ADMIN_NOT_FOUND, "target not found: %s", argv[1]);
	if (cmd_parse_lun(argv[2], &lun) < 0)
		return cmd_err(out, json, HATGT_ADMIN_USAGE, "invalid LUN: %s (0-255)", argv[2]);
	lu = t->lus[lun];
	if (!lu)
		return cmd_err(out, json, HATGT_ADMIN_NOT_FOUND, "LUN not found: %s LUN %u",
			       t->name, lun);
	old = scsi_lu_size(lu);
	if (argc >= 4) {
		/* A file LUN is resized here; a block device is resized by its
		 * owner (lvextend, ...) and then re-read without SIZE. */
		if (hatgt_parse_size(argv[3], &size) < 0 || size == 0)
			return cmd_err(out, json, HATGT_ADMIN_USAGE, "invalid size: %s", argv[3]);
		if (stat(scsi_lu_path(lu), &st) < 0 || !S_ISREG(st.st_mode))
			return cmd_err(out, json, HATGT_ADMIN_ERR,
				       "%s is not a regular file: resize the "
				       "device, then run resize-lun without SIZE",
				       scsi_lu_path(lu));
		if (size < old && !shrink)
			return cmd_err(out, json, HATGT_ADMIN_ERR,
				       "refusing to shrink %s from %llu to %llu "
				       "bytes (data beyond the new end is lost): add \"shrink\"",
				       scsi_lu_path(lu), (unsigned long long)old,
				       (unsigned long long)size);
		if (truncate(scsi_lu_path(lu), (off_t)size) < 0)
			return cmd_err(out, json, HATGT_ADMIN_ERR, "cannot resize %s: %s",
				       scsi_lu_path(lu), strerror(errno));
	}
	rc = scsi_lu_resize(lu);
	if (rc < 0)
		return cmd_err(out, json, HATGT_ADMIN_ERR, "cannot re-read the size of %s: %s",
			       scsi_lu_path(lu), strerror(-rc));
	qb_log(LOG_NOTICE, "target %s LUN %u resized from %llu to %llu bytes", t->name, lun,
	       (unsigned long long)old, (unsigned long long)scsi_lu_size(lu));
	return cmd_ok(out, json, "LUN %u of %s: %llu bytes", lun, t->name,
		      (unsigned long long)scsi_lu_size(lu));
}

static int cmd_pr(void *ctx, int argc, char **argv, int json, struct buf *out)
{
	struct hatgt_daemon *d = ctx;
	struct hatgt_target *t;
	uint32_t lun;

	if (argc != 3)
		return cmd_err(out, json, HATGT_ADMIN_USAGE, "usage: pr TARGET LUN");
	t = target_find(&d->reg, argv[1]);
	if (!t)
		return cmd_err(out, json, HATGT_ADMIN_NOT_FOUND, "target not found: %s", argv[1]);
	if (cmd_parse_lun(argv[2], &lun) < 0)
		return cmd_err(out, json, HATGT_ADMIN_USAGE, "invalid LUN: %s (0-255)", argv[2]);
	if (!t->lus[lun])
		return cmd_err(out, json, HATGT_ADMIN_NOT_FOUND, "LUN not found: %s LUN %u",
			       t->name, lun);
	scsi_lu_pr_show(t->lus[lun], json, out);
	return HATGT_ADMIN_OK;
}

/*
 * clone and remove-clones: many client targets over one golden image
 * (docs/diskless-boot.md). Client N gets the overlay DIR/NAME-NNNN.qcow2
 * backed by GOLDEN, the target IQN:NAME-NNNN with that overlay as LUN 0,
 * and an allow list holding PATTERN with {n} replaced by NNNN. NNNN is N
 * in decimal, at least 4 digits. What one command creates is also written
 * to CONF/NAME.conf, so that an "include = CONF" in hatgt.conf recreates
 * it at start-up and reload.
 */

/* One command's JSON reply (about 700 bytes per client at most) must fit
 * in an admin reply (HATGT_ADMIN_MAX_MSG); more clients: several commands
 * with start=. */
#define CLONE_MAX_COUNT 1024
#define CLONE_MAX_NUMBER 9999999u
#define CLONE_NAME_MAX 64
/* hatgt.conf lines are at most 198 characters (config.c's reader, on
 * inih's 200-byte buffer with room for the newline). */
#define CLONE_CONF_LINE_MAX 198
#define CLONE_DEFAULT_IQN "iqn.2026-11.org.hatgt"
#define CLONE_USAGE                                                                                \
	"usage: clone GOLDEN COUNT [prefix=NAME] [dir=DIR] [initiator=PATTERN] [start=N] "         \
	"[iqn=IQN] [conf=DIR]"
#define CLONE_RM_USAGE "usage: remove-clones NAME [iqn=IQN] [conf=DIR] [delete-overlays]"

struct clone_opts {
	const char *golden;
	unsigned long count;
	unsigned long start;
	char prefix[CLONE_NAME_MAX + 1];
	char dir[PATH_MAX];
	char iqn[ISCSI_NAME_MAX];
	char conf[PATH_MAX];
	const char *pattern; /* NULL: IQN:NAME-{n}-host */
	bool delete_overlays;
};

/* One client as created, for the reply and for a roll-back. */
struct clone_client {
	char target[ISCSI_NAME_MAX];
	char initiator[ISCSI_NAME_MAX];
	char overlay[PATH_MAX];
	bool overlay_made;
	bool target_made;
};

/* NAME becomes part of iSCSI names and file names: a-z 0-9 '-' '.', not
 * starting with '.' or '-'. */
static bool clone_name_valid(const char *s)
{
	size_t len = strlen(s), i;

	if (len == 0 || len > CLONE_NAME_MAX || s[0] == '.' || s[0] == '-')
		return false;
	for (i = 0; i < len; i++)
		if (!(s[i] >= 'a' && s[i] <= 'z') && !(s[i] >= '0' && s[i] <= '9') && s[i] != '-' &&
		    s[i] != '.')
			return false;
	return true;
}

/* The overlay paths go into hatgt.conf lines ("lun0 = PATH") and JSON:
 * no white space, quotes, comment or control characters. */
static bool clone_dir_safe(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("/._-+,:@~=", *s))
			return false;
	return true;
}

/* The authority part of the first configured iqn. target name (before the
 * first ':'), so clones look like the site's other targets. */
static void clone_default_iqn(struct hatgt_daemon *d, char *out, size_t outlen)
{
	struct hatgt_target *t;
	size_t len;

	list_for_each_entry(t, &d->reg.targets, node) {
		if (strncmp(t->name, "iqn.", 4) != 0)
			continue;
		len = strcspn(t->name, ":");
		snprintf(out, outlen, "%.*s", (int)len, t->name);
		return;
	}
	snprintf(out, outlen, "%s", CLONE_DEFAULT_IQN);
}

/* The first "include" of the running config that is a directory. */
static int clone_default_conf(struct hatgt_daemon *d, char *out, size_t outlen)
{
	struct stat st;
	size_t i;

	for (i = 0; d->cfg && i < d->cfg->nincludes; i++) {
		if (stat(d->cfg->includes[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			snprintf(out, outlen, "%s", d->cfg->includes[i]);
			return 0;
		}
	}
	return -ENOENT;
}

/* Is dir one of the running config's include lines? */
static bool clone_conf_included(const struct hatgt_daemon *d, const char *dir)
{
	size_t i;

	for (i = 0; d->cfg && i < d->cfg->nincludes; i++)
		if (!strcmp(d->cfg->includes[i], dir))
			return true;
	return false;
}

/* Options shared by clone (argv from first) and remove-clones. \return 0,
 * or a status with the reply written. */
static int clone_opts_parse(struct hatgt_daemon *d, int argc, char **argv, int first, bool rm,
			    struct clone_opts *o, int json, struct buf *out)
{
	const char *usage = rm ? CLONE_RM_USAGE : CLONE_USAGE;
	const char *v;
	int i;

	for (i = first; i < argc; i++) {
		v = strchr(argv[i], '=');
		v = v ? v + 1 : NULL;
		if (!rm && !strncmp(argv[i], "prefix=", 7)) {
			if (!clone_name_valid(v))
				return cmd_err(out, json, HATGT_ADMIN_USAGE,
					       "invalid prefix: %s (1-%d of a-z 0-9 - .)", v,
					       CLONE_NAME_MAX);
			snprintf(o->prefix, sizeof(o->prefix), "%s", v);
		} else if (!rm && !strncmp(argv[i], "dir=", 4)) {
			if (v[0] != '/' || strlen(v) >= sizeof(o->dir) - CLONE_NAME_MAX - 16)
				return cmd_err(out, json, HATGT_ADMIN_USAGE,
					       "invalid dir: %s (an absolute path)", v);
			snprintf(o->dir, sizeof(o->dir), "%s", v);
		} else if (!rm && !strncmp(argv[i], "initiator=", 10)) {
			if (!strstr(v, "{n}"))
				return cmd_err(out, json, HATGT_ADMIN_USAGE,
					       "invalid initiator pattern: %s (needs {n}, "
					       "replaced by the client number)",
					       v);
			o->pattern = v;
		} else if (!rm && !strncmp(argv[i], "start=", 6)) {
			if (cmd_parse_ulong(v, 0, CLONE_MAX_NUMBER, &o->start))
				return cmd_err(out, json, HATGT_ADMIN_USAGE,
					       "invalid start: %s (0-%u)", v, CLONE_MAX_NUMBER);
		} else if (!strncmp(argv[i], "iqn=", 4)) {
			if (hatgt_iscsi_name_normalize(v, o->iqn, sizeof(o->iqn), NULL) < 0 ||
			    strlen(o->iqn) > ISCSI_NAME_MAX - CLONE_NAME_MAX - 16)
				return cmd_err(out, json, HATGT_ADMIN_USAGE,
					       "invalid iqn: %s (an iSCSI name such as %s)", v,
					       CLONE_DEFAULT_IQN);
		} else if (!strncmp(argv[i], "conf=", 5)) {
			if (v[0] != '/' || strlen(v) >= sizeof(o->conf) - CLONE_NAME_MAX - 16)
				return cmd_err(out, json, HATGT_ADMIN_USAGE,
					       "invalid conf: %s (an absolute directory)", v);
			snprintf(o->conf, sizeof(o->conf), "%s", v);
		} else if (rm && !strcmp(argv[i], "delete-overlays")) {
			o->delete_overlays = true;
		} else {
			return cmd_err(out, json, HATGT_ADMIN_USAGE, "unknown option: %s\n%s",
				       argv[i], usage);
		}
	}
	if (!o->iqn[0])
		clone_default_iqn(d, o->iqn, sizeof(o->iqn));
	if (!o->conf[0] && clone_default_conf(d, o->conf, sizeof(o->conf)) < 0)
		return cmd_err(out, json, HATGT_ADMIN_ERR,
			       "no place for the clients' config: add \"include = DIR\" to "
			       "[global] of %s (a directory, e.g. /etc/hatgt/conf.d) and reload, "
			       "or give conf=DIR",
			       d->config_path ? d->config_path : "hatgt.conf");
	return 0;
}

/* Replace the first "{n}" and every later one in pattern by num. */
static int clone_initiator_name(const char *pattern, const char *num, char *out, size_t outlen)
{
	struct buf b = BUF_INIT;
	const char *p = pattern, *hit;
	int rc = -EINVAL;

	while ((hit = strstr(p, "{n}")) != NULL) {
		buf_append(&b, p, (size_t)(hit - p));
		buf_append(&b, num, strlen(num));
		p = hit + 3;
	}
	buf_append(&b, p, strlen(p));
	buf_append(&b, "", 1);
	if (b.err) {
		rc = b.err;
		goto out;
	}
	rc = hatgt_iscsi_name_normalize((const char *)b.data, out, outlen, NULL);
out:
	buf_release(&b);
	return rc;
}

/* Names of client n. \return 0, or a status with the reply written. */
static int clone_client_names(const struct clone_opts *o, unsigned long n, struct clone_client *c,
			      int json, struct buf *out)
{
	char num[16], raw[ISCSI_NAME_MAX + 32];
	const char *why = NULL;

	snprintf(num, sizeof(num), "%04lu", n);
	if (snprintf(raw, sizeof(raw), "%s:%s-%s", o->iqn, o->prefix, num) >= (int)sizeof(raw) ||
	    hatgt_iscsi_name_normalize(raw, c->target, sizeof(c->target), &why) < 0)
		return cmd_err(out, json, HATGT_ADMIN_USAGE, "invalid target name %s: %s", raw,
			       why);
	if (o->pattern) {
		if (clone_initiator_name(o->pattern, num, c->initiator, sizeof(c->initiator)) < 0)
			return cmd_err(out, json, HATGT_ADMIN_USAGE,
				       "initiator pattern %s gives an invalid iSCSI name for "
				       "client %s",
				       o->pattern, num);
	} else {
		snprintf(c->initiator, sizeof(c->initiator), "%s-host", c->target);
	}
	if (snprintf(c->overlay, sizeof(c->overlay), "%s/%s-%s.qcow2", o->dir, o->prefix, num) >=
		    (int)sizeof(c->overlay) ||
	    strlen(c->overlay) + strlen("lun0 = ") > CLONE_CONF_LINE_MAX ||
	    strlen(c->initiator) + strlen("allow = ") > CLONE_CONF_LINE_MAX)
		return cmd_err(out, json, HATGT_ADMIN_USAGE,
			       "%s or %s is too long for a hatgt.conf line (%d characters)",
			       c->overlay, c->initiator, CLONE_CONF_LINE_MAX);
	return 0;
}

/* Give the target its one allowed initiator (what "allow =" does). */
static int clone_target_allow(struct hatgt_target *t, const char *initiator)
{
	char **allow = calloc(1, sizeof(*allow));

	if (!allow)
		return -ENOMEM;
	allow[0] = strdup(initiator);
	if (!allow[0]) {
		free(allow);
		return -ENOMEM;
	}
	t->allow = allow;
	t->nallow = 1;
	return 0;
}

/* Overlay, target, LUN 0 and allow list of one client. \return 0 or
 * -errno with a reason in err; c records what exists. */
static int clone_client_create(struct hatgt_daemon *d, const struct clone_opts *o,
			       struct clone_client *c, char *err, size_t errlen)
{
	struct hatgt_lun_cfg lc;
	struct hatgt_target *t;
	int rc;

	rc = backend_qcow2_create_overlay(c->overlay, o->golden);
	if (rc < 0) {
		snprintf(err, errlen, "cannot create the overlay %s over %s: %s", c->overlay,
			 o->golden, strerror(-rc));
		return rc;
	}
	c->overlay_made = true;
	rc = target_add(&d->reg, c->target, err, errlen);
	if (rc < 0)
		return rc;
	c->target_made = true;
	t = target_find(&d->reg, c->target);
	rc = t ? clone_target_allow(t, c->initiator) : -ENOENT;
	if (rc < 0) {
		snprintf(err, errlen, "cannot set the allow list of %s: %s", c->target,
			 strerror(-rc));
		return rc;
	}
	memset(&lc, 0, sizeof(lc));
	lc.lun = 0;
	lc.path = c->overlay;
	lc.block_size = 512;
	rc = hatgt_config_lun_identity(t->name, 0, lc.serial, lc.naa, &lc.naa_len);
	if (rc < 0) {
		snprintf(err, errlen, "cannot derive the identity of %s", t->name);
		return rc;
	}
	return target_lun_add(&d->reg, t, &lc, err, errlen);
}

static void clone_target_drop(struct hatgt_daemon *d, const char *name)
{
	struct hatgt_target *t = target_find(&d->reg, name);
	char err[256];

	if (!t)
		return;
	target_get(t);
	target_remove(&d->reg, name, err, sizeof(err));
	iscsi_server_close_target(&d->srv, t);
	target_put(t);
}

/* Undo what this command made. \return how many clients were undone. */
static size_t clone_rollback(struct hatgt_daemon *d, struct clone_client *c, size_t n)
{
	size_t i, undone = 0;

	for (i = 0; i < n; i++) {
		if (c[i].target_made)
			clone_target_drop(d, c[i].target);
		if (c[i].overlay_made && unlink(c[i].overlay) < 0)
			qb_log(LOG_WARNING, "clone roll-back: cannot remove %s: %s", c[i].overlay,
			       strerror(errno));
		if (c[i].target_made || c[i].overlay_made)
			undone++;
		c[i].target_made = c[i].overlay_made = false;
	}
	return undone;
}

/* Read a whole small file into b (appended). A missing file reads empty.
 * \return 0 or -errno. */
static int clone_file_slurp(const char *path, struct buf *b)
{
	char chunk[4096];
	ssize_t n;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			break;
		}
		if (n == 0)
			break;
		rc = buf_append(b, chunk, (size_t)n);
		if (rc)
			break;
	}
	close(fd);
	return rc;
}

/* Write text to path atomically: a hidden temporary file in the same
 * directory (config.c skips hidden names), fsync, rename, fsync the
 * directory. \return 0 or -errno. */
static int clone_file_replace(const char *dir, const char *name, const struct buf *text)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	size_t off = 0;
	ssize_t n;
	int fd = -1, dfd = -1, rc = 0;

	if (snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name) >= (int)sizeof(tmp) ||
	    snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	while (off < text->len) {
		n = write(fd, text->data + off, text->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			goto out;
		}
		off += (size_t)n;
	}
	if (fsync(fd) < 0 || rename(tmp, path) < 0) {
		rc = -errno;
		goto out;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		fsync(dfd);
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (rc)
		unlink(tmp);
	return rc;
}

/* CONF/NAME.conf with the new clients after what it already held. */
static int clone_conf_write(const struct clone_opts *o, const struct clone_client *c, size_t n)
{
	struct buf text = BUF_INIT;
	char name[CLONE_NAME_MAX + 8], path[PATH_MAX], when[32];
	time_t now = time(NULL);
	struct tm tm;
	size_t i;
	int rc;

	snprintf(name, sizeof(name), "%s.conf", o->prefix);
	if (snprintf(path, sizeof(path), "%s/%s", o->conf, name) >= (int)sizeof(path)) {
		rc = -ENAMETOOLONG;
		goto out;
	}
	rc = clone_file_slurp(path, &text);
	if (rc)
		goto out;
	if (text.len && text.data[text.len - 1] != '\n')
		buf_printf(&text, "\n");
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	buf_printf(&text, "; hatgtadm clone %s: %zu client(s) over %s\n", when, n, o->golden);
	for (i = 0; i < n; i++)
		buf_printf(&text, "\n[target %s]\nlun0 = %s\nallow = %s\n", c[i].target,
			   c[i].overlay, c[i].initiator);
	rc = text.err;
	if (!rc)
		rc = clone_file_replace(o->conf, name, &text);
out:
	buf_release(&text);
	return rc;
}

static void clone_reply_json(struct buf *out, const struct clone_opts *o,
			     const struct clone_client *c, size_t n)
{
	char path[PATH_MAX + CLONE_NAME_MAX + 8];
	size_t i;

	snprintf(path, sizeof(path), "%s/%s.conf", o->conf, o->prefix);
	buf_printf(out, "{\"ok\":true,\"golden\":");
	admin_json_str(out, o->golden);
	buf_printf(out, ",\"config\":");
	admin_json_str(out, path);
	buf_printf(out, ",\"clients\":[");
	for (i = 0; i < n; i++) {
		buf_printf(out, "%s{\"target\":", i ? "," : "");
		admin_json_str(out, c[i].target);
		buf_printf(out, ",\"initiator\":");
		admin_json_str(out, c[i].initiator);
		buf_printf(out, ",\"overlay\":");
		admin_json_str(out, c[i].overlay);
		buf_printf(out, "}");
	}
	buf_printf(out, "]}\n");
}

static bool clone_cluster_mode(const struct hatgt_daemon *d)
{
	return d->ha || (d->cfg && d->cfg->cluster != HATGT_CLUSTER_NONE);
}

static int cmd_clone(void *ctx, int argc, char **argv, int json, struct buf *out)
{
	struct hatgt_daemon *d = ctx;
	struct clone_client *c = NULL;
	struct clone_opts o;
	struct stat st;
	char err[PATH_MAX + 512], *slash;
	size_t i, undone;
	bool included;
	int rc, status;

	if (argc < 3)
		return cmd_err(out, json, HATGT_ADMIN_USAGE, CLONE_USAGE);
	/* In a cluster both nodes must hold the same config (the digest
	 * check); a target made on one node alone would break that. */
	if (clone_cluster_mode(d))
		return cmd_err(out, json, HATGT_ADMIN_ERR,
			       "clone is refused in cluster mode: the targets must be in the "
			       "config of both nodes; run \"hatgtadm clone\" on a standalone "
			       "hatgtd over the shared storage, or create the overlays and the "
			       "conf.d file by hand (docs/diskless-boot.md), copy the file to "
			       "both nodes and reload both");
	memset(&o, 0, sizeof(o));
	o.golden = argv[1];
	o.start = 1;
	snprintf(o.prefix, sizeof(o.prefix), "client");
	if (o.golden[0] != '/' || strlen(o.golden) > CLONE_CONF_LINE_MAX)
		return cmd_err(out, json, HATGT_ADMIN_USAGE,
			       "GOLDEN must be an absolute path (it is written into every "
			       "overlay): %s",
			       o.golden);
	if (stat(o.golden, &st) < 0)
		return cmd_err(out, json, HATGT_ADMIN_NOT_FOUND, "golden image %s: %s", o.golden,
			       strerror(errno));
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return cmd_err(out, json, HATGT_ADMIN_USAGE,
			       "golden image %s is not a file or block device", o.golden);
	if (cmd_parse_ulong(argv[2], 1, CLONE_MAX_COUNT, &o.count))
		return cmd_err(out, json, HATGT_ADMIN_USAGE, "invalid COUNT: %s (1-%d)", argv[2],
			       CLONE_MAX_COUNT);
	snprintf(o.dir, sizeof(o.dir), "%s", o.golden);
	slash = strrchr(o.dir, '/');
	*(slash == o.dir ? slash + 1 : slash) = '\0';
	status = clone_opts_parse(d, argc, argv, 3, false, &o, json, out);
	if (status)
		return status;
	if (!clone_dir_safe(o.dir))
		return cmd_err(out, json, HATGT_ADMIN_USAGE,
			       "dir %s: the overlays' paths go into hatgt.conf: use only letters, "
			       "digits and / . _ - + , : @ ~ = (or give another dir=)",
			       o.dir);
	if (o.start + o.count - 1 > CLONE_MAX_NUMBER)
		return cmd_err(out, json, HATGT_ADMIN_USAGE, "start + COUNT - 1 exceeds %u",
			       CLONE_MAX_NUMBER);
	if (stat(o.dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return cmd_err(out, json, HATGT_ADMIN_NOT_FOUND, "dir %s is not a directory",
			       o.dir);
	if (stat(o.conf, &st) < 0 || !S_ISDIR(st.st_mode))
		return cmd_err(out, json, HATGT_ADMIN_NOT_FOUND, "conf %s is not a directory",
			       o.conf);
	c = calloc(o.count, sizeof(*c));
	if (!c)
		return cmd_err(out, json, HATGT_ADMIN_ERR, "out of memory");

	/* Check every name first: most mistakes change nothing at all. */
	for (i = 0; i < o.count; i++) {
		status = clone_client_names(&o, o.start + i, &c[i], json, out);
		if (status)
			goto out;
		if (target_find(&d->reg, c[i].target)) {
			status = cmd_err(out, json, HATGT_ADMIN_ERR,
					 "target exists: %s (nothing created)", c[i].target);
			goto out;
		}
		if (lstat(c[i].overlay, &st) == 0 || errno != ENOENT) {
			status = cmd_err(out, json, HATGT_ADMIN_ERR, "%s exists (nothing created)",
					 c[i].overlay);
			goto out;
		}
	}
	for (i = 0; i < o.count; i++) {
		rc = clone_client_create(d, &o, &c[i], err, sizeof(err));
		if (rc < 0) {
			undone = clone_rollback(d, c, i + 1);
			status = cmd_err(out, json, HATGT_ADMIN_ERR,
					 "client %lu (%s) failed: %s; rolled back the %zu "
					 "client(s) this command had created (targets removed, "
					 "overlays deleted)",
					 o.start + i, c[i].target, err, undone);
			goto out;
		}
	}
	rc = clone_conf_write(&o, c, o.count);
	if (rc < 0) {
		undone = clone_rollback(d, c, o.count);
		status = cmd_err(out, json, HATGT_ADMIN_ERR,
				 "cannot write %s/%s.conf: %s; rolled back the %zu client(s) "
				 "created",
				 o.conf, o.prefix, strerror(-rc), undone);
		goto out;
	}
	qb_log(LOG_NOTICE, "clone: %lu client(s) %s..%s over %s, config in %s/%s.conf", o.count,
	       c[0].target, c[o.count - 1].target, o.golden, o.conf, o.prefix);
	included = clone_conf_included(d, o.conf);
	if (json) {
		clone_reply_json(out, &o, c, o.count);
		status = HATGT_ADMIN_OK;
	} else {
		status =
			cmd_ok(out, json,
			       "cloned %lu client(s) over %s: targets %s .. %s, overlays in "
			       "%s, config in %s/%s.conf%s%s%s",
			       o.count, o.golden, c[0].target, c[o.count - 1].target, o.dir, o.conf,
			       o.prefix, included ? "" : " (not read at start: add \"include = ",
			       included ? "" : o.conf, included ? "" : "\" to [global])");
	}
out:
	free(c);
	return status;
}

/* IQN:NAME-DIGITS, at least 4 digits: a client that clone made. */
static bool clone_target_matches(const char *target, const char *iqn, const char *prefix)
{
	size_t li = strlen(iqn), lp = strlen(prefix), nd;
	const char *num;

	if (strncmp(target, iqn, li) || target[li] != ':' || strncmp(target + li + 1, prefix, lp) ||
	    target[li + 1 + lp] != '-')
		return false;
	num = target + li + 2 + lp;
	nd = strspn(num, "0123456789");
	return nd >= 4 && num[nd] == '\0';
}

static int cmd_remove_clones(void *ctx, int argc, char **argv, int json, struct buf *out)
{
	struct hatgt_daemon *d = ctx;
	struct hatgt_target *t, *tmp;
	struct clone_opts o;
	char path[PATH_MAX + CLONE_NAME_MAX + 8], lu_path[PATH_MAX];
	size_t removed = 0, deleted = 0, matches = 0;
	int status;

	if (argc < 2)
		return cmd_err(out, json, HATGT_ADMIN_USAGE, CLONE_RM_USAGE);
	if (clone_cluster_mode(d))
		return cmd_err(out, json, HATGT_ADMIN_ERR,
			       "remove-clones is refused in cluster mode: remove the conf.d file "
			       "on both nodes and reload both");
	memset(&o, 0, sizeof(o));
	if (!clone_name_valid(argv[1]))
		return cmd_err(out, json, HATGT_ADMIN_USAGE, "invalid NAME: %s", argv[1]);
	snprintf(o.prefix, sizeof(o.prefix), "%s", argv[1]);
	status = clone_opts_parse(d, argc, argv, 2, true, &o, json, out);
	if (status)
		return status;
	snprintf(path, sizeof(path), "%s/%s.conf", o.conf, o.prefix);
	list_for_each_entry(t, &d->reg.targets, node)
		matches += clone_target_matches(t->name, o.iqn, o.prefix);
	if (!matches && access(path, F_OK) < 0)
		return cmd_err(out, json, HATGT_ADMIN_NOT_FOUND,
			       "no clone targets %s:%s-NNNN and no %s", o.iqn, o.prefix, path);
	/* The file first: if it cannot go, the targets stay and say so. */
	if (unlink(path) < 0 && errno != ENOENT)
		return cmd_err(out, json, HATGT_ADMIN_ERR, "cannot remove %s: %s (nothing removed)",
			       path, strerror(errno));
	list_for_each_entry_safe(t, tmp, &d->reg.targets, node) {
		if (!clone_target_matches(t->name, o.iqn, o.prefix))
			continue;
		lu_path[0] = '\0';
		if (t->lus[0])
			snprintf(lu_path, sizeof(lu_path), "%s", scsi_lu_path(t->lus[0]));
		clone_target_drop(d, t->name);
		removed++;
		if (o.delete_overlays && lu_path[0]) {
			if (unlink(lu_path) == 0)
				deleted++;
			else
				qb_log(LOG_WARNING, "remove-clones: cannot delete %s: %s", lu_path,
				       strerror(errno));
		}
	}
	qb_log(LOG_NOTICE, "remove-clones: %zu target(s) %s:%s-*, %zu overlay(s) deleted", removed,
	       o.iqn, o.prefix, deleted);
	return cmd_ok(out, json,
		      "removed %zu clone target(s) %s:%s-NNNN and %s; %zu overlay(s) deleted",
		      removed, o.iqn, o.prefix, path, deleted);
}

static int cmd_reload(void *ctx, int argc, char **argv, int json, struct buf *out)
{
	struct hatgt_daemon *d = ctx;
	char err[1024];

	if (daemon_reload(d, err, sizeof(err)) < 0)
		return cmd_err(out, json, HATGT_ADMIN_ERR,
			       "reload failed, configuration unchanged: %s", err);
	return cmd_ok(out, json, "configuration reloaded");
}

static int cmd_log_level(void *ctx, int argc, char **argv, int json, struct buf *out)
{
	if (argc != 2 || daemon_log_level_set(argv[1]) < 0)
		return cmd_err(out, json, HATGT_ADMIN_USAGE,
			       "usage: log-level error|warning|notice|info|debug");
	qb_log(LOG_NOTICE, "log level set to %s", argv[1]);
	return cmd_ok(out, json, "log level: %s", argv[1]);
}

const struct admin_cmd daemon_admin_cmds[] = {
	{"status", "status", cmd_status},
	{"role", "role   (standalone|promoted|unpromoted|syncing|demoting|config-mismatch)",
	 cmd_role},
	{"promote", "promote", cmd_promote},
	{"demote", "demote   (then poll role until unpromoted)", cmd_demote},
	{"targets", "targets", cmd_targets},
	{"luns", "luns [TARGET]", cmd_luns},
	{"sessions", "sessions", cmd_sessions},
	{"add-target", "add-target IQN", cmd_add_target},
	{"remove-target", "remove-target IQN", cmd_remove_target},
	{"add-lun", "add-lun TARGET LUN PATH [size=SIZE] [readonly] [block_size=512|4096]",
	 cmd_add_lun},
	{"remove-lun", "remove-lun TARGET LUN", cmd_remove_lun},
	{"resize-lun", "resize-lun TARGET LUN [SIZE [shrink]]   (no SIZE: re-read a device)",
	 cmd_resize_lun},
	{"pr", "pr TARGET LUN   (persistent reservation state)", cmd_pr},
	{"clone",
	 "clone GOLDEN COUNT [prefix=NAME] [dir=DIR] [initiator=PATTERN] [start=N] [iqn=IQN] "
	 "[conf=DIR]   (PATTERN: {n} = client number)",
	 cmd_clone},
	{"remove-clones", "remove-clones NAME [iqn=IQN] [conf=DIR] [delete-overlays]",
	 cmd_remove_clones},
	{"reload", "reload", cmd_reload},
	{"log-level", "log-level error|warning|notice|info|debug", cmd_log_level},
};
const size_t daemon_admin_ncmds = sizeof(daemon_admin_cmds) / sizeof(daemon_admin_cmds[0]);
