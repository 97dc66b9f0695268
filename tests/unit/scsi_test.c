/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * scsi.c, lu.c, itn.c: dispatch, unit attentions per I_T nexus, LU lifecycle.
 *
 *   host1 "iqn...host1,i,0x00023d000001" --rtpi 1--+
 *   host2 "iqn...host2,i,0x00023d000002" --rtpi 1--+--> target disk1, LUN 0 (1 MiB file)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "scsi_fixture_test.h"

#define HOST2 "iqn.1993-08.org.debian:01:host2,i,0x00023d000002"
#define TUR FIX_CDB(0x00, 0, 0, 0, 0, 0)

static void unknown_opcode_is_invalid_command_operation_code(void **state)
{
	struct fix *f = *state;

	fix_run(f, FIX_CDB(0xd9, 0, 0, 0, 0, 0), 0);
	fix_assert_sense(&f->task, 0x5, 0x20, 0x00);
	assert_int_equal(f->task.sense[15], 0xc0); /* field pointer: byte 0 */
}

/* SAM-5 5.2: NACA=1 in the CONTROL byte is not supported. */
static void naca_bit_in_control_byte_is_invalid_field(void **state)
{
	struct fix *f = *state;

	fix_run(f, FIX_CDB(0x00, 0, 0, 0, 0, 0x04), 0);
	fix_assert_invalid_field(&f->task, 5);
	assert_int_equal(f->task.sense[15] & 0x0f, 0x08 | 2); /* bit 2 */
}

static void unsupported_service_action_is_invalid_field(void **state)
{
	struct fix *f = *state;

	fix_run(f, FIX_CDB(0x9e, 0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0), 32);
	fix_assert_invalid_field(&f->task, 1);
}

static void short_cdb_is_invalid_field(void **state)
{
	struct fix *f = *state;

	memset(&f->task, 0, sizeof(f->task));
	f->done_calls = 0;
	f->task.lu = f->lu;
	f->task.itn = f->itn;
	f->task.cdb[0] = 0x28;
	f->task.cdb_len = 6;
	f->task.done = fix_done;
	scsi_task_exec(&f->task);
	assert_int_equal(f->done_calls, 1);
	fix_assert_invalid_field(&f->task, 0);
}

/* SPC-4 4.6.4.2: commands other than INQUIRY/REPORT LUNS/REQUEST SENSE to a missing LU. */
static void command_without_lu_is_lun_not_supported(void **state)
{
	struct fix *f = *state;

	fix_run_on(f, NULL, f->itn, TUR, 0);
	fix_assert_sense(&f->task, 0x5, 0x25, 0x00);
}

static void unknown_opcode_without_lu_is_lun_not_supported(void **state)
{
	struct fix *f = *state;

	fix_run_on(f, NULL, f->itn, FIX_CDB(0xd9, 0, 0, 0, 0, 0), 0);
	fix_assert_sense(&f->task, 0x5, 0x25, 0x00);
}

/* SAM-5 5.14: a new I_T nexus gets POWER ON ... OCCURRED on its first command. */
static void first_command_of_new_nexus_gets_power_on_unit_attention(void **state)
{
	struct fix *f = *state;
	struct scsi_itn *host2 = fix_itn_create(HOST2, 1);

	fix_run_on(f, f->lu, host2, TUR, 0);
	fix_assert_sense(&f->task, 0x6, 0x29, 0x00);
	scsi_itn_destroy(host2);
}

static void unit_attention_is_reported_once(void **state)
{
	struct fix *f = *state;
	struct scsi_itn *host2 = fix_itn_create(HOST2, 1);

	fix_run_on(f, f->lu, host2, TUR, 0);
	fix_run_on(f, f->lu, host2, TUR, 0);
	fix_assert_good(&f->task);
	scsi_itn_destroy(host2);
}

static void inquiry_neither_reports_nor_clears_unit_attention(void **state)
{
	struct fix *f = *state;
	struct scsi_itn *host2 = fix_itn_create(HOST2, 1);

	fix_run_on(f, f->lu, host2, FIX_CDB(0x12, 0, 0, 0, 36, 0), 36);
	fix_assert_good(&f->task);
	fix_run_on(f, f->lu, host2, TUR, 0);
	fix_assert_sense(&f->task, 0x6, 0x29, 0x00);
	scsi_itn_destroy(host2);
}

