/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * backend: the qcow2 store (bs_qcow2.c) and overlay creation, with qemu's own
 * tools as the independent reader and writer:
 *
 *   golden.qcow2 (qemu-io writes a pattern)    <- read-only, shared
 *        ^ backing
 *   overlay.qcow2 (backend_qcow2_create_overlay) <- the store under test
 *        |
 *   test --submit--> engine --> done()     then: qemu-img check, qemu-io read -P
 *
 * Cases that need qemu-img / qemu-io are skipped when they are not installed.
 * Malformed headers are built by hand, so those cases always run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/backend_int.h"
#include "backend/bs_qcow2_spec.h"
#include "util/be.h"

#define CS 65536u

/* calloc failure injection: fail the n-th call from now (1 = next); 0 = never. */
static int fail_calloc_in;
void *__real_calloc(size_t n, size_t size);

void *__wrap_calloc(size_t n, size_t size)
{
	if (fail_calloc_in > 0 && --fail_calloc_in == 0)
		return NULL;
	return __real_calloc(n, size);
}

struct qfix {
	char dir[64];
	char golden[96];
	char overlay[96];
	struct backend_engine *eng;
	struct backend *be;
	int done_calls;
	int64_t res;
};

static struct qfix *qfix_current;

static bool qemu_tools(void)
{
	return system("qemu-img --version >/dev/null 2>&1 && qemu-io --version >/dev/null 2>&1") ==
	       0;
}

/* Run a shell command built from a format; \return its exit status. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int qfix_setup(void **state)
{
	struct qfix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/hatgt-qcow2-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->golden, sizeof(f->golden), "%s/golden.qcow2", f->dir);
	snprintf(f->overlay, sizeof(f->overlay), "%s/overlay.qcow2", f->dir);
	assert_int_equal(backend_engine_create(64, &f->eng), 0);
	qfix_current = f;
	*state = f;
	return 0;
}

static int qfix_teardown(void **state)
{
	struct qfix *f = *state;

	fail_calloc_in = 0;
	backend_close(f->be);
	backend_engine_destroy(f->eng);
	sh("rm -rf '%s'", f->dir);
	free(f);
	return 0;
}

static void qfix_done(struct backend_io *io, int64_t res)
{
	(void)io;
	qfix_current->done_calls++;
	qfix_current->res = res;
}

static int qfix_open(struct qfix *f, const char *path, bool readonly, struct backend **be)
{
	struct backend_config cfg = {.path = path, .readonly = readonly};

	return backend_open(f->eng, &cfg, be);
}

/* One request on \p be, run to completion. \return done()'s result. */
static int64_t qfix_io(struct qfix *f, struct backend *be, enum backend_op op, uint64_t off,
		       uint64_t len, void *buf)
{
	struct backend_io io = {.op = op, .offset = off, .len = len, .buf = buf, .done = qfix_done};
	struct pollfd pfd = {.fd = backend_engine_fd(f->eng), .events = POLLIN};
	int calls = f->done_calls, ret;

	ret = backend_submit(be, &io);
	if (ret < 0)
		return ret;
	while (f->done_calls == calls) {
		assert_true(poll(&pfd, 1, 5000) > 0);
		backend_engine_run(f->eng);
	}
	return f->res;
}

/* golden.qcow2 of \p size with \p pattern over [0, fill), and the overlay on it. */
static void qfix_chain(struct qfix *f, const char *size, int pattern, const char *fill)
{
	assert_int_equal(sh("qemu-img create -q -f qcow2 '%s' %s", f->golden, size), 0);
	assert_int_equal(
		sh("qemu-io -c 'write -P %d 0 %s' '%s' >/dev/null", pattern, fill, f->golden), 0);
	assert_int_equal(backend_qcow2_create_overlay(f->overlay, "golden.qcow2"), 0);
}

/* The usual scenario: 16 MiB golden with 0x5a over its first 1 MiB, the
 * overlay on it opened as f->be. Skips without qemu's tools. */
static void qfix_open_chain(struct qfix *f, bool readonly)
{
	if (!qemu_tools())
		skip();
	qfix_chain(f, "16M", 0x5a, "1M");
	assert_int_equal(qfix_open(f, f->overlay, readonly, &f->be), 0);
}

/* A zero-filled raw file \p name of \p size in the test directory, its path in \p out. */
static void qfix_raw(struct qfix *f, const char *name, off_t size, char *out, size_t out_len)
{
	int fd;

	snprintf(out, out_len, "%s/%s", f->dir, name);
	fd = open(out, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, size), 0);
	close(fd);
}

static void assert_all(const uint8_t *p, size_t len, uint8_t v)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != v)
			fail_msg("byte %zu is 0x%02x, expected 0x%02x", i, p[i], v);
}

static int qemu_img_check(const char *path)
{
	return sh("qemu-img check -q '%s' >/dev/null 2>&1", path);
}

/* ---- overlay creation ---- */

static void create_overlay_passes_qemu_img_check(void **state)
{
	struct qfix *f = *state;

	if (!qemu_tools())
		skip();
	qfix_chain(f, "16M", 0x5a, "1M");
	assert_int_equal(qemu_img_check(f->overlay), 0);
	assert_int_equal(
		sh("qemu-img info '%s' | grep -q 'backing file: golden.qcow2'", f->overlay), 0);
	assert_int_equal(
		sh("qemu-img info '%s' | grep -q 'backing file format: qcow2'", f->overlay), 0);
}

static void create_overlay_of_raw_records_raw_format(void **state)
{
	struct qfix *f = *state;
	char raw[128];

	qfix_raw(f, "base.raw", 1 << 20, raw, sizeof(raw));
	assert_int_equal(backend_qcow2_create_overlay(f->overlay, raw), 0);
	assert_int_equal(qfix_open(f, f->overlay, true, &f->be), 0);
	assert_int_equal(backend_size(f->be), 1 << 20);
	if (qemu_tools())
		assert_int_equal(
			sh("qemu-img info '%s' | grep -q 'backing file format: raw'", f->overlay),
			0);
}

static void create_overlay_on_existing_path_fails_eexist(void **state)
{
	struct qfix *f = *state;
	char raw[128];

	qfix_raw(f, "base.raw", 1 << 20, raw, sizeof(raw));
	assert_int_equal(backend_qcow2_create_overlay(f->overlay, "base.raw"), 0);
	assert_int_equal(backend_qcow2_create_overlay(f->overlay, "base.raw"), -EEXIST);
}

static void create_overlay_with_missing_backing_fails_enoent(void **state)
{
	struct qfix *f = *state;

	assert_int_equal(backend_qcow2_create_overlay(f->overlay, "nope.qcow2"), -ENOENT);
	assert_int_equal(access(f->overlay, F_OK), -1);
}

static void create_overlay_out_of_memory_leaves_no_file(void **state)
{
	struct qfix *f = *state;
	char raw[128];

	qfix_raw(f, "base.raw", 1 << 20, raw, sizeof(raw));
	fail_calloc_in = 1;
	assert_int_equal(backend_qcow2_create_overlay(f->overlay, "base.raw"), -ENOMEM);
	assert_int_equal(access(f->overlay, F_OK), -1);
}

static void probe_tells_qcow2_from_raw(void **state)
{
	struct qfix *f = *state;
	char raw[128];
	int fd;

	snprintf(raw, sizeof(raw), "%s/base.raw", f->dir);
	fd = open(raw, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "QF", 2), 2); /* shorter than a magic: raw */
	close(fd);
	assert_int_equal(backend_qcow2_probe(raw), 0);
	assert_int_equal(backend_qcow2_create_overlay(f->overlay, "base.raw"), 0);
	assert_int_equal(backend_qcow2_probe(f->overlay), 1);
	assert_int_equal(backend_qcow2_probe("/nonexistent/x.qcow2"), -ENOENT);
}

