/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The iSCSI target service as the daemon sees it: portals, connections and
 * sessions on a libqb main loop. Everything runs on the loop thread.
 */
#ifndef HATGT_ISCSI_H
#define HATGT_ISCSI_H

#include <stdbool.h>
#include <stdint.h>

#include <qb/qbloop.h>

#include "config.h"
#include "iscsi/login.h"
#include "target.h"
#include "util/buf.h"
#include "util/list.h"

struct iscsi_server {
	qb_loop_t *loop;
	struct target_registry *reg;
	const struct hatgt_config *cfg; /* the config in effect; not owned */
	struct iscsi_login_env login_env;
	struct list_head conns; /* every connection, logged in or not */
	struct list_head dirty; /* connections with queued output to flush */
	bool flush_scheduled;
	struct list_head sessions;
	int listen_fds[HATGT_MAX_PORTALS];
	size_t nlisten;
	uint16_t next_tsih;
	uint32_t nsessions;
	uint32_t nconns;
	bool draining;
	/* poll_us (config): busy polling after socket activity. */
	bool polling;		    /* the poll job is queued */
	uint64_t last_activity_ns;  /* CLOCK_MONOTONIC of the last socket event */
	uint32_t poll_lowqd;	    /* poll_us = auto: low-depth commands in a row */
	uint64_t poll_started_ns;   /* when the current polling began */
	uint64_t polled_ns;	    /* time spent polling, ended windows (hatgtadm status) */
	void (*drained)(void *arg); /* called once when draining and no connection is left */
	void *drained_arg;
};

/** \return 0 or -errno. */
int iscsi_server_init(struct iscsi_server *srv, qb_loop_t *loop, struct target_registry *reg,
		      const struct hatgt_config *cfg);
/** Open every portal of the config. \return 0 or -errno with a reason in err. */
int iscsi_server_listen(struct iscsi_server *srv, char *err, size_t errlen);
/** Close the listening sockets. */
void iscsi_server_unlisten(struct iscsi_server *srv);
/** A new config is in effect (SIGHUP). Closes sessions of removed targets. */
void iscsi_server_set_config(struct iscsi_server *srv, const struct hatgt_config *cfg);
/** Close every session logged in to a target (target removed). */
void iscsi_server_close_target(struct iscsi_server *srv, const struct hatgt_target *t);
/**
 * Stop serving: no new connections or commands; in-flight commands finish
 * and get their responses; then every connection closes and drained(arg)
 * runs once.
 */
void iscsi_server_drain(struct iscsi_server *srv, void (*drained)(void *arg), void *arg);
/** Like iscsi_server_drain(), but first close the portals and send every
 * full-feature connection an Async Message asking for a logout (RFC 7143
 * 11.9.1, AsyncEvent 1), wait up to \p wait_ms for the initiators to log out,
 * then drain what is left. */
void iscsi_server_drain_logout(struct iscsi_server *srv, unsigned int wait_ms,
			       void (*drained)(void *arg), void *arg);
/** Leave the draining state (after a demotion completed). */
void iscsi_server_undrain(struct iscsi_server *srv);
/** Stop serving at once: close the portals and every connection without
 * waiting (quorum or cluster connection lost). Commands in the backend
 * complete later with nobody to answer. */
void iscsi_server_stop_now(struct iscsi_server *srv);
void iscsi_server_fini(struct iscsi_server *srv);

/* Time the event loop has spent polling (poll_us), in nanoseconds. */
uint64_t iscsi_server_polled_ns(const struct iscsi_server *srv);

/** Write the queued output of every connection (once per loop iteration:
 * responses produced in one wake-up go out in one sendmsg per connection). */
void iscsi_server_flush(struct iscsi_server *srv);

/** Describe sessions for hatgtadm (a table, or a JSON array). */
void iscsi_server_sessions_show(const struct iscsi_server *srv, bool json, struct buf *out);

#endif
