/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sbc.c: READ/WRITE(6/10/12/16), SYNCHRONIZE CACHE, READ CAPACITY, START
 * STOP UNIT and the block VPD pages, with real I/O through io_uring:
 *
 *   host1 --rtpi 1--> target disk1, LUN 0 = /tmp/hatgt-scsi-XXXXXX/lu0.img
 *                     (2048 blocks of 512 bytes, sparse)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "scsi_fixture_test.h"
#include "util/be.h"

#define LAST_LBA (FIX_BLOCKS - 1)

#define RW10(op, flags, lba, n)                                                                    \
	FIX_CDB(op, flags, (lba) >> 24, (lba) >> 16, (lba) >> 8, (lba)&0xff, 0, (n) >> 8,          \
		(n)&0xff, 0)
#define RW16(op, flags, lba, n)                                                                    \
	FIX_CDB(op, flags, 0, 0, 0, 0, (lba) >> 24, (lba) >> 16, (lba) >> 8, (lba)&0xff,           \
		(n) >> 24, (n) >> 16, (n) >> 8, (n)&0xff, 0, 0)
#define RW12(op, flags, lba, n)                                                                    \
	FIX_CDB(op, flags, (lba) >> 24, (lba) >> 16, (lba) >> 8, (lba)&0xff, (n) >> 24, (n) >> 16, \
		(n) >> 8, (n)&0xff, 0, 0)
#define RW6(op, lba, n) FIX_CDB(op, ((lba) >> 16) & 0x1f, (lba) >> 8, (lba)&0xff, n, 0)

static const struct backend_stats *lu_stats(const struct fix *f)
{
	return backend_stats(f->lu->be);
}

/* Write \p n blocks of \p byte at \p lba with WRITE(10). */
static void write_pattern(struct fix *f, uint32_t lba, uint16_t n, uint8_t byte)
{
	uint8_t *buf = malloc((size_t)n * 512);

	assert_non_null(buf);
	memset(buf, byte, (size_t)n * 512);
	f->out = buf;
	f->out_len = (uint32_t)n * 512;
	fix_run(f, RW10(0x2a, 0, lba, n), f->out_len);
	fix_assert_good(&f->task);
	f->out = NULL;
	f->out_len = 0;
	free(buf);
}

static void write10_then_read10_returns_the_data(void **state)
{
	struct fix *f = *state;
	uint8_t expect[1024];

	write_pattern(f, 100, 2, 0x5a);
	fix_run(f, RW10(0x28, 0, 100, 2), 1024);
	fix_assert_good(&f->task);
	assert_int_equal(f->task.in_len, 1024);
	assert_int_equal(f->task.xfer_len, 1024);
	memset(expect, 0x5a, sizeof(expect));
	assert_memory_equal(f->task.in_buf, expect, sizeof(expect));
}

static void write16_at_the_last_block_reads_back_with_read12(void **state)
{
	struct fix *f = *state;
	uint8_t buf[512];

	memset(buf, 0xc3, sizeof(buf));
	f->out = buf;
	f->out_len = sizeof(buf);
	fix_run(f, RW16(0x8a, 0, LAST_LBA, 1), 512);
	fix_assert_good(&f->task);
	f->out = NULL;
	f->out_len = 0;
	fix_run(f, RW12(0xa8, 0, LAST_LBA, 1), 512);
	fix_assert_good(&f->task);
	assert_memory_equal(f->task.in_buf, buf, sizeof(buf));
}

static void write6_then_read6_returns_the_data(void **state)
{
	struct fix *f = *state;
	uint8_t buf[512];

	memset(buf, 0x11, sizeof(buf));
	f->out = buf;
	f->out_len = sizeof(buf);
	fix_run(f, RW6(0x0a, 7, 1), 512);
	fix_assert_good(&f->task);
	f->out = NULL;
	f->out_len = 0;
	fix_run(f, RW6(0x08, 7, 1), 512);
	assert_memory_equal(f->task.in_buf, buf, sizeof(buf));
}