/* ---- reads through the chain ---- */

static void read_of_unwritten_overlay_returns_golden_data(void **state)
{
	struct qfix *f = *state;
	uint8_t *buf = calloc(1, 3 * CS);

	qfix_open_chain(f, false);
	/* Straddles clusters: 1 MiB - 64 KiB - 512 .. past the golden's data. */
	assert_int_equal(qfix_io(f, f->be, BACKEND_OP_READ, (1 << 20) - CS - 512, 3 * CS, buf),
			 3 * CS);
	assert_all(buf, CS + 512, 0x5a);
	assert_all(buf + CS + 512, 2 * CS - 512, 0);
	free(buf);
}

static void read_past_end_of_smaller_backing_returns_zeros(void **state)
{
	struct qfix *f = *state;
	uint8_t buf[8192];

	if (!qemu_tools())
		skip();
	assert_int_equal(sh("qemu-img create -q -f qcow2 '%s' 1M", f->golden), 0);
	assert_int_equal(sh("qemu-io -c 'write -P 7 0 1M' '%s' >/dev/null", f->golden), 0);
	assert_int_equal(
		sh("qemu-img create -q -f qcow2 -b golden.qcow2 -F qcow2 '%s' 2M", f->overlay), 0);
	assert_int_equal(qfix_open(f, f->overlay, false, &f->be), 0);
	assert_int_equal(qfix_io(f, f->be, BACKEND_OP_READ, (1 << 20) - 4096, 8192, buf), 8192);
	assert_all(buf, 4096, 7);
	assert_all(buf + 4096, 4096, 0);
}

static void read_of_zero_flagged_cluster_returns_zeros(void **state)
{
	struct qfix *f = *state;
	uint8_t buf[4096];

	if (!qemu_tools())
		skip();
	qfix_chain(f, "4M", 0x5a, "4M");
	assert_int_equal(sh("qemu-io -c 'write -z 0 64k' '%s' >/dev/null", f->overlay), 0);
	assert_int_equal(qfix_open(f, f->overlay, false, &f->be), 0);
	assert_int_equal(qfix_io(f, f->be, BACKEND_OP_READ, 4096, 4096, buf), 4096);
	assert_all(buf, sizeof(buf), 0);
}

static void read_through_chain_of_three_sees_each_layer(void **state)
{
	struct qfix *f = *state;
	char base[128], mid[128];
	uint8_t *buf = calloc(1, 3 * CS);

	if (!qemu_tools())
		skip();
	/* base.raw: 0x11 everywhere; mid.qcow2: 0x22 in cluster 1; overlay: 0x33 in cluster 2. */
	snprintf(base, sizeof(base), "%s/base.raw", f->dir);
	snprintf(mid, sizeof(mid), "%s/mid.qcow2", f->dir);
	assert_int_equal(sh("qemu-img create -q -f raw '%s' 4M && "
			    "qemu-io -f raw -c 'write -P 17 0 4M' '%s' >/dev/null",
			    base, base),
			 0);
	assert_int_equal(backend_qcow2_create_overlay(mid, "base.raw"), 0);
	assert_int_equal(sh("qemu-io -c 'write -P 34 64k 64k' '%s' >/dev/null", mid), 0);
	assert_int_equal(backend_qcow2_create_overlay(f->overlay, "mid.qcow2"), 0);
	assert_int_equal(qfix_open(f, f->overlay, false, &f->be), 0);
	memset(buf, 0x33, CS);
	assert_int_equal(qfix_io(f, f->be, BACKEND_OP_WRITE, 2 * CS, CS, buf), CS);
	assert_int_equal(qfix_io(f, f->be, BACKEND_OP_READ, 0, 3 * CS, buf), 3 * CS);
	assert_all(buf, CS, 0x11);
	assert_all(buf + CS, CS, 0x22);
	assert_all(buf + 2 * CS, CS, 0x33);
	free(buf);
}

/* ---- compressed clusters (qemu-img convert -c) ---- */

#define ZCLUSTERS 16u

/*
 * The raw disk \p data of ZCLUSTERS clusters: 0-3 low-entropy noise (each
 * compresses to many sectors), 4-5 zeros (left unallocated), 6-11 a ramp
 * (compresses well), 12-15 noise qemu stores uncompressed: a mix of all kinds.
 */
static void zdata_fill(uint8_t *data)
{
	uint32_t x = 2463534242u;
	size_t i;

	for (i = 0; i < ZCLUSTERS * CS; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		if (i < 4 * CS)
			data[i] = (uint8_t)(x & 15);
		else if (i < 6 * CS)
			data[i] = 0;
		else if (i < 12 * CS)
			data[i] = (uint8_t)(i * 7);
		else
			data[i] = (uint8_t)x;
	}
}

/* Write \p data as a raw file \p name in the test directory (path in \p out). */
static void zraw_write(struct qfix *f, const char *name, const uint8_t *data, char *out,
		       size_t out_len)
{
	int fd;

	snprintf(out, out_len, "%s/%s", f->dir, name);
	fd = open(out, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, ZCLUSTERS * CS), (ssize_t)(ZCLUSTERS * CS));
	close(fd);
}

/* f->golden made by qemu-img convert -c from the raw pattern (returned, and
 * its raw file in \p raw); checks qemu did compress clusters. Skips without qemu. */
static uint8_t *zgolden_make(struct qfix *f, char *raw, size_t raw_len)
{
	uint8_t *data;

	if (!qemu_tools())
		skip();
	data = calloc(1, ZCLUSTERS * CS);
	assert_non_null(data);
	zdata_fill(data);
	zraw_write(f, "src.raw", data, raw, raw_len);
	assert_int_equal(sh("qemu-img convert -c -f raw -O qcow2 '%s' '%s'", raw, f->golden), 0);
	assert_int_equal(
		sh("qemu-img check '%s' | grep -q '[1-9][0-9.]*%% compressed clusters'", f->golden),
		0);
	return data;
}

/* Host offset of the L2 entry of guest cluster \p idx of \p path (first L2 table). */
static uint64_t zl2_entry_pos(const char *path, unsigned int idx, uint64_t *entry)
{
	uint8_t b[8];
	uint64_t l2;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, b, 8, QCOW2_H_L1_OFFSET), 8);
	assert_int_equal(pread(fd, b, 8, (off_t)get_be64(b)), 8);
	l2 = get_be64(b) & QCOW2_L1_OFFSET_MASK;
	assert_int_equal(pread(fd, b, 8, (off_t)(l2 + idx * 8)), 8);
	*entry = get_be64(b);
	close(fd);
	assert_true(*entry & QCOW2_ENTRY_COMPRESSED);
	return l2 + idx * 8;
}

