/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for the transmit queue (daemon/iscsi/pdu.c iscsi_txq_send):
 * PDUs whose data segment is memory, and zero-copy Data-In PDUs whose data
 * segment is a file range sent with sendfile after the header.
 *
 * The socket is scripted: each call takes at most the next number of bytes
 * of the script (then -EAGAIN once the script says so), and everything it
 * takes is appended to one byte stream, which must read exactly as the PDUs
 * laid end to end whatever the splits.
 *
 *   queue: [BHS | data]  [BHS | file range | pad]  [BHS]
 *            memory         "file" fd 7 at off      memory
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "iscsi/conn.h"
#include "iscsi/pdu.h"

#define FAKE_FD 7
#define OUT_MAX 8192
#define SCRIPT_MAX 64
#define SCRIPT_EAGAIN (-EAGAIN)

struct fake_sock {
	uint8_t out[OUT_MAX];
	size_t out_len;
	/* Per call, the most bytes taken, or a negative errno to return. */
	ssize_t script[SCRIPT_MAX];
	int nscript;
	int next;
	ssize_t dflt; /* when the script is used up */
	/* The "file" behind FAKE_FD. */
	const uint8_t *file;
	size_t file_len;
	ssize_t file_err; /* <0: send_file fails with it */
	/* What happened. */
	int iov_calls, file_calls, more_calls, sent_calls;
	uint8_t sent_tags[SCRIPT_MAX]; /* first BHS byte of each PDU handed back */
};

static ssize_t fake_budget(struct fake_sock *s)
{
	return s->next < s->nscript ? s->script[s->next++] : s->dflt;
}

static ssize_t fake_send_iov(void *ctx, const struct iovec *iov, int cnt, bool more)
{
	struct fake_sock *s = ctx;
	ssize_t budget = fake_budget(s), n = 0;
	int i;

	s->iov_calls++;
	if (more)
		s->more_calls++;
	if (budget < 0)
		return budget;
	for (i = 0; i < cnt && n < budget; i++) {
		size_t take = iov[i].iov_len;

		assert_non_null(iov[i].iov_base); /* a file range never goes to sendmsg */
		if (take > (size_t)(budget - n))
			take = (size_t)(budget - n);
		assert_true(s->out_len + take <= OUT_MAX);
		memcpy(s->out + s->out_len, iov[i].iov_base, take);
		s->out_len += take;
		n += (ssize_t)take;
	}
	return n;
}

static ssize_t fake_send_file(void *ctx, int fd, uint64_t off, size_t len)
{
	struct fake_sock *s = ctx;
	ssize_t budget = fake_budget(s);
	size_t take = len;

	s->file_calls++;
	assert_int_equal(fd, FAKE_FD);
	if (s->file_err < 0)
		return s->file_err;
	if (budget < 0)
		return budget;
	if (off >= s->file_len)
		return 0; /* end of file */
	if (take > s->file_len - off)
		take = s->file_len - off;
	if (take > (size_t)budget)
		take = (size_t)budget;
	memcpy(s->out + s->out_len, s->file + off, take);
	s->out_len += take;
	return (ssize_t)take;
}

static void fake_sent(void *ctx, struct iscsi_txpdu *tx)
{
	struct fake_sock *s = ctx;

	assert_true(s->sent_calls < SCRIPT_MAX);
	s->sent_tags[s->sent_calls++] = tx->bhs[0];
}

static struct iscsi_tx_ops fake_ops(struct fake_sock *s)
{
	struct iscsi_tx_ops ops = {
		.send_iov = fake_send_iov,
		.send_file = fake_send_file,
		.sent = fake_sent,
		.ctx = s,
	};
	return ops;
}

static uint8_t file_data[3000];
static uint8_t mem_data[700];
static const uint8_t zeros[4];

/* A PDU laid out as conn_send() does: BHS, then the data in memory. */
static void tx_mem(struct iscsi_txpdu *tx, uint8_t tag, const uint8_t *data, uint32_t len)
{
	memset(tx, 0, sizeof(*tx));
	memset(tx->bhs, tag, ISCSI_BHS_LEN);
	tx->iov[tx->iovcnt].iov_base = tx->bhs;
	tx->iov[tx->iovcnt++].iov_len = ISCSI_BHS_LEN;
	if (len) {
		tx->iov[tx->iovcnt].iov_base = (void *)data;
		tx->iov[tx->iovcnt++].iov_len = len;
	}
	tx->total = ISCSI_BHS_LEN + len;
}

