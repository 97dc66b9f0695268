/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for the busy-poll the event loop spins on while an initiator
 * waits for each command (daemon/iscsi/pdu.c iscsi_poll_spin, used by
 * conn.c's poll_us spin):
 *
 *   pfd[0]: socketpair end A (B is the "initiator")
 *   pfd[1]: pipe read end (the "completion eventfd")
 *
 * The clock is fake: each call moves it on by TICK ns, so the deadline is
 * reached after a known number of empty polls.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "iscsi/conn.h"

#define TICK 1000

static uint64_t clock_ns;
static unsigned int clock_calls;

static uint64_t fake_now(void)
{
	clock_calls++;
	clock_ns += TICK;
	return clock_ns;
}

struct sfix {
	int sv[2];
	int pipefd[2];
	struct pollfd pfd[2];
};

static int sfix_setup(void **state)
{
	struct sfix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, f->sv), 0);
	assert_int_equal(pipe(f->pipefd), 0);
	f->pfd[0].fd = f->sv[0];
	f->pfd[0].events = POLLIN;
	f->pfd[1].fd = f->pipefd[0];
	f->pfd[1].events = POLLIN;
	clock_ns = 0;
	clock_calls = 0;
	*state = f;
	return 0;
}

static int sfix_teardown(void **state)
{
	struct sfix *f = *state;

	if (f->sv[0] >= 0)
		close(f->sv[0]);
	close(f->sv[1]);
	close(f->pipefd[0]);
	close(f->pipefd[1]);
	free(f);
	return 0;
}

static void readable_socket_ends_the_spin_before_any_clock_read(void **state)
{
	struct sfix *f = *state;

	assert_int_equal(write(f->sv[1], "x", 1), 1);
	assert_int_equal(iscsi_poll_spin(f->pfd, 2, UINT64_MAX, fake_now), 1);
	assert_true(f->pfd[0].revents & POLLIN);
	assert_int_equal(f->pfd[1].revents, 0);
	assert_int_equal(clock_calls, 0);
}

static void nothing_ready_spins_until_the_deadline(void **state)
{
	struct sfix *f = *state;

	assert_int_equal(iscsi_poll_spin(f->pfd, 2, 5 * TICK, fake_now), 0);
	assert_int_equal(clock_calls, 5);
}

static void past_deadline_still_polls_once(void **state)
{
	struct sfix *f = *state;

	assert_int_equal(write(f->pipefd[1], "x", 1), 1);
	assert_int_equal(iscsi_poll_spin(f->pfd, 2, 0, fake_now), 1);
	assert_true(f->pfd[1].revents & POLLIN);
}

static void hung_up_peer_ends_the_spin(void **state)
{
	struct sfix *f = *state;

	close(f->sv[1]);
	f->sv[1] = socket(AF_UNIX, SOCK_STREAM, 0); /* something for teardown to close */
	assert_int_equal(iscsi_poll_spin(f->pfd, 2, UINT64_MAX, fake_now), 1);
	assert_true(f->pfd[0].revents & POLLHUP);
}

static void closed_descriptor_ends_the_spin(void **state)
{
	struct sfix *f = *state;

	close(f->sv[0]);
	f->sv[0] = -1;
	assert_int_equal(iscsi_poll_spin(f->pfd, 2, UINT64_MAX, fake_now), 1);
	assert_true(f->pfd[0].revents & POLLNVAL);
}

static void poll_failure_is_returned(void **state)
{
	(void)state;
	assert_int_equal(iscsi_poll_spin(NULL, 1, UINT64_MAX, fake_now), -EFAULT);
	assert_int_equal(clock_calls, 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, sfix_setup, sfix_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(readable_socket_ends_the_spin_before_any_clock_read),
		T(nothing_ready_spins_until_the_deadline),
		T(past_deadline_still_polls_once),
		T(hung_up_peer_ends_the_spin),
		T(closed_descriptor_ends_the_spin),
		T(poll_failure_is_returned),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
