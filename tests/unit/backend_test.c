/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * backend: the file store and the io_uring engine, on a temp directory:
 *
 *   test --submit--> engine (io_uring + eventfd) --> /tmp/hatgt-be-XXXXXX/store.img
 *        <--done()--  backend_engine_run() after poll(eventfd)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "scsi_fixture_test.h"

#define STORE_SIZE (1024 * 1024)

struct bfix {
	char dir[64];
	char path[96];
	struct backend_engine *eng;
	struct backend *be;
	struct backend_config cfg;
	int done_calls;
	int64_t res;
};

static struct bfix *bfix_current;

static void bfix_io_done(struct backend_io *io, int64_t res)
{
	bfix_current->done_calls++;
	bfix_current->res = res;
}

static int bfix_setup(void **state)
{
	struct bfix *b = calloc(1, sizeof(*b));

	assert_non_null(b);
	snprintf(b->dir, sizeof(b->dir), "/tmp/hatgt-be-XXXXXX");
	assert_non_null(mkdtemp(b->dir));
	snprintf(b->path, sizeof(b->path), "%s/store.img", b->dir);
	assert_int_equal(backend_engine_create(64, &b->eng), 0);
	b->cfg.path = b->path;
	b->cfg.create_size = STORE_SIZE;
	bfix_current = b;
	*state = b;
	return 0;
}

static int bfix_teardown(void **state)
{
	struct bfix *b = *state;

	fix_calloc_fail_in = 0;
	backend_close(b->be);
	backend_engine_destroy(b->eng);
	unlink(b->path);
	rmdir(b->dir);
	free(b);
	return 0;
}

/* Submit one request and run the engine until it completes. \return res. */
static int64_t bfix_io(struct bfix *b, enum backend_op op, uint64_t off, uint64_t len, void *buf,
		       uint32_t flags)
{
	struct backend_io io = {.op = op,
				.offset = off,
				.len = len,
				.buf = buf,
				.flags = flags,
				.done = bfix_io_done};
	struct pollfd pfd = {.fd = backend_engine_fd(b->eng), .events = POLLIN};
	int ret;

	b->done_calls = 0;
	ret = backend_submit(b->be, &io);
	if (ret < 0)
		return ret;
	while (b->done_calls == 0) {
		assert_int_equal(poll(&pfd, 1, 5000), 1);
		backend_engine_run(b->eng);
	}
	assert_int_equal(b->done_calls, 1);
	return b->res;
}

static void missing_file_is_created_sparse_with_create_size(void **state)
{
	struct bfix *b = *state;
	struct stat st;

	assert_int_equal(backend_open(b->eng, &b->cfg, &b->be), 0);
	assert_int_equal(stat(b->path, &st), 0);
	assert_int_equal(st.st_size, STORE_SIZE);
	assert_int_equal(st.st_blocks, 0);
	assert_int_equal(backend_size(b->be), STORE_SIZE);
}

static void missing_file_without_create_size_is_enoent(void **state)
{
	struct bfix *b = *state;

	b->cfg.create_size = 0;
	assert_int_equal(backend_open(b->eng, &b->cfg, &b->be), -ENOENT);
	assert_null(b->be);
}

static void existing_file_keeps_its_size(void **state)
{
	struct bfix *b = *state;
	int fd = open(b->path, O_CREAT | O_WRONLY, 0600);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 8192), 0);
	close(fd);
	assert_int_equal(backend_open(b->eng, &b->cfg, &b->be), 0);
	assert_int_equal(backend_size(b->be), 8192);
}

static void directory_is_not_a_store(void **state)
{
	struct bfix *b = *state;

	b->cfg.path = b->dir;
	b->cfg.readonly = true;
	assert_int_equal(backend_open(b->eng, &b->cfg, &b->be), -EINVAL);
}

static void empty_path_is_invalid(void **state)
{
	struct bfix *b = *state;

	b->cfg.path = "";
	assert_int_equal(backend_open(b->eng, &b->cfg, &b->be), -EINVAL);
}

static void open_allocation_failure_is_enomem(void **state)
{
	struct bfix *b = *state;

	fix_calloc_fail_in = 1;
	assert_int_equal(backend_open(b->eng, &b->cfg, &b->be), -ENOMEM);
	assert_null(b->be);
}

