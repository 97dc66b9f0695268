/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * corosync binding of the replication state machine (repl.c): CPG for
 * membership and agreed-order delivery, votequorum for quorum, pacemaker's
 * fencer for "has that node been fenced" (loaded at run time, so the daemon
 * runs without pacemaker installed).
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <corosync/cpg.h>
#include <corosync/quorum.h>
#include <qb/qblog.h>

#include "ha/ha.h"

#define HA_TRY_AGAIN_MAX 200	 /* CS_ERR_TRY_AGAIN retries ... */
#define HA_TRY_AGAIN_NS 10000000 /* ... 10 ms apart: 2 s at most */
#define HA_FENCE_POLL_NS 1000000000ull
#define HA_RECONNECT_NS 1000000000ull

struct ha {
	qb_loop_t *loop;
	char group[CPG_MAX_NAME_LENGTH];
	uint8_t digest[REPL_DIGEST_LEN];
	struct ha_callbacks cb;
	struct scsi_pr_committer committer;
	struct repl *repl;
	uint64_t epoch, generation; /* carried across reconnects */
	cpg_handle_t cpg;
	quorum_handle_t quorum;
	int cpg_fd, quorum_fd;
	bool connected;
	bool quorate;
	bool promoted;
	bool left;
	uint32_t nodeid;
	qb_loop_timer_handle fence_timer;
	qb_loop_timer_handle reconnect_timer;
	qb_loop_timer_handle hint_timer;
};

#define HA_HINT_RETRY_NS 100000000ull /* a hint that did not go out: FULL again */

static int ha_errno(cs_error_t e)
{
	switch (e) {
	case CS_OK:
		return 0;
	case CS_ERR_TRY_AGAIN:
		return -EAGAIN;
	case CS_ERR_NO_MEMORY:
		return -ENOMEM;
	case CS_ERR_LIBRARY:
	case CS_ERR_BAD_HANDLE:
		return -ENOTCONN;
	case CS_ERR_ACCESS:
		return -EACCES;
	case CS_ERR_TOO_BIG:
		return -EMSGSIZE;
	case CS_ERR_EXIST:
		return -EEXIST;
	default:
		return -EIO;
	}
}

/* ---- repl_ops ----------------------------------------------------------- */

static int ha_op_send(void *ctx, const uint8_t *msg, size_t len)
{
	struct ha *ha = ctx;
	struct iovec iov = {.iov_base = (void *)msg, .iov_len = len};
	cs_error_t e;
	int i;

	if (!ha->connected)
		return -ENOTCONN;
	for (i = 0; i < HA_TRY_AGAIN_MAX; i++) {
		e = cpg_mcast_joined(ha->cpg, CPG_TYPE_AGREED, &iov, 1);
		if (e != CS_ERR_TRY_AGAIN)
			break;
		nanosleep(&(struct timespec){0, HA_TRY_AGAIN_NS}, NULL);
	}
	return ha_errno(e);
}

/* A hint must never stall the loop (and the PR commands behind it): one
 * attempt; on CS_ERR_TRY_AGAIN the hint is lost, which costs at most a
 * tickle ACK after a failover. */
static void ha_hint_timer_cb(void *data)
{
	struct ha *ha = data;

	ha->hint_timer = 0;
	if (ha->repl)
		repl_conns_retry(ha->repl);
}

static int ha_op_send_hint(void *ctx, const uint8_t *msg, size_t len)
{
	struct ha *ha = ctx;
	struct iovec iov = {.iov_base = (void *)msg, .iov_len = len};
	int rc;

	if (!ha->connected)
		return -ENOTCONN;
	rc = ha_errno(cpg_mcast_joined(ha->cpg, CPG_TYPE_AGREED, &iov, 1));
	if (rc && !ha->hint_timer)
		qb_loop_timer_add(ha->loop, QB_LOOP_MED, HA_HINT_RETRY_NS, ha, ha_hint_timer_cb,
				  &ha->hint_timer);
	return rc;
}

