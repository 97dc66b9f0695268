/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Removable medium and physical block size: INQUIRY RMB, START STOP UNIT
 * LOEJ ejecting and loading (SBC-3 5.25), NOT READY, MEDIUM NOT PRESENT
 * while ejected, PREVENT ALLOW MEDIUM REMOVAL per I_T nexus (SBC-3 5.13),
 * and LOGICAL BLOCKS PER PHYSICAL BLOCK in READ CAPACITY(16) and VPD B0h.
 *
 *   host1 --rtpi 1--> target disk1, LUN 0 = /tmp/hatgt-scsi-XXXXXX/lu0.img
 *   host2 --rtpi 1-/  (2048 blocks of 512 bytes; removable, or 4 KiB physical)
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "scsi_fixture_test.h"
#include "util/be.h"

#define HOST2 "iqn.1993-08.org.debian:01:host2,i,0x00023d000002"

/* START STOP UNIT with LOEJ: START 0 ejects, START 1 loads. */
#define EJECT FIX_CDB(0x1b, 0, 0, 0, 0x02, 0)
#define LOAD FIX_CDB(0x1b, 0, 0, 0, 0x03, 0)
#define PREVENT FIX_CDB(0x1e, 0, 0, 0, 0x01, 0)
#define ALLOW FIX_CDB(0x1e, 0, 0, 0, 0x00, 0)
#define TUR FIX_CDB(0x00, 0, 0, 0, 0, 0)
#define READ10_1 FIX_CDB(0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0)
#define READ_CAPACITY16 FIX_CDB(0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0)

/* Replace the fixture's LU with one made from f->cfg; the nexus sees POWER ON first. */
static void lu_recreate(struct fix *f)
{
	scsi_lu_put(f->lu);
	f->lu = NULL;
	fix_lu_create(f);
	fix_run(f, TUR, 0);
	fix_assert_sense(&f->task, 0x6, 0x29, 0x00);
}

static int setup_removable(void **state)
{
	struct fix *f;

	fix_setup(state);
	f = *state;
	f->cfg.removable = true;
	lu_recreate(f);
	return 0;
}

/* A second nexus, its POWER ON unit attention consumed. */
static struct scsi_itn *host2_join(struct fix *f)
{
	struct scsi_itn *itn = fix_itn_create(HOST2, 1);

	assert_non_null(itn);
	fix_run_on(f, f->lu, itn, TUR, 0);
	fix_assert_sense(&f->task, 0x6, 0x29, 0x00);
	return itn;
}

static void removable_lu_reports_rmb_and_stays_a_disk(void **state)
{
	struct fix *f = *state;

	fix_run(f, FIX_CDB(0x12, 0, 0, 0, 36, 0), 36);
	fix_assert_good(&f->task);
	assert_int_equal(f->task.in_buf[0], 0x00); /* direct-access block device */
	assert_int_equal(f->task.in_buf[1], 0x80); /* RMB */
}

static void fixed_lu_reports_no_rmb(void **state)
{
	struct fix *f = *state;

	fix_run(f, FIX_CDB(0x12, 0, 0, 0, 36, 0), 36);
	fix_assert_good(&f->task);
	assert_int_equal(f->task.in_buf[1], 0x00);
}

static void eject_makes_test_unit_ready_medium_not_present(void **state)
{
	struct fix *f = *state;

	fix_run(f, EJECT, 0);
	fix_assert_good(&f->task);
	fix_run(f, TUR, 0);
	fix_assert_sense(&f->task, 0x2, 0x3a, 0x00);
}

static void eject_makes_read_medium_not_present(void **state)
{
	struct fix *f = *state;

	fix_run(f, EJECT, 0);
	fix_run(f, READ10_1, 512);
	fix_assert_sense(&f->task, 0x2, 0x3a, 0x00);
	assert_int_equal(f->task.in_len, 0);
}

static void eject_makes_read_capacity_medium_not_present(void **state)
{
	struct fix *f = *state;

	fix_run(f, EJECT, 0);
	fix_run(f, READ_CAPACITY16, 32);
	fix_assert_sense(&f->task, 0x2, 0x3a, 0x00);
}

static void inquiry_answers_while_medium_absent(void **state)
{
	struct fix *f = *state;

	fix_run(f, EJECT, 0);
	fix_run(f, FIX_CDB(0x12, 0, 0, 0, 36, 0), 36);
	fix_assert_good(&f->task);
}

static void load_makes_medium_ready_again(void **state)
{
	struct fix *f = *state;

	fix_run(f, EJECT, 0);
	fix_run(f, LOAD, 0);
	fix_assert_good(&f->task);
	fix_run(f, READ10_1, 512);
	fix_assert_good(&f->task);
}

static void eject_of_absent_medium_is_good(void **state)
{
	struct fix *f = *state;

	fix_run(f, EJECT, 0);
	fix_run(f, EJECT, 0);
	fix_assert_good(&f->task);
}