static void engine_allocation_failure_is_enomem(void **state)
{
	struct backend_engine *eng = NULL;

	fix_calloc_fail_in = 1;
	assert_int_equal(backend_engine_create(8, &eng), -ENOMEM);
	assert_null(eng);
}

static void write_then_read_returns_the_data(void **state)
{
	struct bfix *b = *state;
	uint8_t w[8192], r[8192];
	size_t i;

	for (i = 0; i < sizeof(w); i++)
		w[i] = (uint8_t)(i * 7);
	assert_int_equal(backend_open(b->eng, &b->cfg, &b->be), 0);
	assert_int_equal(bfix_io(b, BACKEND_OP_WRITE, 4096, sizeof(w), w, 0), sizeof(w));
	assert_int_equal(bfix_io(b, BACKEND_OP_READ, 4096, sizeof(r), r, 0), sizeof(r));
	assert_memory_equal(w, r, sizeof(w));
}

static void fua_write_is_submitted_durable(void **state)
{
	struct bfix *b = *state;
	uint8_t w[512] = {1};

	assert_int_equal(backend_open(b->eng, &b->cfg, &b->be), 0);
	assert_int_equal(bfix_io(b, BACKEND_OP_WRITE, 0, sizeof(w), w, BACKEND_IO_FUA), 512);
	assert_int_equal(backend_stats(b->be)->fua_writes, 1);
	assert_int_equal(backend_stats(b->be)->writes, 1);
}

static void flush_completes_and_is_counted(void **state)
{
	struct bfix *b = *state;

	assert_int_equal(backend_open(b->eng, &b->cfg, &b->be), 0);
	assert_int_equal(bfix_io(b, BACKEND_OP_FLUSH, 0, 0, NULL, 0), 0);
	assert_int_equal(backend_stats(b->be)->flushes, 1);
	assert_int_equal(backend_flush_sync(b->be), 0);
}

static void unmap_reads_back_zeros(void **state)
{
	struct bfix *b = *state;
	uint8_t w[4096], r[4096], z[4096] = {0};

	memset(w, 0xa5, sizeof(w));
	assert_int_equal(backend_open(b->eng, &b->cfg, &b->be), 0);
	if (!(backend_caps(b->be) & BACKEND_CAP_UNMAP))
		skip(); /* the temp filesystem cannot punch holes */
	assert_int_equal(bfix_io(b, BACKEND_OP_WRITE, 0, sizeof(w), w, 0), sizeof(w));
	assert_int_equal(bfix_io(b, BACKEND_OP_UNMAP, 0, sizeof(w), NULL, 0), sizeof(w));
	assert_int_equal(bfix_io(b, BACKEND_OP_READ, 0, sizeof(r), r, 0), sizeof(r));
	assert_memory_equal(r, z, sizeof(r));
}

/* SBC-3 5.6 GET LBA STATUS underneath: a fresh sparse store is one hole. */
static void map_query_of_a_sparse_store_is_one_hole(void **state)
{
	struct bfix *b = *state;
	uint64_t len = 0;
	bool mapped = true;

	assert_int_equal(backend_open(b->eng, &b->cfg, &b->be), 0);
	assert_int_equal(backend_map_query(b->be, 0, &mapped, &len), 0);
	assert_false(mapped);
	assert_int_equal(len, STORE_SIZE);
}

static void map_query_finds_written_data_then_the_hole_after_it(void **state)
{
	struct bfix *b = *state;
	uint8_t w[4096];
	uint64_t len = 0;
	bool mapped = false;

	memset(w, 1, sizeof(w));
	assert_int_equal(backend_open(b->eng, &b->cfg, &b->be), 0);
	assert_int_equal(bfix_io(b, BACKEND_OP_WRITE, 8192, sizeof(w), w, 0), sizeof(w));
	assert_int_equal(backend_map_query(b->be, 8192, &mapped, &len), 0);
	assert_true(mapped);
	assert_int_equal(len, 4096);
	assert_int_equal(backend_map_query(b->be, 0, &mapped, &len), 0);
	assert_false(mapped);
	assert_int_equal(len, 8192);
}

static void map_query_at_the_end_is_invalid(void **state)
{
	struct bfix *b = *state;
	uint64_t len;
	bool mapped;

	assert_int_equal(backend_open(b->eng, &b->cfg, &b->be), 0);
	assert_int_equal(backend_map_query(b->be, STORE_SIZE, &mapped, &len), -EINVAL);
}

