/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The connection hint table (ha/conntab.c) and the REPL_CONNS codec
 * (ha/repl_msg.c), with calloc wrapped to fail on demand.
 *
 *   node 1 (promoted, epoch 3) serves 198.18.0.50:40001, :40002, ... on
 *   portal 198.18.0.100:3260; node 2 keeps what node 1 announced.
 */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ha/conntab.h"
#include "ha/repl_msg.h"

/* calloc fails on the n-th call from now (1 = next); 0 = never. */
static int calloc_fail_in;
void *__real_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size)
{
	if (calloc_fail_in > 0 && --calloc_fail_in == 0)
		return NULL;
	return __real_calloc(n, size);
}

static struct repl_conn conn(uint16_t initiator_port)
{
	struct repl_conn c = {.family = 4,
			      .portal_port = 3260,
			      .initiator_port = initiator_port,
			      .portal_addr = {198, 18, 0, 100},
			      .initiator_addr = {198, 18, 0, 50}};

	return c;
}

static void add_then_del_leaves_table_empty(void **state)
{
	struct conntab *t = conntab_create(8);
	struct repl_conn a = conn(40001);

	assert_int_equal(conntab_add(t, 1, 10, 3, &a), 0);
	assert_int_equal(conntab_count(t), 1);
	assert_int_equal(conntab_del(t, 1, 10, &a), 1);
	assert_int_equal(conntab_count(t), 0);
	conntab_destroy(t);
}

/* A DEL names the announcing member: another member's entry stays. */
static void del_from_another_member_removes_nothing(void **state)
{
	struct conntab *t = conntab_create(8);
	struct repl_conn a = conn(40001);

	conntab_add(t, 1, 10, 3, &a);
	assert_int_equal(conntab_del(t, 2, 20, &a), 0);
	assert_int_equal(conntab_count(t), 1);
	conntab_destroy(t);
}

static void same_connection_twice_is_kept_once_with_newest_epoch(void **state)
{
	struct conntab *t = conntab_create(8);
	struct repl_conn a = conn(40001);

	conntab_add(t, 1, 10, 3, &a);
	assert_int_equal(conntab_add(t, 1, 10, 4, &a), 0);
	assert_int_equal(conntab_count(t), 1);
	assert_int_equal(conntab_at(t, 0)->epoch, 4);
	conntab_destroy(t);
}

/* Bounded: the oldest entry makes room for the newest. */
static void adding_to_full_table_drops_oldest(void **state)
{
	struct conntab *t = conntab_create(3);
	struct repl_conn c;
	uint16_t p;

	for (p = 40001; p <= 40003; p++) {
		c = conn(p);
		assert_int_equal(conntab_add(t, 1, 10, 3, &c), 0);
	}
	c = conn(40004);
	assert_int_equal(conntab_add(t, 1, 10, 3, &c), 1);
	assert_int_equal(conntab_count(t), 3);
	assert_int_equal(conntab_at(t, 0)->conn.initiator_port, 40002);
	assert_int_equal(conntab_at(t, 2)->conn.initiator_port, 40004);
	assert_null(conntab_at(t, 3));
	conntab_destroy(t);
}

/* A new epoch ends the previous promoted member's entries only. */
static void expire_removes_only_older_epochs(void **state)
{
	struct conntab *t = conntab_create(8);
	struct repl_conn a = conn(40001), b = conn(40002);

	conntab_add(t, 1, 10, 3, &a);
	conntab_add(t, 2, 20, 4, &b);
	assert_int_equal(conntab_expire(t, 4), 1);
	assert_int_equal(conntab_count(t), 1);
	assert_int_equal(conntab_at(t, 0)->nodeid, 2);
	assert_int_equal(conntab_expire(t, 0), 0);
	conntab_destroy(t);
}

