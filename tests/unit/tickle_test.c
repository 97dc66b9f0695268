/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tickle ACK scheduling (ha/tickle.c) after a promotion: when the first ACK
 * goes out, and which logins end the tickling. The clock, the loop's timer,
 * the raw socket and the "is the portal address up here" probe (bind) are
 * wrapped (-Wl,--wrap), so each test drives the ticks by hand.
 *
 *   initiator host 198.18.0.50: writer :40001 (served by the old node),
 *                               another session (inquiry tool) logs in anew
 *        ^
 *        |  tickle ACK, from the portal
 *   portal 198.18.0.100:3260 on the new promoted node
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "ha/tickle.h"

#define MS 1000000ull

static uint64_t now_ns;
static bool addr_up;
static bool socket_fails;
static int calloc_fail_in;
static size_t sends;
static uint8_t last_dst[4];
static qb_loop_timer_dispatch_fn timer_fn;
static void *timer_data;

void *__real_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size)
{
	if (calloc_fail_in > 0 && --calloc_fail_in == 0)
		return NULL;
	return __real_calloc(n, size);
}

int __wrap_clock_gettime(clockid_t id, struct timespec *ts)
{
	(void)id;
	ts->tv_sec = (time_t)(now_ns / 1000000000ull);
	ts->tv_nsec = (long)(now_ns % 1000000000ull);
	return 0;
}

/* A real descriptor (close() stays the real one), or no raw socket. */
int __wrap_socket(int domain, int type, int protocol)
{
	(void)domain;
	(void)type;
	(void)protocol;
	if (socket_fails) {
		errno = EPERM;
		return -1;
	}
	return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/* tickle.c probes the portal address with bind() without IP_FREEBIND. */
int __wrap_bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	(void)fd;
	(void)sa;
	(void)len;
	if (addr_up)
		return 0;
	errno = EADDRNOTAVAIL;
	return -1;
}

ssize_t __wrap_sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *sa,
		      socklen_t salen)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

	(void)fd;
	(void)buf;
	(void)flags;
	assert_int_equal(salen, sizeof(*in));
	memcpy(last_dst, &in->sin_addr, 4);
	sends++;
	return (ssize_t)len;
}

int32_t __wrap_qb_loop_timer_add(qb_loop_t *l, enum qb_loop_priority p, uint64_t nsec_duration,
				 void *data, qb_loop_timer_dispatch_fn fn,
				 qb_loop_timer_handle *handle)
{
	(void)l;
	(void)p;
	(void)nsec_duration;
	timer_fn = fn;
	timer_data = data;
	*handle = 1;
	return 0;
}

int32_t __wrap_qb_loop_timer_del(qb_loop_t *l, qb_loop_timer_handle handle)
{
	(void)l;
	(void)handle;
	timer_fn = NULL;
	return 0;
}

static int reset(void **state)
{
	(void)state;
	now_ns = 1000 * MS;
	addr_up = false;
	socket_fails = false;
	calloc_fail_in = 0;
	sends = 0;
	memset(last_dst, 0, sizeof(last_dst));
	timer_fn = NULL;
	timer_data = NULL;
	return 0;
}

static struct repl_conn writer_conn(void)
{
	struct repl_conn c = {.family = 4,
			      .portal_port = 3260,
			      .initiator_port = 40001,
			      .portal_addr = {198, 18, 0, 100},
			      .initiator_addr = {198, 18, 0, 50}};

	return c;
}

/* A new connection from the initiator host (any port). */
static void login_from_host(struct tickle *t)
{
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(40777)};

	inet_pton(AF_INET, "198.18.0.50", &in.sin_addr);
	tickle_login(t, (const struct sockaddr *)&in);
}

/* Advance the clock by ms and run the pending tick, if any. */
static void tick_after(uint64_t ms)
{
	qb_loop_timer_dispatch_fn fn = timer_fn;

	now_ns += ms * MS;
	timer_fn = NULL;
	if (fn)
		fn(timer_data);
}

