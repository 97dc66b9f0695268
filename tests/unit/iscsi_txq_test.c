/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for the transmit queue (daemon/iscsi/pdu.c iscsi_txq_send):
 * several PDUs per sendmsg, resumed after partial sends and EAGAIN, also
 * for zero-copy Data-In whose data points into a mapping of the LUN file
 * (where sendmsg fails with EFAULT past the end of a file that shrank).
 *
 * The socket is scripted: each call takes at most the next number of bytes
 * of the script (or returns the script's -errno), and everything it takes
 * is appended to one byte stream, which must read exactly as the PDUs laid
 * end to end whatever the splits.
 *
 *   queue: [BHS | data | pad]  [BHS]  [BHS | data]  ...
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "iscsi/conn.h"
#include "iscsi/pdu.h"

#define OUT_MAX 8192
#define SCRIPT_MAX 64

struct fake_sock {
	uint8_t out[OUT_MAX];
	size_t out_len;
	/* Per call, the most bytes taken, or a negative errno to return. */
	ssize_t script[SCRIPT_MAX];
	int nscript;
	int next;
	ssize_t dflt; /* when the script is used up */
	int calls, sent_calls;
	uint8_t sent_tags[SCRIPT_MAX]; /* first BHS byte of each PDU handed back */
};

static ssize_t fake_send_iov(void *ctx, const struct iovec *iov, int cnt)
{
	struct fake_sock *s = ctx;
	ssize_t budget = s->next < s->nscript ? s->script[s->next++] : s->dflt, n = 0;
	int i;

	s->calls++;
	if (budget < 0)
		return budget;
	for (i = 0; i < cnt && n < budget; i++) {
		size_t take = iov[i].iov_len;

		if (take > (size_t)(budget - n))
			take = (size_t)(budget - n);
		assert_true(s->out_len + take <= OUT_MAX);
		memcpy(s->out + s->out_len, iov[i].iov_base, take);
		s->out_len += take;
		n += (ssize_t)take;
	}
	return n;
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
		.sent = fake_sent,
		.ctx = s,
	};
	return ops;
}

static uint8_t mem_data[3000];
static const uint8_t zeros[4];

/* Queue on \p q a PDU laid out as conn_send() does: BHS, then the data and
 * its padding. */
static void tx_mem(struct list_head *q, struct iscsi_txpdu *tx, uint8_t tag, const uint8_t *data,
		   uint32_t len)
{
	uint32_t pad = iscsi_pad_len(len);

	memset(tx, 0, sizeof(*tx));
	memset(tx->bhs, tag, ISCSI_BHS_LEN);
	tx->iov[tx->iovcnt].iov_base = tx->bhs;
	tx->iov[tx->iovcnt++].iov_len = ISCSI_BHS_LEN;
	if (len) {
		tx->iov[tx->iovcnt].iov_base = (void *)data;
		tx->iov[tx->iovcnt++].iov_len = len;
	}
	if (pad) {
		tx->iov[tx->iovcnt].iov_base = (void *)zeros;
		tx->iov[tx->iovcnt++].iov_len = pad;
	}
	tx->total = ISCSI_BHS_LEN + len + pad;
	list_add_tail(&tx->node, q);
}

/* The stream the queue must produce: each PDU's pieces in order. */
static size_t expect_stream(struct iscsi_txpdu *const *txs, int n, uint8_t *out)
{
	size_t len = 0;
	int i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < txs[i]->iovcnt; j++) {
			memcpy(out + len, txs[i]->iov[j].iov_base, txs[i]->iov[j].iov_len);
			len += txs[i]->iov[j].iov_len;
		}
	return len;
}