/* FULL: what one member announced is replaced, the others' stays. */
static void clear_origin_keeps_other_members_entries(void **state)
{
	struct conntab *t = conntab_create(8);
	struct repl_conn a = conn(40001), b = conn(40002), c = conn(40003);

	conntab_add(t, 1, 10, 3, &a);
	conntab_add(t, 2, 20, 3, &b);
	conntab_add(t, 1, 10, 3, &c);
	assert_int_equal(conntab_clear_origin(t, 1, 10), 2);
	assert_int_equal(conntab_count(t), 1);
	assert_int_equal(conntab_at(t, 0)->conn.initiator_port, 40002);
	conntab_destroy(t);
}

static void create_fails_cleanly_without_memory(void **state)
{
	calloc_fail_in = 1;
	assert_null(conntab_create(8));
	calloc_fail_in = 2; /* the entries */
	assert_null(conntab_create(8));
	calloc_fail_in = 0;
	assert_null(conntab_create(0));
	conntab_destroy(NULL);
}

static void conns_round_trip(void **state)
{
	struct repl_conn list[2] = {conn(40001), conn(40002)}, got;
	struct repl_msg m, d;
	struct buf b = BUF_INIT;
	const char *why = NULL;

	memset(&m, 0, sizeof(m));
	list[1].family = 6;
	memset(list[1].initiator_addr, 0xfe, 16);
	m.hdr.type = REPL_CONNS;
	m.u.conns.epoch = 3;
	m.u.conns.op = REPL_CONNS_ADD;
	m.u.conns.count = 2;
	m.u.conns.list = list;
	assert_int_equal(repl_msg_encode(&m, &b), 0);
	assert_int_equal(b.len, REPL_HDR_LEN + 12 + 2 * REPL_CONN_LEN);
	assert_int_equal(repl_msg_decode(b.data, b.len, &d, &why), 0);
	assert_int_equal(d.u.conns.epoch, 3);
	assert_int_equal(d.u.conns.op, REPL_CONNS_ADD);
	assert_int_equal(d.u.conns.count, 2);
	repl_conn_decode(&d, 0, &got);
	assert_true(repl_conn_equal(&got, &list[0]));
	repl_conn_decode(&d, 1, &got);
	assert_true(repl_conn_equal(&got, &list[1]));
	buf_release(&b);
}

/* Encode one ADD of conn(40001) into b; the body starts at REPL_HDR_LEN. */
static void encode_one(struct buf *b, uint8_t op, uint16_t count)
{
	struct repl_conn c = conn(40001);
	struct repl_msg m;

	memset(&m, 0, sizeof(m));
	m.hdr.type = REPL_CONNS;
	m.u.conns.op = op;
	m.u.conns.count = count;
	m.u.conns.list = &c;
	assert_int_equal(repl_msg_encode(&m, b), 0);
}

static void expect_rejected(struct buf *b, const char *reason)
{
	struct repl_msg d;
	const char *why = NULL;

	assert_int_equal(repl_msg_decode(b->data, b->len, &d, &why), -EINVAL);
	assert_string_equal(why, reason);
}

/* Strict decoding: every field that does not add up rejects the message. */
static void conns_with_unknown_op_is_rejected(void **state)
{
	struct buf b = BUF_INIT;

	encode_one(&b, 4, 1);
	expect_rejected(&b, "unknown connection hint operation");
	buf_release(&b);
}

static void empty_add_is_rejected(void **state)
{
	struct buf b = BUF_INIT;

	encode_one(&b, REPL_CONNS_ADD, 0);
	expect_rejected(&b, "connection hint count out of range");
	buf_release(&b);
}

static void empty_full_is_accepted(void **state)
{
	struct buf b = BUF_INIT;
	struct repl_msg d;
	const char *why = NULL;

	encode_one(&b, REPL_CONNS_FULL, 0);
	assert_int_equal(repl_msg_decode(b.data, b.len, &d, &why), 0);
	assert_int_equal(d.u.conns.count, 0);
	buf_release(&b);
}

static void count_not_matching_length_is_rejected(void **state)
{
	struct buf b = BUF_INIT;

	encode_one(&b, REPL_CONNS_ADD, 1);
	b.data[REPL_HDR_LEN + 11] = 2; /* count 2, one entry */
	expect_rejected(&b, "body length wrong for the message type");
	buf_release(&b);
}

