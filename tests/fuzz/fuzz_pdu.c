/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PDU decode (RFC 7143 section 11.2): iscsi_bhs_check() on a 48-byte BHS,
 * iscsi_ahs_find() over an AHS list and the CRC32C digest functions over
 * arbitrary bytes.
 *
 * Input: 4 bytes of MaxRecvDataSegmentLength, 1 byte AHS type to look
 * for, a 48-byte BHS, then the rest (the AHS list, and the data segment).
 * Every buffer handed to the code is an exact-size heap copy, so ASan
 * catches a read one byte past its end.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz_common.h"
#include "iscsi/pdu.h"

static void fuzz_pdu_bhs(const uint8_t *bhs, uint32_t max_recv_dsl)
{
	int rc = iscsi_bhs_check(bhs, max_recv_dsl);

	/* \return 0, a reject reason (11.17.1), or -EPROTO. */
	FUZZ_CHECK(rc == 0 || rc == -EPROTO ||
		   (rc >= ISCSI_REJECT_DATA_DIGEST && rc <= ISCSI_REJECT_WAITING_FOR_LOGOUT));
	/* A header within the limit is never made connection-fatal. */
	if (iscsi_bhs_dslen(bhs) <= max_recv_dsl)
		FUZZ_CHECK(rc != -EPROTO);
	FUZZ_CHECK(iscsi_opcode_name(iscsi_bhs_opcode(bhs)) != NULL);
	FUZZ_CHECK(iscsi_bhs_ahs_len(bhs) <= 255 * 4);
}

static void fuzz_pdu_ahs(const uint8_t *ahs, uint32_t len, uint8_t type)
{
	volatile uint8_t sink = 0;
	const uint8_t *p;
	uint32_t plen, i;

	p = iscsi_ahs_find(ahs, len, type, &plen);
	if (!p) {
		FUZZ_CHECK(plen == 0 || plen == UINT32_MAX);
		return;
	}
	FUZZ_CHECK(p >= ahs && p <= ahs + len);
	FUZZ_CHECK(plen <= (uint32_t)(ahs + len - p));
	for (i = 0; i < plen; i++)
		sink ^= p[i];
	(void)sink;
}

static void fuzz_pdu_digest(const uint8_t *data, uint32_t len)
{
	static const uint8_t zeros[4];
	uint8_t wire[ISCSI_DIGEST_LEN];
	uint32_t whole, split, half = len / 2;

	/* Accumulating over two pieces gives the digest of the whole. */
	whole = iscsi_crc32c(ISCSI_CRC32C_SEED, data, len);
	split = iscsi_crc32c(iscsi_crc32c(ISCSI_CRC32C_SEED, data, half), data + half, len - half);
	FUZZ_CHECK(whole == split);
	/* iscsi_digest_data() covers the data and its zero padding (11.2.4). */
	whole = iscsi_crc32c_final(iscsi_crc32c(whole, zeros, iscsi_pad_len(len)));
	FUZZ_CHECK(whole == iscsi_digest_data(data, len));
	iscsi_digest_put(wire, whole);
	FUZZ_CHECK(iscsi_digest_get(wire) == whole);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	uint8_t bhs[ISCSI_BHS_LEN] = {0};
	uint32_t max_recv_dsl = fuzz_u32(&in) & 0xffffff;
	uint8_t type = fuzz_u8(&in);
	const uint8_t *p;
	uint8_t *copy;
	size_t got;

	p = fuzz_take(&in, ISCSI_BHS_LEN, &got);
	memcpy(bhs, p, got);
	fuzz_pdu_bhs(bhs, max_recv_dsl);

	copy = malloc(in.n ? in.n : 1);
	if (!copy)
		return 0;
	memcpy(copy, in.p, in.n);
	fuzz_pdu_ahs(copy, (uint32_t)in.n, type);
	/* As the connection does: only TotalAHSLength bytes are AHS. */
	if (iscsi_bhs_ahs_len(bhs) <= in.n)
		fuzz_pdu_ahs(copy, iscsi_bhs_ahs_len(bhs), type);
	fuzz_pdu_digest(copy, (uint32_t)in.n);
	free(copy);
	return 0;
}
