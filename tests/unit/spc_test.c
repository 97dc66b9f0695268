/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spc.c: INQUIRY (standard and VPD), REQUEST SENSE, REPORT LUNS, MODE SENSE,
 * TEST UNIT READY, through scsi_task_exec().
 *
 *   host1 --rtpi 1--> target "iqn.2026-11.org.example:disk1" TPGT 1
 *                      LUN 0: 1 MiB file; LUNs 1 and 300 in REPORT LUNS
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "scsi_fixture_test.h"
#include "util/be.h"

#define INQ(evpd, page, alloc) FIX_CDB(0x12, evpd, page, (alloc) >> 8, (alloc)&0xff, 0)

static void test_unit_ready_is_good(void **state)
{
	struct fix *f = *state;

	fix_run(f, FIX_CDB(0x00, 0, 0, 0, 0, 0), 0);
	fix_assert_good(&f->task);
	assert_int_equal(f->task.in_len, 0);
}

/* SPC-4 6.6.2: disk, SPC-4, HISUP, format 2, CMDQUE, identity strings. */
static void standard_inquiry_describes_an_spc4_disk(void **state)
{
	struct fix *f = *state;
	const uint8_t *d;

	fix_run(f, INQ(0, 0, 255), 255);
	fix_assert_good(&f->task);
	d = f->task.in_buf;
	assert_int_equal(f->task.in_len, d[4] + 5);
	assert_int_equal(d[0], 0x00);
	assert_int_equal(d[2], 0x06);
	assert_int_equal(d[3], 0x12);
	assert_int_equal(d[7], 0x02);
	assert_memory_equal(d + 8, "HATGT   ", 8);
	assert_memory_equal(d + 16, "disk1           ", 16);
	assert_memory_equal(d + 32, "0001", 4);
}

/* SPC-4 4.2.5.6: at most ALLOCATION LENGTH bytes; xfer_len says what the CDB moves. */
static void inquiry_is_truncated_to_allocation_length(void **state)
{
	struct fix *f = *state;

	fix_run(f, INQ(0, 0, 5), 255);
	fix_assert_good(&f->task);
	assert_int_equal(f->task.in_len, 5);
	assert_int_equal(f->task.xfer_len, 5);
	assert_int_equal(f->task.in_buf[4], 61);
}

static void inquiry_is_truncated_to_expected_transfer_length(void **state)
{
	struct fix *f = *state;

	fix_run(f, INQ(0, 0, 96), 36);
	fix_assert_good(&f->task);
	assert_int_equal(f->task.in_len, 36);
	assert_int_equal(f->task.xfer_len, 66);
}

static void inquiry_with_zero_allocation_length_moves_nothing(void **state)
{
	struct fix *f = *state;

	fix_run(f, INQ(0, 0, 0), 0);
	fix_assert_good(&f->task);
	assert_int_equal(f->task.in_len, 0);
	assert_null(f->task.in_buf);
}

static void inquiry_with_cmddt_is_invalid_field(void **state)
{
	struct fix *f = *state;

	fix_run(f, INQ(0x02, 0, 36), 36);
	fix_assert_invalid_field(&f->task, 1);
}

static void inquiry_page_code_without_evpd_is_invalid_field(void **state)
{
	struct fix *f = *state;

	fix_run(f, INQ(0, 0x80, 36), 36);
	fix_assert_invalid_field(&f->task, 2);
}

static void inquiry_for_unsupported_vpd_page_is_invalid_field(void **state)
{
	struct fix *f = *state;

	fix_run(f, INQ(1, 0x86, 255), 255);
	fix_assert_invalid_field(&f->task, 2);
}

/* SPC-4 6.6.2: no LU at the LUN: peripheral qualifier 011b, type 1Fh. */
static void inquiry_without_lu_reports_qualifier_3_type_1f(void **state)
{
	struct fix *f = *state;

	fix_run_on(f, NULL, f->itn, INQ(0, 0, 36), 36);
	fix_assert_good(&f->task);
	assert_int_equal(f->task.in_buf[0], 0x7f);
}

static void vpd_inquiry_without_lu_is_lun_not_supported(void **state)
{
	struct fix *f = *state;

	fix_run_on(f, NULL, f->itn, INQ(1, 0x00, 255), 255);
	fix_assert_sense(&f->task, 0x5, 0x25, 0x00);
}

