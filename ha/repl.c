/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PR replication state machine; see repl.h for the rules. Pure: libc only.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "ha/conntab.h"
#include "ha/repl.h"

#define REPL_MAX_MEMBERS 64

struct repl_peer {
	uint32_t nodeid;
	uint32_t pid;
	bool hello;
	uint8_t digest[REPL_DIGEST_LEN];
	uint64_t epoch;
	uint64_t generation;
	uint8_t flags;
};

struct repl_pending {
	struct repl_pending *next;
	uint64_t seq;
	scsi_pr_done_fn done;
	void *arg;
	bool delivered;
	struct scsi_pr_result res;
	struct repl_member waiting[REPL_MAX_MEMBERS];
	size_t nwaiting;
};

/* A command a syncing member received; covered: included in the snapshot
 * it is waiting for (acknowledge only), else apply after the snapshot. */
struct repl_buffered {
	struct repl_buffered *next;
	uint32_t nodeid;
	uint32_t pid;
	uint64_t seq;
	bool covered;
	size_t len;
	uint8_t cmd[];
};

struct repl_fence_wait {
	uint32_t nodeid;
	uint64_t since;
};

struct repl {
	struct repl_ops ops;
	uint32_t nodeid;
	uint32_t pid;
	uint8_t digest[REPL_DIGEST_LEN];
	uint64_t epoch;
	uint64_t generation;
	enum repl_sync_state state;
	bool promoted;
	bool quorate;
	struct repl_peer members[REPL_MAX_MEMBERS];
	size_t nmembers;
	bool round_done; /* every member's HELLO of this membership is in */
	bool source_known;
	uint32_t source_nodeid;
	uint32_t source_pid;
	uint64_t next_seq;
	struct repl_pending *pending; /* oldest first */
	struct repl_buffered *buffered, **buffered_tail;
	struct repl_fence_wait fence[REPL_MAX_MEMBERS];
	size_t nfence;
	/* Connection hints (docs/replication.md "Connection hints"). */
	struct conntab *conns;	/* announced by the other members */
	struct conntab *served; /* ours while promoted, kept here: an ADD may not go out */
	uint64_t serve_epoch;	/* the epoch our promotion began */
	bool conns_full_logged;
	bool conns_unsent; /* a hint failed to go out: send FULL again */
};

