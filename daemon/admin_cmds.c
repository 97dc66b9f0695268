/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The verbs of hatgtadm, executed in the daemon on the loop thread.
 * Every handler answers a table for people or JSON for scripts, and an
 * error names what was not found ("target not found: iqn...").
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <qb/qblog.h>

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

	list_for_each_entry(t, &d->reg.targets, node)
	{
		ntargets++;
		nluns += t->lun_list.count;
	}
	if (json) {
		buf_printf(out,
			   "{\"version\":\"%s\",\"role\":\"%s\",\"state\":\"%s\","
			   "\"cluster\":\"%s\",\"members\":%zu,\"quorate\":%s,\"epoch\":%llu,"
			   "\"generation\":%llu,\"pending_pr\":%zu,"
			   "\"uptime\":%ld,\"targets\":%zu,\"luns\":%zu,\"sessions\":%u,"
			   "\"connections\":%u,\"config\":",
			   PACKAGE_VERSION, daemon_role_name(d),
			   d->stopping ? "stopping" : "running", cluster, members,
			   quorate ? "true" : "false", epoch, gen, pending,
			   (long)(time(NULL) - d->start_time), ntargets, nluns, d->srv.nsessions,
			   d->srv.nconns);
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
			   "luns:        %zu\nsessions:    %u\nconnections: %u\n",
			   (long)(time(NULL) - d->start_time),
			   d->config_path ? d->config_path : "<embedded default>", ntargets, nluns,
			   d->srv.nsessions, d->srv.nconns);
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
	list_for_each_entry(t, &d->reg.targets, node)
	{
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
		buf_printf(out, "%-56s %-4s %-14s %s\n", "TARGET", "LUN", "SIZE", "PATH");
	list_for_each_entry(t, &d->reg.targets, node)
	{
		if (argc == 2 && strcmp(t->name, argv[1]) != 0)
			continue;
		for (i = 0; i < HATGT_MAX_LUNS; i++) {
			struct scsi_lu *lu = t->lus[i];

			if (!lu)
				continue;
			if (json) {
				buf_printf(out, "%s{\"target\":", first ? "" : ",");
				admin_json_str(out, t->name);
				buf_printf(out, ",\"lun\":%zu,\"size\":%llu,\"path\":", i,
					   (unsigned long long)scsi_lu_size(lu));
				admin_json_str(out, scsi_lu_path(lu));
				buf_printf(out, "}");
			} else {
				buf_printf(out, "%-56s %-4zu %-14llu %s\n", t->name, i,
					   (unsigned long long)scsi_lu_size(lu), scsi_lu_path(lu));
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

static int cmd_parse_lun(const char *s, uint32_t *lun)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v >= HATGT_MAX_LUNS)
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
	{"reload", "reload", cmd_reload},
	{"log-level", "log-level error|warning|notice|info|debug", cmd_log_level},
};
const size_t daemon_admin_ncmds = sizeof(daemon_admin_cmds) / sizeof(daemon_admin_cmds[0]);
