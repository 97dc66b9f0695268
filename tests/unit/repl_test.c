/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The PR replication state machine (ha/repl.c) with N in-process replicas
 * behind a fake CPG that delivers in a scripted total order, with joins,
 * clean leaves and node failures. Each replica's "PR state" is the log of
 * commands it applied; replicas must converge.
 *
 *    node 1 (A) ----+
 *                   +---- fake CPG: one agreed-order queue, scripted
 *    node 2 (B) ----+     confchg events, per-node quorum and fence state
 *    node 3 (C) ----+
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ha/repl.h"

#define NODES 3
#define LOG_MAX 4096
#define QUEUE_MAX 256

struct node {
	uint32_t nodeid;
	struct repl *r;
	bool member;
	uint8_t log[LOG_MAX]; /* concatenated applied commands: the "PR state" */
	size_t log_len;
	bool fail_install;
	bool fail_apply;
	int diverged;
	int left_group;
	int done_calls;
	uint8_t last_status;
};

struct qmsg {
	uint32_t nodeid;
	uint8_t *data;
	size_t len;
};

static struct node nodes[NODES];
static struct qmsg queue[QUEUE_MAX];
static size_t qhead, qtail;
static bool fenced[NODES + 1];
static int fail_sends; /* the next n multicasts fail (corosync busy) */

static int fake_send(void *ctx, const uint8_t *msg, size_t len)
{
	struct node *n = ctx;

	if (fail_sends > 0) {
		fail_sends--;
		return -EAGAIN;
	}
	assert_true(qtail < QUEUE_MAX);
	queue[qtail].nodeid = n->nodeid;
	queue[qtail].data = malloc(len);
	memcpy(queue[qtail].data, msg, len);
	queue[qtail].len = len;
	qtail++;
	return 0;
}

static int fake_apply(void *ctx, const uint8_t *cmd, size_t len, struct scsi_pr_result *res)
{
	struct node *n = ctx;

	if (n->fail_apply)
		return -EIO;
	assert_true(n->log_len + len <= LOG_MAX);
	memcpy(n->log + n->log_len, cmd, len);
	n->log_len += len;
	res->status = 0;
	return 0;
}

static int fake_snapshot(void *ctx, uint8_t **out, size_t *len)
{
	struct node *n = ctx;

	*out = malloc(n->log_len ? n->log_len : 1);
	memcpy(*out, n->log, n->log_len);
	*len = n->log_len;
	return 0;
}

static int fake_install(void *ctx, const uint8_t *buf, size_t len)
{
	struct node *n = ctx;

	if (n->fail_install)
		return -EINVAL;
	memcpy(n->log, buf, len);
	n->log_len = len;
	return 0;
}

static bool fake_fenced(void *ctx, uint32_t nodeid, uint64_t since)
{
	return fenced[nodeid];
}

static uint64_t fake_now(void *ctx)
{
	return 1000;
}

static void fake_leave(void *ctx)
{
	struct node *n = ctx;

	n->left_group++;
}

static void fake_diverged(void *ctx)
{
	struct node *n = ctx;

	n->diverged++;
}

static const struct repl_ops fake_ops = {
	.diverged = fake_diverged,
	.send = fake_send,
	.apply = fake_apply,
	.snapshot = fake_snapshot,
	.install = fake_install,
	.fenced = fake_fenced,
	.now = fake_now,
	.leave = fake_leave,
};

static void done_cb(void *arg, const struct scsi_pr_result *res)
{
	struct node *n = arg;

	n->done_calls++;
	n->last_status = res->status;
}

static const uint8_t digest_a[REPL_DIGEST_LEN] = {1};
static const uint8_t digest_b[REPL_DIGEST_LEN] = {2};

static void node_init(int i, const uint8_t *digest, uint64_t epoch, uint64_t gen)
{
	struct repl_ops ops = fake_ops;

	ops.ctx = &nodes[i];
	nodes[i].nodeid = (uint32_t)i + 1;
	nodes[i].r = repl_create(&ops, nodes[i].nodeid, 100, digest, epoch, gen);
	assert_non_null(nodes[i].r);
}

static int setup(void **state)
{
	memset(nodes, 0, sizeof(nodes));
	memset(fenced, 0, sizeof(fenced));
	qhead = qtail = 0;
	fail_sends = 0;
	return 0;
}