/* SBC-3 5.8: READ(6) TRANSFER LENGTH 0 means 256 blocks. */
static void read6_with_zero_length_reads_256_blocks(void **state)
{
	struct fix *f = *state;

	fix_run(f, RW6(0x08, 0, 0), 256 * 512);
	fix_assert_good(&f->task);
	assert_int_equal(f->task.xfer_len, 256 * 512);
	assert_int_equal(f->task.in_len, 256 * 512);
}

/* SBC-3 5.9: READ(10) TRANSFER LENGTH 0 is not an error and moves nothing. */
static void read10_with_zero_length_is_good_without_data(void **state)
{
	struct fix *f = *state;

	fix_run(f, RW10(0x28, 0, 5, 0), 0);
	fix_assert_good(&f->task);
	assert_int_equal(f->task.in_len, 0);
	assert_int_equal(f->task.xfer_len, 0);
	assert_int_equal(lu_stats(f)->reads, 0);
}

static void read10_with_zero_length_past_the_end_is_lba_out_of_range(void **state)
{
	struct fix *f = *state;

	fix_run(f, RW10(0x28, 0, FIX_BLOCKS, 0), 0);
	fix_assert_sense(&f->task, 0x5, 0x21, 0x00);
}

/* SBC-3 4.5: any block past the last LBA. */
static void read10_crossing_the_end_is_lba_out_of_range(void **state)
{
	struct fix *f = *state;

	fix_run(f, RW10(0x28, 0, LAST_LBA, 2), 1024);
	fix_assert_sense(&f->task, 0x5, 0x21, 0x00);
	assert_int_equal(f->task.in_len, 0);
}

static void read16_with_huge_lba_is_lba_out_of_range(void **state)
{
	struct fix *f = *state;

	fix_run(f,
		FIX_CDB(0x88, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0, 0),
		512);
	fix_assert_sense(&f->task, 0x5, 0x21, 0x00);
}

static void write12_past_the_end_is_lba_out_of_range(void **state)
{
	struct fix *f = *state;
	uint8_t buf[512] = {0};

	f->out = buf;
	f->out_len = sizeof(buf);
	fix_run(f, RW12(0xaa, 0, FIX_BLOCKS, 1), 512);
	fix_assert_sense(&f->task, 0x5, 0x21, 0x00);
	assert_int_equal(lu_stats(f)->writes, 0);
}

static void read6_past_the_end_is_lba_out_of_range(void **state)
{
	struct fix *f = *state;

	fix_run(f, RW6(0x08, FIX_BLOCKS - 10, 20), 20 * 512);
	fix_assert_sense(&f->task, 0x5, 0x21, 0x00);
}

/* VPD B0h MAXIMUM TRANSFER LENGTH: 8 MiB = 16384 blocks of 512. */
static void transfer_longer_than_maximum_is_invalid_field(void **state)
{
	struct fix *f = *state;

	fix_run(f, RW16(0x88, 0, 0, 16385), 16385 * 512);
	fix_assert_invalid_field(&f->task, 10);
}

/* SBC-3 4.22: no protection information: RDPROTECT must be 0. */
static void read_with_rdprotect_is_invalid_field(void **state)
{
	struct fix *f = *state;

	fix_run(f, RW10(0x28, 0x20, 0, 1), 512);
	fix_assert_invalid_field(&f->task, 1);
}

/* RFC 7143 11.4.5.1: Data-In stops at the expected transfer length. */
static void read_longer_than_edtl_returns_edtl_bytes(void **state)
{
	struct fix *f = *state;

	fix_run(f, RW10(0x28, 0, 0, 4), 1000);
	fix_assert_good(&f->task);
	assert_int_equal(f->task.in_len, 1000);
	assert_int_equal(f->task.xfer_len, 2048);
}

/*
 * RFC 7143 11.4.5.1 overflow: WRITE(10) of 2 blocks with 1 block of Data-Out
 * writes that block only; the transport reports the overflow residual.
 */