static void zpwrite(const char *path, const void *buf, size_t len, uint64_t off)
{
	int fd = open(path, O_WRONLY);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static void compressed_golden_reads_back_identical(void **state)
{
	struct qfix *f = *state;
	char raw[128];
	uint8_t *data = zgolden_make(f, raw, sizeof(raw));
	uint8_t *buf = calloc(1, ZCLUSTERS * CS);

	assert_non_null(buf);
	assert_int_equal(qfix_open(f, f->golden, true, &f->be), 0);
	assert_int_equal(qfix_io(f, f->be, BACKEND_OP_READ, 0, ZCLUSTERS * CS, buf),
			 ZCLUSTERS * CS);
	assert_memory_equal(buf, data, ZCLUSTERS * CS);
	/* Unaligned pieces across cluster boundaries, then backwards (cache misses). */
	memset(buf, 0xee, ZCLUSTERS * CS);
	assert_int_equal(qfix_io(f, f->be, BACKEND_OP_READ, CS - 1000, 3 * CS + 77, buf),
			 3 * CS + 77);
	assert_memory_equal(buf, data + CS - 1000, 3 * CS + 77);
	for (int c = ZCLUSTERS - 1; c >= 0; c--) {
		assert_int_equal(qfix_io(f, f->be, BACKEND_OP_READ, c * CS + 512, 4096, buf), 4096);
		assert_memory_equal(buf, data + c * CS + 512, 4096);
	}
	free(buf);
	free(data);
}

static void overlay_on_compressed_golden_reads_golden_data(void **state)
{
	struct qfix *f = *state;
	char raw[128];
	uint8_t *data = zgolden_make(f, raw, sizeof(raw));
	uint8_t *buf = calloc(1, ZCLUSTERS * CS);

	assert_non_null(buf);
	assert_int_equal(backend_qcow2_create_overlay(f->overlay, "golden.qcow2"), 0);
	assert_int_equal(qfix_open(f, f->overlay, false, &f->be), 0);
	assert_int_equal(qfix_io(f, f->be, BACKEND_OP_READ, 0, ZCLUSTERS * CS, buf),
			 ZCLUSTERS * CS);
	assert_memory_equal(buf, data, ZCLUSTERS * CS);
	free(buf);
	free(data);
}

static void partial_write_over_compressed_backing_keeps_rest_of_cluster(void **state)
{
	struct qfix *f = *state;
	char raw[128], expect[128];
	uint8_t *data = zgolden_make(f, raw, sizeof(raw));
	uint8_t *buf = calloc(1, ZCLUSTERS * CS);

	assert_non_null(buf);
	assert_int_equal(backend_qcow2_create_overlay(f->overlay, "golden.qcow2"), 0);
	assert_int_equal(qfix_open(f, f->overlay, false, &f->be), 0);
	/* 512 bytes into compressed clusters 1 (noise) and 7 (ramp). */
	memset(buf, 0xc3, 512);
	assert_int_equal(qfix_io(f, f->be, BACKEND_OP_WRITE, CS + 4096, 512, buf), 512);
	assert_int_equal(qfix_io(f, f->be, BACKEND_OP_WRITE, 7 * CS + 100, 512, buf), 512);
	memset(data + CS + 4096, 0xc3, 512);
	memset(data + 7 * CS + 100, 0xc3, 512);
	assert_int_equal(qfix_io(f, f->be, BACKEND_OP_READ, 0, ZCLUSTERS * CS, buf),
			 ZCLUSTERS * CS);
	assert_memory_equal(buf, data, ZCLUSTERS * CS);
	backend_close(f->be);
	f->be = NULL;
	/* qemu agrees: the overlay is clean and holds exactly the expected disk. */
	assert_int_equal(qemu_img_check(f->overlay), 0);
	zraw_write(f, "expect.raw", data, expect, sizeof(expect));
	assert_int_equal(sh("qemu-img compare -q -f qcow2 -F raw '%s' '%s'", f->overlay, expect),
			 0);
	free(buf);
	free(data);
}

static void corrupt_compressed_stream_reads_eio(void **state)
{
	struct qfix *f = *state;
	char raw[128];
	uint8_t *data = zgolden_make(f, raw, sizeof(raw));
	uint8_t junk[64], buf[4096];
	uint64_t e;

	/* 0xff starts a deflate block of the reserved type 3: invalid. */
	zl2_entry_pos(f->golden, 0, &e);
	memset(junk, 0xff, sizeof(junk));
	zpwrite(f->golden, junk, sizeof(junk), e & ((1ull << 54) - 1));
	assert_int_equal(qfix_open(f, f->golden, true, &f->be), 0);
	assert_int_equal(qfix_io(f, f->be, BACKEND_OP_READ, 0, sizeof(buf), buf), -EIO);
	assert_int_equal(backend_stats(f->be)->errors, 1);
	/* The other compressed clusters still read. */
	assert_int_equal(qfix_io(f, f->be, BACKEND_OP_READ, CS, sizeof(buf), buf), sizeof(buf));
	assert_memory_equal(buf, data + CS, sizeof(buf));
	free(data);
}

static void short_compressed_stream_reads_eio(void **state)
{
	struct qfix *f = *state;
	char raw[128];
	uint8_t *data = zgolden_make(f, raw, sizeof(raw));
	uint8_t b[8], buf[4096];
	uint64_t e, pos;

	/* Cluster 0 (noise) takes many sectors: say it takes one. With 64 KiB
	 * clusters the sector count is bits 54-61 (x = 62 - (16 - 8)). */
	pos = zl2_entry_pos(f->golden, 0, &e);
	assert_true(((e >> 54) & 0xff) > 1);
	put_be64(b, e & ~(0xffull << 54));
	zpwrite(f->golden, b, sizeof(b), pos);
	assert_int_equal(qfix_open(f, f->golden, true, &f->be), 0);
	assert_int_equal(qfix_io(f, f->be, BACKEND_OP_READ, 0, sizeof(buf), buf), -EIO);
	assert_int_equal(qfix_io(f, f->be, BACKEND_OP_READ, 2 * CS, sizeof(buf), buf), sizeof(buf));
	assert_memory_equal(buf, data + 2 * CS, sizeof(buf));
	free(data);
}

static void compressed_read_out_of_memory_completes_with_enomem(void **state)
{
	struct qfix *f = *state;
	char raw[128];
	uint8_t *data = zgolden_make(f, raw, sizeof(raw));
	uint8_t buf[4096];

	assert_int_equal(qfix_open(f, f->golden, true, &f->be), 0);
	/* The first read allocates the L2 cache slot, then the cluster cache,
	 * then the compressed-data buffer: fail each in turn (what succeeded
	 * before a failure is kept, so the n-th call from now moves on). */
	static const int nth[] = {1, 1, 2};

	for (size_t i = 0; i < sizeof(nth) / sizeof(nth[0]); i++) {
		fail_calloc_in = nth[i];
		assert_int_equal(qfix_io(f, f->be, BACKEND_OP_READ, 0, sizeof(buf), buf), -ENOMEM);
	}
	/* Another cluster (not the cached one) needs a compressed-data buffer. */
	fail_calloc_in = 1;
	assert_int_equal(qfix_io(f, f->be, BACKEND_OP_READ, 7 * CS, sizeof(buf), buf), -ENOMEM);
	fail_calloc_in = 0;
	assert_int_equal(qfix_io(f, f->be, BACKEND_OP_READ, 7 * CS, sizeof(buf), buf), sizeof(buf));
	assert_memory_equal(buf, data + 7 * CS, sizeof(buf));
	assert_int_equal(qfix_io(f, f->be, BACKEND_OP_READ, 0, sizeof(buf), buf), sizeof(buf));
	assert_memory_equal(buf, data, sizeof(buf));
	free(data);
}

static void read_out_of_memory_completes_with_enomem(void **state)
{
	struct qfix *f = *state;
	uint8_t *buf = calloc(1, 2 * CS);

	qfix_open_chain(f, false);
	memset(buf, 0x11, CS);
	assert_int_equal(qfix_io(f, f->be, BACKEND_OP_WRITE, 0, CS, buf), CS);
	/* Warm the metadata caches, then fail each allocation of a read in turn:
	 * the extent list, then the request that tracks the engine reads. */
	assert_int_equal(qfix_io(f, f->be, BACKEND_OP_READ, 0, 2 * CS, buf), 2 * CS);
	for (int n = 1; n <= 2; n++) {
		fail_calloc_in = n;
		assert_int_equal(qfix_io(f, f->be, BACKEND_OP_READ, 0, 2 * CS, buf), -ENOMEM);
	}
	fail_calloc_in = 0;
	assert_int_equal(backend_stats(f->be)->errors, 2);
	assert_int_equal(qfix_io(f, f->be, BACKEND_OP_READ, 0, 2 * CS, buf), 2 * CS);
	assert_all(buf, CS, 0x11);
	assert_all(buf + CS, CS, 0x5a);
	free(buf);
}

/* ---- writes ---- */

static void partial_write_copies_rest_of_cluster_from_backing(void **state)
{
	struct qfix *f = *state;
	uint8_t buf[512];

	qfix_open_chain(f, false);
	memset(buf, 0xc3, sizeof(buf));
	assert_int_equal(qfix_io(f, f->be, BACKEND_OP_WRITE, CS + 4096, sizeof(buf), buf),
			 sizeof(buf));
	backend_close(f->be);
	f->be = NULL;
	assert_int_equal(qemu_img_check(f->overlay), 0);
	/* qemu's reader sees the copied golden bytes around the new ones, in the
	 * overlay's own cluster (depth 0 in the map). */
	assert_int_equal(sh("qemu-io -c 'read -P 0x5a 64k 4k' -c 'read -P 0xc3 68k 512' "
			    "-c 'read -P 0x5a 70144 60928' '%s' >/dev/null",
			    f->overlay),
			 0);
	assert_int_equal(
		sh("qemu-img map --output=json '%s' | grep -q "
		   "'\"start\": 65536, \"length\": 65536, \"depth\": 0, \"present\": true'",
		   f->overlay),
		0);
}

static void write_leaves_golden_image_unchanged(void **state)
{
	struct qfix *f = *state;
	uint8_t *buf = calloc(1, 2 * CS);

	if (!qemu_tools())
		skip();
	qfix_chain(f, "16M", 0x5a, "1M");
	assert_int_equal(sh("md5sum < '%s' > '%s/golden.md5'", f->golden, f->dir), 0);
	assert_int_equal(qfix_open(f, f->overlay, false, &f->be), 0);
	memset(buf, 0xee, 2 * CS);
	assert_int_equal(qfix_io(f, f->be, BACKEND_OP_WRITE, 100000, 2 * CS, buf), 2 * CS);
	assert_int_equal(sh("md5sum < '%s' | cmp -s - '%s/golden.md5'", f->golden, f->dir), 0);
	assert_int_equal(qfix_io(f, f->be, BACKEND_OP_READ, 100000, 2 * CS, buf), 2 * CS);
	assert_all(buf, 2 * CS, 0xee);
	free(buf);
}

static void rewrite_of_allocated_cluster_keeps_one_cluster(void **state)
{
	struct qfix *f = *state;
	uint8_t buf[4096];
	struct stat st1, st2;

	qfix_open_chain(f, false);
	memset(buf, 1, sizeof(buf));
	assert_int_equal(qfix_io(f, f->be, BACKEND_OP_WRITE, 0, sizeof(buf), buf), 4096);
	assert_int_equal(stat(f->overlay, &st1), 0);
	memset(buf, 2, sizeof(buf));
	assert_int_equal(qfix_io(f, f->be, BACKEND_OP_WRITE, 8192, sizeof(buf), buf), 4096);
	assert_int_equal(stat(f->overlay, &st2), 0);
	assert_int_equal(st1.st_size, st2.st_size);
	backend_close(f->be);
	f->be = NULL;
	assert_int_equal(qemu_img_check(f->overlay), 0);
	assert_int_equal(sh("qemu-io -c 'read -P 1 0 4k' -c 'read -P 0x5a 4k 4k' "
			    "-c 'read -P 2 8k 4k' '%s' >/dev/null",
			    f->overlay),
			 0);
}

static void in_place_write_out_of_memory_fails_cleanly(void **state)
{
	struct qfix *f = *state;
	uint8_t buf[4096];

	qfix_open_chain(f, false);
	memset(buf, 1, sizeof(buf));
	assert_int_equal(qfix_io(f, f->be, BACKEND_OP_WRITE, 0, sizeof(buf), buf), 4096);
	/* The cluster is in the overlay now: the write is planned as an engine
	 * request, and the plan's allocation fails. */
	memset(buf, 2, sizeof(buf));
	fail_calloc_in = 1;
	assert_int_equal(qfix_io(f, f->be, BACKEND_OP_WRITE, 0, sizeof(buf), buf), -ENOMEM);
	assert_int_equal(qfix_io(f, f->be, BACKEND_OP_READ, 0, sizeof(buf), buf), 4096);
	assert_all(buf, sizeof(buf), 1);
}

static void write_across_l2_tables_allocates_both(void **state)
{
	struct qfix *f = *state;
	uint8_t *buf = malloc(1 << 20);
	char small[128];

	if (!qemu_tools())
		skip();
	/* 512-byte clusters: one L2 table maps 32 KiB, so 1 MiB spans 32 tables,
	 * and 9 MiB outgrows the one-cluster refcount table (64 blocks x 128 KiB). */
	snprintf(small, sizeof(small), "%s/small.qcow2", f->dir);
	assert_int_equal(sh("qemu-img create -q -f qcow2 -o cluster_size=512 '%s' 16M", small), 0);
	assert_non_null(buf);
	assert_int_equal(qfix_open(f, small, false, &f->be), 0);
	for (int i = 0; i < 9; i++) {
		memset(buf, 0x40 + i, 1 << 20);
		assert_int_equal(
			qfix_io(f, f->be, BACKEND_OP_WRITE, (uint64_t)i << 20, 1 << 20, buf),
			1 << 20);
	}
	backend_close(f->be);
	f->be = NULL;
	assert_int_equal(qemu_img_check(small), 0);
	assert_int_equal(sh("qemu-io -c 'read -P 0x40 0 1M' -c 'read -P 0x48 8M 1M' "
			    "-c 'read -P 0 9M 1M' '%s' >/dev/null",
			    small),
			 0);
	free(buf);
}

static void write_out_of_memory_fails_and_image_stays_clean(void **state)
{
	struct qfix *f = *state;
	uint8_t buf[512];

	qfix_open_chain(f, false);
	memset(buf, 0xab, sizeof(buf));
	fail_calloc_in = 1;
	assert_int_equal(qfix_io(f, f->be, BACKEND_OP_WRITE, 0, sizeof(buf), buf), -ENOMEM);
	assert_int_equal(backend_stats(f->be)->errors, 1);
	assert_int_equal(qfix_io(f, f->be, BACKEND_OP_WRITE, 0, sizeof(buf), buf), 512);
	backend_close(f->be);
	f->be = NULL;
	assert_int_equal(qemu_img_check(f->overlay), 0);
}

static void fua_write_and_flush_complete(void **state)
{
	struct qfix *f = *state;
	struct backend_io io = {.op = BACKEND_OP_WRITE, .flags = BACKEND_IO_FUA, .done = qfix_done};
	struct pollfd pfd;
	uint8_t buf[4096] = {1};

	qfix_open_chain(f, false);
	io.buf = buf;
	io.len = sizeof(buf);
	assert_int_equal(backend_submit(f->be, &io), 0);
	pfd.fd = backend_engine_fd(f->eng);
	pfd.events = POLLIN;
	while (f->done_calls == 0) {
		assert_true(poll(&pfd, 1, 5000) > 0);
		backend_engine_run(f->eng);
	}
	assert_int_equal(f->res, 4096);
	/* Again, in place this time (the engine's RWF_DSYNC path). */
	assert_int_equal(backend_submit(f->be, &io), 0);
	while (f->done_calls == 1) {
		assert_true(poll(&pfd, 1, 5000) > 0);
		backend_engine_run(f->eng);
	}
	assert_int_equal(f->res, 4096);
	assert_int_equal(qfix_io(f, f->be, BACKEND_OP_FLUSH, 0, 0, NULL), 0);
}

/* ---- concurrent allocation (group commit) ----
 *
 * Several requests submitted before the engine runs, as the event loop does
 * with the commands of one iteration:
 *
 *   submit W1, W2, R/FLUSH/UNMAP ... --> [open group] --one fdatasync--> L2 entries --> done()
 */

struct rec {
	struct backend_io io; /* first: done() gets it */
	int order;	      /* 1 + how many recs completed before it; 0 not yet */
	int run;	      /* the engine run that completed it */
	int64_t res;
};

static int rec_done_count, rec_runs;

static void rec_done(struct backend_io *io, int64_t res)
{
	struct rec *r = (struct rec *)io;

	r->res = res;
	r->order = ++rec_done_count;
	r->run = rec_runs;
}

static void rec_submit(struct qfix *f, struct rec *r, enum backend_op op, uint64_t off,
		       uint64_t len, void *buf)
{
	memset(r, 0, sizeof(*r));
	r->io = (struct backend_io){.op = op, .offset = off, .len = len, .buf = buf};
	r->io.done = rec_done;
	assert_int_equal(backend_submit(f->be, &r->io), 0);
}

/* Run the engine until the \p n recs have completed. */
static void rec_wait(struct qfix *f, struct rec *r, size_t n)
{
	struct pollfd pfd = {.fd = backend_engine_fd(f->eng), .events = POLLIN};
	size_t i = 0;

	while (i < n) {
		if (r[i].order) {
			i++;
			continue;
		}
		assert_true(poll(&pfd, 1, 5000) > 0);
		rec_runs++;
		backend_engine_run(f->eng);
	}
}

/* qemu-img check found no error (leaked clusters, exit 3, are allowed). */
static void assert_check_no_errors(const char *path)
{
	int st = qemu_img_check(path);

	if (st != 0 && st != 3)
		fail_msg("qemu-img check %s: exit %d", path, st);
}

static void allocating_writes_of_one_iteration_commit_together(void **state)
{
	struct qfix *f = *state;
	uint8_t a[4096], b[4096];
	struct rec r[2];

	qfix_open_chain(f, false);
	memset(a, 0x11, sizeof(a));
	memset(b, 0x22, sizeof(b));
	rec_submit(f, &r[0], BACKEND_OP_WRITE, 0, sizeof(a), a);
	rec_submit(f, &r[1], BACKEND_OP_WRITE, 5 * CS, sizeof(b), b);
	assert_int_equal(r[0].order + r[1].order, 0); /* nothing completes inside submit */
	rec_wait(f, r, 2);
	assert_int_equal(r[0].res, 4096);
	assert_int_equal(r[1].res, 4096);
	/* One group, one fdatasync: both complete from the same engine run. */
	assert_int_equal(r[0].run, r[1].run);
	backend_close(f->be);
	f->be = NULL;
	assert_int_equal(qemu_img_check(f->overlay), 0);
	assert_int_equal(sh("qemu-io -c 'read -P 0x11 0 4k' -c 'read -P 0x5a 4k 60k' "
			    "-c 'read -P 0x22 320k 4k' '%s' >/dev/null",
			    f->overlay),
			 0);
}

static void two_writes_to_one_new_cluster_share_it(void **state)
{
	struct qfix *f = *state;
	uint8_t a[512], b[512];
	struct stat st1, st2;
	struct rec r[2];

	qfix_open_chain(f, false);
	assert_int_equal(stat(f->overlay, &st1), 0);
	memset(a, 0x11, sizeof(a));
	memset(b, 0x22, sizeof(b));
	/* The second write finds the cluster's allocation in flight. */
	rec_submit(f, &r[0], BACKEND_OP_WRITE, CS, sizeof(a), a);
	rec_submit(f, &r[1], BACKEND_OP_WRITE, CS + 8192, sizeof(b), b);
	rec_wait(f, r, 2);
	assert_int_equal(r[0].res, 512);
	assert_int_equal(r[1].res, 512);
	/* One L2 table and one data cluster, not two data clusters. */
	assert_int_equal(stat(f->overlay, &st2), 0);
	assert_int_equal(st2.st_size - st1.st_size, 2 * CS);
	backend_close(f->be);
	f->be = NULL;
	assert_int_equal(qemu_img_check(f->overlay), 0);
	assert_int_equal(sh("qemu-io -c 'read -P 0x11 64k 512' -c 'read -P 0x5a 66048 7680' "
			    "-c 'read -P 0x22 72k 512' -c 'read -P 0x5a 74240 56832' '%s' "
			    ">/dev/null",
			    f->overlay),
			 0);
}

static void read_of_cluster_in_flight_returns_new_data(void **state)
{
	struct qfix *f = *state;
	uint8_t a[4096], *rb = calloc(1, CS);
	struct rec r[2];

	assert_non_null(rb);
	qfix_open_chain(f, false);
	memset(a, 0x33, sizeof(a));
	rec_submit(f, &r[0], BACKEND_OP_WRITE, 2 * CS + 4096, sizeof(a), a);
	rec_submit(f, &r[1], BACKEND_OP_READ, 2 * CS, CS, rb);
	rec_wait(f, r, 2);
	assert_int_equal(r[0].res, 4096);
	assert_int_equal(r[1].res, CS);
	/* The new cluster: golden bytes copied around the written ones. */
	assert_all(rb, 4096, 0x5a);
	assert_all(rb + 4096, 4096, 0x33);
	assert_all(rb + 8192, CS - 8192, 0x5a);
	free(rb);
}

static void read_of_cluster_in_flight_over_zeros_is_not_golden(void **state)
{
	struct qfix *f = *state;
	uint8_t a[512], rb[1024];
	struct rec r[2];

	/* Past the golden data (1 MiB): the cluster reads zeros around the write. */
	qfix_open_chain(f, false);
	memset(a, 0x44, sizeof(a));
	memset(rb, 0xff, sizeof(rb));
	rec_submit(f, &r[0], BACKEND_OP_WRITE, 2 << 20, sizeof(a), a);
	rec_submit(f, &r[1], BACKEND_OP_READ, 2 << 20, sizeof(rb), rb);
	rec_wait(f, r, 2);
	assert_int_equal(r[1].res, 1024);
	assert_all(rb, 512, 0x44);
	assert_all(rb + 512, 512, 0);
}

static void flush_waits_for_pending_allocation(void **state)
{
	struct qfix *f = *state;
	uint8_t a[4096];
	struct rec r[2];

	qfix_open_chain(f, false);
	memset(a, 0x55, sizeof(a));
	rec_submit(f, &r[0], BACKEND_OP_WRITE, 3 * CS, sizeof(a), a);
	rec_submit(f, &r[1], BACKEND_OP_FLUSH, 0, 0, NULL);
	rec_wait(f, r, 2);
	assert_int_equal(r[0].res, 4096);
	assert_int_equal(r[1].res, 0);
	assert_true(r[1].order > r[0].order);
	/* After the FLUSH the L2 entry is on disk: qemu reads the data back with
	 * the store still open. */
	assert_int_equal(sh("qemu-io -r -U -c 'read -P 0x55 192k 4k' '%s' >/dev/null", f->overlay),
			 0);
}

static void fua_write_into_cluster_in_flight_completes_after_it(void **state)
{
	struct qfix *f = *state;
	uint8_t a[4096], b[4096];
	struct rec r[2];

	qfix_open_chain(f, false);
	memset(a, 0x66, sizeof(a));
	memset(b, 0x67, sizeof(b));
	rec_submit(f, &r[0], BACKEND_OP_WRITE, 4 * CS, sizeof(a), a);
	memset(&r[1], 0, sizeof(r[1]));
	r[1].io = (struct backend_io){.op = BACKEND_OP_WRITE,
				      .flags = BACKEND_IO_FUA,
				      .offset = 4 * CS + 4096,
				      .len = sizeof(b),
				      .buf = b,
				      .done = rec_done};
	assert_int_equal(backend_submit(f->be, &r[1].io), 0);
	rec_wait(f, r, 2);
	assert_int_equal(r[1].res, 4096);
	assert_true(r[1].order > r[0].order);
	assert_int_equal(sh("qemu-io -r -U -c 'read -P 0x66 256k 4k' -c 'read -P 0x67 260k 4k' "
			    "'%s' >/dev/null",
			    f->overlay),
			 0);
}

static void unmap_of_cluster_in_flight_waits_and_reads_zeros(void **state)
{
	struct qfix *f = *state;
	uint8_t *a = calloc(1, CS);
	struct rec r[3];

	assert_non_null(a);
	qfix_open_chain(f, false);
	memset(a, 0x77, CS);
	rec_submit(f, &r[0], BACKEND_OP_WRITE, 6 * CS, CS, a);
	rec_submit(f, &r[1], BACKEND_OP_UNMAP, 6 * CS, CS, NULL);
	rec_wait(f, r, 2);
	assert_int_equal(r[0].res, CS);
	assert_int_equal(r[1].res, CS);
	rec_submit(f, &r[2], BACKEND_OP_READ, 6 * CS, CS, a);
	rec_wait(f, &r[2], 1);
	assert_int_equal(r[2].res, CS);
	assert_all(a, CS, 0);
	backend_close(f->be);
	f->be = NULL;
	assert_int_equal(qemu_img_check(f->overlay), 0);
	free(a);
}

static void allocation_failure_mid_group_fails_only_that_write(void **state)
{
	struct qfix *f = *state;
	uint8_t a[512], b[1024], c[512];
	char small[128];
	struct rec r[3];

	if (!qemu_tools())
		skip();
	/* 512-byte clusters: an L2 table maps 32 KiB. W2 crosses into the second
	 * table, whose allocation fails after W2's first cluster was allocated. */
	snprintf(small, sizeof(small), "%s/small.qcow2", f->dir);
	assert_int_equal(sh("qemu-img create -q -f qcow2 -o cluster_size=512 '%s' 1M", small), 0);
	assert_int_equal(qfix_open(f, small, false, &f->be), 0);
	memset(a, 0x11, sizeof(a));
	memset(b, 0x22, sizeof(b));
	rec_submit(f, &r[0], BACKEND_OP_WRITE, 0, sizeof(a), a);
	fail_calloc_in = 2; /* W2's copy buffer, then the new L2 table's cache slot */
	rec_submit(f, &r[1], BACKEND_OP_WRITE, 32768 - 512, sizeof(b), b);
	assert_int_equal(fail_calloc_in, 0);
	rec_wait(f, r, 2);
	assert_int_equal(r[0].res, 512);
	assert_int_equal(r[1].res, -ENOMEM);
	/* The image is not broken: the second table can still be allocated. */
	memset(c, 0x33, sizeof(c));
	rec_submit(f, &r[2], BACKEND_OP_WRITE, 32768, sizeof(c), c);
	rec_wait(f, &r[2], 1);
	assert_int_equal(r[2].res, 512);
	backend_close(f->be);
	f->be = NULL;
	assert_check_no_errors(small);
	assert_int_equal(sh("qemu-io -c 'read -P 0x11 0 512' -c 'read -P 0x33 32k 512' '%s' "
			    ">/dev/null",
			    small),
			 0);
}

static void pending_list_out_of_memory_fails_write_cleanly(void **state)
{
	struct qfix *f = *state;
	uint8_t a[512];
	struct rec r[1];

	qfix_open_chain(f, false);
	memset(a, 0x12, sizeof(a));
	/* The copy buffer, the new L2 table's cache slot, then the pending list. */
	fail_calloc_in = 3;
	rec_submit(f, &r[0], BACKEND_OP_WRITE, 0, sizeof(a), a);
	assert_int_equal(fail_calloc_in, 0);
	rec_wait(f, r, 1);
	assert_int_equal(r[0].res, -ENOMEM);
	/* Again: works, and reads back. */
	rec_submit(f, &r[0], BACKEND_OP_WRITE, 0, sizeof(a), a);
	rec_wait(f, r, 1);
	assert_int_equal(r[0].res, 512);
	backend_close(f->be);
	f->be = NULL;
	assert_check_no_errors(f->overlay);
	assert_int_equal(sh("qemu-io -c 'read -P 0x12 0 512' '%s' >/dev/null", f->overlay), 0);
}

/* ---- discard ---- */

static void unmap_over_backing_reads_zeros_not_golden(void **state)
{
	struct qfix *f = *state;
	uint8_t *buf = calloc(1, 4 * CS);
	bool mapped = true;
	uint64_t len = 0;

	qfix_open_chain(f, false);
	assert_true(backend_caps(f->be) & BACKEND_CAP_UNMAP_ZEROES);
	memset(buf, 0x77, CS);
	assert_int_equal(qfix_io(f, f->be, BACKEND_OP_WRITE, CS, CS, buf), CS);
	/* Whole clusters 1 and 2 (one allocated, one not), plus 4 KiB of cluster 3. */
	assert_int_equal(qfix_io(f, f->be, BACKEND_OP_UNMAP, CS, 2 * CS + 4096, NULL),
			 2 * CS + 4096);
	assert_int_equal(qfix_io(f, f->be, BACKEND_OP_READ, 0, 4 * CS, buf), 4 * CS);
	assert_all(buf, CS, 0x5a);
	assert_all(buf + CS, 2 * CS + 4096, 0);
	assert_all(buf + 3 * CS + 4096, CS - 4096, 0x5a);
	assert_int_equal(backend_map_query(f->be, CS, &mapped, &len), 0);
	assert_false(mapped);
	assert_int_equal(len, 2 * CS);
	backend_close(f->be);
	f->be = NULL;
	assert_int_equal(qemu_img_check(f->overlay), 0);
	assert_int_equal(sh("qemu-io -c 'read -P 0 64k 135168' -c 'read -P 0x5a 0 64k' '%s' "
			    ">/dev/null",
			    f->overlay),
			 0);
	free(buf);
}

static void map_query_reports_golden_data_as_mapped(void **state)
{
	struct qfix *f = *state;
	bool mapped = false;
	uint64_t len = 0;

	qfix_open_chain(f, true);
	assert_int_equal(backend_map_query(f->be, 4096, &mapped, &len), 0);
	assert_true(mapped);
	assert_int_equal(len, (1 << 20) - 4096);
	assert_int_equal(backend_map_query(f->be, 1 << 20, &mapped, &len), 0);
	assert_false(mapped);
	assert_int_equal(len, 15 << 20);
}

/* ---- sharing the golden image ---- */

static int fds_open_on(const char *path)
{
	char link[64], target[PATH_MAX], real[PATH_MAX];
	int fd, n = 0;

	assert_non_null(realpath(path, real));
	for (fd = 0; fd < 1024; fd++) {
		ssize_t len;

		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		len = readlink(link, target, sizeof(target) - 1);
		if (len < 0)
			continue;
		target[len] = '\0';
		n += strcmp(target, real) == 0;
	}
	return n;
}

static void two_overlays_share_one_golden_fd(void **state)
{
	struct qfix *f = *state;
	char second[128];
	struct backend *be2 = NULL;
	uint8_t buf[4096];

	if (!qemu_tools())
		skip();
	qfix_chain(f, "16M", 0x5a, "1M");
	snprintf(second, sizeof(second), "%s/second.qcow2", f->dir);
	assert_int_equal(backend_qcow2_create_overlay(second, "golden.qcow2"), 0);
	assert_int_equal(qfix_open(f, f->overlay, false, &f->be), 0);
	assert_int_equal(qfix_open(f, second, false, &be2), 0);
	assert_int_equal(fds_open_on(f->golden), 1);
	backend_close(f->be);
	f->be = NULL;
	/* The second overlay still reads the golden data after the first is gone. */
	assert_int_equal(qfix_io(f, be2, BACKEND_OP_READ, 0, sizeof(buf), buf), 4096);
	assert_all(buf, sizeof(buf), 0x5a);
	backend_close(be2);
	assert_int_equal(fds_open_on(f->golden), 0);
}

static void open_for_writing_of_a_shared_golden_fails_ebusy(void **state)
{
	struct qfix *f = *state;
	struct backend *be2 = NULL;

	qfix_open_chain(f, false);
	assert_int_equal(qfix_open(f, f->golden, false, &be2), -EBUSY);
}

/* ---- malformed images ---- */

/* A hand-made v3 image: 64 KiB clusters, L1 at 3, refcount table at 1. */
static void qfix_write_image(const char *path, void (*mutate)(uint8_t *img, size_t *len))
{
	size_t len = 4 * CS;
	uint8_t *img = calloc(1, len);
	int fd;

	assert_non_null(img);
	put_be32(img + QCOW2_H_MAGIC, QCOW2_MAGIC);
	put_be32(img + QCOW2_H_VERSION, 3);
	put_be32(img + QCOW2_H_CLUSTER_BITS, 16);
	put_be64(img + QCOW2_H_SIZE, 1 << 20);
	put_be32(img + QCOW2_H_L1_SIZE, 1);
	put_be64(img + QCOW2_H_L1_OFFSET, 3 * CS);
	put_be64(img + QCOW2_H_RT_OFFSET, CS);
	put_be32(img + QCOW2_H_RT_CLUSTERS, 1);
	put_be32(img + QCOW2_H_REFCOUNT_ORDER, 4);
	put_be32(img + QCOW2_H_HEADER_LEN, 112);
	put_be64(img + CS, 2 * CS);
	for (int i = 0; i < 4; i++)
		put_be16(img + 2 * CS + 2 * i, 1);
	if (mutate)
		mutate(img, &len);
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, img, len), (ssize_t)len);
	close(fd);
	free(img);
}

