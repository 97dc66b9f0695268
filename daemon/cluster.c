/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's role in a cluster: joining corosync (ha/), promotion and
 * demotion as the resource agent drives them, and stopping at once when
 * the cluster connection or quorum is lost (design.md rules 2 and 6).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <qb/qblog.h>

#include "daemon.h"
#include "ha/ha.h"
#include "ha/tickle.h"
#include "ha/tickle_pkt.h"
#include "iscsi/server_hook.h"
#include "scsi/pr_commit.h"

#define CLUSTER_GROUP "hatgt"

/* Tickle ACKs of the current promotion (one daemon per process). */
static struct tickle *cluster_tickle;

static void cluster_tickle_stop(void)
{
	tickle_stop(cluster_tickle);
	cluster_tickle = NULL;
}

/* iSCSI connection hook: announce served connections to the other members
 * (docs/replication.md "Connection hints"); a login also ends the tickling
 * of that initiator. */
static void cluster_conn_hook(void *ctx, bool logged_in, const struct sockaddr *local,
			      const struct sockaddr *peer)
{
	struct hatgt_daemon *d = ctx;
	struct repl_conn c;

	if (logged_in)
		tickle_login(cluster_tickle, peer);
	if (d->ha && repl_conn_set(&c, local, peer) == 0)
		ha_conn_note(d->ha, logged_in, &c);
}

/* The previous promoted member's connections to one of our portals, into
 * conns (REPL_CONNS_MAX entries). \return how many. */
static size_t cluster_conns_to_tickle(struct hatgt_daemon *d, struct repl_conn *conns)
{
	size_t n = ha_conns_others(d->ha, conns, REPL_CONNS_MAX), kept = 0, i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < d->cfg->nportals; j++) {
			if (tickle_portal_match(
				    &conns[i], (const struct sockaddr *)&d->cfg->portals[j].addr)) {
				conns[kept++] = conns[i];
				break;
			}
		}
	}
	return kept;
}

