/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * LUs that live without their backing store (cluster mode: only the
 * promoted node opens it): create detached, scsi_lu_attach(),
 * scsi_lu_detach(), and what a command to a detached LU gets
 * (SPC-4 5.16.2.4.4: NOT READY, LOGICAL UNIT NOT ACCESSIBLE, TARGET PORT IN
 * STANDBY STATE).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "scsi_fixture_test.h"

#define BS 512
#define TUR FIX_CDB(0x00, 0, 0, 0, 0, 0)
#define READ10(lba, n) FIX_CDB(0x28, 0, 0, 0, 0, lba, 0, 0, n, 0)
#define WRITE10(lba, n) FIX_CDB(0x2a, 0, 0, 0, 0, lba, 0, 0, n, 0)

/* A second LU on FILE in the fixture's directory, created detached. */
static struct scsi_lu *lu_detached_create(struct fix *f, char *path, size_t len, const char *file)
{
	struct scsi_lu *lu = NULL;

	snprintf(path, len, "%s/%s", f->dir, file);
	f->cfg.path = path;
	f->cfg.detached = true;
	assert_int_equal(scsi_lu_create(&f->cfg, &lu), 0);
	assert_non_null(lu);
	return lu;
}

static void lu_detached_destroy(struct scsi_lu *lu, const char *path)
{
	scsi_lu_put(lu);
	unlink(path);
}

/* Asserts the standby sense: 2/04/0B. */
static void assert_standby(const struct fix *f)
{
	fix_assert_sense(&f->task, 0x2, 0x04, 0x0b);
}

/* Writes one block of \p byte at \p lba of \p lu. */
static void write_block(struct fix *f, struct scsi_lu *lu, uint8_t lba, uint8_t byte)
{
	uint8_t data[BS];

	memset(data, byte, sizeof(data));
	f->out = data;
	f->out_len = sizeof(data);
	fix_run_on(f, lu, f->itn, WRITE10(lba, 1), BS);
	f->out = NULL;
	f->out_len = 0;
	fix_assert_good(&f->task);
}

/* The first command of the fixture's nexus to a new LU reports POWER ON. */
static void consume_power_on(struct fix *f, struct scsi_lu *lu)
{
	fix_run_on(f, lu, f->itn, TUR, 0);
	fix_assert_sense(&f->task, 0x6, 0x29, 0x00);
}

static void create_detached_does_not_open_the_store(void **state)
{
	struct fix *f = *state;
	char path[128];
	struct scsi_lu *lu = lu_detached_create(f, path, sizeof(path), "d.img");

	assert_false(scsi_lu_attached(lu));
	/* create_size is applied by the attach, not before. */
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(scsi_lu_size(lu), 0);
	lu_detached_destroy(lu, path);
}

static void create_detached_with_bad_config_is_einval(void **state)
{
	struct fix *f = *state;
	struct scsi_lu *lu = NULL;

	f->cfg.detached = true;
	f->cfg.block_size = 1000;
	assert_int_equal(scsi_lu_create(&f->cfg, &lu), -EINVAL);
	assert_null(lu);
}

static void create_detached_allocation_failure_is_enomem(void **state)
{
	struct fix *f = *state;
	struct scsi_lu *lu = NULL;

	f->cfg.detached = true;
	fix_calloc_fail_in = 1;
	assert_int_equal(scsi_lu_create(&f->cfg, &lu), -ENOMEM);
	assert_null(lu);
}

static void test_unit_ready_to_detached_lu_is_not_ready_standby(void **state)
{
	struct fix *f = *state;
	char path[128];
	struct scsi_lu *lu = lu_detached_create(f, path, sizeof(path), "d.img");

	fix_run_on(f, lu, f->itn, TUR, 0);
	assert_standby(f);
	lu_detached_destroy(lu, path);
}

static void read_to_detached_lu_is_not_ready_standby(void **state)
{
	struct fix *f = *state;
	char path[128];
	struct scsi_lu *lu = lu_detached_create(f, path, sizeof(path), "d.img");

	fix_run_on(f, lu, f->itn, READ10(0, 1), BS);
	assert_standby(f);
	assert_int_equal(f->task.in_len, 0);
	lu_detached_destroy(lu, path);
}