static void mut_truncated(uint8_t *img, size_t *len)
{
	(void)img;
	*len = 40;
}

static void mut_version(uint8_t *img, size_t *len)
{
	(void)len;
	put_be32(img + QCOW2_H_VERSION, 4);
}

static void mut_cluster_bits_small(uint8_t *img, size_t *len)
{
	(void)len;
	put_be32(img + QCOW2_H_CLUSTER_BITS, 8);
}

static void mut_cluster_bits_big(uint8_t *img, size_t *len)
{
	(void)len;
	put_be32(img + QCOW2_H_CLUSTER_BITS, 22);
}

static void mut_l1_too_big(uint8_t *img, size_t *len)
{
	(void)len;
	put_be32(img + QCOW2_H_L1_SIZE, 0x10000000);
}

static void mut_l1_too_small(uint8_t *img, size_t *len)
{
	(void)len;
	put_be64(img + QCOW2_H_SIZE, 1ull << 40); /* needs 2048 entries, has 1 */
}

static void mut_l1_past_eof(uint8_t *img, size_t *len)
{
	(void)len;
	put_be64(img + QCOW2_H_L1_OFFSET, 64 * CS);
}

static void mut_rt_past_eof(uint8_t *img, size_t *len)
{
	(void)len;
	put_be64(img + QCOW2_H_RT_OFFSET, 64 * CS);
}