static void supported_vpd_pages_are_listed_ascending(void **state)
{
	static const uint8_t pages[] = {0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2};
	struct fix *f = *state;

	fix_run(f, INQ(1, 0x00, 255), 255);
	fix_assert_good(&f->task);
	assert_int_equal(f->task.in_buf[1], 0x00);
	assert_int_equal(get_be16(f->task.in_buf + 2), sizeof(pages));
	assert_memory_equal(f->task.in_buf + 4, pages, sizeof(pages));
}

static void unit_serial_number_page_holds_the_configured_serial(void **state)
{
	struct fix *f = *state;

	fix_run(f, INQ(1, 0x80, 255), 255);
	fix_assert_good(&f->task);
	assert_int_equal(f->task.in_buf[1], 0x80);
	assert_int_equal(get_be16(f->task.in_buf + 2), 8);
	assert_memory_equal(f->task.in_buf + 4, "beaf1234", 8);
}

/* Find designator \p type with association \p assoc in a VPD 83h page. */
static const uint8_t *designator_find(const uint8_t *page, uint8_t assoc, uint8_t type)
{
	size_t off = 4, end = 4 + get_be16(page + 2);

	while (off + 4 <= end) {
		if (((page[off + 1] >> 4) & 3) == assoc && (page[off + 1] & 0xf) == type)
			return page + off;
		off += 4 + page[off + 3];
	}
	return NULL;
}

/* SPC-4 7.8.6.6: NAA designator, association LU, binary. */
static void device_identification_has_the_configured_naa(void **state)
{
	struct fix *f = *state;
	const uint8_t *d;

	fix_run(f, INQ(1, 0x83, 1024), 1024);
	fix_assert_good(&f->task);
	d = designator_find(f->task.in_buf, 0, 3);
	assert_non_null(d);
	assert_int_equal(d[0], 0x01);
	assert_int_equal(d[3], 8);
	assert_memory_equal(d + 4, f->cfg.naa, 8);
}

/* SPC-4 7.8.6.7: relative target port, PIV=1, iSCSI, association target port. */
static void device_identification_has_the_relative_target_port(void **state)
{
	struct fix *f = *state;
	const uint8_t *d;

	fix_run(f, INQ(1, 0x83, 1024), 1024);
	d = designator_find(f->task.in_buf, 1, 4);
	assert_non_null(d);
	assert_int_equal(d[0], 0x51);
	assert_int_equal(d[1], 0x94);
	assert_int_equal(get_be16(d + 6), 1);
}

/* SPC-4 7.8.6.11: SCSI name string "<target>,t,0x0001", NUL padded to 4. */
static void device_identification_names_the_target_port(void **state)
{
	static const char name[] = FIX_TARGET ",t,0x0001";
	struct fix *f = *state;
	const uint8_t *d;

	fix_run(f, INQ(1, 0x83, 1024), 1024);
	d = designator_find(f->task.in_buf, 1, 8);
	assert_non_null(d);
	assert_int_equal(d[0], 0x53);
	assert_int_equal(d[3] % 4, 0);
	assert_true(d[3] >= sizeof(name));
	assert_memory_equal(d + 4, name, sizeof(name));
}

static void device_identification_names_the_target_device(void **state)
{
	struct fix *f = *state;
	const uint8_t *d;

	fix_run(f, INQ(1, 0x83, 1024), 1024);
	d = designator_find(f->task.in_buf, 2, 8);
	assert_non_null(d);
	assert_string_equal((const char *)d + 4, FIX_TARGET);
}

static void vpd_page_length_counts_the_designators(void **state)
{
	struct fix *f = *state;

	fix_run(f, INQ(1, 0x83, 1024), 1024);
	assert_int_equal(f->task.in_len, 4 + get_be16(f->task.in_buf + 2));
}

#define REPORT_LUNS(sel, alloc)                                                                    \
	FIX_CDB(0xa0, 0, sel, 0, 0, 0, (alloc) >> 24, (alloc) >> 16, (alloc) >> 8, (alloc)&0xff,   \
		0, 0)