static int teardown(void **state)
{
	int i;

	for (i = 0; i < NODES; i++)
		repl_destroy(nodes[i].r);
	while (qhead < qtail)
		free(queue[qhead++].data);
	return 0;
}

/* Deliver everything queued, in order, to the current members. */
static void deliver_all(void)
{
	int i;

	while (qhead < qtail) {
		struct qmsg *m = &queue[qhead++];

		for (i = 0; i < NODES; i++)
			if (nodes[i].member && nodes[i].r)
				repl_deliver(nodes[i].r, m->nodeid, 100, m->data, m->len);
		free(m->data);
	}
}

/* Deliver only the next queued message. */
static void deliver_one(void)
{
	struct qmsg *m = &queue[qhead++];
	int i;

	for (i = 0; i < NODES; i++)
		if (nodes[i].member && nodes[i].r)
			repl_deliver(nodes[i].r, m->nodeid, 100, m->data, m->len);
	free(m->data);
}

/* A configuration change: the new member set, who joined, who left and why. */
static void confchg(const int *now_members, size_t n, const int *joined, size_t nj, const int *left,
		    size_t nl, uint32_t reason)
{
	struct repl_member mem[NODES], j[NODES], l[NODES];
	size_t i;
	int k;

	for (k = 0; k < NODES; k++)
		nodes[k].member = false;
	for (i = 0; i < n; i++) {
		mem[i] = (struct repl_member){nodes[now_members[i]].nodeid, 100, 0};
		nodes[now_members[i]].member = true;
	}
	for (i = 0; i < nj; i++)
		j[i] = (struct repl_member){nodes[joined[i]].nodeid, 100, 1};
	for (i = 0; i < nl; i++)
		l[i] = (struct repl_member){nodes[left[i]].nodeid, 100, reason};
	for (i = 0; i < n; i++)
		repl_confchg(nodes[now_members[i]].r, mem, n, l, nl, j, nj);
}

static void quorum_all(bool q)
{
	int i;

	for (i = 0; i < NODES; i++)
		if (nodes[i].r && nodes[i].member)
			repl_quorum(nodes[i].r, q);
}

/* A and B, both synced: A started alone (quorate), then B joined. */
static void two_synced(void)
{
	const int a[] = {0}, ab[] = {0, 1}, b[] = {1};

	node_init(0, digest_a, 0, 0);
	node_init(1, digest_a, 0, 0);
	confchg(a, 1, a, 1, NULL, 0, 0);
	repl_quorum(nodes[0].r, true);
	deliver_all();
	assert_int_equal(repl_sync_state(nodes[0].r), REPL_SYNCED);
	confchg(ab, 2, b, 1, NULL, 0, 0);
	quorum_all(true);
	deliver_all();
	assert_int_equal(repl_sync_state(nodes[1].r), REPL_SYNCED);
}

static void submit(int i, const char *cmd)
{
	assert_int_equal(
		repl_submit(nodes[i].r, (const uint8_t *)cmd, strlen(cmd), done_cb, &nodes[i]), 0);
}

/* Rule 2: GOOD only after every member acknowledged, not at own delivery. */
static void command_completes_only_after_peer_ack(void **state)
{
	two_synced();
	submit(0, "REGISTER k1");
	deliver_one(); /* the CMD itself: applied on A and B */
	assert_int_equal(nodes[0].done_calls, 0);
	assert_int_equal(repl_npending(nodes[0].r), 1);
	deliver_all(); /* B's ACK */
	assert_int_equal(nodes[0].done_calls, 1);
	assert_int_equal(repl_npending(nodes[0].r), 0);
}

/* Rule 1: every member applies the same commands in the same order. */
static void replicas_converge_in_delivery_order(void **state)
{
	two_synced();
	submit(0, "A1;");
	submit(0, "A2;");
	deliver_one();
	submit(0, "A3;");
	deliver_all();
	assert_int_equal(nodes[0].log_len, nodes[1].log_len);
	assert_memory_equal(nodes[0].log, nodes[1].log, nodes[0].log_len);
	assert_memory_equal(nodes[0].log, "A1;A2;A3;", 9);
	assert_int_equal(nodes[0].done_calls, 3);
	assert_int_equal(repl_generation(nodes[0].r), repl_generation(nodes[1].r));
}

