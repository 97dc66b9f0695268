/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * backend_read_map() on an in-memory store asks cachestat(2) per READ only
 * until a whole-window check finds every page of the window resident
 * (bs_file.c, BS_FILE_WIN_RECHECK):
 *
 *   /dev/shm/.../store.img: window 0 written in full, window 1 written
 *   except its last MiB (a hole), 2 windows
 *   /var/tmp/.../store.img (ext4 here: page cache, not in memory): one
 *   window written in full
 *
 * syscall() is wrapped (-Wl,--wrap) to count cachestat calls and to fail
 * them on demand (the SCSI fixture header brings the allocation wrappers
 * the shared link flags ask for).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "scsi_fixture_test.h"

#include "backend/backend_int.h"

#ifndef __NR_cachestat
#define __NR_cachestat 451
#endif

/* The READs a window serves with per-READ checks before the whole-window one
 * (bs_file.c). */
#define RECHECK 256
#define HOLE_LEN (UINT64_C(1) << 20)

/* cachestat calls counted; fail the n-th from now (1 = next, 0 = never). */
static int cachestats, cachestat_fail_in;

long __real_syscall(long number, ...);

long __wrap_syscall(long number, ...)
{
	long a[5];
	va_list ap;
	int i;

	va_start(ap, number);
	for (i = 0; i < 5; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (number == __NR_cachestat) {
		cachestats++;
		if (cachestat_fail_in && --cachestat_fail_in == 0) {
			errno = EINTR;
			return -1;
		}
	}
	return __real_syscall(number, a[0], a[1], a[2], a[3], a[4]);
}

struct rfix {
	char dir[64];
	char path[96];
	struct backend_engine *eng;
	struct backend *be;
};

static void rfix_fill(int fd, uint64_t off, uint64_t len)
{
	size_t chunk = 1 << 20;
	uint8_t *buf = malloc(chunk);
	uint64_t done;

	assert_non_null(buf);
	memset(buf, 0x5a, chunk);
	for (done = 0; done < len; done += chunk)
		assert_int_equal(pwrite(fd, buf, chunk, (off_t)(off + done)), (ssize_t)chunk);
	free(buf);
}

static int rfix_open(void **state, const char *dir_template, int windows)
{
	struct rfix *r = calloc(1, sizeof(*r));
	struct backend_config cfg = {0};
	int fd;

	assert_non_null(r);
	snprintf(r->dir, sizeof(r->dir), "%s", dir_template);
	assert_non_null(mkdtemp(r->dir));
	snprintf(r->path, sizeof(r->path), "%s/store.img", r->dir);
	fd = open(r->path, O_RDWR | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)(windows * BS_FILE_WIN_SIZE)), 0);
	rfix_fill(fd, 0, BS_FILE_WIN_SIZE);
	if (windows > 1)
		rfix_fill(fd, BS_FILE_WIN_SIZE, BS_FILE_WIN_SIZE - HOLE_LEN);
	close(fd);
	assert_int_equal(backend_engine_create(8, &r->eng), 0);
	cfg.path = r->path;
	assert_int_equal(backend_open(r->eng, &cfg, &r->be), 0);
	cachestats = cachestat_fail_in = 0;
	*state = r;
	return 0;
}

static int rfix_setup_shm(void **state)
{
	return rfix_open(state, "/dev/shm/hatgt-res-XXXXXX", 2);
}

static int rfix_setup_disk(void **state)
{
	return rfix_open(state, "/var/tmp/hatgt-res-XXXXXX", 1);
}

static int rfix_teardown(void **state)
{
	struct rfix *r = *state;

	backend_close(r->be);
	backend_engine_destroy(r->eng);
	unlink(r->path);
	rmdir(r->dir);
	free(r);
	return 0;
}

/* \p n 4 KiB READs through mappings from \p off on, each released.
 * \return how many were mapped. */
static int rfix_reads(struct rfix *r, uint64_t off, int n)
{
	const uint8_t *p;
	void *ref;
	int i, ok = 0;

	for (i = 0; i < n; i++) {
		ref = NULL;
		if (backend_read_map(r->be, off + (uint64_t)i * 4096 % (BS_FILE_WIN_SIZE / 2), 4096,
				     &p, &ref) == 0) {
			ok++;
			backend_read_unmap(r->be, ref);
		}
	}
	return ok;
}

/* Wait for \p io, submitted, and return its result. */
static int64_t rfix_wait(struct rfix *r, struct backend_io *io)
{
	struct pollfd pfd = {.fd = backend_engine_fd(r->eng), .events = POLLIN};

	while (io->res == INT64_MIN) {
		assert_true(poll(&pfd, 1, 5000) >= 0);
		backend_engine_run(r->eng);
	}
	return io->res;
}

static void rfix_io_done(struct backend_io *io, int64_t res)
{
	io->res = res;
}