/* SAM-5 4.7: peripheral addressing below 256, flat space above. */
static void report_luns_lists_every_lun_in_sam_format(void **state)
{
	static const uint8_t luns[24] = {0, 0, 0, 0, 0,	   0,	 0, 0, 0, 1, 0, 0,
					 0, 0, 0, 0, 0x41, 0x2c, 0, 0, 0, 0, 0, 0};
	struct fix *f = *state;

	fix_run(f, REPORT_LUNS(0, 1024), 1024);
	fix_assert_good(&f->task);
	assert_int_equal(f->task.in_len, 32);
	assert_int_equal(get_be32(f->task.in_buf), 24);
	assert_memory_equal(f->task.in_buf + 8, luns, sizeof(luns));
}

static void report_luns_works_without_lu(void **state)
{
	struct fix *f = *state;

	fix_run_on(f, NULL, f->itn, REPORT_LUNS(2, 1024), 1024);
	fix_assert_good(&f->task);
	assert_int_equal(get_be32(f->task.in_buf), 24);
}

static void report_luns_of_well_known_lus_is_empty(void **state)
{
	struct fix *f = *state;

	fix_run(f, REPORT_LUNS(1, 1024), 1024);
	fix_assert_good(&f->task);
	assert_int_equal(f->task.in_len, 8);
	assert_int_equal(get_be32(f->task.in_buf), 0);
}

static void report_luns_with_bad_select_report_is_invalid_field(void **state)
{
	struct fix *f = *state;

	fix_run(f, REPORT_LUNS(3, 1024), 1024);
	fix_assert_invalid_field(&f->task, 2);
}

/* SPC-4 6.33: ALLOCATION LENGTH below 16 is an error. */
static void report_luns_with_allocation_below_16_is_invalid_field(void **state)
{
	struct fix *f = *state;

	fix_run(f, REPORT_LUNS(0, 15), 1024);
	fix_assert_invalid_field(&f->task, 6);
}

static void report_luns_is_truncated_to_allocation_length(void **state)
{
	struct fix *f = *state;

	fix_run(f, REPORT_LUNS(0, 16), 1024);
	fix_assert_good(&f->task);
	assert_int_equal(f->task.in_len, 16);
	assert_int_equal(get_be32(f->task.in_buf), 24);
}

static void report_luns_allocation_failure_is_busy(void **state)
{
	struct fix *f = *state;

	fix_realloc_fail_in = 1;
	fix_run(f, REPORT_LUNS(0, 1024), 1024);
	assert_int_equal(f->task.status, SCSI_STATUS_BUSY);
	assert_null(f->task.in_buf);
}

static void request_sense_without_condition_is_no_sense(void **state)
{
	struct fix *f = *state;

	fix_run(f, FIX_CDB(0x03, 0, 0, 0, 252, 0), 252);
	fix_assert_good(&f->task);
	assert_int_equal(f->task.in_len, 18);
	assert_int_equal(f->task.in_buf[0], 0x70);
	assert_int_equal(f->task.in_buf[2], 0x00);
	assert_int_equal(f->task.in_buf[12], 0x00);
}

/* SAM-5 5.14: REQUEST SENSE returns the pending UA as data and clears it. */
static void request_sense_returns_and_clears_pending_unit_attention(void **state)
{
	struct fix *f = *state;

	scsi_lu_reset(f->lu);
	fix_run(f, FIX_CDB(0x03, 0, 0, 0, 252, 0), 252);
	fix_assert_good(&f->task);
	assert_int_equal(f->task.in_buf[2], 0x06);
	assert_int_equal(f->task.in_buf[12], 0x29);
	assert_int_equal(f->task.in_buf[13], 0x03);
	fix_run(f, FIX_CDB(0x00, 0, 0, 0, 0, 0), 0);
	fix_assert_good(&f->task);
}

static void request_sense_with_desc_returns_descriptor_format(void **state)
{
	struct fix *f = *state;

	fix_run(f, FIX_CDB(0x03, 0x01, 0, 0, 252, 0), 252);
	fix_assert_good(&f->task);
	assert_int_equal(f->task.in_len, 8);
	assert_int_equal(f->task.in_buf[0], 0x72);
}