/* A alone, synced and promoted; B created, not yet a member. */
static void a_alone_promoted(void)
{
	const int a[] = {0};

	node_init(0, digest_a, 0, 0);
	node_init(1, digest_a, 0, 0);
	confchg(a, 1, a, 1, NULL, 0, 0);
	repl_quorum(nodes[0].r, true);
	deliver_all();
	assert_int_equal(repl_promote(nodes[0].r), 0);
}

/* Rule 3: a joiner gets the snapshot, then the commands after it. */
static void joiner_syncs_and_applies_commands_after_snapshot_point(void **state)
{
	const int ab[] = {0, 1}, b[] = {1};

	a_alone_promoted();
	submit(0, "before;");
	deliver_all();
	/* B joins; A submits commands while the HELLO round runs. */
	confchg(ab, 2, b, 1, NULL, 0, 0);
	submit(0, "during;");
	assert_int_equal(repl_sync_state(nodes[1].r), REPL_SYNCING);
	assert_int_equal(repl_submit(nodes[1].r, (const uint8_t *)"x", 1, done_cb, &nodes[1]),
			 -EAGAIN);
	deliver_all();
	submit(0, "after;");
	deliver_all();
	assert_int_equal(repl_sync_state(nodes[1].r), REPL_SYNCED);
	assert_int_equal(nodes[1].log_len, nodes[0].log_len);
	assert_memory_equal(nodes[1].log, nodes[0].log, nodes[0].log_len);
	assert_memory_equal(nodes[0].log, "before;during;after;", 20);
	/* Every command completed: B acknowledged what it got in the snapshot. */
	assert_int_equal(nodes[0].done_calls, 3);
	assert_int_equal(repl_epoch(nodes[1].r), repl_epoch(nodes[0].r));
}

/* Rule 2: a member that left cleanly owes no acknowledgement. */
static void clean_leave_releases_pending_command(void **state)
{
	const int a[] = {0}, b[] = {1};

	two_synced();
	submit(0, "PREEMPT;");
	deliver_one();		   /* CMD delivered to both; B's ACK is queued ... */
	free(queue[--qtail].data); /* ... but B dies before it goes out */
	confchg(a, 1, NULL, 0, b, 1, REPL_LEFT_PROCDOWN);
	deliver_all();
	assert_int_equal(nodes[0].done_calls, 1);
}

/* Rule 2: a node that went down may still run: wait for fencing, no timer. */
static void nodedown_holds_command_until_fenced(void **state)
{
	const int a[] = {0}, b[] = {1};

	two_synced();
	submit(0, "PREEMPT AND ABORT;");
	deliver_one();
	free(queue[--qtail].data); /* B's ACK never arrives */
	confchg(a, 1, NULL, 0, b, 1, REPL_LEFT_NODEDOWN);
	deliver_all();
	repl_fence_poll(nodes[0].r);
	assert_int_equal(nodes[0].done_calls, 0);
	assert_int_equal(repl_npending(nodes[0].r), 1);
	fenced[nodes[1].nodeid] = true;
	repl_fence_poll(nodes[0].r);
	assert_int_equal(nodes[0].done_calls, 1);
	assert_int_equal(repl_npending(nodes[0].r), 0);
}

/* A joiner whose config differs never syncs and leaves the group. */
static void config_mismatch_joiner_never_syncs(void **state)
{
	const int a[] = {0}, ab[] = {0, 1}, b[] = {1};

	node_init(0, digest_a, 0, 0);
	node_init(1, digest_b, 0, 0);
	confchg(a, 1, a, 1, NULL, 0, 0);
	repl_quorum(nodes[0].r, true);
	deliver_all();
	confchg(ab, 2, b, 1, NULL, 0, 0);
	quorum_all(true);
	deliver_all();
	assert_int_equal(repl_sync_state(nodes[1].r), REPL_CONFIG_MISMATCH);
	assert_int_equal(nodes[1].left_group, 1);
	assert_int_equal(repl_sync_state(nodes[0].r), REPL_SYNCED);
}

/* After a reload the source announces the new digest: a member started with
 * the new config syncs (with the start-time digest it would be refused). */