static void mut_rt_unaligned(uint8_t *img, size_t *len)
{
	(void)len;
	put_be64(img + QCOW2_H_RT_OFFSET, CS + 512);
}

static void mut_dirty(uint8_t *img, size_t *len)
{
	(void)len;
	put_be64(img + QCOW2_H_INCOMPAT, QCOW2_INCOMPAT_DIRTY);
}

static void mut_corrupt(uint8_t *img, size_t *len)
{
	(void)len;
	put_be64(img + QCOW2_H_INCOMPAT, QCOW2_INCOMPAT_CORRUPT);
}

static void mut_extl2(uint8_t *img, size_t *len)
{
	(void)len;
	put_be64(img + QCOW2_H_INCOMPAT, QCOW2_INCOMPAT_EXTL2);
}

static void mut_unknown_incompat(uint8_t *img, size_t *len)
{
	(void)len;
	put_be64(img + QCOW2_H_INCOMPAT, 1ull << 40);
}

static void mut_encrypted(uint8_t *img, size_t *len)
{
	(void)len;
	put_be32(img + QCOW2_H_CRYPT_METHOD, 1);
}

static void mut_header_len(uint8_t *img, size_t *len)
{
	(void)len;
	put_be32(img + QCOW2_H_HEADER_LEN, 100);
}