static void resident_window_reads_stop_asking_cachestat(void **state)
{
	struct rfix *r = *state;

	assert_int_equal(rfix_reads(r, 0, RECHECK), RECHECK);
	cachestats = 0;
	assert_int_equal(rfix_reads(r, 0, 100), 100);
	assert_int_equal(cachestats, 0);
}

static void reads_ask_cachestat_before_the_window_check(void **state)
{
	struct rfix *r = *state;

	assert_int_equal(rfix_reads(r, 0, RECHECK - 1), RECHECK - 1);
	assert_int_equal(cachestats, RECHECK - 1);
}

static void window_with_a_hole_keeps_asking_cachestat(void **state)
{
	struct rfix *r = *state;

	assert_int_equal(rfix_reads(r, BS_FILE_WIN_SIZE, RECHECK), RECHECK);
	cachestats = 0;
	assert_int_equal(rfix_reads(r, BS_FILE_WIN_SIZE, 10), 10);
	assert_int_equal(cachestats, 10);
}

static void hole_in_a_checked_window_is_still_refused(void **state)
{
	struct rfix *r = *state;
	const uint8_t *p;
	void *ref = NULL;

	assert_int_equal(rfix_reads(r, BS_FILE_WIN_SIZE, 2 * RECHECK), 2 * RECHECK);
	assert_int_equal(backend_read_map(r->be, 2 * BS_FILE_WIN_SIZE - 4096, 4096, &p, &ref),
			 -EOPNOTSUPP);
	assert_null(ref);
}

static void unmap_makes_the_window_ask_again(void **state)
{
	struct rfix *r = *state;
	struct backend_io io = {.op = BACKEND_OP_UNMAP,
				.offset = BS_FILE_WIN_SIZE / 2,
				.len = 1 << 20,
				.done = rfix_io_done,
				.res = INT64_MIN};
	const uint8_t *p;
	void *ref = NULL;

	assert_int_equal(rfix_reads(r, 0, RECHECK), RECHECK);
	assert_int_equal(backend_submit(r->be, &io), 0);
	assert_int_equal(rfix_wait(r, &io), 1 << 20);
	cachestats = 0;
	assert_int_equal(backend_read_map(r->be, BS_FILE_WIN_SIZE / 2, 4096, &p, &ref),
			 -EOPNOTSUPP);
	assert_null(ref);
	assert_int_equal(cachestats, 1);
}

static void failed_window_check_leaves_the_window_unmarked(void **state)
{
	struct rfix *r = *state;

	assert_int_equal(rfix_reads(r, 0, RECHECK - 1), RECHECK - 1);
	/* The next READ's own check passes, the window check after it fails. */
	cachestat_fail_in = 2;
	assert_int_equal(rfix_reads(r, 0, 1), 1);
	cachestats = 0;
	assert_int_equal(rfix_reads(r, 0, 5), 5);
	assert_int_equal(cachestats, 5);
}

static void failed_cachestat_refuses_the_read(void **state)
{
	struct rfix *r = *state;
	const uint8_t *p;
	void *ref = NULL;

	cachestat_fail_in = 1;
	assert_int_equal(backend_read_map(r->be, 0, 4096, &p, &ref), -EOPNOTSUPP);
	assert_null(ref);
}

static void page_cache_store_asks_cachestat_on_every_read(void **state)
{
	struct rfix *r = *state;

	/* Pages of a disk file's page cache can go at any time. */
	assert_int_equal(rfix_reads(r, 0, 2 * RECHECK), 2 * RECHECK);
	assert_int_equal(cachestats, 2 * RECHECK);
}

/* cachestat(2) (Linux 6.5) on a file in a writable /dev/shm? */
static bool resident_supported(void)
{
	char path[] = "/dev/shm/hatgt-res-probe-XXXXXX";
	struct {
		uint64_t off, len;
	} range = {0, 4096};
	uint64_t cs[5];
	bool ok;
	int fd;

	fd = mkstemp(path);
	if (fd < 0)
		return false;
	ok = __real_syscall(__NR_cachestat, fd, &range, cs, 0) == 0;
	close(fd);
	unlink(path);
	return ok;
}

#define TS(f) cmocka_unit_test_setup_teardown(f, rfix_setup_shm, rfix_teardown)
#define TD(f) cmocka_unit_test_setup_teardown(f, rfix_setup_disk, rfix_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TS(resident_window_reads_stop_asking_cachestat),
		TS(reads_ask_cachestat_before_the_window_check),
		TS(window_with_a_hole_keeps_asking_cachestat),
		TS(hole_in_a_checked_window_is_still_refused),
		TS(unmap_makes_the_window_ask_again),
		TS(failed_window_check_leaves_the_window_unmarked),
		TS(failed_cachestat_refuses_the_read),
		TD(page_cache_store_asks_cachestat_on_every_read),
	};

	if (!resident_supported()) {
		fprintf(stderr, "SKIP: no writable /dev/shm or no cachestat(2)\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