static int ha_op_apply(void *ctx, const uint8_t *cmd, size_t len, struct scsi_pr_result *res)
{
	return scsi_pr_deliver(cmd, len, res);
}

static int ha_op_snapshot(void *ctx, uint8_t **out, size_t *len)
{
	return scsi_pr_snapshot(out, len);
}

static int ha_op_install(void *ctx, const uint8_t *buf, size_t len)
{
	return scsi_pr_snapshot_install(buf, len);
}

static void ha_op_position(void *ctx, uint64_t epoch, uint64_t generation)
{
	struct ha *ha = ctx;

	ha->epoch = epoch;
	ha->generation = generation;
	scsi_pr_position_set(epoch, generation);
}

typedef time_t (*ha_stonith_time_fn)(uint32_t nodeid, const char *uname, bool in_progress);

static bool ha_op_fenced(void *ctx, uint32_t nodeid, uint64_t since)
{
	static ha_stonith_time_fn fn;
	static void *lib;
	time_t t;

	if (!lib) {
		lib = dlopen("libstonithd.so.26", RTLD_LAZY);
		if (lib)
			fn = (ha_stonith_time_fn)dlsym(lib, "stonith_api_time");
	}
	if (!fn) {
		qb_log(LOG_ERR,
		       "cannot ask pacemaker's fencer whether node %u was fenced "
		       "(libstonithd not found): its acknowledgements stay owed",
		       nodeid);
		return false;
	}
	t = fn(nodeid, NULL, false);
	/* A fence of that node completed after (or just as) it left. */
	return t > 0 && (uint64_t)t + 5 >= since;
}

static uint64_t ha_op_now(void *ctx)
{
	return (uint64_t)time(NULL);
}

static void ha_op_leave(void *ctx)
{
	struct ha *ha = ctx;

	if (ha->connected && !ha->left) {
		struct cpg_name name;

		ha->left = true;
		snprintf(name.value, sizeof(name.value), "%s", ha->group);
		name.length = (uint32_t)strlen(name.value);
		cpg_leave(ha->cpg, &name);
	}
}

static void ha_disconnect(struct ha *ha, const char *why);

static void ha_diverged_job(void *data)
{
	struct ha *ha = data;

	ha_disconnect(ha, "PR state diverged from the cluster's");
}

static void ha_op_diverged(void *ctx)
{
	struct ha *ha = ctx;

	qb_loop_job_add(ha->loop, QB_LOOP_HIGH, ha, ha_diverged_job);
}

static void ha_op_log(void *ctx, int level, const char *msg)
{
	qb_log(level, "%s", msg);
}

static const struct repl_ops ha_repl_ops = {
	.send = ha_op_send,
	.send_hint = ha_op_send_hint,
	.apply = ha_op_apply,
	.snapshot = ha_op_snapshot,
	.install = ha_op_install,
	.position = ha_op_position,
	.fenced = ha_op_fenced,
	.now = ha_op_now,
	.leave = ha_op_leave,
	.diverged = ha_op_diverged,
	.log = ha_op_log,
};

/* ---- corosync callbacks ------------------------------------------------- */

static struct ha *ha_from_cpg(cpg_handle_t h)
{
	void *ctx = NULL;

	cpg_context_get(h, &ctx);
	return ctx;
}

static void ha_cpg_deliver(cpg_handle_t h, const struct cpg_name *group, uint32_t nodeid,
			   uint32_t pid, void *msg, size_t len)
{
	struct ha *ha = ha_from_cpg(h);

	if (ha && ha->repl)
		repl_deliver(ha->repl, nodeid, pid, msg, len);
}

static void ha_fence_timer_cb(void *data);

