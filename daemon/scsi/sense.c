/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one place that turns sense reasons into status and sense bytes. */
#include <string.h>

#include "scsi/scsi.h"
#include "scsi/sense.h"
#include "util/be.h"

/* SPC-4 4.5.6 Table 27: sense keys. */
enum {
	SENSE_KEY_NO_SENSE = 0x0,
	SENSE_KEY_NOT_READY = 0x2,
	SENSE_KEY_MEDIUM_ERROR = 0x3,
	SENSE_KEY_HARDWARE_ERROR = 0x4,
	SENSE_KEY_ILLEGAL_REQUEST = 0x5,
	SENSE_KEY_UNIT_ATTENTION = 0x6,
	SENSE_KEY_DATA_PROTECT = 0x7,
	SENSE_KEY_COPY_ABORTED = 0xa,
	SENSE_KEY_MISCOMPARE = 0xe,
};

struct sense_code {
	uint8_t status;
	uint8_t key;
	uint8_t asc;
	uint8_t ascq;
};

/* clang-format off */
#define CHECK(k, a, q) {SCSI_STATUS_CHECK_CONDITION, SENSE_KEY_##k, a, q}
/* clang-format on */

static const struct sense_code sense_codes[SENSE_REASON_COUNT] = {
	[SENSE_OK] = {SCSI_STATUS_GOOD, SENSE_KEY_NO_SENSE, 0x00, 0x00},
	[SENSE_ASYNC] = {SCSI_STATUS_GOOD, SENSE_KEY_NO_SENSE, 0x00, 0x00},
	[SENSE_BUSY] = {SCSI_STATUS_BUSY, SENSE_KEY_NO_SENSE, 0x00, 0x00},
	[SENSE_RESERVATION_CONFLICT] = {SCSI_STATUS_RESERVATION_CONFLICT, 0, 0, 0},
	[SENSE_INVALID_OPCODE] = CHECK(ILLEGAL_REQUEST, 0x20, 0x00),
	[SENSE_INVALID_FIELD_IN_CDB] = CHECK(ILLEGAL_REQUEST, 0x24, 0x00),
	[SENSE_INVALID_FIELD_IN_PARAM] = CHECK(ILLEGAL_REQUEST, 0x26, 0x00),
	[SENSE_PARAM_LIST_LENGTH_ERROR] = CHECK(ILLEGAL_REQUEST, 0x1a, 0x00),
	[SENSE_INVALID_FIELD_IN_IU] = CHECK(ILLEGAL_REQUEST, 0x0e, 0x03),
	[SENSE_LBA_OUT_OF_RANGE] = CHECK(ILLEGAL_REQUEST, 0x21, 0x00),
	[SENSE_LUN_NOT_SUPPORTED] = CHECK(ILLEGAL_REQUEST, 0x25, 0x00),
	[SENSE_SAVING_PARAMS_NOT_SUPPORTED] = CHECK(ILLEGAL_REQUEST, 0x39, 0x00),
	[SENSE_WRITE_PROTECTED] = CHECK(DATA_PROTECT, 0x27, 0x00),
	[SENSE_SPACE_ALLOC_FAILED] = CHECK(DATA_PROTECT, 0x27, 0x07),
	[SENSE_READ_ERROR] = CHECK(MEDIUM_ERROR, 0x11, 0x00),
	[SENSE_WRITE_ERROR] = CHECK(MEDIUM_ERROR, 0x0c, 0x00),
	[SENSE_INTERNAL_FAILURE] = CHECK(HARDWARE_ERROR, 0x44, 0x00),
	[SENSE_MISCOMPARE] = CHECK(MISCOMPARE, 0x1d, 0x00),
	[SENSE_SOFT_WRITE_PROTECTED] = CHECK(DATA_PROTECT, 0x27, 0x02),
	[SENSE_REMOVAL_PREVENTED] = CHECK(ILLEGAL_REQUEST, 0x53, 0x02),
	[SENSE_TOO_MANY_TARGET_DESCS] = CHECK(ILLEGAL_REQUEST, 0x26, 0x06),
	[SENSE_UNSUPPORTED_TARGET_DESC] = CHECK(ILLEGAL_REQUEST, 0x26, 0x07),
	[SENSE_TOO_MANY_SEGMENT_DESCS] = CHECK(ILLEGAL_REQUEST, 0x26, 0x08),
	[SENSE_UNSUPPORTED_SEGMENT_DESC] = CHECK(ILLEGAL_REQUEST, 0x26, 0x09),
	[SENSE_COPY_ABORTED] = CHECK(COPY_ABORTED, 0x00, 0x00),
	[SENSE_COPY_TARGET_UNREACHABLE] = CHECK(COPY_ABORTED, 0x0d, 0x02),
	[SENSE_COPY_READ_ERROR] = CHECK(COPY_ABORTED, 0x11, 0x00),
	[SENSE_COPY_WRITE_ERROR] = CHECK(COPY_ABORTED, 0x0c, 0x00),
	[SENSE_INVALID_RELEASE_OF_PR] = CHECK(ILLEGAL_REQUEST, 0x26, 0x04),
	[SENSE_SANITIZE_IN_PROGRESS] = CHECK(NOT_READY, 0x04, 0x1b),
	[SENSE_MEDIUM_NOT_PRESENT] = CHECK(NOT_READY, 0x3a, 0x00),
	[SENSE_LU_STANDBY] = CHECK(NOT_READY, 0x04, 0x0b),
	[SENSE_UA_POWER_ON] = CHECK(UNIT_ATTENTION, 0x29, 0x00),
	[SENSE_UA_LU_RESET] = CHECK(UNIT_ATTENTION, 0x29, 0x03),
	[SENSE_UA_NEXUS_LOSS] = CHECK(UNIT_ATTENTION, 0x29, 0x07),
	[SENSE_UA_MODE_PARAMS_CHANGED] = CHECK(UNIT_ATTENTION, 0x2a, 0x01),
	[SENSE_UA_RESERVATIONS_PREEMPTED] = CHECK(UNIT_ATTENTION, 0x2a, 0x03),
	[SENSE_UA_RESERVATIONS_RELEASED] = CHECK(UNIT_ATTENTION, 0x2a, 0x04),
	[SENSE_UA_REGISTRATIONS_PREEMPTED] = CHECK(UNIT_ATTENTION, 0x2a, 0x05),
	[SENSE_UA_CAPACITY_CHANGED] = CHECK(UNIT_ATTENTION, 0x2a, 0x09),
	[SENSE_UA_LUNS_CHANGED] = CHECK(UNIT_ATTENTION, 0x3f, 0x0e),
	[SENSE_UA_MEDIUM_CHANGED] = CHECK(UNIT_ATTENTION, 0x28, 0x00),
};

