/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for the iSCSI PDU codec (daemon/iscsi/pdu.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "iscsi/pdu.h"

/* RFC 7143 appendix B.4 (CRC32C examples): the digest bytes as sent. */
static void check_vector(const uint8_t *data, size_t len, const uint8_t expect[4])
{
	uint8_t wire[4];

	iscsi_digest_put(wire, iscsi_crc32c_final(iscsi_crc32c(ISCSI_CRC32C_SEED, data, len)));
	assert_memory_equal(wire, expect, 4);
}

static void crc32c_matches_rfc7143_examples(void **state)
{
	uint8_t buf[32];
	static const uint8_t zeros[4] = {0xaa, 0x36, 0x91, 0x8a};
	static const uint8_t ones[4] = {0x43, 0xab, 0xa8, 0x62};
	static const uint8_t incr[4] = {0x4e, 0x79, 0xdd, 0x46};
	static const uint8_t decr[4] = {0x5c, 0xdb, 0x3f, 0x11};
	int i;

	memset(buf, 0, sizeof(buf));
	check_vector(buf, sizeof(buf), zeros);
	memset(buf, 0xff, sizeof(buf));
	check_vector(buf, sizeof(buf), ones);
	for (i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	check_vector(buf, sizeof(buf), incr);
	for (i = 0; i < 32; i++)
		buf[i] = (uint8_t)(31 - i);
	check_vector(buf, sizeof(buf), decr);
}

static void crc32c_accumulates_across_buffers(void **state)
{
	uint8_t buf[100];
	uint32_t whole, parts;
	int i;

	for (i = 0; i < 100; i++)
		buf[i] = (uint8_t)(i * 7);
	whole = iscsi_crc32c(ISCSI_CRC32C_SEED, buf, sizeof(buf));
	parts = iscsi_crc32c(iscsi_crc32c(ISCSI_CRC32C_SEED, buf, 37), buf + 37, 63);
	assert_int_equal(whole, parts);
}

static void data_digest_covers_padding(void **state)
{
	const uint8_t data[5] = {1, 2, 3, 4, 5};
	const uint8_t padded[8] = {1, 2, 3, 4, 5, 0, 0, 0};

	assert_int_equal(iscsi_digest_data(data, 5),
			 iscsi_crc32c_final(iscsi_crc32c(ISCSI_CRC32C_SEED, padded, 8)));
}

static void digest_is_little_endian_on_the_wire(void **state)
{
	uint8_t b[4];

	iscsi_digest_put(b, 0x11223344);
	assert_int_equal(b[0], 0x44);
	assert_int_equal(b[3], 0x11);
	assert_int_equal(iscsi_digest_get(b), 0x11223344);
}

static void pad_rounds_to_four(void **state)
{
	assert_int_equal(iscsi_pad_len(0), 0);
	assert_int_equal(iscsi_pad_len(1), 3);
	assert_int_equal(iscsi_pad_len(4), 0);
	assert_int_equal(iscsi_pad_len(4095), 1);
}

static void bhs_fields_decode(void **state)
{
	uint8_t bhs[ISCSI_BHS_LEN] = {0};

	bhs[0] = ISCSI_BHS_IMMEDIATE | ISCSI_OP_SCSI_CMD;
	bhs[ISCSI_OFF_AHSLEN] = 5;
	iscsi_bhs_set_dslen(bhs, 0x012345);
	assert_int_equal(iscsi_bhs_opcode(bhs), ISCSI_OP_SCSI_CMD);
	assert_true(iscsi_bhs_immediate(bhs));
	assert_int_equal(iscsi_bhs_ahs_len(bhs), 20);
	assert_int_equal(iscsi_bhs_dslen(bhs), 0x012345);
	assert_int_equal(bhs[5], 0x01);
	assert_int_equal(bhs[7], 0x45);
}

static void bhs_check_rejects_target_opcodes(void **state)
{
	uint8_t bhs[ISCSI_BHS_LEN] = {0};

	bhs[0] = ISCSI_OP_SCSI_RSP;
	assert_int_equal(iscsi_bhs_check(bhs, 8192), ISCSI_REJECT_PROTOCOL_ERROR);
	bhs[0] = 0x1f; /* unassigned initiator opcode */
	assert_int_equal(iscsi_bhs_check(bhs, 8192), ISCSI_REJECT_PROTOCOL_ERROR);
	bhs[0] = ISCSI_OP_NOP_OUT;
	assert_int_equal(iscsi_bhs_check(bhs, 8192), 0);
}

static void bhs_check_closes_on_oversized_data_segment(void **state)
{
	uint8_t bhs[ISCSI_BHS_LEN] = {0};

	bhs[0] = ISCSI_OP_DATA_OUT;
	iscsi_bhs_set_dslen(bhs, 8193);
	assert_int_equal(iscsi_bhs_check(bhs, 8192), -EPROTO);
	iscsi_bhs_set_dslen(bhs, 8192);
	assert_int_equal(iscsi_bhs_check(bhs, 8192), 0);
}

static void bhs_check_rejects_data_on_logout(void **state)
{
	uint8_t bhs[ISCSI_BHS_LEN] = {0};

	bhs[0] = ISCSI_OP_LOGOUT_REQ;
	iscsi_bhs_set_dslen(bhs, 4);
	assert_int_equal(iscsi_bhs_check(bhs, 8192), ISCSI_REJECT_PROTOCOL_ERROR);
}

static void ahs_find_extended_cdb(void **state)
{
	/* A 32-byte CDB: 16 bytes in the BHS, 16 in an extended CDB AHS whose
	 * AHSLength counts its reserved byte: 17, padded to 20 (11.2.2). */
	uint8_t ahs[24] = {0};
	const uint8_t *p;
	uint32_t len;

	ahs[1] = 17;
	ahs[2] = ISCSI_AHS_EXTENDED_CDB;
	ahs[4] = 0xab;
	p = iscsi_ahs_find(ahs, 20, ISCSI_AHS_EXTENDED_CDB, &len);
	assert_non_null(p);
	assert_int_equal(len, 16);
	assert_int_equal(p[0], 0xab);
	assert_null(iscsi_ahs_find(ahs, 20, ISCSI_AHS_BIDI_READ_LEN, &len));
	assert_int_equal(len, 0);
}

static void ahs_find_flags_malformed_length(void **state)
{
	uint8_t ahs[8] = {0};
	uint32_t len;

	ahs[1] = 200; /* claims more than there is */
	ahs[2] = ISCSI_AHS_EXTENDED_CDB;
	assert_null(iscsi_ahs_find(ahs, sizeof(ahs), ISCSI_AHS_EXTENDED_CDB, &len));
	assert_int_equal(len, UINT32_MAX);
	assert_null(iscsi_ahs_find(ahs, 3, ISCSI_AHS_EXTENDED_CDB, &len));
	assert_int_equal(len, UINT32_MAX);
}

static void serial_numbers_compare_across_wrap(void **state)
{
	/* RFC 1982 arithmetic, as CmdSN and StatSN use it (4.2.2.1). */
	assert_true(iscsi_sn_lt(0xfffffff0u, 5));
	assert_false(iscsi_sn_lt(5, 0xfffffff0u));
	assert_true(iscsi_sn_le(7, 7));
	assert_false(iscsi_sn_lt(7, 7));
}

static void isid_formats_as_twelve_hex_digits(void **state)
{
	const uint8_t isid[6] = {0x80, 0x12, 0x34, 0x56, 0x00, 0x01};
	char s[13];

	iscsi_isid_str(isid, s, sizeof(s));
	assert_string_equal(s, "801234560001");
}

static void opcode_names_cover_unknown(void **state)
{
	assert_string_equal(iscsi_opcode_name(ISCSI_OP_DATA_OUT), "Data-Out");
	assert_string_equal(iscsi_opcode_name(0x1e), "unknown opcode");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(crc32c_matches_rfc7143_examples),
		cmocka_unit_test(crc32c_accumulates_across_buffers),
		cmocka_unit_test(data_digest_covers_padding),
		cmocka_unit_test(digest_is_little_endian_on_the_wire),
		cmocka_unit_test(pad_rounds_to_four),
		cmocka_unit_test(bhs_fields_decode),
		cmocka_unit_test(bhs_check_rejects_target_opcodes),
		cmocka_unit_test(bhs_check_closes_on_oversized_data_segment),
		cmocka_unit_test(bhs_check_rejects_data_on_logout),
		cmocka_unit_test(ahs_find_extended_cdb),
		cmocka_unit_test(ahs_find_flags_malformed_length),
		cmocka_unit_test(serial_numbers_compare_across_wrap),
		cmocka_unit_test(isid_formats_as_twelve_hex_digits),
		cmocka_unit_test(opcode_names_cover_unknown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