static void report_luns_neither_reports_nor_clears_unit_attention(void **state)
{
	struct fix *f = *state;
	struct scsi_itn *host2 = fix_itn_create(HOST2, 1);

	fix_run_on(f, f->lu, host2, FIX_CDB(0xa0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0), 256);
	fix_assert_good(&f->task);
	fix_run_on(f, f->lu, host2, TUR, 0);
	fix_assert_sense(&f->task, 0x6, 0x29, 0x00);
	scsi_itn_destroy(host2);
}

/* A unit attention on one nexus does not touch another. */
static void unit_attention_of_one_nexus_leaves_others_alone(void **state)
{
	struct fix *f = *state;
	struct scsi_itn *host2 = fix_itn_create(HOST2, 1);

	fix_run_on(f, f->lu, host2, TUR, 0);
	fix_run(f, TUR, 0);
	fix_assert_good(&f->task);
	scsi_itn_destroy(host2);
}

/* SAM-5 6.3.3: LOGICAL UNIT RESET sets 29/03 for every nexus. */
static void lu_reset_gives_every_nexus_bus_device_reset(void **state)
{
	struct fix *f = *state;
	struct scsi_itn *host2 = fix_itn_create(HOST2, 1);

	fix_run_on(f, f->lu, host2, TUR, 0);
	scsi_lu_reset(f->lu);
	fix_run(f, TUR, 0);
	fix_assert_sense(&f->task, 0x6, 0x29, 0x03);
	fix_run_on(f, f->lu, host2, TUR, 0);
	fix_assert_sense(&f->task, 0x6, 0x29, 0x03);
	scsi_itn_destroy(host2);
}

static void unit_attentions_are_reported_oldest_first(void **state)
{
	struct fix *f = *state;

	scsi_ua_establish(f->lu, scsi_itn_id(f->itn), SENSE_UA_CAPACITY_CHANGED);
	scsi_ua_establish(f->lu, scsi_itn_id(f->itn), SENSE_UA_LUNS_CHANGED);
	fix_run(f, TUR, 0);
	fix_assert_sense(&f->task, 0x6, 0x2a, 0x09);
	fix_run(f, TUR, 0);
	fix_assert_sense(&f->task, 0x6, 0x3f, 0x0e);
	fix_run(f, TUR, 0);
	fix_assert_good(&f->task);
}

/* SAM-5 5.14: a reset condition replaces what was queued. */
static void reset_unit_attention_supersedes_queued_ones(void **state)
{
	struct fix *f = *state;

	scsi_ua_establish(f->lu, scsi_itn_id(f->itn), SENSE_UA_CAPACITY_CHANGED);
	scsi_lu_reset(f->lu);
	fix_run(f, TUR, 0);
	fix_assert_sense(&f->task, 0x6, 0x29, 0x03);
	fix_run(f, TUR, 0);
	fix_assert_good(&f->task);
}

static void same_unit_attention_is_queued_once(void **state)
{
	struct fix *f = *state;

	scsi_ua_establish(f->lu, NULL, SENSE_UA_CAPACITY_CHANGED);
	scsi_ua_establish(f->lu, NULL, SENSE_UA_CAPACITY_CHANGED);
	fix_run(f, TUR, 0);
	fix_run(f, TUR, 0);
	fix_assert_good(&f->task);
}

static void full_unit_attention_queue_drops_new_ones(void **state)
{
	struct fix *f = *state;
	int i;

	for (i = 0; i < SCSI_UA_QUEUE_MAX; i++)
		scsi_ua_establish(f->lu, NULL, SENSE_UA_MODE_PARAMS_CHANGED + i);
	scsi_ua_establish(f->lu, NULL, SENSE_UA_LUNS_CHANGED);
	for (i = 0; i < SCSI_UA_QUEUE_MAX; i++)
		fix_run(f, TUR, 0);
	fix_run(f, TUR, 0);
	fix_assert_good(&f->task);
}

/* UA state is keyed by identity: a new nexus with the same name starts over. */
static void nexus_recreated_with_same_identity_gets_power_on_again(void **state)
{
	struct fix *f = *state;

	scsi_itn_destroy(f->itn);
	f->itn = fix_itn_create(FIX_INITIATOR, 1);
	fix_run(f, TUR, 0);
	fix_assert_sense(&f->task, 0x6, 0x29, 0x00);
}