static int setup(void **state)
{
	struct fake_sock *s = calloc(1, sizeof(*s));
	size_t i;

	assert_non_null(s);
	for (i = 0; i < sizeof(mem_data); i++)
		mem_data[i] = (uint8_t)(i * 7 + 1);
	s->dflt = OUT_MAX;
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static void queued_pdus_share_one_sendmsg(void **state)
{
	struct fake_sock *s = *state;
	struct iscsi_tx_ops ops = fake_ops(s);
	struct iscsi_txpdu a, b;
	struct list_head q;

	list_init(&q);
	tx_mem(&q, &a, 0x11, mem_data, 100);
	tx_mem(&q, &b, 0x22, NULL, 0);
	assert_int_equal(iscsi_txq_send(&q, &ops), 0);
	assert_int_equal(s->calls, 1);
	assert_int_equal(s->sent_calls, 2);
	assert_true(list_empty(&q));
}

static void odd_data_segment_is_padded(void **state)
{
	struct fake_sock *s = *state;
	struct iscsi_tx_ops ops = fake_ops(s);
	struct iscsi_txpdu a;
	struct list_head q;

	/* RFC 7143 11.1: data segments are padded to 4 bytes. */
	list_init(&q);
	tx_mem(&q, &a, 0x44, mem_data + 3, 1001);
	assert_int_equal(iscsi_txq_send(&q, &ops), 0);
	assert_int_equal(s->out_len, ISCSI_BHS_LEN + 1001 + 3);
	assert_memory_equal(s->out + ISCSI_BHS_LEN, mem_data + 3, 1001);
	assert_memory_equal(s->out + ISCSI_BHS_LEN + 1001, zeros, 3);
}

static void full_socket_leaves_the_queue_as_it_was(void **state)
{
	struct fake_sock *s = *state;
	struct iscsi_tx_ops ops = fake_ops(s);
	struct iscsi_txpdu a;
	struct list_head q;

	list_init(&q);
	tx_mem(&q, &a, 0x55, mem_data, 2048);
	s->dflt = -EAGAIN;
	assert_int_equal(iscsi_txq_send(&q, &ops), -EAGAIN);
	assert_int_equal(a.sent, 0);
	assert_int_equal(s->sent_calls, 0);
	assert_false(list_empty(&q));
}

/* Partial sends and EAGAIN at every kind of boundary: inside a header,
 * between header and data, inside the data, in the padding, between PDUs. */
static void partial_sends_resume_to_the_same_stream(void **state)
{
	struct fake_sock *s = *state;
	struct iscsi_tx_ops ops = fake_ops(s);
	struct iscsi_txpdu a, b, c, d;
	struct iscsi_txpdu *all[] = {&a, &b, &c, &d};
	static const ssize_t script[] = {10,  -EAGAIN, 38, 600,	    -EAGAIN, 5,	 1, -EAGAIN,
					 700, 2,       1,  -EAGAIN, 3,	     47, 1, 2000};
	struct list_head q;
	uint8_t want[OUT_MAX];
	size_t wlen;
	int rc, again = 0, guard = 0;

	list_init(&q);
	tx_mem(&q, &a, 0x61, mem_data, 700);
	tx_mem(&q, &b, 0x62, mem_data + 100, 1301);
	tx_mem(&q, &c, 0x63, NULL, 0);
	tx_mem(&q, &d, 0x64, mem_data + 1500, 1000);
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
		tx_mem(&q, &a, 0x71, mem_data + 7, 999);
		tx_mem(&q, &b, 0x72, mem_data, 64);
		tx_mem(&q, &c, 0x73, mem_data + 2000, 1000);
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

static void fault_in_the_middle_of_data_is_fatal(void **state)
{
	struct fake_sock *s = *state;
	struct iscsi_tx_ops ops = fake_ops(s);
	struct iscsi_txpdu a;
	struct list_head q;

	/* Zero-copy Data-In from a LUN file that shrank: sendmsg copies up to
	 * the end of the file, then faults. The PDU stays unfinished (and is
	 * not handed back as sent); the caller drops the connection. */
	list_init(&q);
	tx_mem(&q, &a, 0x81, mem_data, 1000);
	s->script[0] = ISCSI_BHS_LEN + 500;
	s->script[1] = -EFAULT;
	s->nscript = 2;
	assert_int_equal(iscsi_txq_send(&q, &ops), -EFAULT);
	assert_int_equal(a.sent, ISCSI_BHS_LEN + 500);
	assert_int_equal(s->sent_calls, 0);
}

/*
 * What the daemon relies on for zero-copy Data-In: only the kernel reads a
 * mapping of the LUN file, so a page past the end of a file that shrank
 * makes sendmsg stop short and then fail with EFAULT, with no SIGBUS.
 */
static void sendmsg_from_a_mapping_past_the_end_of_file_fails_with_efault(void **state)
{
	char path[] = "/tmp/iscsi_txq_test.XXXXXX";
	long page = sysconf(_SC_PAGESIZE);
	struct iovec iov;
	struct msghdr msg;
	uint8_t *map;
	int fd, sv[2];
	ssize_t n;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(ftruncate(fd, 2 * page), 0);
	map = mmap(NULL, (size_t)(2 * page), PROT_READ, MAP_SHARED, fd, 0);
	assert_true(map != MAP_FAILED);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(ftruncate(fd, page), 0); /* the second page is gone */
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = map;
	iov.iov_len = (size_t)(2 * page);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	n = sendmsg(sv[0], &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	/* Up to the end of the file (TCP), or nothing (AF_UNIX copies whole). */
	assert_true(n == page || (n == -1 && errno == EFAULT));
	iov.iov_base = map + page;
	iov.iov_len = (size_t)page;
	n = sendmsg(sv[0], &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	assert_int_equal(n, -1);
	assert_int_equal(errno, EFAULT);
	close(sv[0]);
	close(sv[1]);
	munmap(map, (size_t)(2 * page));
	close(fd);
}

static void socket_error_is_returned(void **state)
{
	struct fake_sock *s = *state;
	struct iscsi_tx_ops ops = fake_ops(s);
	struct iscsi_txpdu a;
	struct list_head q;

	list_init(&q);
	tx_mem(&q, &a, 0xa1, mem_data, 10);
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
	tx_mem(&q, &a, 0xb1, mem_data, 100);
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
	/* The CRC32C data digest (RFC 7143 12.1) is computed when queued over
	 * bytes that must not change before they are sent. */
	assert_false(iscsi_datain_direct_ok(&p));
}

static void reads_without_data_digest_go_direct(void **state)
{
	struct iscsi_params p;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.header_digest = true; /* covers the header only: no obstacle */
	assert_true(iscsi_datain_direct_ok(&p));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(queued_pdus_share_one_sendmsg, setup, teardown),
		cmocka_unit_test_setup_teardown(odd_data_segment_is_padded, setup, teardown),
		cmocka_unit_test_setup_teardown(full_socket_leaves_the_queue_as_it_was, setup,
						teardown),
		cmocka_unit_test_setup_teardown(partial_sends_resume_to_the_same_stream, setup,
						teardown),
		cmocka_unit_test_setup_teardown(every_split_size_gives_the_same_stream, setup,
						teardown),
		cmocka_unit_test_setup_teardown(fault_in_the_middle_of_data_is_fatal, setup,
						teardown),
		cmocka_unit_test(sendmsg_from_a_mapping_past_the_end_of_file_fails_with_efault),
		cmocka_unit_test_setup_teardown(socket_error_is_returned, setup, teardown),
		cmocka_unit_test_setup_teardown(interrupted_send_is_retried, setup, teardown),
		cmocka_unit_test(data_digest_keeps_reads_in_buffers),
		cmocka_unit_test(reads_without_data_digest_go_direct),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