static void mut_backing_name_past_cluster(uint8_t *img, size_t *len)
{
	(void)len;
	put_be64(img + QCOW2_H_BACKING_OFFSET, CS - 4);
	put_be32(img + QCOW2_H_BACKING_SIZE, 16);
}

static void mut_ext_unterminated(uint8_t *img, size_t *len)
{
	(void)len;
	/* An unknown extension whose length runs past the first cluster. */
	put_be32(img + 112, 0x12345678);
	put_be32(img + 116, CS);
}

static void mut_refblock_past_eof(uint8_t *img, size_t *len)
{
	(void)len;
	put_be64(img + CS + 8, 100 * CS);
}

static void mut_refcount_order(uint8_t *img, size_t *len)
{
	(void)len;
	put_be32(img + QCOW2_H_REFCOUNT_ORDER, 7);
}

static void mut_backing_missing(uint8_t *img, size_t *len)
{
	(void)len;
	put_be64(img + QCOW2_H_BACKING_OFFSET, 512);
	put_be32(img + QCOW2_H_BACKING_SIZE, 8);
	memcpy(img + 512, "gone.raw", 8);
}

static void mut_backing_self(uint8_t *img, size_t *len)
{
	(void)len;
	put_be64(img + QCOW2_H_BACKING_OFFSET, 512);
	put_be32(img + QCOW2_H_BACKING_SIZE, 9);
	memcpy(img + 512, "bad.qcow2", 9);
}