/* SAM-5 6.3.4 I_T nexus loss: the LU keeps no state for a nexus that is gone. */
static void nexus_loss_drops_its_unit_attention_state(void **state)
{
	struct fix *f = *state;
	struct scsi_itn *host2 = fix_itn_create(HOST2, 1);

	fix_run_on(f, f->lu, host2, TUR, 0);
	assert_int_equal(f->lu->ua_count, 2);
	scsi_itn_destroy(host2);
	assert_int_equal(f->lu->ua_count, 1);
	fix_run(f, TUR, 0);
	fix_assert_good(&f->task);
}

static void unit_attention_by_value_reaches_only_that_nexus(void **state)
{
	struct fix *f = *state;
	struct scsi_itn *host2 = fix_itn_create(HOST2, 1);

	fix_run_on(f, f->lu, host2, TUR, 0);
	scsi_ua_establish(f->lu, scsi_itn_id(host2), SENSE_UA_REGISTRATIONS_PREEMPTED);
	fix_run(f, TUR, 0);
	fix_assert_good(&f->task);
	fix_run_on(f, f->lu, host2, TUR, 0);
	fix_assert_sense(&f->task, 0x6, 0x2a, 0x05);
	scsi_itn_destroy(host2);
}

static void unit_attention_slot_allocation_failure_is_busy(void **state)
{
	struct fix *f = *state;
	struct scsi_itn *host[4];
	int i;

	/* The slot array starts with room for 4 nexuses; the fifth grows it. */
	for (i = 0; i < 3; i++) {
		char name[64];

		snprintf(name, sizeof(name), "iqn.x:h%d,i,0x000000000001", i);
		host[i] = fix_itn_create(name, 1);
		fix_run_on(f, f->lu, host[i], TUR, 0);
	}
	host[3] = fix_itn_create(HOST2, 1);
	fix_realloc_fail_in = 1;
	fix_run_on(f, f->lu, host[3], TUR, 0);
	assert_int_equal(f->task.status, SCSI_STATUS_BUSY);
	assert_int_equal(f->task.sense_len, 0);
	for (i = 0; i < 4; i++)
		scsi_itn_destroy(host[i]);
}

static void itn_create_allocation_failure_returns_null(void **state)
{
	fix_calloc_fail_in = 1;
	assert_null(fix_itn_create(HOST2, 1));
}

static void itn_id_without_terminator_is_refused(void **state)
{
	struct scsi_itn_id id;

	memset(&id, 'a', sizeof(id));
	assert_null(scsi_itn_create(&id));
	assert_null(scsi_itn_create(NULL));
	scsi_itn_destroy(NULL);
}

static void lu_create_rejects_bad_block_size(void **state)
{
	struct fix *f = *state;
	struct scsi_lu *lu = NULL;

	f->cfg.block_size = 520;
	assert_int_equal(scsi_lu_create(&f->cfg, &lu), -EINVAL);
	f->cfg.block_size = 8192;
	assert_int_equal(scsi_lu_create(&f->cfg, &lu), -EINVAL);
	assert_null(lu);
}

static void lu_create_rejects_bad_naa_length(void **state)
{
	struct fix *f = *state;
	struct scsi_lu *lu = NULL;

	f->cfg.naa_len = 4;
	assert_int_equal(scsi_lu_create(&f->cfg, &lu), -EINVAL);
	assert_null(lu);
}

static void lu_create_rejects_unprintable_inquiry_strings(void **state)
{
	struct fix *f = *state;
	struct scsi_lu *lu = NULL;

	f->cfg.product[0] = '\t';
	assert_int_equal(scsi_lu_create(&f->cfg, &lu), -EINVAL);
	assert_null(lu);
}

static void lu_create_of_missing_file_without_size_is_enoent(void **state)
{
	struct fix *f = *state;
	struct scsi_lu *lu = NULL;

	f->cfg.path = "/nonexistent/hatgt/lu.img";
	f->cfg.create_size = 0;
	assert_int_equal(scsi_lu_create(&f->cfg, &lu), -ENOENT);
	assert_null(lu);
}

static void lu_create_of_file_smaller_than_a_block_is_invalid(void **state)
{
	struct fix *f = *state;
	struct scsi_lu *lu = NULL;
	char path[128];

	snprintf(path, sizeof(path), "%s/tiny.img", f->dir);
	f->cfg.path = path;
	f->cfg.create_size = 100;
	assert_int_equal(scsi_lu_create(&f->cfg, &lu), -EINVAL);
	unlink(path);
}