static void write_with_fewer_whole_blocks_of_data_out_writes_only_those(void **state)
{
	struct fix *f = *state;
	uint8_t b[512], expect[1024];

	write_pattern(f, 0, 2, 'a');
	memset(b, 'b', sizeof(b));
	f->out = b;
	f->out_len = sizeof(b);
	fix_run(f, RW10(0x2a, 0, 0, 2), 512);
	fix_assert_good(&f->task);
	assert_int_equal(f->task.xfer_len, 1024);
	f->out = NULL;
	f->out_len = 0;
	fix_run(f, RW10(0x28, 0, 0, 2), 1024);
	memset(expect, 'b', 512);
	memset(expect + 512, 'a', 512);
	assert_memory_equal(f->task.in_buf, expect, sizeof(expect));
}

static void write_without_data_out_writes_nothing(void **state)
{
	struct fix *f = *state;

	fix_run(f, RW10(0x2a, 0, 0, 1), 0);
	fix_assert_good(&f->task);
	assert_int_equal(f->task.xfer_len, 512);
	assert_int_equal(lu_stats(f)->writes, 0);
}

static void write_with_data_out_ending_inside_a_block_is_invalid_field_in_iu(void **state)
{
	struct fix *f = *state;
	uint8_t b[200] = {0};

	f->out = b;
	f->out_len = sizeof(b);
	fix_run(f, RW10(0x2a, 0, 0, 1), sizeof(b));
	fix_assert_sense(&f->task, 0x5, 0x0e, 0x03);
	assert_int_equal(lu_stats(f)->writes, 0);
}

/* SBC-3 4.11: writes to a write-protected LU: DATA PROTECT / WRITE PROTECTED. */
static void write_to_read_only_lu_is_write_protected(void **state)
{
	struct fix *f = *state;
	uint8_t buf[512] = {0};
	struct scsi_lu *ro;

	f->cfg.readonly = true;
	assert_int_equal(scsi_lu_create(&f->cfg, &ro), 0);
	f->out = buf;
	f->out_len = sizeof(buf);
	fix_run_on(f, ro, NULL, RW10(0x2a, 0, 0, 1), 512);
	fix_assert_sense(&f->task, 0x7, 0x27, 0x00);
	scsi_lu_put(ro);
}

static void read_from_read_only_lu_is_good(void **state)
{
	struct fix *f = *state;
	struct scsi_lu *ro;

	f->cfg.readonly = true;
	assert_int_equal(scsi_lu_create(&f->cfg, &ro), 0);
	fix_run_on(f, ro, NULL, RW10(0x28, 0, 0, 1), 512);
	fix_assert_good(&f->task);
	assert_int_equal(f->task.in_len, 512);
	scsi_lu_put(ro);
}

/* SBC-3 5.38: FUA=1: the write reaches stable storage before GOOD. */
static void write_with_fua_is_submitted_durable(void **state)
{
	struct fix *f = *state;
	uint8_t buf[512] = {0};

	f->out = buf;
	f->out_len = sizeof(buf);
	fix_run(f, RW10(0x2a, 0x08, 0, 1), 512);
	fix_assert_good(&f->task);
	assert_int_equal(lu_stats(f)->fua_writes, 1);
}

static void write_without_fua_is_not_durable_yet(void **state)
{
	struct fix *f = *state;

	write_pattern(f, 0, 1, 0);
	assert_int_equal(lu_stats(f)->fua_writes, 0);
	assert_int_equal(lu_stats(f)->writes, 1);
}

/* SBC-3 5.22: SYNCHRONIZE CACHE flushes the volatile cache. */
static void synchronize_cache10_flushes(void **state)
{
	struct fix *f = *state;

	fix_run(f, FIX_CDB(0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0), 0);
	fix_assert_good(&f->task);
	assert_int_equal(lu_stats(f)->flushes, 1);
}

static void synchronize_cache16_of_a_range_flushes(void **state)
{
	struct fix *f = *state;

	fix_run(f, RW16(0x91, 0, 10, 100), 0);
	fix_assert_good(&f->task);
	assert_int_equal(lu_stats(f)->flushes, 1);
}

static void synchronize_cache_past_the_end_is_lba_out_of_range(void **state)
{
	struct fix *f = *state;

	fix_run(f, FIX_CDB(0x35, 0, 0, 0, 0x07, 0xff, 0, 0, 2, 0), 0);
	fix_assert_sense(&f->task, 0x5, 0x21, 0x00);
	assert_int_equal(lu_stats(f)->flushes, 0);
}