static void attach_creates_sized_store_and_serves_io(void **state)
{
	struct fix *f = *state;
	char path[128];
	struct scsi_lu *lu = lu_detached_create(f, path, sizeof(path), "d.img");
	uint8_t expect[BS];

	assert_int_equal(scsi_lu_attach(lu), 0);
	assert_true(scsi_lu_attached(lu));
	assert_int_equal(scsi_lu_size(lu), FIX_BLOCKS * BS);
	consume_power_on(f, lu);
	write_block(f, lu, 3, 0x5a);
	fix_run_on(f, lu, f->itn, READ10(3, 1), BS);
	fix_assert_good(&f->task);
	memset(expect, 0x5a, sizeof(expect));
	assert_int_equal(f->task.in_len, BS);
	assert_memory_equal(f->task.in_buf, expect, BS);
	lu_detached_destroy(lu, path);
}

static void attach_twice_is_a_no_op(void **state)
{
	struct fix *f = *state;

	assert_int_equal(scsi_lu_attach(f->lu), 0);
	assert_true(scsi_lu_attached(f->lu));
	fix_run(f, TUR, 0);
	fix_assert_good(&f->task);
}

static void detach_makes_commands_not_ready_standby(void **state)
{
	struct fix *f = *state;

	assert_int_equal(scsi_lu_detach(f->lu), 0);
	assert_false(scsi_lu_attached(f->lu));
	fix_run(f, TUR, 0);
	assert_standby(f);
}

static void detach_keeps_written_data_on_the_store(void **state)
{
	struct fix *f = *state;
	uint8_t got[BS], expect[BS];
	int fd;

	write_block(f, f->lu, 7, 0xa5);
	assert_int_equal(scsi_lu_detach(f->lu), 0);
	fd = open(f->path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, got, sizeof(got), 7 * BS), BS);
	close(fd);
	memset(expect, 0xa5, sizeof(expect));
	assert_memory_equal(got, expect, BS);
}

static void detach_twice_is_a_no_op(void **state)
{
	struct fix *f = *state;

	assert_int_equal(scsi_lu_detach(f->lu), 0);
	assert_int_equal(scsi_lu_detach(f->lu), 0);
	assert_false(scsi_lu_attached(f->lu));
}

static void detach_while_a_task_holds_the_lu_is_ebusy(void **state)
{
	struct fix *f = *state;

	scsi_lu_get(f->lu); /* as a task in flight does */
	assert_int_equal(scsi_lu_detach(f->lu), -EBUSY);
	assert_true(scsi_lu_attached(f->lu));
	scsi_lu_put(f->lu);
	assert_int_equal(scsi_lu_detach(f->lu), 0);
}

static void reattach_same_size_raises_no_unit_attention(void **state)
{
	struct fix *f = *state;

	assert_int_equal(scsi_lu_detach(f->lu), 0);
	assert_int_equal(scsi_lu_attach(f->lu), 0);
	fix_run(f, TUR, 0);
	fix_assert_good(&f->task);
}

/* SBC-3 4.10: the store grew while detached (e.g. on the peer). */
static void reattach_grown_store_raises_capacity_changed(void **state)
{
	struct fix *f = *state;

	assert_int_equal(scsi_lu_detach(f->lu), 0);
	assert_int_equal(truncate(f->path, 2 * FIX_BLOCKS * BS), 0);
	assert_int_equal(scsi_lu_attach(f->lu), 0);
	assert_int_equal(scsi_lu_size(f->lu), 2 * FIX_BLOCKS * BS);
	fix_run(f, TUR, 0);
	fix_assert_sense(&f->task, 0x6, 0x2a, 0x09);
	fix_run(f, TUR, 0);
	fix_assert_good(&f->task);
}

static void unit_attention_queued_before_detach_is_reported_after_attach(void **state)
{
	struct fix *f = *state;

	scsi_lu_reset(f->lu);
	assert_int_equal(scsi_lu_detach(f->lu), 0);
	fix_run(f, TUR, 0);
	assert_standby(f);
	assert_int_equal(scsi_lu_attach(f->lu), 0);
	fix_run(f, TUR, 0);
	fix_assert_sense(&f->task, 0x6, 0x29, 0x03);
}