static void lu_create_allocation_failure_is_enomem(void **state)
{
	struct fix *f = *state;
	struct scsi_lu *lu = NULL;

	fix_calloc_fail_in = 1;
	assert_int_equal(scsi_lu_create(&f->cfg, &lu), -ENOMEM);
	fix_calloc_fail_in = 2; /* the backend's */
	assert_int_equal(scsi_lu_create(&f->cfg, &lu), -ENOMEM);
	assert_null(lu);
}

static void lu_create_before_scsi_init_is_invalid(void **state)
{
	struct fix *f = *state;
	struct scsi_lu *lu = NULL;

	scsi_fini();
	assert_int_equal(scsi_lu_create(&f->cfg, &lu), -EINVAL);
	assert_int_equal(scsi_completion_fd(), -1);
	assert_int_equal(scsi_init(), 0);
}

static void lu_reports_size_and_path(void **state)
{
	struct fix *f = *state;

	assert_int_equal(scsi_lu_size(f->lu), FIX_BLOCKS * 512);
	assert_string_equal(scsi_lu_path(f->lu), f->path);
	assert_int_equal(scsi_lu_flush_sync(f->lu), 0);
}

/* Tasks in flight hold the LU: dropping the creator's reference mid-I/O is safe. */
static void lu_outlives_its_creator_reference_while_io_is_in_flight(void **state)
{
	struct fix *f = *state;
	struct pollfd pfd = {.fd = scsi_completion_fd(), .events = POLLIN};

	memset(&f->task, 0, sizeof(f->task));
	f->done_calls = 0;
	f->task.lu = f->lu;
	f->task.itn = f->itn;
	memcpy(f->task.cdb, (uint8_t[]){0x28, 0, 0, 0, 0, 0, 0, 0, 8, 0}, 10);
	f->task.cdb_len = 16;
	f->task.edtl = 4096;
	f->task.done = fix_done;
	scsi_task_exec(&f->task);
	scsi_lu_put(f->lu);
	f->lu = NULL;
	while (f->done_calls == 0) {
		assert_int_equal(poll(&pfd, 1, 5000), 1);
		scsi_completion_run();
	}
	fix_assert_good(&f->task);
	assert_int_equal(f->task.in_len, 4096);
}

static void empty_cdb_is_invalid_opcode(void **state)
{
	struct fix *f = *state;

	memset(&f->task, 0, sizeof(f->task));
	f->done_calls = 0;
	f->task.lu = f->lu;
	f->task.done = fix_done;
	scsi_task_exec(&f->task);
	assert_int_equal(f->done_calls, 1);
	fix_assert_sense(&f->task, 0x5, 0x20, 0x00);
}

#define T(f) cmocka_unit_test_setup_teardown(f, fix_setup, fix_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(unknown_opcode_is_invalid_command_operation_code),
		T(naca_bit_in_control_byte_is_invalid_field),
		T(unsupported_service_action_is_invalid_field),
		T(short_cdb_is_invalid_field),
		T(command_without_lu_is_lun_not_supported),
		T(unknown_opcode_without_lu_is_lun_not_supported),
		T(first_command_of_new_nexus_gets_power_on_unit_attention),
		T(unit_attention_is_reported_once),
		T(inquiry_neither_reports_nor_clears_unit_attention),
		T(report_luns_neither_reports_nor_clears_unit_attention),
		T(unit_attention_of_one_nexus_leaves_others_alone),
		T(lu_reset_gives_every_nexus_bus_device_reset),
		T(unit_attentions_are_reported_oldest_first),
		T(reset_unit_attention_supersedes_queued_ones),
		T(same_unit_attention_is_queued_once),
		T(full_unit_attention_queue_drops_new_ones),
		T(nexus_recreated_with_same_identity_gets_power_on_again),
		T(nexus_loss_drops_its_unit_attention_state),
		T(unit_attention_by_value_reaches_only_that_nexus),
		T(unit_attention_slot_allocation_failure_is_busy),
		T(itn_create_allocation_failure_returns_null),
		T(itn_id_without_terminator_is_refused),
		T(lu_create_rejects_bad_block_size),
		T(lu_create_rejects_bad_naa_length),
		T(lu_create_rejects_unprintable_inquiry_strings),
		T(lu_create_of_missing_file_without_size_is_enoent),
		T(lu_create_of_file_smaller_than_a_block_is_invalid),
		T(lu_create_allocation_failure_is_enomem),
		T(lu_create_before_scsi_init_is_invalid),
		T(lu_reports_size_and_path),
		T(lu_outlives_its_creator_reference_while_io_is_in_flight),
		T(empty_cdb_is_invalid_opcode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