static struct tickle *start_writer(void)
{
	struct repl_conn c = writer_conn();
	struct tickle *t = NULL;

	assert_int_equal(tickle_start(NULL, &c, 1, &t), 0);
	assert_non_null(t);
	return t;
}

static void first_ack_waits_for_portal_address_and_arp_grace(void **state)
{
	const uint8_t ini[4] = {198, 18, 0, 50};
	struct tickle *t = start_writer();

	(void)state;
	tick_after(0);
	tick_after(TICKLE_POLL_MS);
	assert_int_equal(sends, 0); /* address not here yet */
	addr_up = true;
	tick_after(TICKLE_POLL_MS);
	tick_after(TICKLE_ARP_GRACE_MS - TICKLE_POLL_MS);
	assert_int_equal(sends, 0); /* IPaddr2 still announcing it */
	tick_after(TICKLE_POLL_MS);
	assert_int_equal(sends, 1);
	assert_memory_equal(last_dst, ini, 4);
	tickle_stop(t);
}

/* The lab's failure: the inquiry tool logged in from the writer's host
 * between the address coming up and the first ACK, and the writer got no
 * tickle at all. */
static void login_before_first_ack_keeps_connection_tickled(void **state)
{
	struct tickle *t = start_writer();

	(void)state;
	addr_up = true;
	tick_after(0);
	login_from_host(t);
	tick_after(TICKLE_ARP_GRACE_MS);
	assert_int_equal(sends, 1);
	tickle_stop(t);
}

static void login_after_first_ack_ends_tickling(void **state)
{
	struct tickle *t = start_writer();

	(void)state;
	addr_up = true;
	tick_after(0);
	tick_after(TICKLE_ARP_GRACE_MS);
	assert_int_equal(sends, 1);
	login_from_host(t);
	tick_after(TICKLE_EVERY_MS);
	assert_int_equal(sends, 1);
	assert_null(timer_fn); /* nothing left to tickle */
	tickle_stop(t);
}

static void unanswered_connection_is_tickled_again(void **state)
{
	struct tickle *t = start_writer();

	(void)state;
	addr_up = true;
	tick_after(0);
	tick_after(TICKLE_ARP_GRACE_MS);
	tick_after(TICKLE_EVERY_MS);
	assert_int_equal(sends, 2);
	tickle_stop(t);
}

static void no_connection_starts_nothing(void **state)
{
	struct tickle *t = (struct tickle *)&t;

	(void)state;
	assert_int_equal(tickle_start(NULL, NULL, 0, &t), 0);
	assert_null(t);
	assert_null(timer_fn);
}

static void no_raw_socket_starts_nothing(void **state)
{
	struct repl_conn c = writer_conn();
	struct tickle *t = NULL;

	(void)state;
	socket_fails = true;
	assert_int_equal(tickle_start(NULL, &c, 1, &t), 0);
	assert_null(t);
	assert_null(timer_fn);
}

static void allocation_failure_is_enomem(void **state)
{
	struct repl_conn c = writer_conn();
	struct tickle *t = NULL;
	int i;

	(void)state;
	for (i = 1; i <= 2; i++) {
		calloc_fail_in = i;
		assert_int_equal(tickle_start(NULL, &c, 1, &t), -ENOMEM);
		assert_null(t);
		assert_null(timer_fn);
	}
}

static void null_tickle_is_accepted(void **state)
{
	(void)state;
	login_from_host(NULL);
	tickle_stop(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(first_ack_waits_for_portal_address_and_arp_grace, reset),
		cmocka_unit_test_setup(login_before_first_ack_keeps_connection_tickled, reset),
		cmocka_unit_test_setup(login_after_first_ack_ends_tickling, reset),
		cmocka_unit_test_setup(unanswered_connection_is_tickled_again, reset),
		cmocka_unit_test_setup(no_connection_starts_nothing, reset),
		cmocka_unit_test_setup(no_raw_socket_starts_nothing, reset),
		cmocka_unit_test_setup(allocation_failure_is_enomem, reset),
		cmocka_unit_test_setup(null_tickle_is_accepted, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
