/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared fixture of the SCSI and backend unit tests:
 *
 *   initiator "iqn.1993-08.org.debian:01:host1,i,0x00023d000001"
 *        |  I_T nexus (rtpi 1)
 *   target "iqn.2026-11.org.example:disk1", TPGT 1
 *        |  LUN 0
 *   LU: sparse 1 MiB temp file, 512-byte blocks (2048 blocks), real io_uring
 *
 * Commands run through scsi_task_exec(); asynchronous ones are completed by
 * polling the completion fd and calling scsi_completion_run(), as the
 * daemon's loop does. calloc/realloc can be made to fail on demand
 * (link with -Wl,--wrap= for calloc, realloc and reallocarray).
 */
#ifndef HATGT_TESTS_SCSI_FIXTURE_H
#define HATGT_TESTS_SCSI_FIXTURE_H

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scsi/scsi_int.h"

#define FIX_BLOCKS 2048
#define FIX_TARGET "iqn.2026-11.org.example:disk1"
#define FIX_INITIATOR "iqn.1993-08.org.debian:01:host1,i,0x00023d000001"

/* Allocation failure injection: fail the n-th call from now (1 = next); 0 = never. */
static int fix_calloc_fail_in;
static int fix_malloc_fail_in;
static int fix_realloc_fail_in;
void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void *__real_reallocarray(void *p, size_t n, size_t size);

void *__wrap_malloc(size_t size)
{
	if (fix_malloc_fail_in > 0 && --fix_malloc_fail_in == 0)
		return NULL;
	return __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
	if (fix_calloc_fail_in > 0 && --fix_calloc_fail_in == 0)
		return NULL;
	return __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
	if (fix_realloc_fail_in > 0 && --fix_realloc_fail_in == 0)
		return NULL;
	return __real_realloc(p, size);
}

void *__wrap_reallocarray(void *p, size_t n, size_t size)
{
	if (fix_realloc_fail_in > 0 && --fix_realloc_fail_in == 0)
		return NULL;
	return __real_reallocarray(p, n, size);
}

struct fix {
	char dir[64];
	char path[96];
	struct scsi_lu_config cfg;
	struct scsi_lu *lu;
	struct scsi_itn *itn;
	uint64_t luns[3];
	struct scsi_lun_list lun_list;
	struct scsi_task task;
	int done_calls;
	const uint8_t *out;
	uint32_t out_len;
};

#define FIX_CDB(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

static inline void fix_config_default(struct fix *f)
{
	static const uint8_t naa[8] = {0x60, 0x01, 0x40, 0x50, 0x12, 0x34, 0x56, 0x78};

	memset(&f->cfg, 0, sizeof(f->cfg));
	f->cfg.path = f->path;
	f->cfg.create_size = FIX_BLOCKS * 512;
	snprintf(f->cfg.vendor, sizeof(f->cfg.vendor), "HATGT");
	snprintf(f->cfg.product, sizeof(f->cfg.product), "disk1");
	snprintf(f->cfg.revision, sizeof(f->cfg.revision), "0001");
	snprintf(f->cfg.serial, sizeof(f->cfg.serial), "beaf1234");
	memcpy(f->cfg.naa, naa, sizeof(naa));
	f->cfg.naa_len = sizeof(naa);
	f->cfg.target_name = FIX_TARGET;
	f->cfg.rtpi = 1;
	f->cfg.tpgt = 1;
}

static inline struct scsi_itn *fix_itn_create(const char *port, uint16_t rtpi)
{
	struct scsi_itn_id id = {.rtpi = rtpi};

	snprintf(id.initiator_port, sizeof(id.initiator_port), "%s", port);
	return scsi_itn_create(&id);
}

static inline void fix_done(struct scsi_task *task)
{
	struct fix *f = (struct fix *)((char *)task - offsetof(struct fix, task));

	f->done_calls++;
}

/* Run one command to completion on nexus \p itn and LU \p lu. */
static inline void fix_run_on(struct fix *f, struct scsi_lu *lu, struct scsi_itn *itn,
			      const uint8_t *cdb, size_t cdb_len, uint32_t edtl)
{
	struct pollfd pfd = {.fd = scsi_completion_fd(), .events = POLLIN};

	scsi_task_release(&f->task);
	memset(&f->task, 0, sizeof(f->task));
	f->task.lu = lu;
	f->task.itn = itn;
	f->task.lun_list = &f->lun_list;
	memcpy(f->task.cdb, cdb, cdb_len);
	f->task.cdb_len = 16;
	f->task.edtl = edtl;
	f->task.out_buf = f->out;
	f->task.out_len = f->out_len;
	f->task.dir = f->out ? SCSI_DIR_WRITE : edtl ? SCSI_DIR_READ : SCSI_DIR_NONE;
	f->task.done = fix_done;
	f->done_calls = 0;
	scsi_task_exec(&f->task);
	while (f->done_calls == 0) {
		assert_int_equal(poll(&pfd, 1, 5000), 1);
		scsi_completion_run();
	}
	assert_int_equal(f->done_calls, 1);
}

static inline void fix_run(struct fix *f, const uint8_t *cdb, size_t cdb_len, uint32_t edtl)
{
	fix_run_on(f, f->lu, f->itn, cdb, cdb_len, edtl);
}

/* Fixed format sense (SPC-4 4.5.3) with CHECK CONDITION. */
static inline void fix_assert_sense(const struct scsi_task *t, uint8_t key, uint8_t asc,
				    uint8_t ascq)
{
	assert_int_equal(t->status, SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(t->sense_len, 18);
	assert_int_equal(t->sense[0], 0x70);
	assert_int_equal(t->sense[2] & 0x0f, key);
	assert_int_equal(t->sense[12], asc);
	assert_int_equal(t->sense[13], ascq);
}

static inline void fix_assert_invalid_field(const struct scsi_task *t, uint16_t byte)
{
	fix_assert_sense(t, 0x5, 0x24, 0x00);
	assert_int_equal(t->sense[15] & 0xc0, 0xc0); /* SKSV, C/D = CDB */
	assert_int_equal((t->sense[16] << 8) | t->sense[17], byte);
}

static inline void fix_assert_good(const struct scsi_task *t)
{
	assert_int_equal(t->status, SCSI_STATUS_GOOD);
	assert_int_equal(t->sense_len, 0);
}

static inline void fix_lu_create(struct fix *f)
{
	assert_int_equal(scsi_lu_create(&f->cfg, &f->lu), 0);
}

/* Set up the LU and a nexus whose POWER ON unit attention is consumed. */
static inline int fix_setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/hatgt-scsi-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/lu0.img", f->dir);
	assert_int_equal(scsi_init(), 0);
	fix_config_default(f);
	fix_lu_create(f);
	f->itn = fix_itn_create(FIX_INITIATOR, 1);
	assert_non_null(f->itn);
	f->luns[0] = 0;
	f->luns[1] = 1;
	f->luns[2] = 300;
	f->lun_list.luns = f->luns;
	f->lun_list.count = 3;
	fix_run(f, FIX_CDB(0x00, 0, 0, 0, 0, 0), 0);
	assert_int_equal(f->task.sense[12], 0x29);
	*state = f;
	return 0;
}

static inline int fix_teardown(void **state)
{
	struct fix *f = *state;

	fix_calloc_fail_in = 0;
	fix_realloc_fail_in = 0;
	scsi_task_release(&f->task);
	scsi_itn_destroy(f->itn);
	scsi_lu_put(f->lu);
	scsi_fini();
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

#endif