static void synchronize_cache_on_read_only_lu_needs_no_flush(void **state)
{
	struct fix *f = *state;
	struct scsi_lu *ro;

	f->cfg.readonly = true;
	assert_int_equal(scsi_lu_create(&f->cfg, &ro), 0);
	fix_run_on(f, ro, NULL, FIX_CDB(0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0), 0);
	fix_assert_good(&f->task);
	assert_int_equal(backend_stats(ro->be)->flushes, 0);
	scsi_lu_put(ro);
}

/* SBC-3 5.15: last LBA and block length. */
static void read_capacity10_reports_last_lba_and_block_length(void **state)
{
	struct fix *f = *state;

	fix_run(f, FIX_CDB(0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0), 8);
	fix_assert_good(&f->task);
	assert_int_equal(f->task.in_len, 8);
	assert_int_equal(get_be32(f->task.in_buf), LAST_LBA);
	assert_int_equal(get_be32(f->task.in_buf + 4), 512);
}

static void read_capacity10_with_lba_but_no_pmi_is_invalid_field(void **state)
{
	struct fix *f = *state;

	fix_run(f, FIX_CDB(0x25, 0, 0, 0, 0, 1, 0, 0, 0, 0), 8);
	fix_assert_invalid_field(&f->task, 2);
}

static void read_capacity16_reports_last_lba_and_thin_provisioning(void **state)
{
	struct fix *f = *state;

	fix_run(f, FIX_CDB(0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0), 32);
	fix_assert_good(&f->task);
	assert_int_equal(f->task.in_len, 32);
	assert_int_equal(get_be64(f->task.in_buf), LAST_LBA);
	assert_int_equal(get_be32(f->task.in_buf + 8), 512);
	/* SBC-3 5.16: the temp file can punch holes: LBPME and LBPRZ. */
	assert_int_equal(f->task.in_buf[14] & 0xc0, 0xc0);
}

static void read_capacity16_is_truncated_to_allocation_length(void **state)
{
	struct fix *f = *state;

	fix_run(f, FIX_CDB(0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12, 0, 0), 32);
	fix_assert_good(&f->task);
	assert_int_equal(f->task.in_len, 12);
}

static void block_size_4096_is_reported(void **state)
{
	struct fix *f = *state;
	struct scsi_lu *lu;

	f->cfg.block_size = 4096;
	assert_int_equal(scsi_lu_create(&f->cfg, &lu), 0);
	fix_run_on(f, lu, NULL, FIX_CDB(0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0), 8);
	assert_int_equal(get_be32(f->task.in_buf), FIX_BLOCKS / 8 - 1);
	assert_int_equal(get_be32(f->task.in_buf + 4), 4096);
	scsi_lu_put(lu);
}

static void start_stop_unit_is_accepted(void **state)
{
	struct fix *f = *state;

	fix_run(f, FIX_CDB(0x1b, 0, 0, 0, 0x01, 0), 0);
	fix_assert_good(&f->task);
}

/* SBC-3 6.5.3: MAXIMUM TRANSFER LENGTH 8 MiB in blocks. */
static void block_limits_page_reports_maximum_transfer_length(void **state)
{
	struct fix *f = *state;

	fix_run(f, FIX_CDB(0x12, 1, 0xb0, 0, 255, 0), 255);
	fix_assert_good(&f->task);
	assert_int_equal(get_be16(f->task.in_buf + 2), 0x3c);
	assert_int_equal(get_be32(f->task.in_buf + 8), 16384);
	assert_int_equal(get_be32(f->task.in_buf + 24), 256); /* MAXIMUM UNMAP BLOCK DESCRIPTORS */
}

static void block_characteristics_page_reports_non_rotating_medium(void **state)
{
	struct fix *f = *state;

	fix_run(f, FIX_CDB(0x12, 1, 0xb1, 0, 255, 0), 255);
	fix_assert_good(&f->task);
	assert_int_equal(get_be16(f->task.in_buf + 4), 1);
}

