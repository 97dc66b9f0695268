/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * backend_read_map(): the file store's window cache, on tmpfs, where
 * cachestat(2) counts written pages resident and holes not:
 *
 *   store.img (sparse, 17 windows + 8 KiB): 256 KiB written at the start
 *   of every window, 4 KiB on each side of the first boundary, the 8 KiB
 *   after the last window
 *
 * mmap and munmap are wrapped (-Wl,--wrap) to count the windows mapped and
 * unmapped and to fail a mapping on demand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "scsi_fixture_test.h"

#include "backend/backend_int.h"

#define NWIN (BS_FILE_WIN_MAX + 1)
#define TAIL 8192
#define STORE_SIZE ((uint64_t)NWIN * BS_FILE_WIN_SIZE + TAIL)
#define CHUNK BS_FILE_WIN_EVICT_LEN /* long enough to evict a window */

/* What the wrapped mmap/munmap saw of the store's read-only mappings. */
static int maps, unmaps, map_fail;
static size_t map_len_last;
static const void *unmap_addr_last;

/* With 64-bit file offsets the C library's header names mmap mmap64. */
void *__real_mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int __real_munmap(void *addr, size_t len);

void *__wrap_mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (prot == PROT_READ && flags == MAP_SHARED) {
		if (map_fail) {
			map_fail = 0;
			errno = ENOMEM;
			return MAP_FAILED;
		}
		maps++;
		map_len_last = len;
	}
	return __real_mmap64(addr, len, prot, flags, fd, off);
}

int __wrap_munmap(void *addr, size_t len)
{
	unmaps++;
	unmap_addr_last = addr;
	return __real_munmap(addr, len);
}

struct mfix {
	char dir[64];
	char path[96];
	struct backend_engine *eng;
	struct backend *be;
};

static uint8_t pattern_byte(uint64_t off)
{
	return (uint8_t)((off >> 12) * 7 + (off & 0xff));
}

static void mfix_write(int fd, uint64_t off, uint64_t len)
{
	uint8_t *buf = malloc(len);
	uint64_t i;

	assert_non_null(buf);
	for (i = 0; i < len; i++)
		buf[i] = pattern_byte(off + i);
	assert_int_equal(pwrite(fd, buf, len, (off_t)off), (ssize_t)len);
	free(buf);
}

static int mfix_setup(void **state)
{
	struct mfix *m = calloc(1, sizeof(*m));
	struct backend_config cfg = {0};
	int fd, i;

	assert_non_null(m);
	snprintf(m->dir, sizeof(m->dir), "/dev/shm/hatgt-map-XXXXXX");
	assert_non_null(mkdtemp(m->dir));
	snprintf(m->path, sizeof(m->path), "%s/store.img", m->dir);
	fd = open(m->path, O_RDWR | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)STORE_SIZE), 0);
	for (i = 0; i < NWIN; i++)
		mfix_write(fd, (uint64_t)i * BS_FILE_WIN_SIZE, CHUNK);
	mfix_write(fd, BS_FILE_WIN_SIZE - 4096, 4096);
	mfix_write(fd, (uint64_t)NWIN * BS_FILE_WIN_SIZE, TAIL);
	close(fd);
	assert_int_equal(backend_engine_create(8, &m->eng), 0);
	cfg.path = m->path;
	assert_int_equal(backend_open(m->eng, &cfg, &m->be), 0);
	*state = m;
	maps = unmaps = map_fail = 0;
	return 0;
}

static int mfix_teardown(void **state)
{
	struct mfix *m = *state;

	backend_close(m->be);
	backend_engine_destroy(m->eng);
	unlink(m->path);
	rmdir(m->dir);
	free(m);
	return 0;
}

/* Map CHUNK bytes at the start of window \p win. \return the pointer. */
static const uint8_t *mfix_map(struct mfix *m, int win, void **ref)
{
	const uint8_t *p = NULL;

	assert_int_equal(backend_read_map(m->be, (uint64_t)win * BS_FILE_WIN_SIZE, CHUNK, &p, ref),
			 0);
	assert_non_null(*ref);
	return p;
}

static void read_map_points_at_the_stored_bytes(void **state)
{
	struct mfix *m = *state;
	uint64_t off = 3 * BS_FILE_WIN_SIZE + 512;
	const uint8_t *p = NULL;
	void *ref = NULL;
	uint64_t i;

	assert_int_equal(backend_read_map(m->be, off, 4096, &p, &ref), 0);
	for (i = 0; i < 4096; i++)
		assert_int_equal(p[i], pattern_byte(off + i));
	backend_read_unmap(m->be, ref);
}

