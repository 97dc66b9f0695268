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

struct ha;

enum hatgt_role {
	HATGT_ROLE_STANDALONE = 0, /* cluster = none: always serving */
	HATGT_ROLE_UNPROMOTED,	   /* cluster member, portals closed */
	HATGT_ROLE_PROMOTED,	   /* cluster member serving the portals */
	HATGT_ROLE_DEMOTING,	   /* finishing in-flight commands, then unpromoted */
};

/* Demotion with demote_connections = logout: how long initiators get to
 * log out when asked (RFC 7143 AsyncEvent 1) before the remaining
 * connections are closed. The planned failover gap (docs/ha.md, at most
 * 2 s) includes it when an initiator ignores the request; libiscsi and
 * open-iscsi log out within milliseconds. */
#define HATGT_DEMOTE_LOGOUT_WAIT_MS 1000

struct hatgt_daemon {
	qb_loop_t *loop;
	struct hatgt_config *cfg; /* in effect */
	const char *config_path;  /* NULL: the embedded default */
	struct target_registry reg;
	struct iscsi_server srv;
	struct admin_server *admin;
	struct ha *ha; /* cluster = corosync */
	enum hatgt_role role;
	/* Backing stores still to be closed (a task held an LU): retried on a
	 * timer; promotion waits for it. */
	bool detach_pending;
	unsigned int detach_tries;
	qb_loop_timer_handle detach_timer;
	time_t start_time;
	bool stopping;
	int exit_code;
};

/** Re-read the config file and apply it (SIGHUP, hatgtadm reload).
 * \return 0 or -errno with a reason in err; on error nothing changed. */
int daemon_reload(struct hatgt_daemon *d, char *err, size_t errlen);
/** Apply a log level name (error|warning|notice|info|debug). \return 0 or -EINVAL. */
int daemon_log_level_set(const char *level);

/* cluster.c */
/** SHA-256 over everything that must be identical on every node: targets,
 * LUN numbers and identities, block sizes, TPGT and RTPI. */
void hatgt_config_digest(const struct hatgt_config *cfg, uint8_t out[32]);
/** Join the cluster (cluster = corosync). \return 0 or -errno. */
int daemon_cluster_start(struct hatgt_daemon *d, char *err, size_t errlen);
void daemon_cluster_stop(struct hatgt_daemon *d);
/** Open the portals and serve. \return 0, or -errno with a reason. */
int daemon_promote(struct hatgt_daemon *d, char *err, size_t errlen);
/** Stop serving: portals close, in-flight commands finish, then each
 * session's connection is parked (demote_connections = park: kept open and
 * silent, docs/ha.md "Planned failover") or asked to log out and closed
 * (logout); backing stores are flushed; the role is DEMOTING until then. */
int daemon_demote(struct hatgt_daemon *d, char *err, size_t errlen);
/** standalone, promoted, unpromoted, syncing, demoting or config-mismatch. */
const char *daemon_role_name(const struct hatgt_daemon *d);
void daemon_flush_all(struct hatgt_daemon *d);

extern const struct admin_cmd daemon_admin_cmds[];
extern const size_t daemon_admin_ncmds;

#endif