static void joiner_with_reloaded_config_syncs(void **state)
{
	const int a[] = {0}, ab[] = {0, 1}, b[] = {1};

	node_init(0, digest_a, 0, 0);
	node_init(1, digest_b, 0, 0);
	confchg(a, 1, a, 1, NULL, 0, 0);
	repl_quorum(nodes[0].r, true);
	deliver_all();
	repl_digest_set(nodes[0].r, digest_b);
	confchg(ab, 2, b, 1, NULL, 0, 0);
	quorum_all(true);
	deliver_all();
	assert_int_equal(repl_sync_state(nodes[1].r), REPL_SYNCED);
	assert_int_equal(nodes[1].left_group, 0);
}

/* Rule 3: after a whole-cluster restart the highest (epoch, generation)
 * wins, and nobody takes state from files without quorum. */
static void whole_cluster_restart_highest_position_wins(void **state)
{
	const int ab[] = {0, 1};

	node_init(0, digest_a, 1, 9); /* older epoch, more commands */
	node_init(1, digest_a, 2, 3); /* newer epoch: this one wins */
	memcpy(nodes[1].log, "newest", 6);
	nodes[1].log_len = 6;
	memcpy(nodes[0].log, "stale", 5);
	nodes[0].log_len = 5;
	confchg(ab, 2, ab, 2, NULL, 0, 0);
	deliver_all();
	assert_int_equal(repl_sync_state(nodes[0].r), REPL_SYNCING);
	assert_int_equal(repl_sync_state(nodes[1].r), REPL_SYNCING);
	quorum_all(true);
	deliver_all();
	assert_int_equal(repl_sync_state(nodes[0].r), REPL_SYNCED);
	assert_int_equal(repl_sync_state(nodes[1].r), REPL_SYNCED);
	assert_int_equal(nodes[0].log_len, 6);
	assert_memory_equal(nodes[0].log, "newest", 6);
	assert_int_equal(repl_epoch(nodes[0].r), 2);
}

/* A snapshot that cannot be installed leaves the joiner syncing. */
static void failed_snapshot_install_keeps_syncing(void **state)
{
	const int a[] = {0}, ab[] = {0, 1}, b[] = {1};

	node_init(0, digest_a, 0, 0);
	node_init(1, digest_a, 0, 0);
	nodes[1].fail_install = true;
	confchg(a, 1, a, 1, NULL, 0, 0);
	repl_quorum(nodes[0].r, true);
	deliver_all();
	confchg(ab, 2, b, 1, NULL, 0, 0);
	quorum_all(true);
	deliver_all();
	assert_int_equal(repl_sync_state(nodes[1].r), REPL_SYNCING);
}

/* Corrupt bytes from a peer are logged and ignored; state is untouched. */
static void malformed_message_is_ignored(void **state)
{
	const uint8_t junk[30] = {0, 2, 0, 1, 0, 0, 0, 99};

	two_synced();
	repl_deliver(nodes[1].r, 1, 100, junk, sizeof(junk));
	repl_deliver(nodes[1].r, 1, 100, junk, 3);
	assert_int_equal(nodes[1].log_len, 0);
	assert_int_equal(repl_sync_state(nodes[1].r), REPL_SYNCED);
}

/* Three members: the command waits for both peers. */
static void three_members_need_both_acks(void **state)
{
	const int ab[] = {0, 1}, abc[] = {0, 1, 2}, c[] = {2};

	two_synced();
	node_init(2, digest_a, 0, 0);
	confchg(abc, 3, c, 1, NULL, 0, 0);
	quorum_all(true);
	deliver_all();
	assert_int_equal(repl_sync_state(nodes[2].r), REPL_SYNCED);
	submit(0, "RESERVE;");
	deliver_one(); /* CMD */
	deliver_one(); /* first ACK */
	assert_int_equal(nodes[0].done_calls, 0);
	deliver_one(); /* second ACK */
	assert_int_equal(nodes[0].done_calls, 1);
	(void)ab;
}

/* A member that cannot apply (or persist) what the others applied must not
 * acknowledge it: it leaves to resync, and its clean leave releases the
 * sender. */
static void member_that_fails_to_apply_does_not_ack_and_resyncs(void **state)
{
	const int a[] = {0}, b[] = {1};

	two_synced();
	nodes[1].fail_apply = true;
	submit(0, "REGISTER;");
	deliver_all();
	assert_int_equal(nodes[1].diverged, 1);
	assert_int_equal(repl_sync_state(nodes[1].r), REPL_SYNCING);
	assert_int_equal(nodes[0].done_calls, 0);
	confchg(a, 1, NULL, 0, b, 1, REPL_LEFT_CLEANLY);
	deliver_all();
	assert_int_equal(nodes[0].done_calls, 1);
}