static void two_reads_in_one_window_share_one_mapping(void **state)
{
	struct mfix *m = *state;
	const uint8_t *p1, *p2 = NULL;
	void *r1, *r2 = NULL;

	p1 = mfix_map(m, 2, &r1);
	assert_int_equal(backend_read_map(m->be, 2 * BS_FILE_WIN_SIZE + 4096, 4096, &p2, &r2), 0);
	assert_ptr_equal(p2, p1 + 4096);
	assert_ptr_equal(r2, r1);
	assert_int_equal(maps, 1);
	backend_read_unmap(m->be, r1);
	backend_read_unmap(m->be, r2);
}

static void released_window_stays_mapped_for_the_next_read(void **state)
{
	struct mfix *m = *state;
	const uint8_t *p1, *p2;
	void *ref;

	p1 = mfix_map(m, 4, &ref);
	backend_read_unmap(m->be, ref);
	p2 = mfix_map(m, 4, &ref);
	backend_read_unmap(m->be, ref);
	assert_ptr_equal(p1, p2);
	assert_int_equal(maps, 1);
	assert_int_equal(unmaps, 0);
}

static void range_crossing_a_window_boundary_is_refused(void **state)
{
	struct mfix *m = *state;
	const uint8_t *p;
	void *ref = NULL;

	assert_int_equal(backend_read_map(m->be, BS_FILE_WIN_SIZE - 4096, 8192, &p, &ref),
			 -EOPNOTSUPP);
	assert_null(ref);
	assert_int_equal(maps, 0);
}

static void range_ending_at_a_window_boundary_is_mapped(void **state)
{
	struct mfix *m = *state;
	const uint8_t *p;
	void *ref = NULL;

	assert_int_equal(backend_read_map(m->be, BS_FILE_WIN_SIZE - 4096, 4096, &p, &ref), 0);
	assert_int_equal(p[0], pattern_byte(BS_FILE_WIN_SIZE - 4096));
	backend_read_unmap(m->be, ref);
}

static void hole_is_refused_without_mapping(void **state)
{
	struct mfix *m = *state;
	const uint8_t *p;
	void *ref = NULL;

	assert_int_equal(backend_read_map(m->be, 5 * BS_FILE_WIN_SIZE + (1 << 20), 4096, &p, &ref),
			 -EOPNOTSUPP);
	assert_int_equal(maps, 0);
}

static void least_recently_used_unreferenced_window_is_evicted(void **state)
{
	struct mfix *m = *state;
	const uint8_t *base[BS_FILE_WIN_MAX];
	void *ref;
	int i;

	for (i = 0; i < BS_FILE_WIN_MAX; i++) {
		base[i] = mfix_map(m, i, &ref);
		backend_read_unmap(m->be, ref);
	}
	mfix_map(m, 0, &ref); /* window 1 is now the least recently used */
	backend_read_unmap(m->be, ref);
	assert_int_equal(unmaps, 0);
	mfix_map(m, BS_FILE_WIN_MAX, &ref);
	backend_read_unmap(m->be, ref);
	assert_int_equal(maps, BS_FILE_WIN_MAX + 1);
	assert_int_equal(unmaps, 1);
	assert_ptr_equal(unmap_addr_last, base[1]);
}

static void short_read_does_not_evict_a_recently_used_window(void **state)
{
	struct mfix *m = *state;
	const uint8_t *p;
	void *ref = NULL;
	int i;

	for (i = 0; i < BS_FILE_WIN_MAX; i++) {
		mfix_map(m, i, &ref);
		backend_read_unmap(m->be, ref);
	}
	ref = NULL;
	assert_int_equal(
		backend_read_map(m->be, BS_FILE_WIN_MAX * BS_FILE_WIN_SIZE, 4096, &p, &ref),
		-EOPNOTSUPP);
	assert_null(ref);
	assert_int_equal(unmaps, 0);
	assert_int_equal(maps, BS_FILE_WIN_MAX);
}

