/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The SBC-3/SPC-4 commands beyond READ and WRITE: VERIFY, COMPARE AND
 * WRITE, ORWRITE, WRITE SAME, UNMAP, GET LBA STATUS, SANITIZE, EXTENDED
 * COPY, REPORT SUPPORTED OPERATION CODES, MODE SELECT, and the write range
 * lock, with real I/O through io_uring:
 *
 *   host1 --rtpi 1--> target disk1, LUN 0 = /tmp/hatgt-scsi-XXXXXX/lu0.img
 *   host2 --rtpi 1-/  (2048 blocks of 512 bytes, sparse, can punch holes)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "scsi_fixture_test.h"
#include "util/be.h"

#define BS 512
#define HOST2 "iqn.1993-08.org.debian:01:host2,i,0x00023d000002"

#define CDB10(op, b1, lba, n)                                                                      \
	FIX_CDB(op, b1, (lba) >> 24, (lba) >> 16, (lba) >> 8, (lba)&0xff, 0, (n) >> 8, (n)&0xff, 0)
#define CDB16(op, b1, lba, n)                                                                      \
	FIX_CDB(op, b1, 0, 0, 0, 0, (lba) >> 24, (lba) >> 16, (lba) >> 8, (lba)&0xff, (n) >> 24,   \
		(n) >> 16, (n) >> 8, (n)&0xff, 0, 0)
#define CAW(lba, n) FIX_CDB(0x89, 0, 0, 0, 0, 0, 0, 0, (lba) >> 8, (lba)&0xff, 0, 0, 0, n, 0, 0)
#define GET_LBA_STATUS(lba)                                                                        \
	FIX_CDB(0x9e, 0x12, 0, 0, 0, 0, 0, 0, (lba) >> 8, (lba)&0xff, 0, 0, 1, 0, 0, 0)

/* Run \p cdb with \p len bytes of Data-Out from \p buf. */
static void run_out(struct fix *f, const uint8_t *cdb, size_t cdb_len, const void *buf,
		    uint32_t len)
{
	f->out = buf;
	f->out_len = len;
	fix_run(f, cdb, cdb_len, len);
	f->out = NULL;
	f->out_len = 0;
}

static void fill(struct fix *f, uint32_t lba, uint16_t n, uint8_t byte)
{
	uint8_t *buf = malloc((size_t)n * BS);

	assert_non_null(buf);
	memset(buf, byte, (size_t)n * BS);
	run_out(f, CDB10(0x2a, 0, lba, n), buf, (uint32_t)n * BS);
	fix_assert_good(&f->task);
	free(buf);
}

/* Assert that block \p lba holds \p byte everywhere. */
static void assert_block(struct fix *f, uint32_t lba, uint8_t byte)
{
	uint8_t expect[BS];

	memset(expect, byte, sizeof(expect));
	fix_run(f, CDB10(0x28, 0, lba, 1), BS);
	fix_assert_good(&f->task);
	assert_memory_equal(f->task.in_buf, expect, BS);
}