static void size_refresh_sees_a_grown_file(void **state)
{
	struct bfix *b = *state;

	assert_int_equal(backend_open(b->eng, &b->cfg, &b->be), 0);
	assert_int_equal(truncate(b->path, 2 * STORE_SIZE), 0);
	assert_int_equal(backend_size(b->be), STORE_SIZE);
	assert_int_equal(backend_size_refresh(b->be), 0);
	assert_int_equal(backend_size(b->be), 2 * STORE_SIZE);
}

static void io_past_the_end_is_rejected(void **state)
{
	struct bfix *b = *state;
	uint8_t r[1024];

	assert_int_equal(backend_open(b->eng, &b->cfg, &b->be), 0);
	assert_int_equal(bfix_io(b, BACKEND_OP_READ, STORE_SIZE - 512, sizeof(r), r, 0), -EINVAL);
	assert_int_equal(bfix_io(b, BACKEND_OP_READ, 0, 0, r, 0), -EINVAL);
	assert_int_equal(backend_stats(b->be)->reads, 0);
}

static void readonly_store_refuses_writes_and_unmap(void **state)
{
	struct bfix *b = *state;
	uint8_t w[512] = {0};

	assert_int_equal(backend_open(b->eng, &b->cfg, &b->be), 0);
	backend_close(b->be);
	b->cfg.readonly = true;
	assert_int_equal(backend_open(b->eng, &b->cfg, &b->be), 0);
	assert_int_equal(bfix_io(b, BACKEND_OP_WRITE, 0, sizeof(w), w, 0), -EROFS);
	assert_int_equal(bfix_io(b, BACKEND_OP_UNMAP, 0, sizeof(w), NULL, 0), -EROFS);
}

static void readonly_missing_file_is_not_created(void **state)
{
	struct bfix *b = *state;

	b->cfg.readonly = true;
	assert_int_equal(backend_open(b->eng, &b->cfg, &b->be), -ENOENT);
}

static void posted_completion_arrives_through_the_eventfd(void **state)
{
	struct bfix *b = *state;
	struct backend_io io = {.done = bfix_io_done};
	struct pollfd pfd = {.fd = backend_engine_fd(b->eng), .events = POLLIN};

	backend_engine_complete(b->eng, &io, -EIO);
	assert_int_equal(b->done_calls, 0);
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_int_equal(backend_engine_run(b->eng), 1);
	assert_int_equal(b->done_calls, 1);
	assert_int_equal(b->res, -EIO);
}

/* Whether the completion eventfd is readable now. */
static bool bfix_signalled(struct bfix *b, int timeout_ms)
{
	struct pollfd pfd = {.fd = backend_engine_fd(b->eng), .events = POLLIN};

	return poll(&pfd, 1, timeout_ms) == 1;
}

static void held_completion_runs_at_release_without_the_eventfd(void **state)
{
	struct bfix *b = *state;
	struct backend_io io = {.done = bfix_io_done};

	backend_engine_hold(b->eng);
	backend_engine_complete(b->eng, &io, -EIO);
	assert_false(bfix_signalled(b, 0));
	assert_int_equal(b->done_calls, 0);
	backend_engine_release(b->eng);
	assert_int_equal(b->done_calls, 1);
	assert_int_equal(b->res, -EIO);
	assert_false(bfix_signalled(b, 0));
}

static void nested_holds_run_completions_at_the_last_release(void **state)
{
	struct bfix *b = *state;
	struct backend_io io = {.done = bfix_io_done};

	backend_engine_hold(b->eng);
	backend_engine_hold(b->eng);
	backend_engine_complete(b->eng, &io, 7);
	backend_engine_release(b->eng);
	assert_int_equal(b->done_calls, 0);
	backend_engine_release(b->eng);
	assert_int_equal(b->done_calls, 1);
	assert_int_equal(b->res, 7);
}