static void mut_backing_fifo(uint8_t *img, size_t *len)
{
	(void)len;
	put_be64(img + QCOW2_H_BACKING_OFFSET, 512);
	put_be32(img + QCOW2_H_BACKING_SIZE, 4);
	memcpy(img + 512, "fifo", 4);
}

static void malformed_images_are_refused(void **state)
{
	static const struct {
		const char *what;
		void (*mutate)(uint8_t *, size_t *);
		int err;
	} cases[] = {
		{"truncated header", mut_truncated, -EINVAL},
		{"version 4", mut_version, -EINVAL},
		{"cluster_bits 8", mut_cluster_bits_small, -EINVAL},
		{"cluster_bits 22", mut_cluster_bits_big, -EINVAL},
		{"L1 too big", mut_l1_too_big, -EINVAL},
		{"L1 too small for the size", mut_l1_too_small, -EINVAL},
		{"L1 past EOF", mut_l1_past_eof, -EINVAL},
		{"refcount table past EOF", mut_rt_past_eof, -EINVAL},
		{"refcount table unaligned", mut_rt_unaligned, -EINVAL},
		{"dirty bit", mut_dirty, -EINVAL},
		{"corrupt bit", mut_corrupt, -EINVAL},
		{"extended L2", mut_extl2, -EOPNOTSUPP},
		{"unknown incompatible bit", mut_unknown_incompat, -EOPNOTSUPP},
		{"encrypted", mut_encrypted, -EINVAL},
		{"header length < 104", mut_header_len, -EINVAL},
		{"backing name past the first cluster", mut_backing_name_past_cluster, -EINVAL},
		{"extension past the first cluster", mut_ext_unterminated, -EINVAL},
		{"refcount block past EOF", mut_refblock_past_eof, -EINVAL},
		{"refcount order 7", mut_refcount_order, -EINVAL},
		{"backing file missing", mut_backing_missing, -ENOENT},
		{"backing file is itself", mut_backing_self, -EINVAL},
		{"backing file is a FIFO (must not hang)", mut_backing_fifo, -EINVAL},
	};
	struct qfix *f = *state;
	char path[128];
	size_t i;

	snprintf(path, sizeof(path), "%s/fifo", f->dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	snprintf(path, sizeof(path), "%s/bad.qcow2", f->dir);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct backend_config cfg = {.path = path};
		struct backend *be = NULL;
		int ret;

		qfix_write_image(path, cases[i].mutate);
		/* Through the qcow2 vtable: a bad magic would be raw to backend_open. */
		ret = backend_qcow2_ops.open(f->eng, &cfg, &be);
		if (ret != cases[i].err)
			fail_msg("%s: open returned %d, expected %d", cases[i].what, ret,
				 cases[i].err);
		assert_null(be);
	}
}