/* A PDU laid out as conn_send_file() does: BHS, file range, padding. */
static void tx_file(struct iscsi_txpdu *tx, uint8_t tag, uint64_t off, uint32_t len)
{
	uint32_t pad = iscsi_pad_len(len);

	memset(tx, 0, sizeof(*tx));
	memset(tx->bhs, tag, ISCSI_BHS_LEN);
	tx->iov[tx->iovcnt].iov_base = tx->bhs;
	tx->iov[tx->iovcnt++].iov_len = ISCSI_BHS_LEN;
	tx->file_iov = tx->iovcnt;
	tx->file_fd = FAKE_FD;
	tx->file_off = off;
	tx->iov[tx->iovcnt].iov_base = NULL;
	tx->iov[tx->iovcnt++].iov_len = len;
	if (pad) {
		tx->iov[tx->iovcnt].iov_base = (void *)zeros;
		tx->iov[tx->iovcnt++].iov_len = pad;
	}
	tx->total = ISCSI_BHS_LEN + len + pad;
}

/* The stream the queue must produce: each PDU's segments in order. */
static size_t expect_stream(struct iscsi_txpdu *const *txs, int n, uint8_t *out)
{
	size_t len = 0;
	int i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < txs[i]->iovcnt; j++) {
			const struct iscsi_txpdu *tx = txs[i];
			const uint8_t *src = tx->file_iov > 0 && j == tx->file_iov
						     ? file_data + tx->file_off
						     : tx->iov[j].iov_base;

			memcpy(out + len, src, tx->iov[j].iov_len);
			len += tx->iov[j].iov_len;
		}
	return len;
}