static void ha_cpg_confchg(cpg_handle_t h, const struct cpg_name *group,
			   const struct cpg_address *members, size_t nmembers,
			   const struct cpg_address *left, size_t nleft,
			   const struct cpg_address *joined, size_t njoined)
{
	struct ha *ha = ha_from_cpg(h);
	struct repl_member m[64], l[64], j[64];
	size_t i;

	if (!ha || !ha->repl)
		return;
	nmembers = nmembers > 64 ? 64 : nmembers;
	nleft = nleft > 64 ? 64 : nleft;
	njoined = njoined > 64 ? 64 : njoined;
	for (i = 0; i < nmembers; i++)
		m[i] = (struct repl_member){members[i].nodeid, members[i].pid, members[i].reason};
	for (i = 0; i < nleft; i++)
		l[i] = (struct repl_member){left[i].nodeid, left[i].pid, left[i].reason};
	for (i = 0; i < njoined; i++)
		j[i] = (struct repl_member){joined[i].nodeid, joined[i].pid, joined[i].reason};
	qb_log(LOG_NOTICE, "cluster membership: %zu member(s), %zu joined, %zu left", nmembers,
	       njoined, nleft);
	repl_confchg(ha->repl, m, nmembers, l, nleft, j, njoined);
	for (i = 0; i < nleft; i++)
		if (left[i].reason == CPG_REASON_NODEDOWN && !ha->fence_timer)
			qb_loop_timer_add(ha->loop, QB_LOOP_MED, HA_FENCE_POLL_NS, ha,
					  ha_fence_timer_cb, &ha->fence_timer);
}

static void ha_fence_timer_cb(void *data)
{
	struct ha *ha = data;

	ha->fence_timer = 0;
	if (!ha->repl)
		return;
	repl_fence_poll(ha->repl);
	/* Keep polling while anything is still owed. */
	if (repl_npending(ha->repl) > 0)
		qb_loop_timer_add(ha->loop, QB_LOOP_MED, HA_FENCE_POLL_NS, ha, ha_fence_timer_cb,
				  &ha->fence_timer);
}

static void ha_quorum_notify(quorum_handle_t h, uint32_t quorate, uint64_t ring_seq, uint32_t nview,
			     uint32_t *view)
{
	struct ha *ha = NULL;

	quorum_context_get(h, (const void **)&ha);
	if (!ha)
		return;
	if ((bool)quorate != ha->quorate)
		qb_log(LOG_NOTICE, "cluster is %s (%u node(s))",
		       quorate ? "quorate" : "NOT quorate", nview);
	ha->quorate = quorate;
	if (ha->repl)
		repl_quorum(ha->repl, quorate);
	if (!quorate && ha->promoted && ha->cb.must_stop_serving)
		ha->cb.must_stop_serving(ha->cb.ctx, "quorum lost");
}

static int32_t ha_cpg_dispatch(int32_t fd, int32_t revents, void *data)
{
	struct ha *ha = data;
	cs_error_t e = cpg_dispatch(ha->cpg, CS_DISPATCH_ALL);

	if (e != CS_OK && e != CS_ERR_TRY_AGAIN)
		ha_disconnect(ha, "lost the connection to corosync (CPG)");
	if (ha->cb.after_dispatch)
		ha->cb.after_dispatch(ha->cb.ctx);
	return 0;
}

static int32_t ha_quorum_dispatch(int32_t fd, int32_t revents, void *data)
{
	struct ha *ha = data;
	cs_error_t e = quorum_dispatch(ha->quorum, CS_DISPATCH_ALL);

	if (e != CS_OK && e != CS_ERR_TRY_AGAIN)
		ha_disconnect(ha, "lost the connection to corosync (quorum)");
	return 0;
}

/* ---- connect / disconnect ----------------------------------------------- */