static void attach_missing_file_is_enoent_and_leaves_lu_detached(void **state)
{
	struct fix *f = *state;
	char path[128];
	struct scsi_lu *lu;

	f->cfg.create_size = 0;
	lu = lu_detached_create(f, path, sizeof(path), "missing.img");
	assert_int_equal(scsi_lu_attach(lu), -ENOENT);
	assert_false(scsi_lu_attached(lu));
	fix_run_on(f, lu, f->itn, TUR, 0);
	assert_standby(f);
	lu_detached_destroy(lu, path);
}

/* The failed attach changed nothing: once the file exists, the LU works. */
static void attach_after_failed_attach_succeeds(void **state)
{
	struct fix *f = *state;
	char path[128];
	struct scsi_lu *lu;
	int fd;

	f->cfg.create_size = 0;
	lu = lu_detached_create(f, path, sizeof(path), "late.img");
	assert_int_equal(scsi_lu_attach(lu), -ENOENT);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, FIX_BLOCKS * BS), 0);
	close(fd);
	assert_int_equal(scsi_lu_attach(lu), 0);
	assert_int_equal(scsi_lu_size(lu), FIX_BLOCKS * BS);
	consume_power_on(f, lu);
	fix_run_on(f, lu, f->itn, TUR, 0);
	fix_assert_good(&f->task);
	lu_detached_destroy(lu, path);
}

static void attach_store_smaller_than_one_block_is_einval(void **state)
{
	struct fix *f = *state;
	char path[128];
	struct scsi_lu *lu;
	int fd;

	f->cfg.create_size = 0;
	lu = lu_detached_create(f, path, sizeof(path), "tiny.img");
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 100), 0);
	close(fd);
	assert_int_equal(scsi_lu_attach(lu), -EINVAL);
	assert_false(scsi_lu_attached(lu));
	lu_detached_destroy(lu, path);
}

static void attach_allocation_failure_is_enomem_and_leaves_lu_detached(void **state)
{
	struct fix *f = *state;

	assert_int_equal(scsi_lu_detach(f->lu), 0);
	fix_calloc_fail_in = 1; /* the backend's */
	assert_int_equal(scsi_lu_attach(f->lu), -ENOMEM);
	assert_false(scsi_lu_attached(f->lu));
	assert_int_equal(scsi_lu_attach(f->lu), 0);
	fix_run(f, TUR, 0);
	fix_assert_good(&f->task);
}

static void flush_sync_of_detached_lu_is_zero(void **state)
{
	struct fix *f = *state;

	assert_int_equal(scsi_lu_detach(f->lu), 0);
	assert_int_equal(scsi_lu_flush_sync(f->lu), 0);
}

static void resize_of_detached_lu_is_enodev(void **state)
{
	struct fix *f = *state;

	assert_int_equal(scsi_lu_detach(f->lu), 0);
	assert_int_equal(scsi_lu_resize(f->lu), -ENODEV);
	assert_int_equal(scsi_lu_size(f->lu), FIX_BLOCKS * BS);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fix_setup, fix_teardown)
	const struct CMUnitTest tests[] = {
		T(create_detached_does_not_open_the_store),
		T(create_detached_with_bad_config_is_einval),
		T(create_detached_allocation_failure_is_enomem),
		T(test_unit_ready_to_detached_lu_is_not_ready_standby),
		T(read_to_detached_lu_is_not_ready_standby),
		T(attach_creates_sized_store_and_serves_io),
		T(attach_twice_is_a_no_op),
		T(detach_makes_commands_not_ready_standby),
		T(detach_keeps_written_data_on_the_store),
		T(detach_twice_is_a_no_op),
		T(detach_while_a_task_holds_the_lu_is_ebusy),
		T(reattach_same_size_raises_no_unit_attention),
		T(reattach_grown_store_raises_capacity_changed),
		T(unit_attention_queued_before_detach_is_reported_after_attach),
		T(attach_missing_file_is_enoent_and_leaves_lu_detached),
		T(attach_after_failed_attach_succeeds),
		T(attach_store_smaller_than_one_block_is_einval),
		T(attach_allocation_failure_is_enomem_and_leaves_lu_detached),
		T(flush_sync_of_detached_lu_is_zero),
		T(resize_of_detached_lu_is_enodev),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