static int setup(void **state)
{
	struct fake_sock *s = calloc(1, sizeof(*s));
	size_t i;

	assert_non_null(s);
	for (i = 0; i < sizeof(file_data); i++)
		file_data[i] = (uint8_t)(i * 7 + 1);
	for (i = 0; i < sizeof(mem_data); i++)
		mem_data[i] = (uint8_t)(0xa0 ^ i);
	s->file = file_data;
	s->file_len = sizeof(file_data);
	s->dflt = OUT_MAX;
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static void memory_pdus_share_one_sendmsg(void **state)
{
	struct fake_sock *s = *state;
	struct iscsi_tx_ops ops = fake_ops(s);
	struct iscsi_txpdu a, b;
	struct list_head q;

	list_init(&q);
	tx_mem(&a, 0x11, mem_data, 100);
	tx_mem(&b, 0x22, NULL, 0);
	list_add_tail(&a.node, &q);
	list_add_tail(&b.node, &q);
	assert_int_equal(iscsi_txq_send(&q, &ops), 0);
	assert_int_equal(s->iov_calls, 1);
	assert_int_equal(s->sent_calls, 2);
	assert_true(list_empty(&q));
}

static void file_range_follows_its_header_sent_with_msg_more(void **state)
{
	struct fake_sock *s = *state;
	struct iscsi_tx_ops ops = fake_ops(s);
	struct iscsi_txpdu a;
	struct iscsi_txpdu *all[] = {&a};
	struct list_head q;
	uint8_t want[OUT_MAX];
	size_t wlen;

	list_init(&q);
	tx_file(&a, 0x33, 512, 1024);
	list_add_tail(&a.node, &q);
	wlen = expect_stream(all, 1, want);
	assert_int_equal(iscsi_txq_send(&q, &ops), 0);
	assert_int_equal(s->more_calls, 1); /* the header, with MSG_MORE */
	assert_int_equal(s->file_calls, 1);
	assert_int_equal(s->out_len, wlen);
	assert_memory_equal(s->out, want, wlen);
}

static void odd_file_range_is_padded_after_the_file_bytes(void **state)
{
	struct fake_sock *s = *state;
	struct iscsi_tx_ops ops = fake_ops(s);
	struct iscsi_txpdu a;
	struct list_head q;

	/* RFC 7143 11.1: data segments are padded to 4 bytes. */
	list_init(&q);
	tx_file(&a, 0x44, 3, 1001);
	list_add_tail(&a.node, &q);
	assert_int_equal(iscsi_txq_send(&q, &ops), 0);
	assert_int_equal(s->out_len, ISCSI_BHS_LEN + 1001 + 3);
	assert_memory_equal(s->out + ISCSI_BHS_LEN, file_data + 3, 1001);
	assert_memory_equal(s->out + ISCSI_BHS_LEN + 1001, zeros, 3);
}

static void full_socket_leaves_the_queue_as_it_was(void **state)
{
	struct fake_sock *s = *state;
	struct iscsi_tx_ops ops = fake_ops(s);
	struct iscsi_txpdu a;
	struct list_head q;

	list_init(&q);
	tx_file(&a, 0x55, 0, 2048);
	list_add_tail(&a.node, &q);
	s->dflt = SCRIPT_EAGAIN;
	assert_int_equal(iscsi_txq_send(&q, &ops), -EAGAIN);
	assert_int_equal(a.sent, 0);
	assert_int_equal(s->sent_calls, 0);
	assert_false(list_empty(&q));
}

/* Partial sends and EAGAIN at every kind of boundary: in a header, at the
 * start of a file range, inside it, in the padding, in the next PDU. */
static void partial_sends_resume_to_the_same_stream(void **state)
{
	struct fake_sock *s = *state;
	struct iscsi_tx_ops ops = fake_ops(s);
	struct iscsi_txpdu a, b, c, d;
	struct iscsi_txpdu *all[] = {&a, &b, &c, &d};
	static const ssize_t script[] = {10,
					 SCRIPT_EAGAIN,
					 38 + 100,
					 600,
					 SCRIPT_EAGAIN,
					 5, /* a, b's header... */
					 1,
					 SCRIPT_EAGAIN,
					 700,
					 2,
					 1,
					 SCRIPT_EAGAIN,
					 3,
					 47,
					 1,
					 2000};
	struct list_head q;
	uint8_t want[OUT_MAX];
	size_t wlen;
	int rc, again = 0, guard = 0;

	list_init(&q);
	tx_mem(&a, 0x61, mem_data, 700);
	tx_file(&b, 0x62, 100, 1301);
	tx_mem(&c, 0x63, NULL, 0);
	tx_file(&d, 0x64, 1500, 1000);
	list_add_tail(&a.node, &q);
	list_add_tail(&b.node, &q);
	list_add_tail(&c.node, &q);
	list_add_tail(&d.node, &q);
	wlen = expect_stream(all, 4, want);
	memcpy(s->script, script, sizeof(script));
	s->nscript = (int)(sizeof(script) / sizeof(script[0]));
	do {
		rc = iscsi_txq_send(&q, &ops);
		if (rc == -EAGAIN)
			again++;
		assert_true(++guard < 100);
	} while (rc == -EAGAIN);
	assert_int_equal(rc, 0);
	assert_int_equal(again, 4);
	assert_int_equal(s->sent_calls, 4);
	assert_memory_equal(s->sent_tags, "\x61\x62\x63\x64", 4); /* in queue order */
	assert_int_equal(s->out_len, wlen);
	assert_memory_equal(s->out, want, wlen);
}

static void every_split_size_gives_the_same_stream(void **state)
{
	struct fake_sock *s = *state;
	struct iscsi_tx_ops ops = fake_ops(s);
	struct iscsi_txpdu a, b, c;
	struct iscsi_txpdu *all[] = {&a, &b, &c};
	uint8_t want[OUT_MAX];
	struct list_head q;
	size_t wlen;
	ssize_t step;

	for (step = 1; step <= 1100; step += 37) {
		list_init(&q);
		tx_file(&a, 0x71, 7, 999);
		tx_mem(&b, 0x72, mem_data, 64);
		tx_file(&c, 0x73, 2000, 1000);
		list_add_tail(&a.node, &q);
		list_add_tail(&b.node, &q);
		list_add_tail(&c.node, &q);
		wlen = expect_stream(all, 3, want);
		s->out_len = 0;
		s->sent_calls = 0;
		s->dflt = step;
		assert_int_equal(iscsi_txq_send(&q, &ops), 0);
		assert_int_equal(s->sent_calls, 3);
		assert_int_equal(s->out_len, wlen);
		assert_memory_equal(s->out, want, wlen);
	}
}

static void file_that_shrank_mid_range_is_fatal(void **state)
{
	struct fake_sock *s = *state;
	struct iscsi_tx_ops ops = fake_ops(s);
	struct iscsi_txpdu a;
	struct list_head q;

	/* The file ends 500 bytes into the range: never send other bytes in
	 * their place; the header is out, so the connection must go. */
	list_init(&q);
	tx_file(&a, 0x81, sizeof(file_data) - 500, 1000);
	list_add_tail(&a.node, &q);
	assert_int_equal(iscsi_txq_send(&q, &ops), -ENODATA);
	assert_int_equal(s->out_len, ISCSI_BHS_LEN + 500);
	assert_int_equal(s->sent_calls, 0);
}

static void file_read_error_is_fatal(void **state)
{
	struct fake_sock *s = *state;
	struct iscsi_tx_ops ops = fake_ops(s);
	struct iscsi_txpdu a;
	struct list_head q;

	list_init(&q);
	tx_file(&a, 0x91, 0, 1000);
	list_add_tail(&a.node, &q);
	s->file_err = -EIO;
	assert_int_equal(iscsi_txq_send(&q, &ops), -EIO);
	assert_int_equal(s->sent_calls, 0);
}

static void socket_error_is_returned(void **state)
{
	struct fake_sock *s = *state;
	struct iscsi_tx_ops ops = fake_ops(s);
	struct iscsi_txpdu a;
	struct list_head q;

	list_init(&q);
	tx_mem(&a, 0xa1, mem_data, 10);
	list_add_tail(&a.node, &q);
	s->dflt = -EPIPE;
	assert_int_equal(iscsi_txq_send(&q, &ops), -EPIPE);
}

static void interrupted_send_is_retried(void **state)
{
	struct fake_sock *s = *state;
	struct iscsi_tx_ops ops = fake_ops(s);
	struct iscsi_txpdu a;
	struct list_head q;

	list_init(&q);
	tx_file(&a, 0xb1, 0, 100);
	list_add_tail(&a.node, &q);
	s->script[0] = -EINTR;
	s->script[1] = ISCSI_BHS_LEN;
	s->script[2] = -EINTR;
	s->nscript = 3;
	assert_int_equal(iscsi_txq_send(&q, &ops), 0);
	assert_int_equal(s->out_len, ISCSI_BHS_LEN + 100);
	assert_int_equal(s->sent_calls, 1);
}

static void data_digest_keeps_reads_in_buffers(void **state)
{
	struct iscsi_params p;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.data_digest = true;
	/* The CRC32C data digest (RFC 7143 12.1) needs the bytes in memory. */
	assert_false(iscsi_datain_direct_ok(&p, 1024 * 1024));
}

static void small_reads_stay_in_buffers(void **state)
{
	struct iscsi_params p;

	(void)state;
	memset(&p, 0, sizeof(p));
	assert_false(iscsi_datain_direct_ok(&p, ISCSI_DIRECT_MIN - 512));
}

static void large_reads_without_data_digest_go_direct(void **state)
{
	struct iscsi_params p;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.header_digest = true; /* covers the header only: no obstacle */
	assert_true(iscsi_datain_direct_ok(&p, ISCSI_DIRECT_MIN));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(memory_pdus_share_one_sendmsg, setup, teardown),
		cmocka_unit_test_setup_teardown(file_range_follows_its_header_sent_with_msg_more,
						setup, teardown),
		cmocka_unit_test_setup_teardown(odd_file_range_is_padded_after_the_file_bytes,
						setup, teardown),
		cmocka_unit_test_setup_teardown(full_socket_leaves_the_queue_as_it_was, setup,
						teardown),
		cmocka_unit_test_setup_teardown(partial_sends_resume_to_the_same_stream, setup,
						teardown),
		cmocka_unit_test_setup_teardown(every_split_size_gives_the_same_stream, setup,
						teardown),
		cmocka_unit_test_setup_teardown(file_that_shrank_mid_range_is_fatal, setup,
						teardown),
		cmocka_unit_test_setup_teardown(file_read_error_is_fatal, setup, teardown),
		cmocka_unit_test_setup_teardown(socket_error_is_returned, setup, teardown),
		cmocka_unit_test_setup_teardown(interrupted_send_is_retried, setup, teardown),
		cmocka_unit_test(data_digest_keeps_reads_in_buffers),
		cmocka_unit_test(small_reads_stay_in_buffers),
		cmocka_unit_test(large_reads_without_data_digest_go_direct),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
