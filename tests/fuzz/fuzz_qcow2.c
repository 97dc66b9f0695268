/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qcow2 images (daemon/backend/bs_qcow2.c): the input is an image file, as
 * an attacker who hands us a golden image or an overlay controls it. Open
 * must fail cleanly or succeed; then a few reads, and on a writable copy a
 * write and a discard, must complete exactly once without crashing.
 *
 *   input -> TMPDIR/hatgt-fuzz-qcow2.XXXXXX/img.qcow2 (a backing file name
 *            in the image resolves against that directory, which also holds
 *            base.raw, 1 MiB of 0x5a, for names that find something)
 *
 * The header fields an image needs to get past the first checks are mutated
 * from the seed corpus (corpus/fuzz_qcow2/: small images written by qemu-img).
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "backend/backend_int.h"
#include "fuzz_common.h"

#define FUZZ_QCOW2_TIMEOUT_MS 10000

static struct {
	char dir[64];
	char path[96];
	char base[96];
	struct backend_engine *eng;
	int done_calls;
} fuzz_qcow2;

static void fuzz_qcow2_cleanup(void)
{
	backend_engine_destroy(fuzz_qcow2.eng);
	unlink(fuzz_qcow2.path);
	unlink(fuzz_qcow2.base);
	rmdir(fuzz_qcow2.dir);
}

static void fuzz_qcow2_setup(void)
{
	const char *tmp = getenv("TMPDIR");
	static uint8_t block[4096];
	int fd, i;

	snprintf(fuzz_qcow2.dir, sizeof(fuzz_qcow2.dir), "%s/hatgt-fuzz-qcow2.XXXXXX",
		 tmp ? tmp : "/tmp");
	FUZZ_CHECK(mkdtemp(fuzz_qcow2.dir) != NULL);
	snprintf(fuzz_qcow2.path, sizeof(fuzz_qcow2.path), "%s/img.qcow2", fuzz_qcow2.dir);
	snprintf(fuzz_qcow2.base, sizeof(fuzz_qcow2.base), "%s/base.raw", fuzz_qcow2.dir);
	memset(block, 0x5a, sizeof(block));
	fd = open(fuzz_qcow2.base, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
	FUZZ_CHECK(fd >= 0);
	for (i = 0; i < 256; i++)
		FUZZ_CHECK(write(fd, block, sizeof(block)) == (ssize_t)sizeof(block));
	close(fd);
	FUZZ_CHECK(backend_engine_create(16, &fuzz_qcow2.eng) == 0);
	atexit(fuzz_qcow2_cleanup);
}

static void fuzz_qcow2_done(struct backend_io *io, int64_t res)
{
	(void)io;
	(void)res;
	fuzz_qcow2.done_calls++;
}

/* One request; it must complete exactly once, within the time limit. */
static void fuzz_qcow2_io(struct backend *be, enum backend_op op, uint64_t off, uint64_t len,
			  uint8_t *buf)
{
	struct backend_io io = {
		.op = op, .offset = off, .len = len, .buf = buf, .done = fuzz_qcow2_done};
	int before = fuzz_qcow2.done_calls, waited_ms = 0;

	if (len == 0 || off >= backend_size(be) || len > backend_size(be) - off)
		return;
	if (backend_submit(be, &io) < 0)
		return;
	while (fuzz_qcow2.done_calls == before) {
		fuzz_wait_readable(backend_engine_fd(fuzz_qcow2.eng), &waited_ms,
				   FUZZ_QCOW2_TIMEOUT_MS);
		backend_engine_run(fuzz_qcow2.eng);
	}
	FUZZ_CHECK(fuzz_qcow2.done_calls == before + 1);
}

static void fuzz_qcow2_exercise(bool readonly)
{
	static uint8_t buf[128 * 1024];
	struct backend_config cfg = {.path = fuzz_qcow2.path, .readonly = readonly};
	struct backend *be = NULL;
	uint64_t size;
	bool mapped;
	uint64_t len;

	if (backend_qcow2_ops.open(fuzz_qcow2.eng, &cfg, &be) < 0)
		return;
	size = backend_size(be);
	fuzz_qcow2_io(be, BACKEND_OP_READ, 0, size < sizeof(buf) ? size : sizeof(buf), buf);
	if (size > 4096) {
		fuzz_qcow2_io(be, BACKEND_OP_READ, size / 2 & ~4095ull, 4096, buf);
		fuzz_qcow2_io(be, BACKEND_OP_READ, size - 4096, 4096, buf);
	}
	if (size)
		(void)backend_map_query(be, 0, &mapped, &len);
	if (!readonly && size >= 8192) {
		memset(buf, 0xa5, 8192);
		fuzz_qcow2_io(be, BACKEND_OP_WRITE, 512, 4096, buf);
		if (backend_caps(be) & BACKEND_CAP_UNMAP)
			fuzz_qcow2_io(be, BACKEND_OP_UNMAP, 0, 8192, NULL);
		fuzz_qcow2_io(be, BACKEND_OP_READ, 0, 8192, buf);
	}
	backend_close(be);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd;

	if (!fuzz_qcow2.eng)
		fuzz_qcow2_setup();
	/* Bounded images: a header may claim terabytes, the file stays small. */
	if (size > 4u << 20)
		return 0;
	fd = open(fuzz_qcow2.path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write(fd, data, size) == (ssize_t)size);
	close(fd);
	fuzz_qcow2_exercise(true);
	/* The read-only pass may have succeeded; the writable one writes to the file. */
	fuzz_qcow2_exercise(false);
	return 0;
}
