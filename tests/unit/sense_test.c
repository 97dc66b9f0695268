/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sense.c: reasons to status and sense bytes (SPC-4 4.5). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "scsi/scsi.h"
#include "scsi/sense.h"

struct sense_case {
	enum sense_reason reason;
	uint8_t key;
	uint8_t asc;
	uint8_t ascq;
};

/* SPC-4 Annex F (ASC/ASCQ) for every reason that carries sense data. */
static const struct sense_case sense_cases[] = {
	{SENSE_INVALID_OPCODE, 0x5, 0x20, 0x00},
	{SENSE_INVALID_FIELD_IN_CDB, 0x5, 0x24, 0x00},
	{SENSE_INVALID_FIELD_IN_PARAM, 0x5, 0x26, 0x00},
	{SENSE_PARAM_LIST_LENGTH_ERROR, 0x5, 0x1a, 0x00},
	{SENSE_INVALID_FIELD_IN_IU, 0x5, 0x0e, 0x03},
	{SENSE_LBA_OUT_OF_RANGE, 0x5, 0x21, 0x00},
	{SENSE_LUN_NOT_SUPPORTED, 0x5, 0x25, 0x00},
	{SENSE_SAVING_PARAMS_NOT_SUPPORTED, 0x5, 0x39, 0x00},
	{SENSE_WRITE_PROTECTED, 0x7, 0x27, 0x00},
	{SENSE_SPACE_ALLOC_FAILED, 0x7, 0x27, 0x07},
	{SENSE_READ_ERROR, 0x3, 0x11, 0x00},
	{SENSE_WRITE_ERROR, 0x3, 0x0c, 0x00},
	{SENSE_INTERNAL_FAILURE, 0x4, 0x44, 0x00},
	{SENSE_MISCOMPARE, 0xe, 0x1d, 0x00},
	{SENSE_SOFT_WRITE_PROTECTED, 0x7, 0x27, 0x02},
	{SENSE_REMOVAL_PREVENTED, 0x5, 0x53, 0x02},
	{SENSE_TOO_MANY_TARGET_DESCS, 0x5, 0x26, 0x06},
	{SENSE_UNSUPPORTED_TARGET_DESC, 0x5, 0x26, 0x07},
	{SENSE_TOO_MANY_SEGMENT_DESCS, 0x5, 0x26, 0x08},
	{SENSE_UNSUPPORTED_SEGMENT_DESC, 0x5, 0x26, 0x09},
	{SENSE_COPY_ABORTED, 0xa, 0x00, 0x00},
	{SENSE_COPY_TARGET_UNREACHABLE, 0xa, 0x0d, 0x02},
	{SENSE_COPY_READ_ERROR, 0xa, 0x11, 0x00},
	{SENSE_COPY_WRITE_ERROR, 0xa, 0x0c, 0x00},
	{SENSE_SANITIZE_IN_PROGRESS, 0x2, 0x04, 0x1b},
	{SENSE_MEDIUM_NOT_PRESENT, 0x2, 0x3a, 0x00},
	{SENSE_UA_POWER_ON, 0x6, 0x29, 0x00},
	{SENSE_UA_LU_RESET, 0x6, 0x29, 0x03},
	{SENSE_UA_NEXUS_LOSS, 0x6, 0x29, 0x07},
	{SENSE_UA_MODE_PARAMS_CHANGED, 0x6, 0x2a, 0x01},
	{SENSE_UA_RESERVATIONS_PREEMPTED, 0x6, 0x2a, 0x03},
	{SENSE_UA_RESERVATIONS_RELEASED, 0x6, 0x2a, 0x04},
	{SENSE_UA_REGISTRATIONS_PREEMPTED, 0x6, 0x2a, 0x05},
	{SENSE_UA_CAPACITY_CHANGED, 0x6, 0x2a, 0x09},
	{SENSE_UA_LUNS_CHANGED, 0x6, 0x3f, 0x0e},
	{SENSE_UA_MEDIUM_CHANGED, 0x6, 0x28, 0x00},
};

#define NCASES (sizeof(sense_cases) / sizeof(sense_cases[0]))

