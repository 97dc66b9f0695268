/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's top-level state, shared by main.c and the admin commands.
 */
#ifndef HATGT_DAEMON_H
#define HATGT_DAEMON_H

#include <stdbool.h>
#include <time.h>

#include <qb/qbloop.h>

#include "admin/admin.h"
#include "config.h"
#include "iscsi/iscsi.h"
#include "target.h"

struct hatgt_daemon {
	qb_loop_t *loop;
	struct hatgt_config *cfg; /* in effect */
	const char *config_path;  /* NULL: the embedded default */
	struct target_registry reg;
	struct iscsi_server srv;
	struct admin_server *admin;
	time_t start_time;
	bool stopping;
	int exit_code;
};

/** Re-read the config file and apply it (SIGHUP, hatgtadm reload).
 * \return 0 or -errno with a reason in err; on error nothing changed. */
int daemon_reload(struct hatgt_daemon *d, char *err, size_t errlen);
/** Apply a log level name (error|warning|notice|info|debug). \return 0 or -EINVAL. */
int daemon_log_level_set(const char *level);

extern const struct admin_cmd daemon_admin_cmds[];
extern const size_t daemon_admin_ncmds;

#endif
