/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: replication messages from a peer (ha/repl_msg.c decoder
 * and the repl.c state machine that consumes them). The input is split into
 * messages by a 2-byte length prefix each and delivered, in order, to a
 * fresh two-member replica whose own state is a log of applied commands.
 * The byte after each length picks the sender (bit 0) and what the replica
 * does after the delivery: submit the bytes as a command (bit 1), poll
 * fencing (bit 2), promote itself (bit 3), announce a connection made of
 * the message's first bytes as a login (bit 4) or a close (bit 5; the
 * REPL_CONNS hints). At the end the hint table is read back.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ha/repl.h"

static int fz_send(void *ctx, const uint8_t *msg, size_t len)
{
	return 0;
}

static int fz_apply(void *ctx, const uint8_t *cmd, size_t len, struct scsi_pr_result *res)
{
	res->status = 0;
	return 0;
}

static int fz_snapshot(void *ctx, uint8_t **out, size_t *len)
{
	*out = malloc(1);
	*len = 0;
	return *out ? 0 : -12;
}

static int fz_install(void *ctx, const uint8_t *buf, size_t len)
{
	return len > 4096 ? -22 : 0;
}

static bool fz_fenced(void *ctx, uint32_t nodeid, uint64_t since)
{
	return nodeid & 1;
}

static uint64_t fz_now(void *ctx)
{
	return 1;
}

static void fz_done(void *arg, const struct scsi_pr_result *res)
{
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t digest[REPL_DIGEST_LEN];
	const struct repl_ops ops = {
		.send = fz_send,
		.apply = fz_apply,
		.snapshot = fz_snapshot,
		.install = fz_install,
		.fenced = fz_fenced,
		.now = fz_now,
	};
	const struct repl_member members[2] = {{1, 10, 0}, {2, 20, 0}};
	struct repl *r = repl_create(&ops, 1, 10, digest, 0, 0);
	struct repl_conn conns[8], c;
	struct repl_msg m;
	const char *why;
	size_t off = 0;

	if (!r)
		return 0;
	repl_confchg(r, members, 2, NULL, 0, members, 2);
	repl_quorum(r, true);
	while (size - off >= 3) {
		size_t len = ((size_t)data[off] << 8) | data[off + 1];
		uint32_t from = data[off + 2] & 1 ? 2 : 1;

		off += 3;
		if (len > size - off)
			len = size - off;
		repl_msg_decode(data + off, len, &m, &why);
		repl_deliver(r, from, from == 1 ? 10 : 20, data + off, len);
		if (data[off - 1] & 2)
			repl_submit(r, data + off, len ? len : 1, fz_done, NULL);
		if (data[off - 1] & 4)
			repl_fence_poll(r);
		if (data[off - 1] & 8)
			repl_promote(r);
		if (data[off - 1] & 0x30) {
			memset(&c, 0, sizeof(c));
			memcpy(&c, data + off, len < sizeof(c) ? len : sizeof(c));
			repl_conn_note(r, data[off - 1] & 0x10, &c);
		}
		off += len;
	}
	repl_conns_others(r, conns, 8);
	repl_destroy(r);
	return 0;
}