static void handmade_image_opens_and_reads_zeros(void **state)
{
	struct qfix *f = *state;
	char path[128];
	uint8_t buf[4096];

	/* The control for the table above: the unmutated image is fine. */
	snprintf(path, sizeof(path), "%s/good.qcow2", f->dir);
	qfix_write_image(path, NULL);
	assert_int_equal(qfix_open(f, path, false, &f->be), 0);
	assert_int_equal(backend_size(f->be), 1 << 20);
	memset(buf, 1, sizeof(buf));
	assert_int_equal(qfix_io(f, f->be, BACKEND_OP_READ, 0, sizeof(buf), buf), 4096);
	assert_all(buf, sizeof(buf), 0);
	if (qemu_tools()) {
		memset(buf, 0x61, sizeof(buf));
		assert_int_equal(qfix_io(f, f->be, BACKEND_OP_WRITE, 0, sizeof(buf), buf), 4096);
		backend_close(f->be);
		f->be = NULL;
		assert_int_equal(qemu_img_check(path), 0);
	}
}

static void mut_autoclear(uint8_t *img, size_t *len)
{
	(void)len;
	put_be64(img + QCOW2_H_AUTOCLEAR, 1); /* bitmaps extension */
}

static void mut_autoclear_backing_missing(uint8_t *img, size_t *len)
{
	mut_autoclear(img, len);
	mut_backing_missing(img, len);
}

static uint64_t qfix_autoclear(const char *path)
{
	uint8_t b[8] = {0};
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, b, sizeof(b), QCOW2_H_AUTOCLEAR), 8);
	close(fd);
	return get_be64(b);
}

/* qcow2 spec: a writer that does not know an autoclear bit must clear it. */
static void autoclear_bits_cleared_when_opened_for_writing(void **state)
{
	struct qfix *f = *state;
	char path[128];

	snprintf(path, sizeof(path), "%s/ac.qcow2", f->dir);
	qfix_write_image(path, mut_autoclear);
	assert_int_equal(qfix_open(f, path, false, &f->be), 0);
	assert_int_equal(qfix_autoclear(path), 0);
}

static void refused_image_keeps_its_autoclear_bits(void **state)
{
	struct qfix *f = *state;
	char path[128];

	snprintf(path, sizeof(path), "%s/ac.qcow2", f->dir);
	qfix_write_image(path, mut_autoclear_backing_missing);
	assert_int_equal(qfix_open(f, path, false, &f->be), -ENOENT);
	assert_int_equal(qfix_autoclear(path), 1);
}

static void chain_deeper_than_sixteen_is_refused(void **state)
{
	struct qfix *f = *state;
	char path[128], prev[32];
	struct backend_config cfg = {0};
	int i;

	qfix_raw(f, "l0.raw", 4096, path, sizeof(path));
	snprintf(prev, sizeof(prev), "l0.raw");
	for (i = 1; i <= 17; i++) {
		snprintf(path, sizeof(path), "%s/l%d.qcow2", f->dir, i);
		assert_int_equal(backend_qcow2_create_overlay(path, prev), 0);
		snprintf(prev, sizeof(prev), "l%d.qcow2", i);
	}
	cfg.path = path;
	assert_int_equal(backend_open(f->eng, &cfg, &f->be), -EINVAL);
	/* Sixteen layers are fine. */
	snprintf(path, sizeof(path), "%s/l15.qcow2", f->dir);
	assert_int_equal(backend_open(f->eng, &cfg, &f->be), 0);
}

static void open_out_of_memory_fails_cleanly_at_every_allocation(void **state)
{
	struct qfix *f = *state;
	int n, ret = -ENOMEM;

	if (!qemu_tools())
		skip();
	qfix_chain(f, "16M", 0x5a, "1M");
	for (n = 1; ret == -ENOMEM && n < 100; n++) {
		fail_calloc_in = n;
		ret = qfix_open(f, f->overlay, false, &f->be);
		if (ret == -ENOMEM)
			assert_null(f->be);
	}
	fail_calloc_in = 0;
	assert_int_equal(ret, 0);
	assert_true(n > 3); /* store, layers, caches, tables: several allocations failed */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, qfix_setup, qfix_teardown)
		T(create_overlay_passes_qemu_img_check),
		T(create_overlay_of_raw_records_raw_format),
		T(create_overlay_on_existing_path_fails_eexist),
		T(create_overlay_with_missing_backing_fails_enoent),
		T(create_overlay_out_of_memory_leaves_no_file),
		T(probe_tells_qcow2_from_raw),
		T(read_of_unwritten_overlay_returns_golden_data),
		T(read_past_end_of_smaller_backing_returns_zeros),
		T(read_of_zero_flagged_cluster_returns_zeros),
		T(read_through_chain_of_three_sees_each_layer),
		T(compressed_golden_reads_back_identical),
		T(overlay_on_compressed_golden_reads_golden_data),
		T(partial_write_over_compressed_backing_keeps_rest_of_cluster),
		T(corrupt_compressed_stream_reads_eio),
		T(short_compressed_stream_reads_eio),
		T(compressed_read_out_of_memory_completes_with_enomem),
		T(read_out_of_memory_completes_with_enomem),
		T(partial_write_copies_rest_of_cluster_from_backing),
		T(write_leaves_golden_image_unchanged),
		T(rewrite_of_allocated_cluster_keeps_one_cluster),
		T(in_place_write_out_of_memory_fails_cleanly),
		T(write_across_l2_tables_allocates_both),
		T(write_out_of_memory_fails_and_image_stays_clean),
		T(fua_write_and_flush_complete),
		T(allocating_writes_of_one_iteration_commit_together),
		T(two_writes_to_one_new_cluster_share_it),
		T(read_of_cluster_in_flight_returns_new_data),
		T(read_of_cluster_in_flight_over_zeros_is_not_golden),
		T(flush_waits_for_pending_allocation),
		T(fua_write_into_cluster_in_flight_completes_after_it),
		T(unmap_of_cluster_in_flight_waits_and_reads_zeros),
		T(allocation_failure_mid_group_fails_only_that_write),
		T(pending_list_out_of_memory_fails_write_cleanly),
		T(unmap_over_backing_reads_zeros_not_golden),
		T(map_query_reports_golden_data_as_mapped),
		T(two_overlays_share_one_golden_fd),
		T(open_for_writing_of_a_shared_golden_fails_ebusy),
		T(malformed_images_are_refused),
		T(handmade_image_opens_and_reads_zeros),
		T(autoclear_bits_cleared_when_opened_for_writing),
		T(refused_image_keeps_its_autoclear_bits),
		T(chain_deeper_than_sixteen_is_refused),
		T(open_out_of_memory_fails_cleanly_at_every_allocation),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