static void entry_with_unknown_family_is_rejected(void **state)
{
	struct buf b = BUF_INIT;

	encode_one(&b, REPL_CONNS_ADD, 1);
	b.data[REPL_HDR_LEN + 12] = 5;
	expect_rejected(&b, "connection entry with an unknown address family");
	buf_release(&b);
}

static void entry_with_port_zero_is_rejected(void **state)
{
	struct buf b = BUF_INIT;

	encode_one(&b, REPL_CONNS_ADD, 1);
	memset(b.data + REPL_HDR_LEN + 12 + 4, 0, 2); /* initiator port */
	expect_rejected(&b, "connection entry with port 0");
	buf_release(&b);
}

static void ipv4_entry_with_trailing_address_bytes_is_rejected(void **state)
{
	struct buf b = BUF_INIT;

	encode_one(&b, REPL_CONNS_ADD, 1);
	b.data[REPL_HDR_LEN + 12 + 8 + 4] = 1; /* portal address byte 5 */
	expect_rejected(&b, "IPv4 connection entry with bytes after the address");
	buf_release(&b);
}

static void entry_with_reserved_bytes_is_rejected(void **state)
{
	struct buf b = BUF_INIT;

	encode_one(&b, REPL_CONNS_ADD, 1);
	b.data[REPL_HDR_LEN + 12 + 7] = 1;
	expect_rejected(&b, "connection entry with reserved bytes set");
	buf_release(&b);
}

static void too_many_entries_are_not_encoded(void **state)
{
	struct buf b = BUF_INIT;
	struct repl_msg m;

	memset(&m, 0, sizeof(m));
	m.hdr.type = REPL_CONNS;
	m.u.conns.op = REPL_CONNS_FULL;
	m.u.conns.count = REPL_CONNS_MAX + 1;
	assert_int_equal(repl_msg_encode(&m, &b), -EMSGSIZE);
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

static void conn_from_sockaddrs_takes_both_ends(void **state)
{
	struct sockaddr_in l = {.sin_family = AF_INET, .sin_port = htons(3260)};
	struct sockaddr_in r = {.sin_family = AF_INET, .sin_port = htons(40001)};
	struct sockaddr_in6 r6 = {.sin6_family = AF_INET6, .sin6_port = htons(40001)};
	struct repl_conn c, want = conn(40001);

	memcpy(&l.sin_addr, want.portal_addr, 4);
	memcpy(&r.sin_addr, want.initiator_addr, 4);
	assert_int_equal(repl_conn_set(&c, (struct sockaddr *)&l, (struct sockaddr *)&r), 0);
	assert_true(repl_conn_equal(&c, &want));
	assert_int_equal(repl_conn_set(&c, (struct sockaddr *)&l, (struct sockaddr *)&r6),
			 -EAFNOSUPPORT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(add_then_del_leaves_table_empty),
		cmocka_unit_test(del_from_another_member_removes_nothing),
		cmocka_unit_test(same_connection_twice_is_kept_once_with_newest_epoch),
		cmocka_unit_test(adding_to_full_table_drops_oldest),
		cmocka_unit_test(expire_removes_only_older_epochs),
		cmocka_unit_test(clear_origin_keeps_other_members_entries),
		cmocka_unit_test(create_fails_cleanly_without_memory),
		cmocka_unit_test(conns_round_trip),
		cmocka_unit_test(conns_with_unknown_op_is_rejected),
		cmocka_unit_test(empty_add_is_rejected),
		cmocka_unit_test(empty_full_is_accepted),
		cmocka_unit_test(count_not_matching_length_is_rejected),
		cmocka_unit_test(entry_with_unknown_family_is_rejected),
		cmocka_unit_test(entry_with_port_zero_is_rejected),
		cmocka_unit_test(ipv4_entry_with_trailing_address_bytes_is_rejected),
		cmocka_unit_test(entry_with_reserved_bytes_is_rejected),
		cmocka_unit_test(too_many_entries_are_not_encoded),
		cmocka_unit_test(conn_from_sockaddrs_takes_both_ends),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