static void every_error_reason_builds_its_fixed_format_codes(void **state)
{
	uint8_t s[SCSI_SENSE_MAX];
	size_t i;

	for (i = 0; i < NCASES; i++) {
		memset(s, 0xee, sizeof(s));
		assert_int_equal(sense_build(sense_cases[i].reason, NULL, false, s, sizeof(s)), 18);
		assert_int_equal(s[0], 0x70);
		assert_int_equal(s[2], sense_cases[i].key);
		assert_int_equal(s[7], 10);
		assert_int_equal(s[12], sense_cases[i].asc);
		assert_int_equal(s[13], sense_cases[i].ascq);
		assert_int_equal(s[15], 0); /* no SKSV without a field pointer */
		assert_int_equal(sense_status(sense_cases[i].reason), SCSI_STATUS_CHECK_CONDITION);
	}
}

static void every_error_reason_builds_its_descriptor_format_codes(void **state)
{
	uint8_t s[SCSI_SENSE_MAX];
	size_t i;

	for (i = 0; i < NCASES; i++) {
		assert_int_equal(sense_build(sense_cases[i].reason, NULL, true, s, sizeof(s)), 8);
		assert_int_equal(s[0], 0x72);
		assert_int_equal(s[1], sense_cases[i].key);
		assert_int_equal(s[2], sense_cases[i].asc);
		assert_int_equal(s[3], sense_cases[i].ascq);
		assert_int_equal(s[7], 0);
	}
}

/* SPC-4 4.5.2.4.2: SKSV=1, C/D=1, BPV=1, bit 4, field pointer 1. */
static void field_pointer_in_fixed_format_names_byte_and_bit(void **state)
{
	struct sense_field f = {.valid = true, .in_cdb = true, .byte = 0x0102, .bit = 4};
	uint8_t s[18];

	assert_int_equal(sense_build(SENSE_INVALID_FIELD_IN_CDB, &f, false, s, sizeof(s)), 18);
	assert_int_equal(s[15], 0x80 | 0x40 | 0x08 | 4);
	assert_int_equal(s[16], 0x01);
	assert_int_equal(s[17], 0x02);
}

static void field_pointer_without_bit_leaves_bpv_clear(void **state)
{
	struct sense_field f = {.valid = true, .in_cdb = false, .byte = 7, .bit = -1};
	uint8_t s[18];

	sense_build(SENSE_INVALID_FIELD_IN_PARAM, &f, false, s, sizeof(s));
	assert_int_equal(s[15], 0x80);
	assert_int_equal(s[17], 7);
}

/* SPC-4 4.5.2.4.1: sense key specific descriptor, type 02h, length 06h. */
static void field_pointer_in_descriptor_format_is_a_key_specific_descriptor(void **state)
{
	struct sense_field f = {.valid = true, .in_cdb = true, .byte = 2, .bit = -1};
	uint8_t s[SENSE_DESC_LEN_MAX];

	assert_int_equal(sense_build(SENSE_INVALID_FIELD_IN_CDB, &f, true, s, sizeof(s)), 16);
	assert_int_equal(s[7], 8);
	assert_int_equal(s[8], 0x02);
	assert_int_equal(s[9], 0x06);
	assert_int_equal(s[12], 0xc0);
	assert_int_equal(s[14], 2);
}

/* SPC-4 4.5.3: INFORMATION with VALID, e.g. the offset of a MISCOMPARE. */
static void information_in_fixed_format_sets_valid(void **state)
{
	struct sense_field f = {.info_valid = true, .info = 0x01020304};
	uint8_t s[18];

	assert_int_equal(sense_build(SENSE_MISCOMPARE, &f, false, s, sizeof(s)), 18);
	assert_int_equal(s[0], 0xf0);
	assert_int_equal(s[3], 0x01);
	assert_int_equal(s[6], 0x04);
}

/* Fixed format holds 32 bits of INFORMATION: larger values leave VALID clear. */
static void information_beyond_32_bits_is_not_valid_in_fixed_format(void **state)
{
	struct sense_field f = {.info_valid = true, .info = 0x100000000ull};
	uint8_t s[18];

	sense_build(SENSE_MISCOMPARE, &f, false, s, sizeof(s));
	assert_int_equal(s[0], 0x70);
}