/* SPC-4 6.39: REQUEST SENSE to a missing LU reports LOGICAL UNIT NOT SUPPORTED. */
static void request_sense_without_lu_reports_lun_not_supported(void **state)
{
	struct fix *f = *state;

	fix_run_on(f, NULL, f->itn, FIX_CDB(0x03, 0, 0, 0, 252, 0), 252);
	fix_assert_good(&f->task);
	assert_int_equal(f->task.in_buf[2], 0x05);
	assert_int_equal(f->task.in_buf[12], 0x25);
}

#define MODE_SENSE6(dbd, pcpage, sub, alloc) FIX_CDB(0x1a, dbd, pcpage, sub, alloc, 0)
#define MODE_SENSE10(flags, pcpage, sub, alloc)                                                    \
	FIX_CDB(0x5a, flags, pcpage, sub, 0, 0, 0, (alloc) >> 8, (alloc)&0xff, 0)

/* Find mode page \p code after the header and block descriptors. */
static const uint8_t *mode_page_find(const uint8_t *d, size_t len, size_t off, uint8_t code)
{
	while (off + 2 <= len) {
		if ((d[off] & 0x3f) == code)
			return d + off;
		off += 2 + d[off + 1];
	}
	return NULL;
}

static void mode_sense_all_pages_returns_recovery_caching_control(void **state)
{
	struct fix *f = *state;
	const uint8_t *d;

	fix_run(f, MODE_SENSE6(0, 0x3f, 0, 255), 255);
	fix_assert_good(&f->task);
	d = f->task.in_buf;
	assert_int_equal(d[0], f->task.in_len - 1);
	assert_int_equal(d[3], 8);
	assert_int_equal(get_be32(d + 4), FIX_BLOCKS);
	assert_int_equal(get_be24(d + 9), 512);
	assert_int_equal(d[12] & 0x3f, 0x01);
	assert_non_null(mode_page_find(d, f->task.in_len, 12, 0x08));
	assert_non_null(mode_page_find(d, f->task.in_len, 12, 0x0a));
}

/* SBC-3 6.4.5: WCE=1: a file store has a volatile cache. */
static void caching_page_reports_write_cache_enabled(void **state)
{
	struct fix *f = *state;

	fix_run(f, MODE_SENSE6(0x08, 0x08, 0, 255), 255);
	fix_assert_good(&f->task);
	assert_int_equal(f->task.in_buf[3], 0); /* DBD: no block descriptor */
	assert_int_equal(f->task.in_buf[4], 0x08);
	assert_int_equal(f->task.in_buf[6] & 0x04, 0x04);
}

/* SBC-3 6.4.5: only WCE of the caching page is changeable. */
static void caching_page_changeable_values_are_only_wce(void **state)
{
	static const uint8_t zero[17] = {0};
	struct fix *f = *state;

	fix_run(f, MODE_SENSE6(0x08, 0x40 | 0x08, 0, 255), 255);
	fix_assert_good(&f->task);
	assert_int_equal(f->task.in_buf[6], 0x04);
	assert_memory_equal(f->task.in_buf + 7, zero, sizeof(zero));
}

/* SPC-4 6.11: PC 11b (saved values) is not supported. */
static void saved_values_are_not_supported(void **state)
{
	struct fix *f = *state;

	fix_run(f, MODE_SENSE6(0, 0xc0 | 0x3f, 0, 255), 255);
	fix_assert_sense(&f->task, 0x5, 0x39, 0x00);
}

static void unknown_mode_page_is_invalid_field(void **state)
{
	struct fix *f = *state;

	fix_run(f, MODE_SENSE6(0, 0x1c, 0, 255), 255);
	fix_assert_invalid_field(&f->task, 2);
}

static void unknown_subpage_is_invalid_field(void **state)
{
	struct fix *f = *state;

	fix_run(f, MODE_SENSE6(0, 0x08, 0x01, 255), 255);
	fix_assert_invalid_field(&f->task, 3);
}

static void all_pages_and_subpages_is_accepted(void **state)
{
	struct fix *f = *state;

	fix_run(f, MODE_SENSE6(0, 0x3f, 0xff, 255), 255);
	fix_assert_good(&f->task);
}

