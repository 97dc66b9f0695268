/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * backend: the encryption layer (bs_crypt.c) over the file store, on a temp
 * directory:
 *
 *   test --submit--> crypt (AES-256-XTS) --> file store --> io_uring
 *                      |                                     |
 *   key.bin (KEK) -----+       store.img: [1 MiB header][LU data, ciphertext]
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

#define HDR_AREA (1024 * 1024)
#define STORE_SIZE (HDR_AREA + 1024 * 1024)
#define LU_SIZE (STORE_SIZE - HDR_AREA)

struct cfix {
	char dir[64];
	char path[96];
	char key[96];
	struct backend_engine *eng;
	struct backend *be;
	struct backend_config cfg;
	int done_calls;
	int64_t res;
};

static struct cfix *cfix_current;

static void cfix_io_done(struct backend_io *io, int64_t res)
{
	(void)io;
	cfix_current->done_calls++;
	cfix_current->res = res;
}

/* Write \p len bytes to \p path with \p mode (replacing it). */
static void cfix_file_put(const char *path, const void *p, size_t len, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void cfix_key_put(struct cfix *c, uint8_t fill)
{
	uint8_t kek[32];

	memset(kek, fill, sizeof(kek));
	cfix_file_put(c->key, kek, sizeof(kek), 0600);
}

static int cfix_setup(void **state)
{
	struct cfix *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	snprintf(c->dir, sizeof(c->dir), "/tmp/hatgt-crypt-XXXXXX");
	assert_non_null(mkdtemp(c->dir));
	snprintf(c->path, sizeof(c->path), "%s/store.img", c->dir);
	snprintf(c->key, sizeof(c->key), "%s/key.bin", c->dir);
	assert_int_equal(backend_engine_create(64, &c->eng), 0);
	cfix_key_put(c, 0x5a);
	c->cfg.path = c->path;
	c->cfg.create_size = STORE_SIZE;
	c->cfg.key_file = c->key;
	cfix_current = c;
	*state = c;
	return 0;
}

static int cfix_teardown(void **state)
{
	struct cfix *c = *state;

	fix_calloc_fail_in = 0;
	backend_close(c->be);
	backend_engine_destroy(c->eng);
	unlink(c->path);
	unlink(c->key);
	rmdir(c->dir);
	free(c);
	return 0;
}

static void cfix_reopen(struct cfix *c, int expect)
{
	backend_close(c->be);
	c->be = NULL;
	assert_int_equal(backend_open(c->eng, &c->cfg, &c->be), expect);
}

/* Submit one request and run the engine until it completes. \return res. */
static int64_t cfix_io(struct cfix *c, enum backend_op op, uint64_t off, uint64_t len, void *buf)
{
	struct backend_io io = {
		.op = op, .offset = off, .len = len, .buf = buf, .done = cfix_io_done};
	struct pollfd pfd = {.fd = backend_engine_fd(c->eng), .events = POLLIN};
	int ret;

	c->done_calls = 0;
	ret = backend_submit(c->be, &io);
	if (ret < 0)
		return ret;
	while (c->done_calls == 0) {
		assert_int_equal(poll(&pfd, 1, 5000), 1);
		backend_engine_run(c->eng);
	}
	assert_int_equal(c->done_calls, 1);
	return c->res;
}

static void cfix_pattern(uint8_t *p, size_t len, uint8_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + seed);
}

