/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hatgtd: the hatgt iSCSI target daemon.
 *
 * One event-loop thread (libqb) owns sockets, sessions and IPC; backing I/O
 * completes into it through the SCSI layer's completion fd. Each start-up
 * stage has its own exit code, so a supervisor can tell what failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <qb/qblog.h>

#include "daemon.h"
#include "ha/ha.h"
#include "scsi/pr_commit.h"
#include "scsi/scsi.h"

enum hatgtd_exit {
	EXIT_OK = 0,
	EXIT_USAGE = 2,
	EXIT_CONFIG = 3,
	EXIT_STATE_DIR = 4,
	EXIT_STORAGE = 5,
	EXIT_LISTEN = 6,
	EXIT_ADMIN = 7,
	EXIT_INTERNAL = 8,
	EXIT_CLUSTER = 9,
};

#define HATGTD_DRAIN_TIMEOUT_S 30

static const char *const log_level_names[] = {"error", "warning", "notice", "info", "debug"};
static const int log_level_values[] = {LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG};

int daemon_log_level_set(const char *level)
{
	size_t i;

	for (i = 0; i < sizeof(log_level_names) / sizeof(log_level_names[0]); i++) {
		if (strcmp(level, log_level_names[i]) != 0)
			continue;
		qb_log_filter_ctl(QB_LOG_STDERR, QB_LOG_FILTER_CLEAR_ALL, QB_LOG_FILTER_FILE, "*",
				  LOG_TRACE);
		qb_log_filter_ctl(QB_LOG_SYSLOG, QB_LOG_FILTER_CLEAR_ALL, QB_LOG_FILTER_FILE, "*",
				  LOG_TRACE);
		qb_log_filter_ctl(QB_LOG_STDERR, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*",
				  (uint8_t)log_level_values[i]);
		qb_log_filter_ctl(QB_LOG_SYSLOG, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*",
				  (uint8_t)log_level_values[i]);
		return 0;
	}
	return -EINVAL;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: hatgtd [--config FILE] [--foreground] [--check]\n"
		   "  -c, --config FILE   configuration file (default: the embedded single-LUN\n"
		   "                      default on 127.0.0.1:3260)\n"
		   "  -f, --foreground    stay in the foreground and log to stderr\n"
		   "  -t, --check         check the configuration and exit\n"
		   "  -p, --print-default print the embedded default configuration\n"
		   "  -h, --help          this text\n"
		   "  -V, --version       the version\n");
}

static int load_config(const char *path, struct hatgt_config **out, char *err, size_t errlen)
{
	if (path)
		return hatgt_config_load(path, out, err, errlen);
	return hatgt_config_parse_string(hatgt_config_default, "<embedded default>", out, err,
					 errlen);
}

static int mkdir_p(const char *path)
{
	char tmp[4096];
	size_t i, len = strlen(path);

	if (len == 0 || len >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, path, len + 1);
	for (i = 1; i <= len; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, 0750) < 0 && errno != EEXIST)
			return -errno;
		tmp[i] = path[i];
	}
	return 0;
}

/* Every connection is a descriptor: take the hard limit, not the 1,024
 * soft default, so max_connections is what limits sessions. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			qb_log(LOG_WARNING, "cannot raise the open files limit: %s",
			       strerror(errno));
	}
}

static int pid_file_write(const char *path)
{
	char buf[32];
	int fd, n, rc = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n)
		rc = -EIO;
	close(fd);
	return rc;
}

int daemon_reload(struct hatgt_daemon *d, char *err, size_t errlen)
{
	struct hatgt_config *cfg = NULL;
	int rc;

	rc = load_config(d->config_path, &cfg, err, errlen);
	if (rc < 0)
		return rc;
	rc = target_registry_apply(&d->reg, cfg, err, errlen);
	if (rc < 0) {
		hatgt_config_free(cfg);
		return rc;
	}
	/* Sessions of targets that are gone end; the rest are untouched. */
	iscsi_server_set_config(&d->srv, cfg);
	if (strcmp(cfg->log_level, d->cfg->log_level) != 0)
		daemon_log_level_set(cfg->log_level);
	if (cfg->nportals != d->cfg->nportals ||
	    memcmp(cfg->portals, d->cfg->portals, sizeof(cfg->portals[0]) * cfg->nportals) != 0)
		qb_log(LOG_WARNING, "reload: portal changes take effect at the next start");
	hatgt_config_free(d->cfg);
	d->cfg = cfg;
	if (d->ha) {
		uint8_t digest[32];

		/* A member started later with this config must match it. */
		hatgt_config_digest(cfg, digest);
		ha_digest_set(d->ha, digest);
	}
	qb_log(LOG_NOTICE, "configuration reloaded from %s",
	       d->config_path ? d->config_path : "<embedded default>");
	return 0;
}