static int ha_connect(struct ha *ha)
{
	cpg_model_v1_data_t model;
	quorum_callbacks_t qcb = {.quorum_notify_fn = ha_quorum_notify};
	struct cpg_name name;
	uint32_t qtype = 0;
	cs_error_t e;
	int i;

	memset(&model, 0, sizeof(model));
	model.model = CPG_MODEL_V1;
	model.cpg_deliver_fn = ha_cpg_deliver;
	model.cpg_confchg_fn = ha_cpg_confchg;
	e = cpg_model_initialize(&ha->cpg, CPG_MODEL_V1, (cpg_model_data_t *)&model, ha);
	if (e != CS_OK)
		return ha_errno(e) == -EIO ? -ENOTCONN : ha_errno(e);
	e = cpg_local_get(ha->cpg, &ha->nodeid);
	if (e != CS_OK)
		goto fail_cpg;
	e = quorum_initialize(&ha->quorum, &qcb, &qtype);
	if (e != CS_OK)
		goto fail_cpg;
	quorum_context_set(ha->quorum, ha);
	{
		struct repl_ops ops = ha_repl_ops;

		ops.ctx = ha;
		ha->repl = repl_create(&ops, ha->nodeid, (uint32_t)getpid(), ha->digest, ha->epoch,
				       ha->generation);
	}
	if (!ha->repl) {
		e = CS_ERR_NO_MEMORY;
		goto fail_quorum;
	}
	cpg_fd_get(ha->cpg, &ha->cpg_fd);
	quorum_fd_get(ha->quorum, &ha->quorum_fd);
	qb_loop_poll_add(ha->loop, QB_LOOP_HIGH, ha->cpg_fd, POLLIN, ha, ha_cpg_dispatch);
	qb_loop_poll_add(ha->loop, QB_LOOP_HIGH, ha->quorum_fd, POLLIN, ha, ha_quorum_dispatch);
	ha->connected = true;
	ha->left = false;
	e = quorum_trackstart(ha->quorum, CS_TRACK_CHANGES | CS_TRACK_CURRENT);
	if (e != CS_OK)
		qb_log(LOG_WARNING, "cannot track quorum: %d", e);
	snprintf(name.value, sizeof(name.value), "%s", ha->group);
	name.length = (uint32_t)strlen(name.value);
	for (i = 0; i < HA_TRY_AGAIN_MAX; i++) {
		e = cpg_join(ha->cpg, &name);
		if (e != CS_ERR_TRY_AGAIN)
			break;
		nanosleep(&(struct timespec){0, HA_TRY_AGAIN_NS}, NULL);
	}
	if (e != CS_OK) {
		qb_log(LOG_ERR, "cannot join CPG group %s: %d", ha->group, e);
		ha_disconnect(ha, NULL);
		return ha_errno(e);
	}
	qb_log(LOG_NOTICE, "joined CPG group %s as node %u (pid %d): syncing PR state", ha->group,
	       ha->nodeid, (int)getpid());
	return 0;
fail_quorum:
	quorum_finalize(ha->quorum);
fail_cpg:
	cpg_finalize(ha->cpg);
	return ha_errno(e);
}

static void ha_reconnect_cb(void *data)
{
	struct ha *ha = data;

	ha->reconnect_timer = 0;
	if (ha->connected)
		return;
	if (ha_connect(ha) < 0)
		qb_loop_timer_add(ha->loop, QB_LOOP_LOW, HA_RECONNECT_NS, ha, ha_reconnect_cb,
				  &ha->reconnect_timer);
}

static void ha_disconnect(struct ha *ha, const char *why)
{
	if (!ha->connected)
		return;
	if (why)
		qb_log(LOG_ERR, "%s: not serving until rejoined and synced", why);
	ha->connected = false;
	qb_loop_poll_del(ha->loop, ha->cpg_fd);
	qb_loop_poll_del(ha->loop, ha->quorum_fd);
	/* Pending PR commands cannot complete now: repl_destroy answers them
	 * BUSY, so the initiator retries against whoever serves next. */
	repl_destroy(ha->repl);
	ha->repl = NULL;
	quorum_finalize(ha->quorum);
	cpg_finalize(ha->cpg);
	ha->quorate = false;
	if (why && ha->promoted && ha->cb.must_stop_serving)
		ha->cb.must_stop_serving(ha->cb.ctx, why);
	if (why)
		qb_loop_timer_add(ha->loop, QB_LOOP_LOW, HA_RECONNECT_NS, ha, ha_reconnect_cb,
				  &ha->reconnect_timer);
}