static void short_read_evicts_a_window_idle_for_long(void **state)
{
	struct mfix *m = *state;
	const uint8_t *base1 = NULL, *p;
	void *ref;
	int i;

	for (i = 0; i < BS_FILE_WIN_MAX; i++) {
		p = mfix_map(m, i, &ref);
		if (i == 1)
			base1 = p;
		backend_read_unmap(m->be, ref);
	}
	/* Window 0 busy, the others idle for BS_FILE_WIN_IDLE READs. */
	for (i = 0; i < BS_FILE_WIN_IDLE; i++) {
		assert_int_equal(backend_read_map(m->be, 4096, 4096, &p, &ref), 0);
		backend_read_unmap(m->be, ref);
	}
	assert_int_equal(
		backend_read_map(m->be, BS_FILE_WIN_MAX * BS_FILE_WIN_SIZE, 4096, &p, &ref), 0);
	assert_int_equal(unmaps, 1);
	assert_ptr_equal(unmap_addr_last, base1);
	backend_read_unmap(m->be, ref);
}

static void referenced_windows_are_never_evicted(void **state)
{
	struct mfix *m = *state;
	const uint8_t *base[BS_FILE_WIN_MAX], *p;
	void *ref[BS_FILE_WIN_MAX], *r = NULL;
	int i;

	for (i = 0; i < BS_FILE_WIN_MAX; i++)
		base[i] = mfix_map(m, i, &ref[i]);
	assert_int_equal(backend_read_map(m->be, BS_FILE_WIN_MAX * BS_FILE_WIN_SIZE, CHUNK, &p, &r),
			 -EOPNOTSUPP);
	assert_null(r);
	assert_int_equal(unmaps, 0);
	/* The one released is the one that goes, though window 0 is older. */
	backend_read_unmap(m->be, ref[5]);
	mfix_map(m, BS_FILE_WIN_MAX, &r);
	assert_int_equal(unmaps, 1);
	assert_ptr_equal(unmap_addr_last, base[5]);
	backend_read_unmap(m->be, r);
	for (i = 0; i < BS_FILE_WIN_MAX; i++)
		if (i != 5)
			backend_read_unmap(m->be, ref[i]);
}

static void window_referenced_twice_stays_until_both_release(void **state)
{
	struct mfix *m = *state;
	void *ref[BS_FILE_WIN_MAX], *extra, *r;
	int i;

	for (i = 0; i < BS_FILE_WIN_MAX; i++)
		mfix_map(m, i, &ref[i]);
	mfix_map(m, 7, &extra);
	backend_read_unmap(m->be, ref[7]);
	assert_int_equal(backend_read_map(m->be, BS_FILE_WIN_MAX * BS_FILE_WIN_SIZE, 4096,
					  &(const uint8_t *){NULL}, &r),
			 -EOPNOTSUPP);
	assert_int_equal(unmaps, 0);
	backend_read_unmap(m->be, extra);
	for (i = 0; i < BS_FILE_WIN_MAX; i++)
		if (i != 7)
			backend_read_unmap(m->be, ref[i]);
}

static void null_ref_release_changes_nothing(void **state)
{
	struct mfix *m = *state;
	void *ref[BS_FILE_WIN_MAX], *r = NULL;
	int i;

	for (i = 0; i < BS_FILE_WIN_MAX; i++)
		mfix_map(m, i, &ref[i]);
	backend_read_unmap(m->be, NULL);
	assert_int_equal(backend_read_map(m->be, BS_FILE_WIN_MAX * BS_FILE_WIN_SIZE, 4096,
					  &(const uint8_t *){NULL}, &r),
			 -EOPNOTSUPP);
	for (i = 0; i < BS_FILE_WIN_MAX; i++)
		backend_read_unmap(m->be, ref[i]);
}

static void failed_mmap_falls_back_then_recovers(void **state)
{
	struct mfix *m = *state;
	const uint8_t *p;
	void *ref = NULL;

	map_fail = 1;
	assert_int_equal(backend_read_map(m->be, 6 * BS_FILE_WIN_SIZE, 4096, &p, &ref),
			 -EOPNOTSUPP);
	assert_null(ref);
	assert_int_equal(maps, 0);
	p = mfix_map(m, 6, &ref);
	assert_int_equal(p[0], pattern_byte(6 * BS_FILE_WIN_SIZE));
	assert_int_equal(maps, 1);
	backend_read_unmap(m->be, ref);
}

static void last_window_maps_only_to_the_end_of_the_store(void **state)
{
	struct mfix *m = *state;
	const uint8_t *p;
	void *ref;

	assert_int_equal(backend_read_map(m->be, STORE_SIZE - TAIL, 4096, &p, &ref), 0);
	assert_int_equal(map_len_last, TAIL);
	backend_read_unmap(m->be, ref);
}