static void on_drained(void *arg)
{
	struct hatgt_daemon *d = arg;

	qb_log(LOG_NOTICE, "all sessions closed");
	qb_loop_stop(d->loop);
}

static void on_drain_timeout(void *arg)
{
	struct hatgt_daemon *d = arg;

	qb_log(LOG_WARNING, "commands still in flight after %d s; exiting anyway",
	       HATGTD_DRAIN_TIMEOUT_S);
	qb_loop_stop(d->loop);
}

static int32_t on_signal(int32_t sig, void *data)
{
	struct hatgt_daemon *d = data;
	char err[512];
	qb_loop_timer_handle th;

	if (sig == SIGHUP) {
		if (daemon_reload(d, err, sizeof(err)) < 0)
			qb_log(LOG_ERR, "reload failed, configuration unchanged: %s", err);
		return 0;
	}
	if (d->stopping)
		return 0;
	d->stopping = true;
	qb_log(LOG_NOTICE, "signal %d: finishing in-flight commands and shutting down", sig);
	qb_loop_timer_add(d->loop, QB_LOOP_HIGH, HATGTD_DRAIN_TIMEOUT_S * 1000000000ull, d,
			  on_drain_timeout, &th);
	iscsi_server_drain(&d->srv, on_drained, d);
	return 0;
}

static int32_t on_scsi_completion(int32_t fd, int32_t revents, void *data)
{
	struct hatgt_daemon *d = data;

	scsi_completion_hold();
	scsi_completion_run();
	scsi_completion_release();
	/* The responses of every completion just run go out together. */
	iscsi_server_flush(&d->srv);
	return 0;
}