/* The message codec rejects what does not add up. */
static void codec_round_trip_and_strict_decode(void **state)
{
	struct repl_msg m, d;
	struct buf b = BUF_INIT;
	const char *why = NULL;

	memset(&m, 0, sizeof(m));
	m.hdr.type = REPL_ACK;
	m.hdr.nodeid = 7;
	m.hdr.pid = 8;
	m.hdr.seq = 0x1122334455667788ull;
	m.u.ack.nodeid = 1;
	m.u.ack.pid = 2;
	m.u.ack.seq = 3;
	assert_int_equal(repl_msg_encode(&m, &b), 0);
	assert_int_equal(repl_msg_decode(b.data, b.len, &d, &why), 0);
	assert_int_equal(d.hdr.seq, m.hdr.seq);
	assert_int_equal(d.u.ack.seq, 3);
	assert_int_equal(repl_msg_decode(b.data, b.len - 1, &d, &why), -EINVAL);
	b.data[3] = 9; /* version */
	assert_int_equal(repl_msg_decode(b.data, b.len, &d, &why), -EINVAL);
	assert_string_equal(why, "unknown version");
	buf_release(&b);
}

/* ---- connection hints (docs/replication.md "Connection hints") ---------- */

static struct repl_conn hint_conn(uint16_t initiator_port)
{
	struct repl_conn c = {.family = 4,
			      .portal_port = 3260,
			      .initiator_port = initiator_port,
			      .portal_addr = {198, 18, 0, 100},
			      .initiator_addr = {198, 18, 0, 50}};

	return c;
}

/* A promoted, B unpromoted, both synced. */
static void two_synced_a_promoted(void)
{
	two_synced();
	assert_int_equal(repl_promote(nodes[0].r), 0);
	deliver_all();
}

static void login_hint_reaches_the_other_member(void **state)
{
	struct repl_conn c = hint_conn(40001), got[4];

	two_synced_a_promoted();
	assert_int_equal(repl_conn_note(nodes[0].r, true, &c), 0);
	deliver_all();
	assert_int_equal(repl_conns_others(nodes[1].r, got, 4), 1);
	assert_true(repl_conn_equal(&got[0], &c));
	/* The sender does not tickle its own connections. */
	assert_int_equal(repl_conns_others(nodes[0].r, got, 4), 0);
}

static void close_hint_removes_the_connection(void **state)
{
	struct repl_conn c = hint_conn(40001), got[4];

	two_synced_a_promoted();
	repl_conn_note(nodes[0].r, true, &c);
	repl_conn_note(nodes[0].r, false, &c);
	deliver_all();
	assert_int_equal(repl_conns_others(nodes[1].r, got, 4), 0);
}

/* A hint is never acknowledged, so it cannot hold up a PR command. */
static void hint_is_not_acknowledged(void **state)
{
	struct repl_conn c = hint_conn(40001);

	two_synced_a_promoted();
	repl_conn_note(nodes[0].r, true, &c);
	submit(0, "REGISTER;");
	assert_int_equal(qtail - qhead, 2);
	deliver_one();			    /* the hint */
	deliver_one();			    /* the CMD */
	assert_int_equal(qtail - qhead, 1); /* B's ACK of the CMD only */
	deliver_all();
	assert_int_equal(nodes[0].done_calls, 1);
}

static void unpromoted_member_sends_no_hint(void **state)
{
	struct repl_conn c = hint_conn(40001);

	two_synced();
	assert_int_equal(repl_conn_note(nodes[1].r, true, &c), -EAGAIN);
	assert_int_equal(qtail - qhead, 0);
}

/* A member that joins after the logins gets them all (FULL). */
static void joiner_gets_the_promoted_members_connections(void **state)
{
	const int ab[] = {0, 1}, b[] = {1};
	struct repl_conn c1 = hint_conn(40001), c2 = hint_conn(40002), got[4];

	a_alone_promoted();
	repl_conn_note(nodes[0].r, true, &c1);
	repl_conn_note(nodes[0].r, true, &c2);
	deliver_all();
	confchg(ab, 2, b, 1, NULL, 0, 0);
	quorum_all(true);
	deliver_all();
	assert_int_equal(repl_conns_others(nodes[1].r, got, 4), 2);
	assert_true(repl_conn_equal(&got[0], &c1));
	assert_true(repl_conn_equal(&got[1], &c2));
}