/* SBC-3 6.5.4: LBPU, LBPWS, LBPWS10 and LBPRZ, thin provisioning. */
static void provisioning_page_claims_unmap_and_write_same(void **state)
{
	struct fix *f = *state;

	fix_run(f, FIX_CDB(0x12, 1, 0xb2, 0, 255, 0), 255);
	fix_assert_good(&f->task);
	assert_int_equal(get_be16(f->task.in_buf + 2), 4);
	assert_int_equal(f->task.in_buf[5], 0x80 | 0x40 | 0x20 | 0x04);
	assert_int_equal(f->task.in_buf[6] & 0x07, 0x02);
}

/* The store shrank under the LU: the short read is an unrecovered read error. */
static void read_past_a_shrunk_file_is_medium_error(void **state)
{
	struct fix *f = *state;

	assert_int_equal(truncate(f->path, 512), 0);
	fix_run(f, RW10(0x28, 0, 8, 1), 512);
	fix_assert_sense(&f->task, 0x3, 0x11, 0x00);
	assert_int_equal(f->task.in_len, 0);
	assert_null(f->task.in_buf);
	assert_int_equal(lu_stats(f)->errors, 1);
}

static void read_buffer_allocation_failure_is_busy(void **state)
{
	struct fix *f = *state;

	fix_malloc_fail_in = 1; /* the data buffer (not zeroed: malloc) */
	fix_run(f, RW10(0x28, 0, 0, 1), 512);
	assert_int_equal(f->task.status, SCSI_STATUS_BUSY);
	assert_null(f->task.in_buf);
}

static void io_request_allocation_failure_is_busy(void **state)
{
	struct fix *f = *state;

	fix_calloc_fail_in = 1; /* the data buffer (malloc) succeeds, the request does not */
	fix_run(f, RW10(0x28, 0, 0, 1), 512);
	assert_int_equal(f->task.status, SCSI_STATUS_BUSY);
	assert_int_equal(f->task.in_len, 0);
	assert_int_equal(lu_stats(f)->reads, 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, fix_setup, fix_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(write10_then_read10_returns_the_data),
		T(write16_at_the_last_block_reads_back_with_read12),
		T(write6_then_read6_returns_the_data),
		T(read6_with_zero_length_reads_256_blocks),
		T(read10_with_zero_length_is_good_without_data),
		T(read10_with_zero_length_past_the_end_is_lba_out_of_range),
		T(read10_crossing_the_end_is_lba_out_of_range),
		T(read16_with_huge_lba_is_lba_out_of_range),
		T(write12_past_the_end_is_lba_out_of_range),
		T(read6_past_the_end_is_lba_out_of_range),
		T(transfer_longer_than_maximum_is_invalid_field),
		T(read_with_rdprotect_is_invalid_field),
		T(read_longer_than_edtl_returns_edtl_bytes),
		T(write_with_fewer_whole_blocks_of_data_out_writes_only_those),
		T(write_without_data_out_writes_nothing),
		T(write_with_data_out_ending_inside_a_block_is_invalid_field_in_iu),
		T(write_to_read_only_lu_is_write_protected),
		T(read_from_read_only_lu_is_good),
		T(write_with_fua_is_submitted_durable),
		T(write_without_fua_is_not_durable_yet),
		T(synchronize_cache10_flushes),
		T(synchronize_cache16_of_a_range_flushes),
		T(synchronize_cache_past_the_end_is_lba_out_of_range),
		T(synchronize_cache_on_read_only_lu_needs_no_flush),
		T(read_capacity10_reports_last_lba_and_block_length),
		T(read_capacity10_with_lba_but_no_pmi_is_invalid_field),
		T(read_capacity16_reports_last_lba_and_thin_provisioning),
		T(read_capacity16_is_truncated_to_allocation_length),
		T(block_size_4096_is_reported),
		T(start_stop_unit_is_accepted),
		T(block_limits_page_reports_maximum_transfer_length),
		T(block_characteristics_page_reports_non_rotating_medium),
		T(provisioning_page_claims_unmap_and_write_same),
		T(read_past_a_shrunk_file_is_medium_error),
		T(read_buffer_allocation_failure_is_busy),
		T(io_request_allocation_failure_is_busy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