/* SPC-4 4.5.2.2: information descriptor first, then the key specific one. */
static void information_and_field_pointer_in_descriptor_format(void **state)
{
	struct sense_field f = {.valid = true,
				.in_cdb = true,
				.byte = 1,
				.bit = -1,
				.info_valid = true,
				.info = 0x100000000ull};
	uint8_t s[SENSE_DESC_LEN_MAX];

	assert_int_equal(sense_build(SENSE_MISCOMPARE, &f, true, s, sizeof(s)), 28);
	assert_int_equal(s[7], 20);
	assert_int_equal(s[8], 0x00);
	assert_int_equal(s[9], 0x0a);
	assert_int_equal(s[10], 0x80);
	assert_int_equal(s[15], 0x01);
	assert_int_equal(s[20], 0x02);
}

static void ok_builds_no_sense_for_request_sense(void **state)
{
	uint8_t s[18];

	assert_int_equal(sense_build(SENSE_OK, NULL, false, s, sizeof(s)), 18);
	assert_int_equal(s[2], 0);
	assert_int_equal(s[12], 0);
	assert_int_equal(sense_status(SENSE_OK), SCSI_STATUS_GOOD);
}

static void busy_and_conflict_have_status_and_no_sense(void **state)
{
	uint8_t s[18];

	assert_int_equal(sense_build(SENSE_BUSY, NULL, false, s, sizeof(s)), 0);
	assert_int_equal(sense_build(SENSE_RESERVATION_CONFLICT, NULL, false, s, sizeof(s)), 0);
	assert_int_equal(sense_status(SENSE_BUSY), SCSI_STATUS_BUSY);
	assert_int_equal(sense_status(SENSE_RESERVATION_CONFLICT),
			 SCSI_STATUS_RESERVATION_CONFLICT);
}

static void too_small_buffer_builds_nothing(void **state)
{
	uint8_t s[17];

	assert_int_equal(sense_build(SENSE_LBA_OUT_OF_RANGE, NULL, false, s, sizeof(s)), 0);
	assert_int_equal(sense_build(SENSE_LBA_OUT_OF_RANGE, NULL, true, s, 7), 0);
}

static void out_of_range_reason_is_an_internal_failure(void **state)
{
	uint8_t s[18];

	sense_build((enum sense_reason)999, NULL, false, s, sizeof(s));
	assert_int_equal(s[2], 0x4);
	assert_int_equal(s[12], 0x44);
}

/* SAM-5 5.14: only the 29h family supersedes other unit attentions. */
static void only_power_on_and_reset_reasons_are_reset_unit_attentions(void **state)
{
	assert_true(sense_is_reset_ua(SENSE_UA_POWER_ON));
	assert_true(sense_is_reset_ua(SENSE_UA_LU_RESET));
	assert_true(sense_is_reset_ua(SENSE_UA_NEXUS_LOSS));
	assert_false(sense_is_reset_ua(SENSE_UA_CAPACITY_CHANGED));
	assert_true(sense_is_ua(SENSE_UA_LUNS_CHANGED));
	assert_false(sense_is_ua(SENSE_WRITE_PROTECTED));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_error_reason_builds_its_fixed_format_codes),
		cmocka_unit_test(every_error_reason_builds_its_descriptor_format_codes),
		cmocka_unit_test(field_pointer_in_fixed_format_names_byte_and_bit),
		cmocka_unit_test(field_pointer_without_bit_leaves_bpv_clear),
		cmocka_unit_test(field_pointer_in_descriptor_format_is_a_key_specific_descriptor),
		cmocka_unit_test(information_in_fixed_format_sets_valid),
		cmocka_unit_test(information_beyond_32_bits_is_not_valid_in_fixed_format),
		cmocka_unit_test(information_and_field_pointer_in_descriptor_format),
		cmocka_unit_test(ok_builds_no_sense_for_request_sense),
		cmocka_unit_test(busy_and_conflict_have_status_and_no_sense),
		cmocka_unit_test(too_small_buffer_builds_nothing),
		cmocka_unit_test(out_of_range_reason_is_an_internal_failure),
		cmocka_unit_test(only_power_on_and_reset_reasons_are_reset_unit_attentions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