/* Read \p len bytes of the raw store at \p off. */
static void cfix_raw_read(struct cfix *c, uint64_t off, void *p, size_t len)
{
	int fd = open(c->path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, p, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static void cfix_raw_write(struct cfix *c, uint64_t off, const void *p, size_t len)
{
	int fd = open(c->path, O_WRONLY);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, p, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static void written_data_reads_back(void **state)
{
	struct cfix *c = *state;
	uint8_t w[8192], r[8192];

	assert_int_equal(backend_open(c->eng, &c->cfg, &c->be), 0);
	cfix_pattern(w, sizeof(w), 1);
	assert_int_equal(cfix_io(c, BACKEND_OP_WRITE, 4096, sizeof(w), w), sizeof(w));
	assert_int_equal(cfix_io(c, BACKEND_OP_READ, 4096, sizeof(r), r), sizeof(r));
	assert_memory_equal(w, r, sizeof(w));
}

static void lu_size_excludes_header_and_erase_is_offered(void **state)
{
	struct cfix *c = *state;

	assert_int_equal(backend_open(c->eng, &c->cfg, &c->be), 0);
	assert_int_equal(backend_size(c->be), LU_SIZE);
	assert_true(backend_caps(c->be) & BACKEND_CAP_CRYPTO_ERASE);
}

static void ciphertext_on_disk_differs_from_plaintext(void **state)
{
	struct cfix *c = *state;
	uint8_t w[4096], raw[4096];

	assert_int_equal(backend_open(c->eng, &c->cfg, &c->be), 0);
	cfix_pattern(w, sizeof(w), 2);
	assert_int_equal(cfix_io(c, BACKEND_OP_WRITE, 0, sizeof(w), w), sizeof(w));
	assert_int_equal(backend_flush_sync(c->be), 0);
	cfix_raw_read(c, HDR_AREA, raw, sizeof(raw));
	assert_memory_not_equal(w, raw, sizeof(w));
}

/* XTS: the tweak is the unit number, so equal plaintext units differ on disk. */
static void equal_units_have_different_ciphertext(void **state)
{
	struct cfix *c = *state;
	uint8_t w[1024], raw[1024];

	assert_int_equal(backend_open(c->eng, &c->cfg, &c->be), 0);
	cfix_pattern(w, 512, 11);
	memcpy(w + 512, w, 512);
	assert_int_equal(cfix_io(c, BACKEND_OP_WRITE, 0, sizeof(w), w), sizeof(w));
	assert_int_equal(backend_flush_sync(c->be), 0);
	cfix_raw_read(c, HDR_AREA, raw, sizeof(raw));
	assert_memory_not_equal(raw, raw + 512, 512);
}

static void same_key_reopens_and_reads_back(void **state)
{
	struct cfix *c = *state;
	uint8_t w[4096], r[4096];

	assert_int_equal(backend_open(c->eng, &c->cfg, &c->be), 0);
	cfix_pattern(w, sizeof(w), 3);
	assert_int_equal(cfix_io(c, BACKEND_OP_WRITE, 65536, sizeof(w), w), sizeof(w));
	cfix_reopen(c, 0);
	assert_int_equal(cfix_io(c, BACKEND_OP_READ, 65536, sizeof(r), r), sizeof(r));
	assert_memory_equal(w, r, sizeof(w));
}

static void hex_key_file_with_newline_is_accepted(void **state)
{
	struct cfix *c = *state;
	char hex[65];

	memset(hex, 'a', 64);
	hex[64] = '\n';
	cfix_file_put(c->key, hex, sizeof(hex), 0400);
	assert_int_equal(backend_open(c->eng, &c->cfg, &c->be), 0);
}

static void wrong_kek_is_refused(void **state)
{
	struct cfix *c = *state;

	assert_int_equal(backend_open(c->eng, &c->cfg, &c->be), 0);
	cfix_key_put(c, 0x33);
	cfix_reopen(c, -EKEYREJECTED);
}

static void corrupt_header_is_refused_and_not_rewritten(void **state)
{
	struct cfix *c = *state;
	uint8_t before[4096], after[4096];

	assert_int_equal(backend_open(c->eng, &c->cfg, &c->be), 0);
	backend_close(c->be);
	c->be = NULL;
	cfix_raw_read(c, 0, before, sizeof(before));
	before[30] ^= 0x01; /* key generation: the digest no longer matches */
	cfix_raw_write(c, 0, before, sizeof(before));
	assert_int_equal(backend_open(c->eng, &c->cfg, &c->be), -EBADMSG);
	cfix_raw_read(c, 0, after, sizeof(after));
	assert_memory_equal(before, after, sizeof(before));
}

static void data_without_header_is_refused(void **state)
{
	struct cfix *c = *state;
	uint8_t mbr[512] = {[510] = 0x55, [511] = 0xaa};
	uint8_t after[512];

	cfix_file_put(c->path, mbr, sizeof(mbr), 0600);
	assert_int_equal(truncate(c->path, STORE_SIZE), 0);
	assert_int_equal(backend_open(c->eng, &c->cfg, &c->be), -EINVAL);
	cfix_raw_read(c, 0, after, sizeof(after));
	assert_memory_equal(mbr, after, sizeof(mbr));
}

static void crypto_erase_makes_old_data_unreadable(void **state)
{
	struct cfix *c = *state;
	uint8_t w[4096], r[4096];

	assert_int_equal(backend_open(c->eng, &c->cfg, &c->be), 0);
	cfix_pattern(w, sizeof(w), 4);
	assert_int_equal(cfix_io(c, BACKEND_OP_WRITE, 0, sizeof(w), w), sizeof(w));
	assert_int_equal(backend_crypto_erase(c->be), 0);
	assert_int_equal(cfix_io(c, BACKEND_OP_READ, 0, sizeof(r), r), sizeof(r));
	assert_memory_not_equal(w, r, 512);
}

static void crypto_erase_survives_reopen(void **state)
{
	struct cfix *c = *state;
	uint8_t w[4096], r[4096];

	assert_int_equal(backend_open(c->eng, &c->cfg, &c->be), 0);
	cfix_pattern(w, sizeof(w), 5);
	assert_int_equal(cfix_io(c, BACKEND_OP_WRITE, 0, sizeof(w), w), sizeof(w));
	assert_int_equal(backend_crypto_erase(c->be), 0);
	cfix_reopen(c, 0);
	assert_int_equal(cfix_io(c, BACKEND_OP_READ, 0, sizeof(r), r), sizeof(r));
	assert_memory_not_equal(w, r, 512);
}

/* A crash between writing the new key and wiping the old: open takes the new one. */
static void interrupted_erase_uses_newer_key_and_wipes_older(void **state)
{
	struct cfix *c = *state;
	uint8_t w[4096], r[4096], slot0[4096], zero[4096] = {0};

	assert_int_equal(backend_open(c->eng, &c->cfg, &c->be), 0);
	cfix_pattern(w, sizeof(w), 6);
	assert_int_equal(cfix_io(c, BACKEND_OP_WRITE, 0, sizeof(w), w), sizeof(w));
	cfix_raw_read(c, 0, slot0, sizeof(slot0));
	assert_int_equal(backend_crypto_erase(c->be), 0);
	backend_close(c->be);
	c->be = NULL;
	cfix_raw_write(c, 0, slot0, sizeof(slot0)); /* the old key is back */
	assert_int_equal(backend_open(c->eng, &c->cfg, &c->be), 0);
	assert_int_equal(cfix_io(c, BACKEND_OP_READ, 0, sizeof(r), r), sizeof(r));
	assert_memory_not_equal(w, r, 512);
	cfix_raw_read(c, 0, slot0, sizeof(slot0));
	assert_memory_equal(slot0, zero, sizeof(zero));
}

static void crypto_erase_with_write_in_flight_is_busy(void **state)
{
	struct cfix *c = *state;
	uint8_t w[4096];
	struct backend_io io = {
		.op = BACKEND_OP_WRITE, .len = sizeof(w), .buf = w, .done = cfix_io_done};
	struct pollfd pfd;

	assert_int_equal(backend_open(c->eng, &c->cfg, &c->be), 0);
	cfix_pattern(w, sizeof(w), 7);
	assert_int_equal(backend_submit(c->be, &io), 0);
	assert_int_equal(backend_crypto_erase(c->be), -EBUSY);
	pfd = (struct pollfd){.fd = backend_engine_fd(c->eng), .events = POLLIN};
	while (c->done_calls == 0) {
		assert_int_equal(poll(&pfd, 1, 5000), 1);
		backend_engine_run(c->eng);
	}
}

static void readonly_blank_store_is_refused(void **state)
{
	struct cfix *c = *state;
	uint8_t raw[512], zero[512] = {0};

	cfix_file_put(c->path, zero, 1, 0600);
	assert_int_equal(truncate(c->path, STORE_SIZE), 0);
	c->cfg.readonly = true;
	assert_int_equal(backend_open(c->eng, &c->cfg, &c->be), -EROFS);
	cfix_raw_read(c, 0, raw, sizeof(raw));
	assert_memory_equal(raw, zero, sizeof(zero));
}

static void readonly_encrypted_store_reads(void **state)
{
	struct cfix *c = *state;
	uint8_t w[4096], r[4096];

	assert_int_equal(backend_open(c->eng, &c->cfg, &c->be), 0);
	cfix_pattern(w, sizeof(w), 8);
	assert_int_equal(cfix_io(c, BACKEND_OP_WRITE, 0, sizeof(w), w), sizeof(w));
	c->cfg.readonly = true;
	cfix_reopen(c, 0);
	assert_int_equal(cfix_io(c, BACKEND_OP_READ, 0, sizeof(r), r), sizeof(r));
	assert_memory_equal(w, r, sizeof(w));
	assert_int_equal(backend_crypto_erase(c->be), -EROFS);
}

static void group_readable_key_file_is_refused(void **state)
{
	struct cfix *c = *state;

	assert_int_equal(chmod(c->key, 0640), 0);
	assert_int_equal(backend_open(c->eng, &c->cfg, &c->be), -EPERM);
}

static void short_key_file_is_refused(void **state)
{
	struct cfix *c = *state;
	uint8_t kek[31] = {1};

	cfix_file_put(c->key, kek, sizeof(kek), 0600);
	assert_int_equal(backend_open(c->eng, &c->cfg, &c->be), -EINVAL);
}

static void key_file_with_non_hex_digit_is_refused(void **state)
{
	struct cfix *c = *state;
	char hex[64];

	memset(hex, 'f', sizeof(hex));
	hex[17] = 'g';
	cfix_file_put(c->key, hex, sizeof(hex), 0600);
	assert_int_equal(backend_open(c->eng, &c->cfg, &c->be), -EINVAL);
}

static void missing_key_file_is_refused(void **state)
{
	struct cfix *c = *state;

	unlink(c->key);
	assert_int_equal(backend_open(c->eng, &c->cfg, &c->be), -ENOENT);
}

static void never_written_blocks_read_as_zeros(void **state)
{
	struct cfix *c = *state;
	uint8_t r[4096], zero[4096] = {0};

	assert_int_equal(backend_open(c->eng, &c->cfg, &c->be), 0);
	memset(r, 0xee, sizeof(r));
	assert_int_equal(cfix_io(c, BACKEND_OP_READ, 8192, sizeof(r), r), sizeof(r));
	assert_memory_equal(r, zero, sizeof(zero));
}

static void unmapped_blocks_read_as_zeros(void **state)
{
	struct cfix *c = *state;
	uint8_t w[8192], r[8192], zero[8192] = {0};

	assert_int_equal(backend_open(c->eng, &c->cfg, &c->be), 0);
	if (!(backend_caps(c->be) & BACKEND_CAP_UNMAP_ZEROES))
		skip();
	cfix_pattern(w, sizeof(w), 9);
	assert_int_equal(cfix_io(c, BACKEND_OP_WRITE, 0, sizeof(w), w), sizeof(w));
	assert_int_equal(cfix_io(c, BACKEND_OP_UNMAP, 0, sizeof(w), NULL), sizeof(w));
	assert_int_equal(cfix_io(c, BACKEND_OP_READ, 0, sizeof(r), r), sizeof(r));
	assert_memory_equal(r, zero, sizeof(zero));
}

static void written_zeros_are_not_stored_as_zeros(void **state)
{
	struct cfix *c = *state;
	uint8_t w[512] = {0}, raw[512];

	assert_int_equal(backend_open(c->eng, &c->cfg, &c->be), 0);
	assert_int_equal(cfix_io(c, BACKEND_OP_WRITE, 0, sizeof(w), w), sizeof(w));
	assert_int_equal(backend_flush_sync(c->be), 0);
	cfix_raw_read(c, HDR_AREA, raw, sizeof(raw));
	assert_memory_not_equal(raw, w, sizeof(w));
}

static void unaligned_io_is_refused(void **state)
{
	struct cfix *c = *state;
	uint8_t r[1024];

	assert_int_equal(backend_open(c->eng, &c->cfg, &c->be), 0);
	assert_int_equal(cfix_io(c, BACKEND_OP_READ, 100, 512, r), -EINVAL);
	assert_int_equal(cfix_io(c, BACKEND_OP_READ, 0, 700, r), -EINVAL);
}

static void map_query_is_relative_to_lu(void **state)
{
	struct cfix *c = *state;
	uint8_t w[4096];
	uint64_t len;
	bool mapped;

	assert_int_equal(backend_open(c->eng, &c->cfg, &c->be), 0);
	/* The header is data below us, but the LU's first bytes were never written. */
	assert_int_equal(backend_map_query(c->be, 0, &mapped, &len), 0);
	assert_false(mapped);
	cfix_pattern(w, sizeof(w), 10);
	assert_int_equal(cfix_io(c, BACKEND_OP_WRITE, 0, sizeof(w), w), sizeof(w));
	assert_int_equal(backend_map_query(c->be, 0, &mapped, &len), 0);
	assert_true(mapped);
}

/* Every allocation on the way can fail: -ENOMEM, no leak (ASan), nothing half-open. */
static void allocation_failure_at_open_is_enomem(void **state)
{
	struct cfix *c = *state;
	int n, ret;

	for (n = 1;; n++) {
		fix_calloc_fail_in = n;
		ret = backend_open(c->eng, &c->cfg, &c->be);
		fix_calloc_fail_in = 0;
		if (ret == 0)
			break;
		assert_int_equal(ret, -ENOMEM);
		assert_null(c->be);
		assert_true(n < 50);
	}
	assert_true(n > 1);
}

static void allocation_failure_at_write_is_enomem(void **state)
{
	struct cfix *c = *state;
	uint8_t w[4096] = {1};

	assert_int_equal(backend_open(c->eng, &c->cfg, &c->be), 0);
	fix_calloc_fail_in = 1;
	assert_int_equal(cfix_io(c, BACKEND_OP_WRITE, 0, sizeof(w), w), -ENOMEM);
	fix_calloc_fail_in = 0;
	assert_int_equal(cfix_io(c, BACKEND_OP_WRITE, 0, sizeof(w), w), sizeof(w));
}

#define T(f) cmocka_unit_test_setup_teardown(f, cfix_setup, cfix_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(written_data_reads_back),
		T(lu_size_excludes_header_and_erase_is_offered),
		T(ciphertext_on_disk_differs_from_plaintext),
		T(equal_units_have_different_ciphertext),
		T(same_key_reopens_and_reads_back),
		T(hex_key_file_with_newline_is_accepted),
		T(wrong_kek_is_refused),
		T(corrupt_header_is_refused_and_not_rewritten),
		T(data_without_header_is_refused),
		T(crypto_erase_makes_old_data_unreadable),
		T(crypto_erase_survives_reopen),
		T(interrupted_erase_uses_newer_key_and_wipes_older),
		T(crypto_erase_with_write_in_flight_is_busy),
		T(readonly_blank_store_is_refused),
		T(readonly_encrypted_store_reads),
		T(group_readable_key_file_is_refused),
		T(short_key_file_is_refused),
		T(key_file_with_non_hex_digit_is_refused),
		T(missing_key_file_is_refused),
		T(never_written_blocks_read_as_zeros),
		T(unmapped_blocks_read_as_zeros),
		T(written_zeros_are_not_stored_as_zeros),
		T(unaligned_io_is_refused),
		T(map_query_is_relative_to_lu),
		T(allocation_failure_at_open_is_enomem),
		T(allocation_failure_at_write_is_enomem),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