static void load_tells_other_nexus_medium_may_have_changed(void **state)
{
	struct fix *f = *state;
	struct scsi_itn *itn2 = host2_join(f);

	fix_run(f, EJECT, 0);
	fix_run(f, LOAD, 0);
	fix_run(f, TUR, 0);
	fix_assert_good(&f->task);
	fix_run_on(f, f->lu, itn2, TUR, 0);
	fix_assert_sense(&f->task, 0x6, 0x28, 0x00);
	scsi_itn_destroy(itn2);
}

static void power_condition_ignores_loej(void **state)
{
	struct fix *f = *state;

	fix_run(f, FIX_CDB(0x1b, 0, 0, 0, 0x12, 0), 0); /* POWER CONDITION 1h, LOEJ */
	fix_assert_good(&f->task);
	fix_run(f, TUR, 0);
	fix_assert_good(&f->task);
}

static void stop_without_loej_keeps_medium(void **state)
{
	struct fix *f = *state;

	fix_run(f, FIX_CDB(0x1b, 0, 0, 0, 0x00, 0), 0);
	fix_assert_good(&f->task);
	fix_run(f, TUR, 0);
	fix_assert_good(&f->task);
}

static void eject_while_prevented_is_removal_prevented(void **state)
{
	struct fix *f = *state;

	fix_run(f, PREVENT, 0);
	fix_assert_good(&f->task);
	fix_run(f, EJECT, 0);
	fix_assert_sense(&f->task, 0x5, 0x53, 0x02);
	fix_run(f, TUR, 0);
	fix_assert_good(&f->task);
}

static void load_while_prevented_is_removal_prevented(void **state)
{
	struct fix *f = *state;

	fix_run(f, EJECT, 0);
	fix_run(f, PREVENT, 0);
	fix_run(f, LOAD, 0);
	fix_assert_sense(&f->task, 0x5, 0x53, 0x02);
}

static void allow_lets_eject_again(void **state)
{
	struct fix *f = *state;

	fix_run(f, PREVENT, 0);
	fix_run(f, ALLOW, 0);
	fix_assert_good(&f->task);
	fix_run(f, EJECT, 0);
	fix_assert_good(&f->task);
}

static void prevention_by_one_nexus_refuses_eject_by_another(void **state)
{
	struct fix *f = *state;
	struct scsi_itn *itn2 = host2_join(f);

	fix_run(f, PREVENT, 0);
	fix_run_on(f, f->lu, itn2, EJECT, 0);
	fix_assert_sense(&f->task, 0x5, 0x53, 0x02);
	scsi_itn_destroy(itn2);
}

static void allow_by_one_nexus_keeps_the_others_prevention(void **state)
{
	struct fix *f = *state;
	struct scsi_itn *itn2 = host2_join(f);

	fix_run(f, PREVENT, 0);
	fix_run_on(f, f->lu, itn2, PREVENT, 0);
	fix_run_on(f, f->lu, itn2, ALLOW, 0);
	fix_assert_good(&f->task);
	assert_true(scsi_lu_removal_prevented(f->lu));
	scsi_itn_destroy(itn2);
}

static void nexus_loss_ends_its_prevention(void **state)
{
	struct fix *f = *state;
	struct scsi_itn *itn2 = host2_join(f);

	fix_run_on(f, f->lu, itn2, PREVENT, 0);
	fix_assert_good(&f->task);
	scsi_itn_destroy(itn2);
	assert_false(scsi_lu_removal_prevented(f->lu));
	fix_run(f, EJECT, 0);
	fix_assert_good(&f->task);
}

static void lu_reset_ends_prevention_and_keeps_medium_state(void **state)
{
	struct fix *f = *state;

	fix_run(f, EJECT, 0);
	fix_run(f, PREVENT, 0);
	scsi_lu_reset(f->lu);
	assert_false(scsi_lu_removal_prevented(f->lu));
	fix_run(f, TUR, 0);
	fix_assert_sense(&f->task, 0x6, 0x29, 0x03);
	fix_run(f, TUR, 0);
	fix_assert_sense(&f->task, 0x2, 0x3a, 0x00);
}

static void prevent_of_new_nexus_without_memory_is_busy(void **state)
{
	struct fix *f = *state;
	struct scsi_itn *more[3], *itn;
	char name[96];
	size_t i;

	/* Fill the LU's nexus slots (host1 plus three) so the next one must grow them. */
	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "iqn.1993-08.org.debian:01:h%zu,i,0x1", i);
		more[i] = fix_itn_create(name, 1);
		assert_non_null(more[i]);
		fix_run_on(f, f->lu, more[i], TUR, 0);
	}
	itn = fix_itn_create(HOST2, 1);
	assert_non_null(itn);
	fix_realloc_fail_in = 1;
	fix_run_on(f, f->lu, itn, PREVENT, 0);
	fix_realloc_fail_in = 0;
	assert_int_equal(f->task.status, SCSI_STATUS_BUSY);
	assert_false(scsi_lu_removal_prevented(f->lu));
	scsi_itn_destroy(itn);
	for (i = 0; i < 3; i++)
		scsi_itn_destroy(more[i]);
}