/* MISCOMPARE in fixed format with VALID and \p offset in INFORMATION. */
static void assert_miscompare(const struct scsi_task *t, uint32_t offset)
{
	assert_int_equal(t->status, SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(t->sense[0], 0xf0);
	assert_int_equal(t->sense[2] & 0x0f, 0xe);
	assert_int_equal(t->sense[12], 0x1d);
	assert_int_equal(get_be32(t->sense + 3), offset);
}

/* SBC-3 5.33: BYTCHK 01b with equal data is GOOD. */
static void verify_bytchk_equal_data_is_good(void **state)
{
	struct fix *f = *state;
	uint8_t buf[2 * BS];

	fill(f, 10, 2, 0x11);
	memset(buf, 0x11, sizeof(buf));
	run_out(f, CDB10(0x2f, 0x02, 10, 2), buf, sizeof(buf));
	fix_assert_good(&f->task);
}

/* SBC-3 5.33: a mismatch is MISCOMPARE with the offset in INFORMATION. */
static void verify_mismatch_is_miscompare_with_offset(void **state)
{
	struct fix *f = *state;
	uint8_t buf[2 * BS];

	fill(f, 10, 2, 0x11);
	memset(buf, 0x11, sizeof(buf));
	buf[BS + 7] = 0x12;
	run_out(f, CDB10(0x2f, 0x02, 10, 2), buf, sizeof(buf));
	assert_miscompare(&f->task, BS + 7);
}

/* SBC-3 5.33: BYTCHK 11b compares one block with each block. */
static void verify_bytchk_one_block_against_each(void **state)
{
	struct fix *f = *state;
	uint8_t buf[BS];

	fill(f, 20, 3, 0x33);
	memset(buf, 0x33, sizeof(buf));
	run_out(f, CDB10(0x2f, 0x06, 20, 3), buf, sizeof(buf));
	fix_assert_good(&f->task);
}

static void verify_bytchk_10b_is_invalid_field(void **state)
{
	struct fix *f = *state;

	fix_run(f, CDB10(0x2f, 0x04, 0, 1), 0);
	fix_assert_invalid_field(&f->task, 1);
}

static void verify_with_vrprotect_is_invalid_field(void **state)
{
	struct fix *f = *state;

	fix_run(f, CDB10(0x2f, 0x20, 0, 1), 0);
	fix_assert_invalid_field(&f->task, 1);
}

static void verify_past_the_end_is_lba_out_of_range(void **state)
{
	struct fix *f = *state;

	fix_run(f, CDB10(0x2f, 0, FIX_BLOCKS - 1, 2), 0);
	fix_assert_sense(&f->task, 0x5, 0x21, 0x00);
}

static void verify_out_of_memory_is_busy(void **state)
{
	struct fix *f = *state;
	uint8_t buf[BS] = {0};

	fix_calloc_fail_in = 1;
	run_out(f, CDB10(0x2f, 0x02, 0, 1), buf, sizeof(buf));
	assert_int_equal(f->task.status, SCSI_STATUS_BUSY);
}

/* SBC-3 5.40: the data is written. */
static void write_and_verify_writes_the_data(void **state)
{
	struct fix *f = *state;
	uint8_t buf[BS];

	memset(buf, 0x44, sizeof(buf));
	run_out(f, CDB10(0x2e, 0x02, 30, 1), buf, sizeof(buf));
	fix_assert_good(&f->task);
	assert_block(f, 30, 0x44);
}

/* SBC-3 5.3: equal verify data: the write data replaces the blocks. */
static void compare_and_write_equal_writes_new_data(void **state)
{
	struct fix *f = *state;
	uint8_t buf[2 * BS];

	fill(f, 40, 1, 'A');
	memset(buf, 'A', BS);
	memset(buf + BS, 'B', BS);
	run_out(f, CAW(40, 1), buf, sizeof(buf));
	fix_assert_good(&f->task);
	assert_block(f, 40, 'B');
}

static void compare_and_write_mismatch_leaves_blocks_unchanged(void **state)
{
	struct fix *f = *state;
	uint8_t buf[2 * BS];

	fill(f, 40, 1, 'A');
	memset(buf, 'C', BS);
	memset(buf + BS, 'B', BS);
	run_out(f, CAW(40, 1), buf, sizeof(buf));
	assert_miscompare(&f->task, 0);
	assert_block(f, 40, 'A');
}

static void compare_and_write_wrong_data_out_size_is_invalid_iu(void **state)
{
	struct fix *f = *state;
	uint8_t buf[BS] = {0};

	run_out(f, CAW(40, 1), buf, sizeof(buf));
	fix_assert_sense(&f->task, 0x5, 0x0e, 0x03);
}

static void compare_and_write_zero_blocks_with_data_is_invalid_field(void **state)
{
	struct fix *f = *state;
	uint8_t buf[2 * BS] = {0};

	run_out(f, CAW(40, 0), buf, sizeof(buf));
	fix_assert_invalid_field(&f->task, 13);
}

/* SBC-3 5.24: ORWRITE ORs the Data-Out into the blocks. */
static void orwrite_ors_data_into_blocks(void **state)
{
	struct fix *f = *state;
	uint8_t buf[BS];

	fill(f, 50, 1, 0x0f);
	memset(buf, 0xf0, sizeof(buf));
	run_out(f, CDB16(0x8b, 0, 50, 1), buf, sizeof(buf));
	fix_assert_good(&f->task);
	assert_block(f, 50, 0xff);
}

static int range_grants;

static void range_granted(struct scsi_range *r)
{
	range_grants++;
}

/* SBC-3 5.3 atomicity: an overlapping range waits until the holder leaves. */
static void range_lock_overlap_waits_for_unlock(void **state)
{
	struct fix *f = *state;
	struct scsi_range a = {.lba = 0, .blocks = 8}, b = {.lba = 4, .blocks = 8};

	b.granted = range_granted;
	range_grants = 0;
	assert_true(scsi_range_lock(f->lu, &a));
	assert_false(scsi_range_lock(f->lu, &b));
	assert_int_equal(range_grants, 0);
	scsi_range_unlock(f->lu, &a);
	assert_int_equal(range_grants, 1);
	scsi_range_unlock(f->lu, &b);
}

static void range_lock_disjoint_ranges_both_granted(void **state)
{
	struct fix *f = *state;
	struct scsi_range a = {.lba = 0, .blocks = 8}, b = {.lba = 8, .blocks = 8};

	assert_true(scsi_range_lock(f->lu, &a));
	assert_true(scsi_range_lock(f->lu, &b));
	scsi_range_unlock(f->lu, &a);
	scsi_range_unlock(f->lu, &b);
}

/* A write to a range a COMPARE AND WRITE holds completes after it. */
static void write_waits_while_range_is_held(void **state)
{
	struct fix *f = *state;
	struct scsi_range held = {.lba = 60, .blocks = 1};
	uint8_t buf[BS];

	memset(buf, 0x77, sizeof(buf));
	assert_true(scsi_range_lock(f->lu, &held));
	scsi_task_release(&f->task);
	memset(&f->task, 0, sizeof(f->task));
	f->task.lu = f->lu;
	f->task.itn = f->itn;
	memcpy(f->task.cdb, (const uint8_t[]){0x2a, 0, 0, 0, 0, 60, 0, 0, 1, 0}, 10);
	f->task.cdb_len = 16;
	f->task.edtl = BS;
	f->task.out_buf = buf;
	f->task.out_len = BS;
	f->task.dir = SCSI_DIR_WRITE;
	f->task.done = fix_done;
	f->done_calls = 0;
	scsi_task_exec(&f->task);
	usleep(20000);
	scsi_completion_run();
	assert_int_equal(f->done_calls, 0);
	scsi_range_unlock(f->lu, &held);
	while (f->done_calls == 0) {
		struct pollfd pfd = {.fd = scsi_completion_fd(), .events = POLLIN};

		assert_int_equal(poll(&pfd, 1, 5000), 1);
		scsi_completion_run();
	}
	fix_assert_good(&f->task);
	assert_block(f, 60, 0x77);
}

/* SBC-3 5.41: one block written to every block of the range. */
static void write_same_fills_the_range(void **state)
{
	struct fix *f = *state;
	uint8_t buf[BS];

	memset(buf, 0x5e, sizeof(buf));
	run_out(f, CDB10(0x41, 0, 70, 3), buf, sizeof(buf));
	fix_assert_good(&f->task);
	assert_block(f, 70, 0x5e);
	assert_block(f, 72, 0x5e);
}

/* SBC-3 4.7.3.4.4: WRITE SAME with UNMAP deallocates; LBPRZ: reads zeros. */
static void write_same_unmap_reads_back_zeros(void **state)
{
	struct fix *f = *state;
	uint8_t buf[BS];

	fill(f, 80, 8, 0xaa);
	memset(buf, 0xbb, sizeof(buf));
	run_out(f, CDB16(0x93, 0x08, 80, 8), buf, sizeof(buf));
	fix_assert_good(&f->task);
	assert_block(f, 80, 0x00);
}

static void write_same_anchor_is_invalid_field(void **state)
{
	struct fix *f = *state;
	uint8_t buf[BS] = {0};

	run_out(f, CDB10(0x41, 0x10, 0, 1), buf, sizeof(buf));
	fix_assert_invalid_field(&f->task, 1);
}

static void write_same_two_blocks_of_data_is_invalid_iu(void **state)
{
	struct fix *f = *state;
	uint8_t buf[2 * BS] = {0};

	run_out(f, CDB10(0x41, 0, 0, 1), buf, sizeof(buf));
	fix_assert_sense(&f->task, 0x5, 0x0e, 0x03);
}

/* SBC-4 5.50 NDOB: no Data-Out, the blocks become zeros. */
static void write_same16_ndob_writes_zeros(void **state)
{
	struct fix *f = *state;

	fill(f, 90, 2, 0x99);
	fix_run(f, CDB16(0x93, 0x01, 90, 2), 0);
	fix_assert_good(&f->task);
	assert_block(f, 91, 0x00);
}

/* UNMAP one descriptor: the block reads back as zeros and is deallocated. */
static void unmap_deallocates_blocks(void **state)
{
	struct fix *f = *state;
	uint8_t p[24] = {0};

	fill(f, 256, 16, 0xcc);
	put_be16(p, 22);
	put_be16(p + 2, 16);
	put_be64(p + 8, 256);
	put_be32(p + 16, 16);
	run_out(f, CDB10(0x42, 0, 0, sizeof(p)), p, sizeof(p));
	fix_assert_good(&f->task);
	assert_block(f, 256, 0x00);
	fix_run(f, GET_LBA_STATUS(256), 256);
	fix_assert_good(&f->task);
	assert_int_equal(get_be64(f->task.in_buf + 8), 256);
	assert_int_equal(f->task.in_buf[8 + 12] & 0x0f, 0x1); /* deallocated */
}

static void unmap_short_parameter_list_is_length_error(void **state)
{
	struct fix *f = *state;
	uint8_t p[4] = {0};

	run_out(f, CDB10(0x42, 0, 0, sizeof(p)), p, sizeof(p));
	fix_assert_sense(&f->task, 0x5, 0x1a, 0x00);
}

static void unmap_past_the_end_is_lba_out_of_range(void **state)
{
	struct fix *f = *state;
	uint8_t p[24] = {0};

	put_be16(p + 2, 16);
	put_be64(p + 8, FIX_BLOCKS - 1);
	put_be32(p + 16, 2);
	run_out(f, CDB10(0x42, 0, 0, sizeof(p)), p, sizeof(p));
	fix_assert_sense(&f->task, 0x5, 0x21, 0x00);
}

static void unmap_anchor_is_invalid_field(void **state)
{
	struct fix *f = *state;

	fix_run(f, CDB10(0x42, 0x01, 0, 0), 0);
	fix_assert_invalid_field(&f->task, 1);
}

/* SBC-3 5.6: written blocks are mapped. */
static void get_lba_status_reports_written_block_mapped(void **state)
{
	struct fix *f = *state;

	fill(f, 512, 8, 0x01);
	fix_run(f, GET_LBA_STATUS(512), 256);
	fix_assert_good(&f->task);
	assert_int_equal(get_be64(f->task.in_buf + 8), 512);
	assert_int_equal(f->task.in_buf[8 + 12] & 0x0f, 0x0);
}

static void get_lba_status_past_the_end_is_lba_out_of_range(void **state)
{
	struct fix *f = *state;

	fix_run(f, GET_LBA_STATUS(FIX_BLOCKS), 256);
	fix_assert_sense(&f->task, 0x5, 0x21, 0x00);
}

/* SPC-4 6.35: all commands, generated from the dispatch table. */
static void rsoc_all_lists_write_same16(void **state)
{
	struct fix *f = *state;
	uint32_t len, off;
	bool found = false;

	fix_run(f, FIX_CDB(0xa3, 0x0c, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0), 4096);
	fix_assert_good(&f->task);
	len = get_be32(f->task.in_buf);
	assert_int_equal(len % 8, 0);
	for (off = 4; off < 4 + len; off += 8)
		if (f->task.in_buf[off] == 0x93 && get_be16(f->task.in_buf + off + 6) == 16)
			found = true;
	assert_true(found);
}

/* SPC-4 6.35.3: one command, with its CDB usage data and timeouts. */
static void rsoc_one_command_reports_usage_and_timeouts(void **state)
{
	struct fix *f = *state;

	fix_run(f, FIX_CDB(0xa3, 0x0c, 0x81, 0x41, 0, 0, 0, 0, 1, 0, 0, 0), 256);
	fix_assert_good(&f->task);
	assert_int_equal(f->task.in_buf[1], 0x80 | 0x03); /* CTDP, supported */
	assert_int_equal(get_be16(f->task.in_buf + 2), 10);
	assert_int_equal(f->task.in_buf[4], 0x41);
	assert_int_equal(get_be16(f->task.in_buf + 14), 0x0a); /* timeouts descriptor */
}

static void rsoc_one_command_of_service_action_opcode_is_invalid_field(void **state)
{
	struct fix *f = *state;

	fix_run(f, FIX_CDB(0xa3, 0x0c, 0x01, 0x9e, 0, 0, 0, 0, 1, 0, 0, 0), 256);
	fix_assert_invalid_field(&f->task, 2);
}

static void rsoc_unsupported_opcode_is_reported_unsupported(void **state)
{
	struct fix *f = *state;

	fix_run(f, FIX_CDB(0xa3, 0x0c, 0x01, 0xff, 0, 0, 0, 0, 1, 0, 0, 0), 256);
	fix_assert_good(&f->task);
	assert_int_equal(f->task.in_buf[1] & 0x07, 0x01);
}

/* SPC-4 6.40: the task management functions the iSCSI layer implements. */
static void rstmf_reports_abort_task_and_lu_reset(void **state)
{
	struct fix *f = *state;

	fix_run(f, FIX_CDB(0xa3, 0x0d, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0), 4);
	fix_assert_good(&f->task);
	assert_int_equal(f->task.in_buf[0] & 0x88, 0x88);
}

/* A control mode page, as MODE SELECT(6) sends it, with D_SENSE / SWP. */
static void mode_select_control(struct fix *f, uint8_t byte2, uint8_t byte4)
{
	uint8_t p[4 + 12] = {0};

	p[4] = 0x0a;
	p[5] = 0x0a;
	p[6] = byte2;
	p[7] = 0x10;
	p[8] = byte4;
	put_be16(p + 12, 0xffff);
	run_out(f, FIX_CDB(0x15, 0x10, 0, 0, sizeof(p), 0), p, sizeof(p));
}

/* SPC-4 7.5.8: D_SENSE 1 switches to descriptor format sense data. */
static void mode_select_d_sense_gives_descriptor_sense(void **state)
{
	struct fix *f = *state;

	mode_select_control(f, 0x04, 0);
	fix_assert_good(&f->task);
	fix_run(f, CDB10(0x28, 0, FIX_BLOCKS, 1), BS);
	assert_int_equal(f->task.status, SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(f->task.sense[0], 0x72);
	assert_int_equal(f->task.sense[2], 0x21);
}

/* SPC-4 6.9: a non-changeable field set to another value. */
static void mode_select_unchangeable_field_is_invalid_param(void **state)
{
	struct fix *f = *state;
	uint8_t p[4 + 12] = {0};

	p[4] = 0x0a;
	p[5] = 0x0a;
	p[7] = 0x00; /* QUEUE ALGORITHM MODIFIER is not changeable */
	put_be16(p + 12, 0xffff);
	run_out(f, FIX_CDB(0x15, 0x10, 0, 0, sizeof(p), 0), p, sizeof(p));
	fix_assert_sense(&f->task, 0x5, 0x26, 0x00);
}

static void mode_select_saved_pages_is_invalid_field(void **state)
{
	struct fix *f = *state;

	fix_run(f, FIX_CDB(0x15, 0x11, 0, 0, 0, 0), 0);
	fix_assert_invalid_field(&f->task, 1);
}

/* SPC-4 7.5.1: other nexuses get MODE PARAMETERS CHANGED. */
static void mode_select_tells_other_nexus_parameters_changed(void **state)
{
	struct fix *f = *state;
	struct scsi_itn *other = fix_itn_create(HOST2, 1);

	assert_non_null(other);
	fix_run_on(f, f->lu, other, FIX_CDB(0x00, 0, 0, 0, 0, 0), 0); /* POWER ON */
	mode_select_control(f, 0x04, 0);
	fix_assert_good(&f->task);
	fix_run_on(f, f->lu, other, FIX_CDB(0x00, 0, 0, 0, 0, 0), 0);
	assert_int_equal(f->task.status, SCSI_STATUS_CHECK_CONDITION);
	scsi_itn_destroy(other);
}

/* SPC-4 7.5.8 SWP: writes are refused with DATA PROTECT, WP is reported. */
static void mode_select_swp_write_protects(void **state)
{
	struct fix *f = *state;
	uint8_t buf[BS] = {0};

	mode_select_control(f, 0, 0x08);
	fix_assert_good(&f->task);
	run_out(f, CDB10(0x2a, 0, 0, 1), buf, sizeof(buf));
	fix_assert_sense(&f->task, 0x7, 0x27, 0x02);
	fix_run(f, FIX_CDB(0x1a, 0x08, 0x0a, 0, 255, 0), 255);
	assert_int_equal(f->task.in_buf[2] & 0x80, 0x80);
}

/* SBC-3 5.27.2: OVERWRITE writes the pattern over the whole medium. */
static void sanitize_overwrite_writes_the_pattern(void **state)
{
	struct fix *f = *state;
	uint8_t p[4 + 4] = {0x01, 0, 0, 4, 0xde, 0xad, 0xbe, 0xef};

	run_out(f, FIX_CDB(0x48, 0x01, 0, 0, 0, 0, 0, 0, sizeof(p), 0), p, sizeof(p));
	fix_assert_good(&f->task);
	fix_run(f, CDB10(0x28, 0, FIX_BLOCKS - 1, 1), BS);
	assert_int_equal(get_be32(f->task.in_buf + BS - 4), 0xdeadbeef);
}

/* BLOCK ERASE of more than a request can carry (> 2 GiB) goes in pieces. */
static void sanitize_block_erase_of_a_large_lu_is_good(void **state)
{
	struct fix *f = *state;
	struct scsi_lu *big;
	char path[128];

	snprintf(path, sizeof(path), "%s/big.img", f->dir);
	f->cfg.path = path;
	f->cfg.create_size = 3ull << 30;
	assert_int_equal(scsi_lu_create(&f->cfg, &big), 0);
	fix_run_on(f, big, NULL, FIX_CDB(0x48, 0x02, 0, 0, 0, 0, 0, 0, 0, 0), 0);
	fix_assert_good(&f->task);
	scsi_lu_put(big);
	unlink(path);
}

static void sanitize_overwrite_count_zero_is_invalid_param(void **state)
{
	struct fix *f = *state;
	uint8_t p[4 + 4] = {0x00, 0, 0, 4, 1, 2, 3, 4};

	run_out(f, FIX_CDB(0x48, 0x01, 0, 0, 0, 0, 0, 0, sizeof(p), 0), p, sizeof(p));
	fix_assert_sense(&f->task, 0x5, 0x26, 0x00);
}

static void sanitize_block_erase_with_parameters_is_invalid_field(void **state)
{
	struct fix *f = *state;
	uint8_t p[8] = {0};

	run_out(f, FIX_CDB(0x48, 0x02, 0, 0, 0, 0, 0, 0, sizeof(p), 0), p, sizeof(p));
	fix_assert_invalid_field(&f->task, 7);
}

static void sanitize_reserved_byte_is_invalid_field(void **state)
{
	struct fix *f = *state;

	fix_run(f, FIX_CDB(0x48, 0x1f, 0, 3, 0, 0, 0, 0, 0, 0), 0);
	fix_assert_invalid_field(&f->task, 3);
}

static void sanitize_crypto_erase_is_invalid_field(void **state)
{
	struct fix *f = *state;

	fix_run(f, FIX_CDB(0x48, 0x03, 0, 0, 0, 0, 0, 0, 0, 0), 0);
	fix_assert_invalid_field(&f->task, 1);
}

static void prevent_allow_obsolete_value_is_invalid_field(void **state)
{
	struct fix *f = *state;

	fix_run(f, FIX_CDB(0x1e, 0, 0, 0, 0x02, 0), 0);
	fix_assert_invalid_field(&f->task, 4);
}

/* SBC-3 5.13: PREVENT 01b is remembered; a LOGICAL UNIT RESET allows again. */
static void lu_reset_allows_medium_removal_again(void **state)
{
	struct fix *f = *state;

	fix_run(f, FIX_CDB(0x1e, 0, 0, 0, 0x01, 0), 0);
	fix_assert_good(&f->task);
	assert_true(scsi_lu_removal_prevented(f->lu));
	scsi_lu_reset(f->lu);
	assert_false(scsi_lu_removal_prevented(f->lu));
}

static void read_defect_data_is_an_empty_list(void **state)
{
	struct fix *f = *state;

	fix_run(f, FIX_CDB(0x37, 0, 0x1d, 0, 0, 0, 0, 0, 255, 0), 255);
	fix_assert_good(&f->task);
	assert_int_equal(f->task.in_len, 4);
	assert_int_equal(f->task.in_buf[1], 0x1d);
	assert_int_equal(get_be16(f->task.in_buf + 2), 0);
}

/* SPC-4 6.4: an EXTENDED COPY parameter list copying \p n blocks on the fixture LU. */
static size_t xcopy_params(const struct fix *f, uint8_t *p, uint8_t list_id, uint64_t src,
			   uint64_t dst, uint16_t n)
{
	memset(p, 0, 16 + 32 + 28);
	p[0] = list_id;
	put_be16(p + 2, 32);
	put_be32(p + 8, 28);
	p[16] = 0xe4;
	p[20] = 0x01; /* binary */
	p[21] = 0x03; /* NAA */
	p[23] = f->cfg.naa_len;
	memcpy(p + 24, f->cfg.naa, f->cfg.naa_len);
	put_be24(p + 16 + 29, BS);
	p[48] = 0x02;
	put_be16(p + 50, 24);
	put_be16(p + 58, n);
	put_be64(p + 60, src);
	put_be64(p + 68, dst);
	return 16 + 32 + 28;
}

#define XCOPY(len) FIX_CDB(0x83, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, len, 0, 0)

static void extended_copy_copies_blocks(void **state)
{
	struct fix *f = *state;
	uint8_t p[76];
	size_t len;

	fill(f, 100, 4, 0x3c);
	len = xcopy_params(f, p, 7, 100, 900, 4);
	run_out(f, XCOPY(len), p, (uint32_t)len);
	fix_assert_good(&f->task);
	assert_block(f, 903, 0x3c);
}

/* SPC-4 6.18.3: COPY STATUS of the list: done, one segment. */
static void receive_copy_results_reports_the_copy(void **state)
{
	struct fix *f = *state;
	uint8_t p[76];
	size_t len;

	len = xcopy_params(f, p, 9, 0, 1000, 2);
	run_out(f, XCOPY(len), p, (uint32_t)len);
	fix_assert_good(&f->task);
	fix_run(f, FIX_CDB(0x84, 0x00, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 64, 0, 0), 64);
	fix_assert_good(&f->task);
	assert_int_equal(f->task.in_buf[4] & 0x7f, 0x01);
	assert_int_equal(get_be16(f->task.in_buf + 5), 1);
}

static void receive_copy_results_unknown_list_is_invalid_field(void **state)
{
	struct fix *f = *state;

	fix_run(f, FIX_CDB(0x84, 0x00, 42, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 64, 0, 0), 64);
	fix_assert_invalid_field(&f->task, 2);
}

static void extended_copy_unknown_naa_is_copy_aborted(void **state)
{
	struct fix *f = *state;
	uint8_t p[76];
	size_t len;

	len = xcopy_params(f, p, 1, 0, 100, 1);
	p[24] ^= 0xff;
	run_out(f, XCOPY(len), p, (uint32_t)len);
	fix_assert_sense(&f->task, 0xa, 0x0d, 0x02);
}

static void extended_copy_past_the_end_is_copy_aborted(void **state)
{
	struct fix *f = *state;
	uint8_t p[76];
	size_t len;

	len = xcopy_params(f, p, 1, 0, FIX_BLOCKS - 1, 2);
	run_out(f, XCOPY(len), p, (uint32_t)len);
	fix_assert_sense(&f->task, 0xa, 0x00, 0x00);
}

static void extended_copy_unsupported_target_type_is_reported(void **state)
{
	struct fix *f = *state;
	uint8_t p[76];
	size_t len;

	len = xcopy_params(f, p, 1, 0, 100, 1);
	p[16] = 0xe0;
	run_out(f, XCOPY(len), p, (uint32_t)len);
	fix_assert_sense(&f->task, 0x5, 0x26, 0x07);
}

static void extended_copy_out_of_memory_is_busy(void **state)
{
	struct fix *f = *state;
	uint8_t p[76];
	size_t len;

	len = xcopy_params(f, p, 1, 0, 100, 1);
	fix_calloc_fail_in = 1;
	run_out(f, XCOPY(len), p, (uint32_t)len);
	assert_int_equal(f->task.status, SCSI_STATUS_BUSY);
}

/* SBC-3 4.10: a resize gives every nexus CAPACITY DATA HAS CHANGED. */
static void resize_queues_capacity_data_changed(void **state)
{
	struct fix *f = *state;

	assert_int_equal(truncate(f->path, 2 * FIX_BLOCKS * BS), 0);
	assert_int_equal(scsi_lu_resize(f->lu), 0);
	assert_int_equal(scsi_lu_size(f->lu), 2 * FIX_BLOCKS * BS);
	fix_run(f, FIX_CDB(0x00, 0, 0, 0, 0, 0), 0);
	fix_assert_sense(&f->task, 0x6, 0x2a, 0x09);
}

/* SPC-4 6.33: a LUN change gives REPORTED LUNS DATA HAS CHANGED. */
static void luns_changed_queues_reported_luns_changed(void **state)
{
	struct fix *f = *state;
	struct scsi_lu *lus[2] = {f->lu, NULL};

	scsi_luns_changed(lus, 2);
	fix_run(f, FIX_CDB(0x00, 0, 0, 0, 0, 0), 0);
	fix_assert_sense(&f->task, 0x6, 0x3f, 0x0e);
}

#define T(f) cmocka_unit_test_setup_teardown(f, fix_setup, fix_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(verify_bytchk_equal_data_is_good),
		T(verify_mismatch_is_miscompare_with_offset),
		T(verify_bytchk_one_block_against_each),
		T(verify_bytchk_10b_is_invalid_field),
		T(verify_with_vrprotect_is_invalid_field),
		T(verify_past_the_end_is_lba_out_of_range),
		T(verify_out_of_memory_is_busy),
		T(write_and_verify_writes_the_data),
		T(compare_and_write_equal_writes_new_data),
		T(compare_and_write_mismatch_leaves_blocks_unchanged),
		T(compare_and_write_wrong_data_out_size_is_invalid_iu),
		T(compare_and_write_zero_blocks_with_data_is_invalid_field),
		T(orwrite_ors_data_into_blocks),
		T(range_lock_overlap_waits_for_unlock),
		T(range_lock_disjoint_ranges_both_granted),
		T(write_waits_while_range_is_held),
		T(write_same_fills_the_range),
		T(write_same_unmap_reads_back_zeros),
		T(write_same_anchor_is_invalid_field),
		T(write_same_two_blocks_of_data_is_invalid_iu),
		T(write_same16_ndob_writes_zeros),
		T(unmap_deallocates_blocks),
		T(unmap_short_parameter_list_is_length_error),
		T(unmap_past_the_end_is_lba_out_of_range),
		T(unmap_anchor_is_invalid_field),
		T(get_lba_status_reports_written_block_mapped),
		T(get_lba_status_past_the_end_is_lba_out_of_range),
		T(rsoc_all_lists_write_same16),
		T(rsoc_one_command_reports_usage_and_timeouts),
		T(rsoc_one_command_of_service_action_opcode_is_invalid_field),
		T(rsoc_unsupported_opcode_is_reported_unsupported),
		T(rstmf_reports_abort_task_and_lu_reset),
		T(mode_select_d_sense_gives_descriptor_sense),
		T(mode_select_unchangeable_field_is_invalid_param),
		T(mode_select_saved_pages_is_invalid_field),
		T(mode_select_tells_other_nexus_parameters_changed),
		T(mode_select_swp_write_protects),
		T(sanitize_overwrite_writes_the_pattern),
		T(sanitize_block_erase_of_a_large_lu_is_good),
		T(sanitize_overwrite_count_zero_is_invalid_param),
		T(sanitize_block_erase_with_parameters_is_invalid_field),
		T(sanitize_reserved_byte_is_invalid_field),
		T(sanitize_crypto_erase_is_invalid_field),
		T(prevent_allow_obsolete_value_is_invalid_field),
		T(lu_reset_allows_medium_removal_again),
		T(read_defect_data_is_an_empty_list),
		T(extended_copy_copies_blocks),
		T(receive_copy_results_reports_the_copy),
		T(receive_copy_results_unknown_list_is_invalid_field),
		T(extended_copy_unknown_naa_is_copy_aborted),
		T(extended_copy_past_the_end_is_copy_aborted),
		T(extended_copy_unsupported_target_type_is_reported),
		T(extended_copy_out_of_memory_is_busy),
		T(resize_queues_capacity_data_changed),
		T(luns_changed_queues_reported_luns_changed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