static void release_without_hold_leaves_completions_to_the_eventfd(void **state)
{
	struct bfix *b = *state;
	struct backend_io io = {.done = bfix_io_done};

	backend_engine_complete(b->eng, &io, 3);
	backend_engine_release(b->eng);
	assert_int_equal(b->done_calls, 0);
	assert_true(bfix_signalled(b, 0));
	assert_int_equal(backend_engine_run(b->eng), 1);
	assert_int_equal(b->done_calls, 1);
	/* The unbalanced release did not leave the engine held. */
	backend_engine_complete(b->eng, &io, 4);
	assert_true(bfix_signalled(b, 0));
	assert_int_equal(backend_engine_run(b->eng), 1);
}

static struct backend_io bfix_chained_io;

/* done() that posts one more completion, as a multi-step command does. */
static void bfix_chain_done(struct backend_io *io, int64_t res)
{
	bfix_current->done_calls++;
	bfix_chained_io.done = bfix_io_done;
	backend_engine_complete(bfix_current->eng, &bfix_chained_io, res + 1);
}

static void completion_posted_during_release_runs_in_that_release(void **state)
{
	struct bfix *b = *state;
	struct backend_io io = {.done = bfix_chain_done};

	backend_engine_hold(b->eng);
	backend_engine_complete(b->eng, &io, 10);
	backend_engine_release(b->eng);
	assert_int_equal(b->done_calls, 2);
	assert_int_equal(b->res, 11);
	assert_false(bfix_signalled(b, 0));
}

static void held_io_uring_request_is_submitted_at_release(void **state)
{
	struct bfix *b = *state;
	struct backend_io io = {.op = BACKEND_OP_FLUSH, .done = bfix_io_done};

	assert_int_equal(backend_open(b->eng, &b->cfg, &b->be), 0);
	backend_engine_hold(b->eng);
	assert_int_equal(backend_submit(b->be, &io), 0);
	/* Still in the submission queue: the kernel has not seen it. */
	assert_false(bfix_signalled(b, 200));
	backend_engine_release(b->eng);
	assert_true(bfix_signalled(b, 5000));
	assert_int_equal(backend_engine_run(b->eng), 1);
	assert_int_equal(b->done_calls, 1);
	assert_int_equal(b->res, 0);
}

static void full_submission_queue_during_a_hold_is_submitted_early(void **state)
{
	struct bfix *b = *state;
	struct backend_io ios[80];
	unsigned int i, n = 0;

	/* The fixture's ring has 64 entries: 80 held requests overflow it. */
	assert_int_equal(backend_open(b->eng, &b->cfg, &b->be), 0);
	backend_engine_hold(b->eng);
	for (i = 0; i < 80; i++) {
		ios[i] = (struct backend_io){.op = BACKEND_OP_FLUSH, .done = bfix_io_done};
		assert_int_equal(backend_submit(b->be, &ios[i]), 0);
	}
	backend_engine_release(b->eng);
	while (b->done_calls < 80 && n++ < 100) {
		assert_true(bfix_signalled(b, 5000));
		backend_engine_run(b->eng);
	}
	assert_int_equal(b->done_calls, 80);
}

#define T(f) cmocka_unit_test_setup_teardown(f, bfix_setup, bfix_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(missing_file_is_created_sparse_with_create_size),
		T(missing_file_without_create_size_is_enoent),
		T(existing_file_keeps_its_size),
		T(directory_is_not_a_store),
		T(empty_path_is_invalid),
		T(open_allocation_failure_is_enomem),
		cmocka_unit_test(engine_allocation_failure_is_enomem),
		T(write_then_read_returns_the_data),
		T(fua_write_is_submitted_durable),
		T(flush_completes_and_is_counted),
		T(unmap_reads_back_zeros),
		T(map_query_of_a_sparse_store_is_one_hole),
		T(map_query_finds_written_data_then_the_hole_after_it),
		T(map_query_at_the_end_is_invalid),
		T(size_refresh_sees_a_grown_file),
		T(io_past_the_end_is_rejected),
		T(readonly_store_refuses_writes_and_unmap),
		T(readonly_missing_file_is_not_created),
		T(posted_completion_arrives_through_the_eventfd),
		T(held_completion_runs_at_release_without_the_eventfd),
		T(nested_holds_run_completions_at_the_last_release),
		T(release_without_hold_leaves_completions_to_the_eventfd),
		T(completion_posted_during_release_runs_in_that_release),
		T(held_io_uring_request_is_submitted_at_release),
		T(full_submission_queue_during_a_hold_is_submitted_early),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