/* After B's promotion, A's connections (tickled by then) are forgotten, and
 * late hints from A's ended epoch are ignored. */
static void new_epoch_forgets_previous_members_connections(void **state)
{
	struct repl_conn c1 = hint_conn(40001), c2 = hint_conn(40002), got[4];

	two_synced_a_promoted();
	repl_conn_note(nodes[0].r, true, &c1);
	deliver_all();
	assert_int_equal(repl_conns_others(nodes[1].r, got, 4), 1);
	assert_int_equal(repl_promote(nodes[1].r), 0);
	deliver_all();
	assert_int_equal(repl_conns_others(nodes[1].r, got, 4), 0);
	repl_conn_note(nodes[0].r, true, &c2); /* A has not noticed yet */
	deliver_all();
	assert_int_equal(repl_conns_others(nodes[1].r, got, 4), 0);
}

/* The previous promoted member went down: its connections stay known. */
static void connections_of_a_member_that_went_down_are_kept(void **state)
{
	const int b[] = {1}, a[] = {0};
	struct repl_conn c = hint_conn(40001), got[4];

	two_synced_a_promoted();
	repl_conn_note(nodes[0].r, true, &c);
	deliver_all();
	confchg(b, 1, NULL, 0, a, 1, REPL_LEFT_NODEDOWN);
	deliver_all();
	assert_int_equal(repl_conns_others(nodes[1].r, got, 4), 1);
}

/* A hint corosync refused is not lost: the whole list goes out again. */
static void refused_hint_goes_out_again_in_full(void **state)
{
	struct repl_conn c1 = hint_conn(40001), c2 = hint_conn(40002), got[4];

	two_synced_a_promoted();
	repl_conn_note(nodes[0].r, true, &c1);
	fail_sends = 1;
	assert_int_equal(repl_conn_note(nodes[0].r, true, &c2), -EAGAIN);
	assert_true(repl_conns_unsent(nodes[0].r));
	repl_conns_retry(nodes[0].r);
	assert_false(repl_conns_unsent(nodes[0].r));
	deliver_all();
	assert_int_equal(repl_conns_others(nodes[1].r, got, 4), 2);
	assert_true(repl_conn_equal(&got[1], &c2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(command_completes_only_after_peer_ack, setup,
						teardown),
		cmocka_unit_test_setup_teardown(replicas_converge_in_delivery_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			joiner_syncs_and_applies_commands_after_snapshot_point, setup, teardown),
		cmocka_unit_test_setup_teardown(clean_leave_releases_pending_command, setup,
						teardown),
		cmocka_unit_test_setup_teardown(nodedown_holds_command_until_fenced, setup,
						teardown),
		cmocka_unit_test_setup_teardown(config_mismatch_joiner_never_syncs, setup,
						teardown),
		cmocka_unit_test_setup_teardown(whole_cluster_restart_highest_position_wins, setup,
						teardown),
		cmocka_unit_test_setup_teardown(failed_snapshot_install_keeps_syncing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(malformed_message_is_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(three_members_need_both_acks, setup, teardown),
		cmocka_unit_test_setup_teardown(joiner_with_reloaded_config_syncs, setup, teardown),
		cmocka_unit_test_setup_teardown(member_that_fails_to_apply_does_not_ack_and_resyncs,
						setup, teardown),
		cmocka_unit_test_setup_teardown(codec_round_trip_and_strict_decode, setup,
						teardown),
		cmocka_unit_test_setup_teardown(login_hint_reaches_the_other_member, setup,
						teardown),
		cmocka_unit_test_setup_teardown(close_hint_removes_the_connection, setup, teardown),
		cmocka_unit_test_setup_teardown(hint_is_not_acknowledged, setup, teardown),
		cmocka_unit_test_setup_teardown(unpromoted_member_sends_no_hint, setup, teardown),
		cmocka_unit_test_setup_teardown(joiner_gets_the_promoted_members_connections, setup,
						teardown),
		cmocka_unit_test_setup_teardown(new_epoch_forgets_previous_members_connections,
						setup, teardown),
		cmocka_unit_test_setup_teardown(connections_of_a_member_that_went_down_are_kept,
						setup, teardown),
		cmocka_unit_test_setup_teardown(refused_hint_goes_out_again_in_full, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