void hatgt_config_digest(const struct hatgt_config *cfg, uint8_t out[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int len = 32;
	char line[1024];
	size_t i, j;

	memset(out, 0, 32);
	if (!ctx)
		return;
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	/* One line per identity-bearing item, in config order (targets and
	 * LUNs are sorted by the parser's rules, identically on every node). */
	for (i = 0; i < cfg->ntargets; i++) {
		const struct hatgt_target_cfg *t = &cfg->targets[i];

		snprintf(line, sizeof(line), "target %s tpgt %u rtpi %u\n", t->name, t->tpgt,
			 t->rtpi);
		EVP_DigestUpdate(ctx, line, strlen(line));
		for (j = 0; j < t->nluns; j++) {
			const struct hatgt_lun_cfg *l = &t->luns[j];
			char naa[33] = "";
			size_t k;

			for (k = 0; k < l->naa_len && k < 16; k++)
				snprintf(naa + 2 * k, 3, "%02x", l->naa[k]);
			snprintf(line, sizeof(line),
				 "lun %u serial %s naa %s bs %u pbs %u ro %d rmb %d enc %d\n",
				 l->lun, l->serial, naa, l->block_size, l->physical_block_size,
				 l->readonly, l->removable, l->key_file != NULL);
			EVP_DigestUpdate(ctx, line, strlen(line));
		}
	}
	EVP_DigestFinal_ex(ctx, out, &len);
	EVP_MD_CTX_free(ctx);
}

/* Retry closing the backing stores while a task still holds an LU: every
 * 10 ms, with a log line every 5 s (a backend I/O that never completes). */
#define CLUSTER_DETACH_RETRY_NS (10ull * 1000 * 1000)
#define CLUSTER_DETACH_LOG_EVERY 500

static void cluster_demote_done(struct hatgt_daemon *d)
{
	iscsi_server_undrain(&d->srv);
	if (d->role == HATGT_ROLE_DEMOTING) {
		if (d->ha)
			ha_demote(d->ha);
		d->role = HATGT_ROLE_UNPROMOTED;
		qb_log(LOG_NOTICE, "demoted: portals, sessions and backing stores closed");
	} else {
		qb_log(LOG_NOTICE, "backing stores flushed and closed");
	}
}

static void cluster_detach_retry(void *arg)
{
	struct hatgt_daemon *d = arg;

	if (target_registry_detach(&d->reg) == -EBUSY) {
		if (++d->detach_tries % CLUSTER_DETACH_LOG_EVERY == 0)
			qb_log(LOG_WARNING, "backing stores: commands in the backend after %u s",
			       d->detach_tries / 100);
		qb_loop_timer_add(d->loop, QB_LOOP_HIGH, CLUSTER_DETACH_RETRY_NS, d,
				  cluster_detach_retry, &d->detach_timer);
		return;
	}
	d->detach_pending = false;
	d->detach_tries = 0;
	cluster_demote_done(d);
}

/* Flush and close every backing store; once closed, finish the demotion.
 * Other errors than -EBUSY (a failed flush) are logged by the registry: the
 * stores are closed anyway, and the peer may open them. */
static void cluster_detach_all(struct hatgt_daemon *d)
{
	if (d->detach_pending)
		return;
	d->detach_pending = true;
	d->detach_tries = 0;
	cluster_detach_retry(d);
}

static void cluster_stop_serving(void *ctx, const char *why)
{
	struct hatgt_daemon *d = ctx;

	if (d->role != HATGT_ROLE_PROMOTED && d->role != HATGT_ROLE_DEMOTING)
		return;
	qb_log(LOG_ERR, "%s: stopping service at once (portals closed, sessions dropped)", why);
	cluster_tickle_stop();
	iscsi_server_stop_now(&d->srv);
	ha_demote(d->ha);
	d->role = HATGT_ROLE_UNPROMOTED;
	/* Commands already in the backend finish first; the stores close after. */
	cluster_detach_all(d);
}

static void cluster_after_dispatch(void *ctx)
{
	struct hatgt_daemon *d = ctx;

	/* PR OUT commands completed by this delivery answer now. */
	iscsi_server_flush(&d->srv);
}

int daemon_cluster_start(struct hatgt_daemon *d, char *err, size_t errlen)
{
	struct ha_callbacks cb = {.must_stop_serving = cluster_stop_serving,
				  .after_dispatch = cluster_after_dispatch,
				  .ctx = d};
	uint8_t digest[32];
	uint64_t epoch = 0, generation = 0;
	int rc;

	hatgt_config_digest(d->cfg, digest);
	scsi_pr_position_get(&epoch, &generation);
	rc = ha_start(d->loop, CLUSTER_GROUP, digest, epoch, generation, &cb, &d->ha);
	if (rc < 0) {
		snprintf(err, errlen, "cannot start cluster membership: %s", strerror(-rc));
		return rc;
	}
	scsi_pr_committer_set(ha_committer(d->ha));
	iscsi_server_conn_hook_set(cluster_conn_hook, d);
	d->role = HATGT_ROLE_UNPROMOTED;
	return 0;
}

void daemon_cluster_stop(struct hatgt_daemon *d)
{
	if (d->detach_pending) {
		qb_loop_timer_del(d->loop, d->detach_timer);
		d->detach_pending = false;
	}
	iscsi_server_conn_hook_set(NULL, NULL);
	cluster_tickle_stop();
	if (!d->ha)
		return;
	scsi_pr_committer_set(NULL);
	ha_stop(d->ha);
	d->ha = NULL;
}

int daemon_promote(struct hatgt_daemon *d, char *err, size_t errlen)
{
	struct repl_conn *conns = NULL;
	size_t nconns = 0;
	int rc;

	if (d->role == HATGT_ROLE_STANDALONE || d->role == HATGT_ROLE_PROMOTED)
		return 0;
	if (d->role == HATGT_ROLE_DEMOTING || d->detach_pending) {
		snprintf(err, errlen, "still demoting; try again when unpromoted");
		return -EBUSY;
	}
	/* Before the new epoch clears them: the connections to tickle. */
	conns = calloc(REPL_CONNS_MAX, sizeof(*conns));
	if (conns)
		nconns = cluster_conns_to_tickle(d, conns);
	rc = ha_promote(d->ha);
	if (rc == -EAGAIN) {
		snprintf(err, errlen, "cannot promote: PR state not synced (%s)",
			 daemon_role_name(d));
		goto out;
	}
	if (rc == -EACCES) {
		snprintf(err, errlen, "cannot promote: the cluster is not quorate");
		goto out;
	}
	if (rc < 0) {
		snprintf(err, errlen, "cannot promote: %s", strerror(-rc));
		goto out;
	}
	/* docs/ha.md "Backing stores and roles": open every backing store
	 * before the portals; one that fails fails the promotion, so that
	 * pacemaker tries another node. */
	rc = target_registry_attach(&d->reg, err, errlen);
	if (rc < 0) {
		qb_log(LOG_ERR, "promotion failed, staying unpromoted: %s", err);
		ha_demote(d->ha);
		goto out;
	}
	rc = iscsi_server_listen(&d->srv, err, errlen);
	if (rc < 0) {
		/* No portal was open, so no task holds an LU. */
		target_registry_detach(&d->reg);
		ha_demote(d->ha);
		goto out;
	}
	d->role = HATGT_ROLE_PROMOTED;
	qb_log(LOG_NOTICE, "promoted: serving (epoch %llu)", (unsigned long long)ha_epoch(d->ha));
	/* Connections parked by our last demotion are the initiators' old
	 * ones, each maybe waiting for the answer to a command it sent after
	 * the park (so sending nothing): reset them now that the portals
	 * listen, and they reconnect at once, here. */
	iscsi_server_park_close(&d->srv, true);
	/* docs/replication.md "Connection hints": make the initiators of
	 * the previous promoted node notice at once. */
	cluster_tickle_stop();
	if (!conns)
		qb_log(LOG_WARNING, "tickle ACKs: out of memory; none sent");
	else
		tickle_start(d->loop, conns, nconns, &cluster_tickle);
out:
	free(conns);
	return rc;
}

static void cluster_drained(void *arg)
{
	cluster_detach_all(arg);
}

int daemon_demote(struct hatgt_daemon *d, char *err, size_t errlen)
{
	if (d->role == HATGT_ROLE_STANDALONE) {
		snprintf(err, errlen, "not in a cluster (cluster = none)");
		return -EINVAL;
	}
	if (d->role != HATGT_ROLE_PROMOTED)
		return 0;
	d->role = HATGT_ROLE_DEMOTING;
	cluster_tickle_stop();
	if (d->cfg->demote_connections == HATGT_DEMOTE_LOGOUT) {
		qb_log(LOG_NOTICE,
		       "demoting: asking initiators to log out, finishing in-flight commands");
		iscsi_server_drain_logout(&d->srv, HATGT_DEMOTE_LOGOUT_WAIT_MS, cluster_drained, d);
		return 0;
	}
	/* docs/ha.md "Planned failover": a logout request makes the initiator
	 * reconnect while no node serves the portal address, be refused and
	 * back off; a parked connection stays up on its side until the next
	 * promoted node's tickle resets it, and its first reconnect succeeds. */
	qb_log(LOG_NOTICE, "demoting: parking connections, finishing in-flight commands");
	iscsi_server_drain_park(&d->srv, cluster_drained, d);
	return 0;
}

const char *daemon_role_name(const struct hatgt_daemon *d)
{
	switch (d->role) {
	case HATGT_ROLE_STANDALONE:
		return "standalone";
	case HATGT_ROLE_PROMOTED:
		return "promoted";
	case HATGT_ROLE_DEMOTING:
		return "demoting";
	case HATGT_ROLE_UNPROMOTED:
		if (!d->ha || ha_sync_state(d->ha) == REPL_SYNCING)
			return "syncing";
		if (ha_sync_state(d->ha) == REPL_CONFIG_MISMATCH)
			return "config-mismatch";
		return "unpromoted";
	}
	return "unknown";
}