static const struct sense_code *sense_code_get(enum sense_reason reason)
{
	if ((unsigned int)reason >= SENSE_REASON_COUNT)
		reason = SENSE_INTERNAL_FAILURE;
	return &sense_codes[reason];
}

uint8_t sense_status(enum sense_reason reason)
{
	return sense_code_get(reason)->status;
}

bool sense_is_ua(enum sense_reason reason)
{
	return reason >= SENSE_UA_POWER_ON && reason < SENSE_REASON_COUNT;
}

bool sense_is_reset_ua(enum sense_reason reason)
{
	return reason == SENSE_UA_POWER_ON || reason == SENSE_UA_LU_RESET ||
	       reason == SENSE_UA_NEXUS_LOSS;
}

/* SPC-4 4.5.2.4.2 Table 31: SKSV, C/D, BPV, bit pointer, field pointer. */
static void sense_sks_put(uint8_t *p, const struct sense_field *field)
{
	p[0] = 0x80;
	if (field->in_cdb)
		p[0] |= 0x40;
	if (field->bit >= 0 && field->bit <= 7)
		p[0] |= 0x08 | (uint8_t)field->bit;
	put_be16(p + 1, field->byte);
}

size_t sense_build(enum sense_reason reason, const struct sense_field *field, bool desc,
		   uint8_t *out, size_t cap)
{
	const struct sense_code *c = sense_code_get(reason);
	bool sks = field && field->valid;
	bool info = field && field->info_valid;
	size_t len = 0, pos;

	if (c->status != SCSI_STATUS_GOOD && c->status != SCSI_STATUS_CHECK_CONDITION)
		goto out;
	if (reason == SENSE_ASYNC)
		goto out;
	if (desc) {
		/* SPC-4 4.5.2: descriptor format, current error. */
		len = 8 + (info ? 12 : 0) + (sks ? 8 : 0);
		if (cap < len) {
			len = 0;
			goto out;
		}
		memset(out, 0, len);
		out[0] = 0x72;
		out[1] = c->key;
		out[2] = c->asc;
		out[3] = c->ascq;
		out[7] = (uint8_t)(len - 8);
		pos = 8;
		if (info) {
			/* 4.5.2.2: information sense data descriptor, VALID set. */
			out[pos] = 0x00;
			out[pos + 1] = 0x0a;
			out[pos + 2] = 0x80;
			put_be64(out + pos + 4, field->info);
			pos += 12;
		}
		if (sks) {
			/* 4.5.2.4.1: sense key specific sense data descriptor. */
			out[pos] = 0x02;
			out[pos + 1] = 0x06;
			sense_sks_put(out + pos + 4, field);
		}
	} else {
		/* SPC-4 4.5.3: fixed format, current error. */
		len = SENSE_FIXED_LEN;
		if (cap < len) {
			len = 0;
			goto out;
		}
		memset(out, 0, len);
		out[0] = 0x70;
		out[2] = c->key;
		out[7] = SENSE_FIXED_LEN - 8;
		out[12] = c->asc;
		out[13] = c->ascq;
		/* INFORMATION holds 32 bits here; larger values need descriptor format. */
		if (info && field->info <= 0xffffffffu) {
			out[0] |= 0x80; /* VALID */
			put_be32(out + 3, (uint32_t)field->info);
		}
		if (sks)
			sense_sks_put(out + 15, field);
	}
out:
	return len;
}