static int ha_commit_submit(void *ctx, const uint8_t *msg, size_t len, scsi_pr_done_fn done,
			    void *arg)
{
	struct ha *ha = ctx;

	if (!ha->repl)
		return -ENOTCONN;
	return repl_submit(ha->repl, msg, len, done, arg);
}

int ha_start(qb_loop_t *loop, const char *group, const uint8_t digest[REPL_DIGEST_LEN],
	     uint64_t epoch, uint64_t generation, const struct ha_callbacks *cb, struct ha **out)
{
	struct ha *ha = calloc(1, sizeof(*ha));
	int rc;

	if (!ha)
		return -ENOMEM;
	ha->loop = loop;
	snprintf(ha->group, sizeof(ha->group), "%s", group);
	memcpy(ha->digest, digest, REPL_DIGEST_LEN);
	ha->cb = *cb;
	ha->epoch = epoch;
	ha->generation = generation;
	ha->committer.submit = ha_commit_submit;
	ha->committer.ctx = ha;
	rc = ha_connect(ha);
	if (rc < 0) {
		/* corosync may start after us: keep trying. */
		qb_log(LOG_WARNING, "cannot connect to corosync (%s); retrying every second",
		       strerror(-rc));
		qb_loop_timer_add(loop, QB_LOOP_LOW, HA_RECONNECT_NS, ha, ha_reconnect_cb,
				  &ha->reconnect_timer);
	}
	*out = ha;
	return 0;
}

void ha_stop(struct ha *ha)
{
	if (!ha)
		return;
	if (ha->reconnect_timer)
		qb_loop_timer_del(ha->loop, ha->reconnect_timer);
	if (ha->fence_timer)
		qb_loop_timer_del(ha->loop, ha->fence_timer);
	if (ha->hint_timer)
		qb_loop_timer_del(ha->loop, ha->hint_timer);
	ha->promoted = false;
	if (ha->connected) {
		ha_op_leave(ha);
		ha_disconnect(ha, NULL);
	}
	free(ha);
}

const struct scsi_pr_committer *ha_committer(struct ha *ha)
{
	return &ha->committer;
}

void ha_digest_set(struct ha *ha, const uint8_t digest[REPL_DIGEST_LEN])
{
	memcpy(ha->digest, digest, REPL_DIGEST_LEN);
	if (ha->repl)
		repl_digest_set(ha->repl, digest);
}

int ha_promote(struct ha *ha)
{
	int rc;

	if (!ha->connected || !ha->repl)
		return -ENOTCONN;
	if (!ha->quorate)
		return -EACCES;
	rc = repl_promote(ha->repl);
	if (rc == 0)
		ha->promoted = true;
	return rc;
}

void ha_demote(struct ha *ha)
{
	ha->promoted = false;
	if (ha->repl)
		repl_demote(ha->repl);
}

enum repl_sync_state ha_sync_state(const struct ha *ha)
{
	return ha->repl ? repl_sync_state(ha->repl) : REPL_SYNCING;
}

bool ha_connected(const struct ha *ha)
{
	return ha->connected;
}

bool ha_quorate(const struct ha *ha)
{
	return ha->quorate;
}

size_t ha_members(const struct ha *ha)
{
	return ha->repl ? repl_nmembers(ha->repl) : 0;
}

uint64_t ha_epoch(const struct ha *ha)
{
	return ha->epoch;
}

uint64_t ha_generation(const struct ha *ha)
{
	return ha->generation;
}

size_t ha_pending(const struct ha *ha)
{
	return ha->repl ? repl_npending(ha->repl) : 0;
}

int ha_conn_note(struct ha *ha, bool logged_in, const struct repl_conn *c)
{
	if (!ha->repl)
		return -ENOTCONN;
	return repl_conn_note(ha->repl, logged_in, c);
}

size_t ha_conns_others(const struct ha *ha, struct repl_conn *out, size_t max)
{
	return ha->repl ? repl_conns_others(ha->repl, out, max) : 0;
}

uint32_t ha_nodeid(const struct ha *ha)
{
	return ha->nodeid;
}