/* SBC-3 6.3.1: WP in the device-specific parameter for a read-only LU. */
static void read_only_lu_sets_write_protect_in_mode_header(void **state)
{
	struct fix *f = *state;
	struct scsi_lu *ro;

	f->cfg.readonly = true;
	assert_int_equal(scsi_lu_create(&f->cfg, &ro), 0);
	fix_run_on(f, ro, NULL, MODE_SENSE10(0, 0x0a, 0, 255), 255);
	fix_assert_good(&f->task);
	assert_int_equal(f->task.in_buf[3] & 0x80, 0x80);
	fix_run(f, MODE_SENSE10(0, 0x0a, 0, 255), 255);
	assert_int_equal(f->task.in_buf[3] & 0x80, 0);
	scsi_lu_put(ro);
}

/* SPC-4 6.12: LLBAA gives the 16-byte long LBA block descriptor. */
static void mode_sense10_with_llbaa_has_long_block_descriptor(void **state)
{
	struct fix *f = *state;
	const uint8_t *d;

	fix_run(f, MODE_SENSE10(0x10, 0x0a, 0, 255), 255);
	fix_assert_good(&f->task);
	d = f->task.in_buf;
	assert_int_equal(get_be16(d), f->task.in_len - 2);
	assert_int_equal(d[4] & 0x01, 0x01);
	assert_int_equal(get_be16(d + 6), 16);
	assert_int_equal(get_be64(d + 8), FIX_BLOCKS);
	assert_int_equal(get_be32(d + 20), 512);
	assert_int_equal(d[24], 0x0a);
}

static void mode_sense_is_truncated_to_allocation_length(void **state)
{
	struct fix *f = *state;

	fix_run(f, MODE_SENSE6(0, 0x3f, 0, 4), 255);
	fix_assert_good(&f->task);
	assert_int_equal(f->task.in_len, 4);
	assert_true(f->task.in_buf[0] > 3);
}

static void mode_sense_allocation_failure_is_busy(void **state)
{
	struct fix *f = *state;

	fix_realloc_fail_in = 1;
	fix_run(f, MODE_SENSE6(0, 0x3f, 0, 255), 255);
	assert_int_equal(f->task.status, SCSI_STATUS_BUSY);
}

#define T(f) cmocka_unit_test_setup_teardown(f, fix_setup, fix_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_unit_ready_is_good),
		T(standard_inquiry_describes_an_spc4_disk),
		T(inquiry_is_truncated_to_allocation_length),
		T(inquiry_is_truncated_to_expected_transfer_length),
		T(inquiry_with_zero_allocation_length_moves_nothing),
		T(inquiry_with_cmddt_is_invalid_field),
		T(inquiry_page_code_without_evpd_is_invalid_field),
		T(inquiry_for_unsupported_vpd_page_is_invalid_field),
		T(inquiry_without_lu_reports_qualifier_3_type_1f),
		T(vpd_inquiry_without_lu_is_lun_not_supported),
		T(supported_vpd_pages_are_listed_ascending),
		T(unit_serial_number_page_holds_the_configured_serial),
		T(device_identification_has_the_configured_naa),
		T(device_identification_has_the_relative_target_port),
		T(device_identification_names_the_target_port),
		T(device_identification_names_the_target_device),
		T(vpd_page_length_counts_the_designators),
		T(report_luns_lists_every_lun_in_sam_format),
		T(report_luns_works_without_lu),
		T(report_luns_of_well_known_lus_is_empty),
		T(report_luns_with_bad_select_report_is_invalid_field),
		T(report_luns_with_allocation_below_16_is_invalid_field),
		T(report_luns_is_truncated_to_allocation_length),
		T(report_luns_allocation_failure_is_busy),
		T(request_sense_without_condition_is_no_sense),
		T(request_sense_returns_and_clears_pending_unit_attention),
		T(request_sense_with_desc_returns_descriptor_format),
		T(request_sense_without_lu_reports_lun_not_supported),
		T(mode_sense_all_pages_returns_recovery_caching_control),
		T(caching_page_reports_write_cache_enabled),
		T(caching_page_changeable_values_are_only_wce),
		T(saved_values_are_not_supported),
		T(unknown_mode_page_is_invalid_field),
		T(unknown_subpage_is_invalid_field),
		T(all_pages_and_subpages_is_accepted),
		T(read_only_lu_sets_write_protect_in_mode_header),
		T(mode_sense10_with_llbaa_has_long_block_descriptor),
		T(mode_sense_is_truncated_to_allocation_length),
		T(mode_sense_allocation_failure_is_busy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