void daemon_flush_all(struct hatgt_daemon *d)
{
	struct hatgt_target *t;
	size_t i;

	list_for_each_entry(t, &d->reg.targets, node)
		for (i = 0; i < HATGT_MAX_LUNS; i++)
			if (t->lus[i] && scsi_lu_flush_sync(t->lus[i]) < 0)
				qb_log(LOG_ERR, "target %s LUN %zu: flush failed", t->name, i);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"foreground", no_argument, NULL, 'f'},
		{"check", no_argument, NULL, 't'},
		{"print-default", no_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct hatgt_daemon d;
	bool foreground = false, check = false;
	char err[1024];
	int c, rc, code = EXIT_OK;

	memset(&d, 0, sizeof(d));
	while ((c = getopt_long(argc, argv, "c:ftphV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			d.config_path = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 't':
			check = true;
			break;
		case 'p':
			fputs(hatgt_config_default, stdout);
			return EXIT_OK;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("hatgtd %s\n", PACKAGE_VERSION);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}

	rc = load_config(d.config_path, &d.cfg, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "hatgtd: %s\n", err);
		return EXIT_CONFIG;
	}
	if (check) {
		printf("%s: configuration OK (%zu target(s))\n",
		       d.config_path ? d.config_path : "<embedded default>", d.cfg->ntargets);
		hatgt_config_free(d.cfg);
		return EXIT_OK;
	}

	qb_log_init("hatgtd", LOG_DAEMON, LOG_INFO);
	qb_log_format_set(QB_LOG_STDERR, "%t [%p] %f:%l %b");
	qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_ENABLED, foreground ? QB_TRUE : QB_FALSE);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, foreground ? QB_FALSE : QB_TRUE);
	daemon_log_level_set(d.cfg->log_level);

	rc = mkdir_p(d.cfg->state_dir);
	if (rc < 0) {
		fprintf(stderr, "hatgtd: cannot create state_dir %s: %s\n", d.cfg->state_dir,
			strerror(-rc));
		code = EXIT_STATE_DIR;
		goto out_cfg;
	}
	if (!foreground && daemon(0, 0) < 0) {
		fprintf(stderr, "hatgtd: cannot daemonize: %s\n", strerror(errno));
		code = EXIT_INTERNAL;
		goto out_cfg;
	}
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	/*
	 * Data buffers come and go at I/O rate. Keep those up to 4 MiB (a
	 * 1 MiB command, the negotiated MaxBurstLength) in the heap instead of
	 * fresh mmap()s, and keep the heap: otherwise every large command
	 * faults in and zeroes new pages (docs/performance.md measured a third
	 * of the CPU at 1 MiB reads). Rarer, larger ones (up to 8 MiB) are
	 * mapped and given back: in the heap they fragmented it, and the RSS
	 * grew by their size after each round of hostile_limit_memory_*.sh.
	 */
	mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);

	d.loop = qb_loop_create();
	if (!d.loop || scsi_init() < 0) {
		qb_log(LOG_ERR, "cannot set up the event loop or the I/O engine");
		fprintf(stderr, "hatgtd: cannot set up the event loop or the I/O engine\n");
		code = EXIT_INTERNAL;
		goto out_cfg;
	}
	qb_loop_poll_add(d.loop, QB_LOOP_HIGH, scsi_completion_fd(), POLLIN, &d,
			 on_scsi_completion);

	scsi_pr_state_dir_set(d.cfg->state_dir);
	target_registry_init(&d.reg);
	/* docs/ha.md "Backing stores and roles": in a cluster only the promoted
	 * node opens the backing stores (a DRBD Secondary cannot be opened). */
	d.reg.lu_detached = d.cfg->cluster == HATGT_CLUSTER_COROSYNC;
	rc = target_registry_apply(&d.reg, d.cfg, err, sizeof(err));
	if (rc < 0) {
		qb_log(LOG_ERR, "%s", err);
		fprintf(stderr, "hatgtd: %s\n", err);
		code = EXIT_STORAGE;
		goto out_scsi;
	}
	iscsi_server_init(&d.srv, d.loop, &d.reg, d.cfg);
	if (d.cfg->cluster == HATGT_CLUSTER_COROSYNC) {
		/* A cluster member serves only once promoted. */
		rc = daemon_cluster_start(&d, err, sizeof(err));
		if (rc < 0) {
			qb_log(LOG_ERR, "%s", err);
			fprintf(stderr, "hatgtd: %s\n", err);
			code = EXIT_CLUSTER;
			goto out_targets;
		}
	} else {
		d.role = HATGT_ROLE_STANDALONE;
		rc = iscsi_server_listen(&d.srv, err, sizeof(err));
		if (rc < 0) {
			qb_log(LOG_ERR, "%s", err);
			fprintf(stderr, "hatgtd: %s\n", err);
			code = EXIT_LISTEN;
			goto out_targets;
		}
	}
	rc = admin_server_start(d.loop, d.cfg->admin_name, daemon_admin_cmds, daemon_admin_ncmds,
				&d, &d.admin);
	if (rc < 0) {
		qb_log(LOG_ERR, "cannot start the admin service %s: %s", d.cfg->admin_name,
		       strerror(-rc));
		fprintf(stderr, "hatgtd: cannot start the admin service %s: %s\n",
			d.cfg->admin_name, strerror(-rc));
		code = EXIT_ADMIN;
		goto out_listen;
	}
	if (d.cfg->pid_file && (rc = pid_file_write(d.cfg->pid_file)) < 0)
		qb_log(LOG_WARNING, "cannot write pid file %s: %s", d.cfg->pid_file, strerror(-rc));

	qb_loop_signal_add(d.loop, QB_LOOP_HIGH, SIGTERM, &d, on_signal, NULL);
	qb_loop_signal_add(d.loop, QB_LOOP_HIGH, SIGINT, &d, on_signal, NULL);
	qb_loop_signal_add(d.loop, QB_LOOP_HIGH, SIGHUP, &d, on_signal, NULL);
	d.start_time = time(NULL);
	qb_log(LOG_NOTICE, "hatgtd %s started (%s, %zu target(s))", PACKAGE_VERSION,
	       d.config_path ? d.config_path : "embedded default config", d.cfg->ntargets);

	qb_loop_run(d.loop);

	daemon_flush_all(&d);
	admin_server_stop(d.admin);
	if (d.cfg->pid_file)
		unlink(d.cfg->pid_file);
	qb_log(LOG_NOTICE, "hatgtd stopped");
out_listen:
	daemon_cluster_stop(&d);
	iscsi_server_fini(&d.srv);
out_targets:
	target_registry_fini(&d.reg);
out_scsi:
	scsi_fini();
	qb_loop_destroy(d.loop);
out_cfg:
	hatgt_config_free(d.cfg);
	qb_log_fini();
	return code;
}