static void repl_log(struct repl *r, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void repl_log(struct repl *r, int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!r->ops.log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->ops.log(r->ops.ctx, level, msg);
}

const char *repl_sync_state_name(enum repl_sync_state s)
{
	switch (s) {
	case REPL_SYNCING:
		return "syncing";
	case REPL_SYNCED:
		return "synced";
	case REPL_CONFIG_MISMATCH:
		return "config-mismatch";
	}
	return "unknown";
}

struct repl *repl_create(const struct repl_ops *ops, uint32_t nodeid, uint32_t pid,
			 const uint8_t digest[REPL_DIGEST_LEN], uint64_t epoch, uint64_t generation)
{
	struct repl *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->ops = *ops;
	r->nodeid = nodeid;
	r->pid = pid;
	memcpy(r->digest, digest, REPL_DIGEST_LEN);
	r->epoch = epoch;
	r->generation = generation;
	r->state = REPL_SYNCING;
	r->next_seq = 1;
	r->buffered_tail = &r->buffered;
	r->conns = conntab_create(REPL_CONNS_MAX);
	r->served = conntab_create(REPL_CONNS_MAX);
	if (!r->conns || !r->served) {
		conntab_destroy(r->conns);
		conntab_destroy(r->served);
		free(r);
		return NULL;
	}
	return r;
}

static void repl_buffered_clear(struct repl *r)
{
	struct repl_buffered *b = r->buffered, *n;

	for (; b; b = n) {
		n = b->next;
		free(b);
	}
	r->buffered = NULL;
	r->buffered_tail = &r->buffered;
}

void repl_destroy(struct repl *r)
{
	struct repl_pending *p, *n;
	struct scsi_pr_result busy = {.status = SCSI_STATUS_BUSY};

	if (!r)
		return;
	for (p = r->pending; p; p = n) {
		n = p->next;
		p->done(p->arg, &busy);
		free(p);
	}
	repl_buffered_clear(r);
	conntab_destroy(r->conns);
	conntab_destroy(r->served);
	free(r);
}

void repl_digest_set(struct repl *r, const uint8_t digest[REPL_DIGEST_LEN])
{
	memcpy(r->digest, digest, REPL_DIGEST_LEN);
}

enum repl_sync_state repl_sync_state(const struct repl *r)
{
	return r->state;
}

size_t repl_nmembers(const struct repl *r)
{
	return r->nmembers;
}

size_t repl_npending(const struct repl *r)
{
	const struct repl_pending *p;
	size_t n = 0;

	for (p = r->pending; p; p = p->next)
		n++;
	return n;
}

uint64_t repl_epoch(const struct repl *r)
{
	return r->epoch;
}

uint64_t repl_generation(const struct repl *r)
{
	return r->generation;
}

static bool repl_is_me(const struct repl *r, uint32_t nodeid, uint32_t pid)
{
	return nodeid == r->nodeid && pid == r->pid;
}

static struct repl_peer *repl_peer_find(struct repl *r, uint32_t nodeid, uint32_t pid)
{
	size_t i;

	for (i = 0; i < r->nmembers; i++)
		if (r->members[i].nodeid == nodeid && r->members[i].pid == pid)
			return &r->members[i];
	return NULL;
}

/* A hint (REPL_CONNS) goes out without waiting or retrying (a failure is
 * a debug line, and the whole list goes out again later: repl_conns_retry):
 * it never holds up anything else. */
static int repl_send(struct repl *r, struct repl_msg *m)
{
	bool hint = m->hdr.type == REPL_CONNS;
	int (*send)(void *, const uint8_t *, size_t) = r->ops.send;
	struct buf b = BUF_INIT;
	int rc;

	if (hint && r->ops.send_hint)
		send = r->ops.send_hint;
	m->hdr.nodeid = r->nodeid;
	m->hdr.pid = r->pid;
	rc = repl_msg_encode(m, &b);
	if (rc == 0)
		rc = send(r->ops.ctx, b.data, b.len);
	if (rc)
		repl_log(r, hint ? LOG_DEBUG : LOG_ERR, "cannot multicast %s: %s",
			 repl_type_name(m->hdr.type), strerror(-rc));
	buf_release(&b);
	return rc;
}

static int repl_conns_send(struct repl *r, uint8_t op, const struct repl_conn *list, size_t n)
{
	struct repl_msg m;

	memset(&m, 0, sizeof(m));
	m.hdr.type = REPL_CONNS;
	m.u.conns.epoch = r->serve_epoch;
	m.u.conns.op = op;
	m.u.conns.count = (uint16_t)n;
	m.u.conns.list = list;
	if (repl_send(r, &m) == 0)
		return 0;
	r->conns_unsent = true;
	return -EAGAIN;
}

/* Everything we serve, again: a member joined (it missed the ADDs), or a
 * hint did not go out. */
static void repl_conns_send_full(struct repl *r)
{
	const struct conntab_entry *e;
	struct repl_conn *list;
	size_t i;

	list = calloc(conntab_count(r->served) + 1, sizeof(*list));
	if (!list) {
		r->conns_unsent = true;
		return;
	}
	for (i = 0; (e = conntab_at(r->served, i)); i++)
		list[i] = e->conn;
	repl_conns_send(r, REPL_CONNS_FULL, list, i);
	free(list);
}

int repl_conn_note(struct repl *r, bool logged_in, const struct repl_conn *c)
{
	if (!r->promoted)
		return -EAGAIN;
	if (logged_in)
		conntab_add(r->served, r->nodeid, r->pid, r->serve_epoch, c);
	else
		conntab_del(r->served, r->nodeid, r->pid, c);
	return repl_conns_send(r, logged_in ? REPL_CONNS_ADD : REPL_CONNS_DEL, c, 1);
}

bool repl_conns_unsent(const struct repl *r)
{
	return r->conns_unsent && r->promoted;
}

void repl_conns_retry(struct repl *r)
{
	if (!repl_conns_unsent(r))
		return;
	r->conns_unsent = false;
	repl_conns_send_full(r);
}

size_t repl_conns_others(const struct repl *r, struct repl_conn *out, size_t max)
{
	const struct conntab_entry *e;
	size_t i, n = 0;

	for (i = 0; n < max && (e = conntab_at(r->conns, i)); i++)
		out[n++] = e->conn;
	return n;
}

static void repl_conns_deliver(struct repl *r, const struct repl_msg *m)
{
	struct repl_conn c;
	size_t i, dropped = 0;

	/* Ours are in r->served. From an epoch that has ended: a demoted
	 * member's late goodbyes. */
	if (repl_is_me(r, m->hdr.nodeid, m->hdr.pid) || m->u.conns.epoch < r->epoch)
		return;
	if (m->u.conns.op == REPL_CONNS_FULL)
		conntab_clear_origin(r->conns, m->hdr.nodeid, m->hdr.pid);
	for (i = 0; i < m->u.conns.count; i++) {
		repl_conn_decode(m, i, &c);
		if (m->u.conns.op == REPL_CONNS_DEL)
			conntab_del(r->conns, m->hdr.nodeid, m->hdr.pid, &c);
		else
			dropped += conntab_add(r->conns, m->hdr.nodeid, m->hdr.pid,
					       m->u.conns.epoch, &c);
	}
	if (dropped && !r->conns_full_logged) {
		r->conns_full_logged = true;
		repl_log(r, LOG_WARNING,
			 "connection hint table full (%d entries): the oldest "
			 "dropped; those connections get no tickle ACK after a failover",
			 REPL_CONNS_MAX);
	}
}

static void repl_send_ack(struct repl *r, uint32_t nodeid, uint32_t pid, uint64_t seq)
{
	struct repl_msg m;

	memset(&m, 0, sizeof(m));
	m.hdr.type = REPL_ACK;
	m.u.ack.nodeid = nodeid;
	m.u.ack.pid = pid;
	m.u.ack.seq = seq;
	repl_send(r, &m);
}

static void repl_send_hello(struct repl *r)
{
	struct repl_msg m;

	memset(&m, 0, sizeof(m));
	m.hdr.type = REPL_HELLO;
	memcpy(m.u.hello.digest, r->digest, REPL_DIGEST_LEN);
	m.u.hello.epoch = r->epoch;
	m.u.hello.generation = r->generation;
	m.u.hello.flags = (uint8_t)((r->state == REPL_SYNCED ? REPL_HELLO_SYNCED : 0) |
				    (r->promoted ? REPL_HELLO_PROMOTED : 0));
	repl_send(r, &m);
}

/* Complete every pending command that has been applied here and that no
 * member still owes an acknowledgement for, in order. */
static void repl_pending_complete(struct repl *r)
{
	struct repl_pending **pp = &r->pending, *p;

	while ((p = *pp)) {
		if (p->delivered && p->nwaiting == 0) {
			*pp = p->next;
			p->done(p->arg, &p->res);
			free(p);
			continue;
		}
		pp = &p->next;
	}
}

/* A member will never acknowledge (it left cleanly or was fenced). */
static void repl_pending_forget(struct repl *r, uint32_t nodeid, bool whole_node, uint32_t pid)
{
	struct repl_pending *p;
	size_t i;

	for (p = r->pending; p; p = p->next) {
		for (i = 0; i < p->nwaiting;) {
			if (p->waiting[i].nodeid == nodeid &&
			    (whole_node || p->waiting[i].pid == pid))
				p->waiting[i] = p->waiting[--p->nwaiting];
			else
				i++;
		}
	}
	repl_pending_complete(r);
}

static void repl_apply(struct repl *r, const uint8_t *cmd, size_t len, uint32_t nodeid,
		       uint32_t pid, uint64_t seq)
{
	struct scsi_pr_result res;
	struct repl_pending *p;
	size_t i;
	int rc;

	memset(&res, 0, sizeof(res));
	rc = r->ops.apply(r->ops.ctx, cmd, len, &res);
	if (rc == -EIO || rc == -ENOMEM) {
		/* The others applied it; we could not. Our state is no longer
		 * theirs: we must not acknowledge, and must resync. Leaving the
		 * group releases the sender (a clean LEAVE). */
		repl_log(r, LOG_ERR,
			 "PR command %u:%u/%llu failed here (%s) but not on the other "
			 "members: leaving the group to resynchronise",
			 nodeid, pid, (unsigned long long)seq, strerror(-rc));
		r->state = REPL_SYNCING;
		if (r->ops.diverged)
			r->ops.diverged(r->ops.ctx);
		if (!repl_is_me(r, nodeid, pid))
			return;
	} else if (rc < 0) {
		repl_log(r, LOG_ERR, "PR command %u:%u/%llu could not be applied here: %s", nodeid,
			 pid, (unsigned long long)seq, strerror(-rc));
	}
	r->generation++;
	if (r->ops.position)
		r->ops.position(r->ops.ctx, r->epoch, r->generation);
	if (!repl_is_me(r, nodeid, pid)) {
		repl_send_ack(r, nodeid, pid, seq);
		return;
	}
	for (p = r->pending; p; p = p->next)
		if (p->seq == seq)
			break;
	if (!p)
		return;
	p->delivered = true;
	p->res = res;
	/* Everyone in the membership this was delivered in owes an ack. */
	p->nwaiting = 0;
	for (i = 0; i < r->nmembers; i++)
		if (!repl_is_me(r, r->members[i].nodeid, r->members[i].pid)) {
			p->waiting[p->nwaiting].nodeid = r->members[i].nodeid;
			p->waiting[p->nwaiting].pid = r->members[i].pid;
			p->nwaiting++;
		}
	repl_pending_complete(r);
}

int repl_submit(struct repl *r, const uint8_t *cmd, size_t len, scsi_pr_done_fn done, void *arg)
{
	struct repl_pending *p, **pp;
	struct repl_msg m;
	int rc;

	if (r->state != REPL_SYNCED)
		return -EAGAIN;
	if (len == 0 || len > REPL_MAX_MSG - REPL_HDR_LEN)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->seq = r->next_seq++;
	p->done = done;
	p->arg = arg;
	for (pp = &r->pending; *pp; pp = &(*pp)->next)
		;
	*pp = p;
	memset(&m, 0, sizeof(m));
	m.hdr.type = REPL_CMD;
	m.hdr.seq = p->seq;
	m.u.cmd.payload = cmd;
	m.u.cmd.len = (uint32_t)len;
	rc = repl_send(r, &m);
	if (rc) {
		*pp = NULL;
		free(p);
	}
	return rc;
}

/* Choose the member whose state the others take (repl.h rule 3).
 * \return false when there is none yet (nobody synced and no quorum). */
static bool repl_choose_source(struct repl *r, struct repl_peer **out)
{
	struct repl_peer *best = NULL, *m;
	bool any_synced = false;
	size_t i;

	for (i = 0; i < r->nmembers; i++) {
		m = &r->members[i];
		if (m->flags & REPL_HELLO_PROMOTED) {
			*out = m;
			return true;
		}
		if (m->flags & REPL_HELLO_SYNCED)
			any_synced = true;
	}
	if (!any_synced && !r->quorate)
		return false;
	for (i = 0; i < r->nmembers; i++) {
		m = &r->members[i];
		if (any_synced && !(m->flags & REPL_HELLO_SYNCED))
			continue;
		if (!best || m->epoch > best->epoch ||
		    (m->epoch == best->epoch && m->generation > best->generation) ||
		    (m->epoch == best->epoch && m->generation == best->generation &&
		     (m->nodeid < best->nodeid ||
		      (m->nodeid == best->nodeid && m->pid < best->pid))))
			best = m;
	}
	*out = best;
	return best != NULL;
}

static void repl_send_snapshot(struct repl *r)
{
	struct repl_msg m;
	uint8_t *state = NULL;
	size_t len = 0;
	int rc;

	rc = r->ops.snapshot(r->ops.ctx, &state, &len);
	if (rc < 0) {
		repl_log(r, LOG_ERR, "cannot take a PR state snapshot: %s", strerror(-rc));
		return;
	}
	memset(&m, 0, sizeof(m));
	m.hdr.type = REPL_SNAPSHOT;
	m.u.snapshot.epoch = r->epoch;
	m.u.snapshot.generation = r->generation;
	m.u.snapshot.payload = state;
	m.u.snapshot.len = (uint32_t)len;
	repl_send(r, &m);
	free(state);
}

/* Every member's HELLO is in: the same decision is taken on every member. */
static void repl_round_decide(struct repl *r)
{
	struct repl_peer *src;
	struct repl_buffered *b;
	bool someone_syncing = false;
	size_t i;

	if (!repl_choose_source(r, &src)) {
		repl_log(r, LOG_NOTICE,
			 "no member holds synced PR state and the cluster is not "
			 "quorate: waiting for quorum before taking state from files");
		return;
	}
	r->source_known = true;
	r->source_nodeid = src->nodeid;
	r->source_pid = src->pid;
	if (r->state == REPL_SYNCING && memcmp(src->digest, r->digest, REPL_DIGEST_LEN) != 0) {
		r->state = REPL_CONFIG_MISMATCH;
		repl_log(r, LOG_ERR,
			 "configuration differs from node %u's (config digest "
			 "mismatch): this member will not sync or be promoted; fix the config on "
			 "every node so targets, LUNs and identities are the same",
			 src->nodeid);
		if (r->ops.leave)
			r->ops.leave(r->ops.ctx);
		return;
	}
	for (i = 0; i < r->nmembers; i++)
		if (!(r->members[i].flags & REPL_HELLO_SYNCED) &&
		    memcmp(r->members[i].digest, src->digest, REPL_DIGEST_LEN) == 0)
			someone_syncing = true;
	/* Commands buffered until now are in the snapshot to come. */
	for (b = r->buffered; b; b = b->next)
		b->covered = true;
	if (repl_is_me(r, src->nodeid, src->pid)) {
		if (r->state == REPL_SYNCING) {
			r->state = REPL_SYNCED;
			repl_log(r, LOG_NOTICE,
				 "PR state taken from this node's own files "
				 "(epoch %llu, generation %llu): synced",
				 (unsigned long long)r->epoch, (unsigned long long)r->generation);
			repl_buffered_clear(r);
		}
		if (someone_syncing)
			repl_send_snapshot(r);
		if (r->promoted && r->nmembers > 1)
			repl_conns_send_full(r);
	} else if (r->state == REPL_SYNCING) {
		repl_log(r, LOG_NOTICE, "waiting for the PR state snapshot from node %u",
			 src->nodeid);
	}
}

void repl_confchg(struct repl *r, const struct repl_member *members, size_t nmembers,
		  const struct repl_member *left, size_t nleft, const struct repl_member *joined,
		  size_t njoined)
{
	size_t i;

	if (nmembers > REPL_MAX_MEMBERS)
		nmembers = REPL_MAX_MEMBERS;
	for (i = 0; i < nleft; i++) {
		if (left[i].reason == REPL_LEFT_NODEDOWN) {
			/* The node may still run on the far side of a
			 * partition: its acks are owed until it is fenced. */
			if (r->nfence < REPL_MAX_MEMBERS) {
				r->fence[r->nfence].nodeid = left[i].nodeid;
				r->fence[r->nfence].since = r->ops.now(r->ops.ctx);
				r->nfence++;
			}
			repl_log(r, LOG_WARNING,
				 "node %u went down: its pending "
				 "acknowledgements wait for it to be fenced",
				 left[i].nodeid);
		} else {
			repl_log(r, LOG_NOTICE, "member %u/%u left (reason %u)", left[i].nodeid,
				 left[i].pid, left[i].reason);
			repl_pending_forget(r, left[i].nodeid, false, left[i].pid);
		}
	}
	r->nmembers = nmembers;
	for (i = 0; i < nmembers; i++) {
		memset(&r->members[i], 0, sizeof(r->members[i]));
		r->members[i].nodeid = members[i].nodeid;
		r->members[i].pid = members[i].pid;
	}
	r->round_done = false;
	r->source_known = false;
	if (r->state == REPL_CONFIG_MISMATCH)
		return;
	/* A new round at every membership change: a syncing member may have
	 * lost its source, or someone joined (ourselves included). */
	repl_send_hello(r);
}

void repl_quorum(struct repl *r, bool quorate)
{
	bool was = r->quorate;

	r->quorate = quorate;
	/* A whole-cluster start waits for quorum before trusting files. */
	if (quorate && !was && r->round_done && !r->source_known && r->state == REPL_SYNCING)
		repl_round_decide(r);
}

static void repl_install_snapshot(struct repl *r, const struct repl_msg *m)
{
	struct repl_buffered *b;
	int rc;

	rc = r->ops.install(r->ops.ctx, m->u.snapshot.payload, m->u.snapshot.len);
	if (rc < 0) {
		repl_log(r, LOG_ERR, "PR state snapshot from node %u rejected: %s; still syncing",
			 m->hdr.nodeid, strerror(-rc));
		return;
	}
	r->epoch = m->u.snapshot.epoch;
	r->generation = m->u.snapshot.generation;
	r->state = REPL_SYNCED;
	if (r->ops.position)
		r->ops.position(r->ops.ctx, r->epoch, r->generation);
	repl_log(r, LOG_NOTICE,
		 "PR state snapshot from node %u installed (epoch %llu, generation "
		 "%llu): synced",
		 m->hdr.nodeid, (unsigned long long)r->epoch, (unsigned long long)r->generation);
	/* Commands before the snapshot point are in it: acknowledge them;
	 * later ones are applied now, in order. */
	for (b = r->buffered; b; b = b->next) {
		if (b->covered)
			repl_send_ack(r, b->nodeid, b->pid, b->seq);
		else
			repl_apply(r, b->cmd, b->len, b->nodeid, b->pid, b->seq);
	}
	repl_buffered_clear(r);
}

static void repl_buffer_cmd(struct repl *r, const struct repl_msg *m)
{
	struct repl_buffered *b = malloc(sizeof(*b) + m->u.cmd.len);

	if (!b) {
		/* Without the command we cannot become consistent: stay
		 * syncing and ask for a new round by leaving and rejoining is
		 * the daemon's call; log it loudly. */
		repl_log(r, LOG_ERR, "out of memory buffering a PR command while syncing");
		return;
	}
	b->next = NULL;
	b->nodeid = m->hdr.nodeid;
	b->pid = m->hdr.pid;
	b->seq = m->hdr.seq;
	b->covered = !r->round_done;
	b->len = m->u.cmd.len;
	memcpy(b->cmd, m->u.cmd.payload, m->u.cmd.len);
	*r->buffered_tail = b;
	r->buffered_tail = &b->next;
}

void repl_deliver(struct repl *r, uint32_t nodeid, uint32_t pid, const uint8_t *buf, size_t len)
{
	struct repl_pending *p;
	struct repl_peer *peer;
	struct repl_msg m;
	const char *why = "";
	size_t i;

	if (repl_msg_decode(buf, len, &m, &why) < 0) {
		repl_log(r, LOG_ERR, "malformed replication message from %u/%u ignored: %s", nodeid,
			 pid, why);
		return;
	}
	if (m.hdr.nodeid != nodeid || m.hdr.pid != pid) {
		repl_log(r, LOG_ERR,
			 "replication message claims origin %u/%u but came from %u/%u; "
			 "ignored",
			 m.hdr.nodeid, m.hdr.pid, nodeid, pid);
		return;
	}
	if (r->state == REPL_CONFIG_MISMATCH)
		return;
	switch (m.hdr.type) {
	case REPL_HELLO:
		peer = repl_peer_find(r, nodeid, pid);
		if (!peer || r->round_done)
			return;
		peer->hello = true;
		memcpy(peer->digest, m.u.hello.digest, REPL_DIGEST_LEN);
		peer->epoch = m.u.hello.epoch;
		peer->generation = m.u.hello.generation;
		peer->flags = m.u.hello.flags;
		for (i = 0; i < r->nmembers; i++)
			if (!r->members[i].hello)
				return;
		r->round_done = true;
		repl_round_decide(r);
		break;
	case REPL_CMD:
		if (r->state == REPL_SYNCED)
			repl_apply(r, m.u.cmd.payload, m.u.cmd.len, nodeid, pid, m.hdr.seq);
		else
			repl_buffer_cmd(r, &m);
		break;
	case REPL_ACK:
		if (!repl_is_me(r, m.u.ack.nodeid, m.u.ack.pid))
			return;
		for (p = r->pending; p; p = p->next) {
			if (p->seq != m.u.ack.seq)
				continue;
			for (i = 0; i < p->nwaiting; i++) {
				if (p->waiting[i].nodeid == nodeid && p->waiting[i].pid == pid) {
					p->waiting[i] = p->waiting[--p->nwaiting];
					break;
				}
			}
		}
		repl_pending_complete(r);
		break;
	case REPL_SNAPSHOT:
		if (r->state == REPL_SYNCING && r->source_known && r->source_nodeid == nodeid &&
		    r->source_pid == pid)
			repl_install_snapshot(r, &m);
		break;
	case REPL_CONNS:
		repl_conns_deliver(r, &m);
		break;
	case REPL_EPOCH:
		if (m.u.epoch.epoch > r->epoch) {
			r->epoch = m.u.epoch.epoch;
			/* The previous promoted member's connections are no
			 * longer anybody's: the new one tickled them. */
			conntab_expire(r->conns, r->epoch);
			r->conns_full_logged = false;
			if (r->ops.position)
				r->ops.position(r->ops.ctx, r->epoch, r->generation);
			repl_log(r, LOG_NOTICE, "node %u promoted: epoch %llu", nodeid,
				 (unsigned long long)r->epoch);
		}
		break;
	}
}

void repl_fence_poll(struct repl *r)
{
	size_t i;

	for (i = 0; i < r->nfence;) {
		if (r->ops.fenced(r->ops.ctx, r->fence[i].nodeid, r->fence[i].since)) {
			repl_log(r, LOG_NOTICE,
				 "node %u has been fenced: its acknowledgements are "
				 "no longer awaited",
				 r->fence[i].nodeid);
			repl_pending_forget(r, r->fence[i].nodeid, true, 0);
			r->fence[i] = r->fence[--r->nfence];
		} else {
			i++;
		}
	}
}

int repl_promote(struct repl *r)
{
	struct repl_msg m;

	if (r->state != REPL_SYNCED)
		return -EAGAIN;
	r->promoted = true;
	r->serve_epoch = r->epoch + 1;
	conntab_expire(r->served, r->serve_epoch);
	memset(&m, 0, sizeof(m));
	m.hdr.type = REPL_EPOCH;
	m.u.epoch.epoch = r->serve_epoch;
	return repl_send(r, &m);
}

void repl_demote(struct repl *r)
{
	r->promoted = false;
}