static void last_window_is_remapped_after_the_store_grew(void **state)
{
	struct mfix *m = *state;
	uint64_t end = STORE_SIZE;
	const uint8_t *p;
	void *ref;
	int fd;

	assert_int_equal(backend_read_map(m->be, STORE_SIZE - TAIL, 4096, &p, &ref), 0);
	backend_read_unmap(m->be, ref);
	fd = open(m->path, O_RDWR);
	assert_true(fd >= 0);
	mfix_write(fd, end, 4096);
	close(fd);
	assert_int_equal(backend_size_refresh(m->be), 0);
	assert_int_equal(backend_read_map(m->be, end, 4096, &p, &ref), 0);
	assert_int_equal(p[0], pattern_byte(end));
	assert_int_equal(maps, 2);
	assert_int_equal(unmaps, 1);
	assert_int_equal(map_len_last, TAIL + 4096);
	backend_read_unmap(m->be, ref);
}

static void grown_window_still_referenced_is_not_remapped(void **state)
{
	struct mfix *m = *state;
	uint64_t end = STORE_SIZE;
	const uint8_t *p;
	void *ref, *r = NULL;
	int fd;

	assert_int_equal(backend_read_map(m->be, STORE_SIZE - TAIL, 4096, &p, &ref), 0);
	fd = open(m->path, O_RDWR);
	assert_true(fd >= 0);
	mfix_write(fd, end, 4096);
	close(fd);
	assert_int_equal(backend_size_refresh(m->be), 0);
	assert_int_equal(backend_read_map(m->be, end, 4096, &p, &r), -EOPNOTSUPP);
	assert_int_equal(unmaps, 0);
	backend_read_unmap(m->be, ref);
}

static void close_unmaps_every_window(void **state)
{
	struct mfix *m = *state;
	void *ref;
	int i;

	for (i = 0; i < 3; i++) {
		mfix_map(m, i, &ref);
		backend_read_unmap(m->be, ref);
	}
	assert_int_equal(unmaps, 0);
	backend_close(m->be);
	m->be = NULL;
	assert_int_equal(unmaps, 3);
}

#define T(f) cmocka_unit_test_setup_teardown(f, mfix_setup, mfix_teardown)

/* Can this machine map a store at all: a writable /dev/shm, and cachestat(2)
 * (Linux 6.5)? */
static bool map_supported(void)
{
	struct backend_engine *eng = NULL;
	struct backend *be = NULL;
	char path[] = "/dev/shm/hatgt-map-probe-XXXXXX";
	struct backend_config cfg = {.path = path};
	uint8_t buf[4096] = {1};
	const uint8_t *p;
	void *ref = NULL;
	bool ok = false;
	int fd;

	fd = mkstemp(path);
	if (fd < 0)
		return false;
	if (pwrite(fd, buf, sizeof(buf), 0) == (ssize_t)sizeof(buf) &&
	    backend_engine_create(8, &eng) == 0 && backend_open(eng, &cfg, &be) == 0)
		ok = backend_read_map(be, 0, sizeof(buf), &p, &ref) == 0;
	backend_read_unmap(be, ref);
	backend_close(be);
	backend_engine_destroy(eng);
	close(fd);
	unlink(path);
	return ok;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(read_map_points_at_the_stored_bytes),
		T(two_reads_in_one_window_share_one_mapping),
		T(released_window_stays_mapped_for_the_next_read),
		T(range_crossing_a_window_boundary_is_refused),
		T(range_ending_at_a_window_boundary_is_mapped),
		T(hole_is_refused_without_mapping),
		T(least_recently_used_unreferenced_window_is_evicted),
		T(short_read_does_not_evict_a_recently_used_window),
		T(short_read_evicts_a_window_idle_for_long),
		T(referenced_windows_are_never_evicted),
		T(window_referenced_twice_stays_until_both_release),
		T(null_ref_release_changes_nothing),
		T(failed_mmap_falls_back_then_recovers),
		T(last_window_maps_only_to_the_end_of_the_store),
		T(last_window_is_remapped_after_the_store_grew),
		T(grown_window_still_referenced_is_not_remapped),
		T(close_unmaps_every_window),
	};
	if (!map_supported()) {
		fprintf(stderr, "SKIP: no writable /dev/shm or no cachestat(2)\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