static void eject_makes_write_medium_not_present(void **state)
{
	struct fix *f = *state;
	static const uint8_t block[512];

	fix_run(f, EJECT, 0);
	f->out = block;
	f->out_len = sizeof(block);
	fix_run(f, FIX_CDB(0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0), sizeof(block));
	f->out = NULL;
	f->out_len = 0;
	fix_assert_sense(&f->task, 0x2, 0x3a, 0x00);
}

static void fixed_lu_eject_is_good_and_keeps_medium(void **state)
{
	struct fix *f = *state;

	fix_run(f, EJECT, 0);
	fix_assert_good(&f->task);
	fix_run(f, TUR, 0);
	fix_assert_good(&f->task);
}

static int setup_physical_4k(void **state)
{
	struct fix *f;

	fix_setup(state);
	f = *state;
	f->cfg.physical_block_size = 4096;
	lu_recreate(f);
	return 0;
}

static void physical_4k_reports_eight_blocks_per_physical_block(void **state)
{
	struct fix *f = *state;

	fix_run(f, READ_CAPACITY16, 32);
	fix_assert_good(&f->task);
	assert_int_equal(get_be32(f->task.in_buf + 8), 512);
	assert_int_equal(f->task.in_buf[13] & 0x0f, 3);		     /* 2^3 = 8 */
	assert_int_equal(get_be16(f->task.in_buf + 14) & 0x3fff, 0); /* LOWEST ALIGNED LBA */
}

static void physical_4k_sets_optimal_transfer_granularity(void **state)
{
	struct fix *f = *state;

	fix_run(f, FIX_CDB(0x12, 0x01, 0xb0, 0, 64, 0), 64);
	fix_assert_good(&f->task);
	assert_int_equal(get_be16(f->task.in_buf + 6), 8);
}

static void default_physical_block_is_one_logical_block(void **state)
{
	struct fix *f = *state;

	fix_run(f, READ_CAPACITY16, 32);
	fix_assert_good(&f->task);
	assert_int_equal(f->task.in_buf[13] & 0x0f, 0);
	fix_run(f, FIX_CDB(0x12, 0x01, 0xb0, 0, 64, 0), 64);
	assert_int_equal(get_be16(f->task.in_buf + 6), 1);
}

static void physical_block_not_power_of_two_is_refused(void **state)
{
	struct fix *f = *state;
	struct scsi_lu *lu = NULL;

	f->cfg.physical_block_size = 1536;
	assert_int_equal(scsi_lu_create(&f->cfg, &lu), -EINVAL);
	assert_null(lu);
}

static void physical_block_smaller_than_logical_is_refused(void **state)
{
	struct fix *f = *state;
	struct scsi_lu *lu = NULL;

	f->cfg.block_size = 4096;
	f->cfg.physical_block_size = 512;
	assert_int_equal(scsi_lu_create(&f->cfg, &lu), -EINVAL);
	assert_null(lu);
}

static void physical_block_over_exponent_15_is_refused(void **state)
{
	struct fix *f = *state;
	struct scsi_lu *lu = NULL;

	f->cfg.physical_block_size = 512u << 16;
	assert_int_equal(scsi_lu_create(&f->cfg, &lu), -EINVAL);
	assert_null(lu);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fix_setup, fix_teardown)
#define TR(fn) cmocka_unit_test_setup_teardown(fn, setup_removable, fix_teardown)
#define TP(fn) cmocka_unit_test_setup_teardown(fn, setup_physical_4k, fix_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TR(removable_lu_reports_rmb_and_stays_a_disk),
		T(fixed_lu_reports_no_rmb),
		TR(eject_makes_test_unit_ready_medium_not_present),
		TR(eject_makes_read_medium_not_present),
		TR(eject_makes_read_capacity_medium_not_present),
		TR(eject_makes_write_medium_not_present),
		TR(inquiry_answers_while_medium_absent),
		TR(load_makes_medium_ready_again),
		TR(eject_of_absent_medium_is_good),
		TR(load_tells_other_nexus_medium_may_have_changed),
		TR(power_condition_ignores_loej),
		TR(stop_without_loej_keeps_medium),
		TR(eject_while_prevented_is_removal_prevented),
		TR(load_while_prevented_is_removal_prevented),
		TR(allow_lets_eject_again),
		TR(prevention_by_one_nexus_refuses_eject_by_another),
		TR(allow_by_one_nexus_keeps_the_others_prevention),
		TR(nexus_loss_ends_its_prevention),
		TR(lu_reset_ends_prevention_and_keeps_medium_state),
		TR(prevent_of_new_nexus_without_memory_is_busy),
		T(fixed_lu_eject_is_good_and_keeps_medium),
		TP(physical_4k_reports_eight_blocks_per_physical_block),
		TP(physical_4k_sets_optimal_transfer_granularity),
		T(default_physical_block_is_one_logical_block),
		T(physical_block_not_power_of_two_is_refused),
		T(physical_block_smaller_than_logical_is_refused),
		T(physical_block_over_exponent_15_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
