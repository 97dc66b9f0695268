/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Sense reasons: what SCSI handlers return. sense.c is the only place that
 * turns a reason into a status and sense bytes (SPC-4 4.5).
 */
#ifndef HATGT_SCSI_SENSE_H
#define HATGT_SCSI_SENSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sense_reason {
	SENSE_OK = 0,			   /* GOOD; as sense data: NO SENSE 00/00 */
	SENSE_ASYNC,			   /* handler started I/O; it completes the task later */
	SENSE_BUSY,			   /* BUSY status, no sense: out of resources, retry */
	SENSE_RESERVATION_CONFLICT,	   /* RESERVATION CONFLICT status, no sense */
	SENSE_INVALID_OPCODE,		   /* 5/20/00 */
	SENSE_INVALID_FIELD_IN_CDB,	   /* 5/24/00 */
	SENSE_INVALID_FIELD_IN_PARAM,	   /* 5/26/00 */
	SENSE_PARAM_LIST_LENGTH_ERROR,	   /* 5/1A/00 */
	SENSE_INVALID_FIELD_IN_IU,	   /* 5/0E/03 INVALID FIELD IN INFORMATION UNIT */
	SENSE_LBA_OUT_OF_RANGE,		   /* 5/21/00 */
	SENSE_LUN_NOT_SUPPORTED,	   /* 5/25/00 */
	SENSE_SAVING_PARAMS_NOT_SUPPORTED, /* 5/39/00 */
	SENSE_WRITE_PROTECTED,		   /* 7/27/00 */
	SENSE_SPACE_ALLOC_FAILED,	   /* 7/27/07: thin provisioning ran out (ENOSPC) */
	SENSE_READ_ERROR,		   /* 3/11/00 UNRECOVERED READ ERROR */
	SENSE_WRITE_ERROR,		   /* 3/0C/00 */
	SENSE_INTERNAL_FAILURE,		   /* 4/44/00 INTERNAL TARGET FAILURE */
	SENSE_MISCOMPARE,		   /* E/1D/00 MISCOMPARE DURING VERIFY OPERATION */
	SENSE_SOFT_WRITE_PROTECTED,	   /* 7/27/02 LOGICAL UNIT SOFTWARE WRITE PROTECTED */
	SENSE_REMOVAL_PREVENTED,	   /* 5/53/02 MEDIUM REMOVAL PREVENTED */
	SENSE_TOO_MANY_TARGET_DESCS,	   /* 5/26/06 TOO MANY TARGET DESCRIPTORS */
	SENSE_UNSUPPORTED_TARGET_DESC,	   /* 5/26/07 UNSUPPORTED TARGET DESCRIPTOR TYPE CODE */
	SENSE_TOO_MANY_SEGMENT_DESCS,	   /* 5/26/08 TOO MANY SEGMENT DESCRIPTORS */
	SENSE_UNSUPPORTED_SEGMENT_DESC,	   /* 5/26/09 UNSUPPORTED SEGMENT DESCRIPTOR TYPE CODE */
	SENSE_COPY_ABORTED,		   /* A/00/00 COPY ABORTED (e.g. a segment past the end) */
	SENSE_COPY_TARGET_UNREACHABLE,	   /* A/0D/02 COPY TARGET DEVICE NOT REACHABLE */
	SENSE_COPY_READ_ERROR,		   /* A/11/00 COPY ABORTED, UNRECOVERED READ ERROR */
	SENSE_COPY_WRITE_ERROR,		   /* A/0C/00 COPY ABORTED, WRITE ERROR */
	SENSE_INVALID_RELEASE_OF_PR,	   /* 5/26/04 INVALID RELEASE OF PERSISTENT RESERVATION */
	SENSE_SANITIZE_IN_PROGRESS, /* 2/04/1B LOGICAL UNIT NOT READY, SANITIZE IN PROGRESS */
	SENSE_MEDIUM_NOT_PRESENT,   /* 2/3A/00 MEDIUM NOT PRESENT */
	/* 2/04/0B LOGICAL UNIT NOT ACCESSIBLE, TARGET PORT IN STANDBY STATE
	 * (SPC-4 5.16.2.4.4): the LU's backing store is closed (cluster node
	 * not promoted). */
	SENSE_LU_STANDBY,
	/* Unit attentions (SAM-5 5.14, SPC-4 Table F.1); sense key 6. */
	SENSE_UA_POWER_ON,		  /* 29/00 POWER ON, RESET, OR BUS DEVICE RESET OCCURRED */
	SENSE_UA_LU_RESET,		  /* 29/03 BUS DEVICE RESET FUNCTION OCCURRED */
	SENSE_UA_NEXUS_LOSS,		  /* 29/07 I_T NEXUS LOSS OCCURRED */
	SENSE_UA_MODE_PARAMS_CHANGED,	  /* 2A/01 */
	SENSE_UA_RESERVATIONS_PREEMPTED,  /* 2A/03 */
	SENSE_UA_RESERVATIONS_RELEASED,	  /* 2A/04 */
	SENSE_UA_REGISTRATIONS_PREEMPTED, /* 2A/05 */
	SENSE_UA_CAPACITY_CHANGED,	  /* 2A/09 */
	SENSE_UA_LUNS_CHANGED,		  /* 3F/0E REPORTED LUNS DATA HAS CHANGED */
	SENSE_UA_MEDIUM_CHANGED, /* 28/00 NOT READY TO READY CHANGE, MEDIUM MAY HAVE CHANGED */
	SENSE_REASON_COUNT
};

/* SPC-4 4.5.2.4.2: the sense-key-specific field pointer of an ILLEGAL REQUEST. */
struct sense_field {
	bool valid;
	bool in_cdb;   /* C/D: the error is in the CDB (else in parameter data) */
	uint16_t byte; /* field pointer: the byte in error */
	int8_t bit;    /* bit pointer 0..7, or -1 when the whole byte is meant */
	/* SPC-4 4.5.2.2 / 4.5.3: the INFORMATION field (e.g. the offset of a
	 * MISCOMPARE, SBC-3 5.3 and 5.34), independent of the field pointer. */
	bool info_valid;
	uint64_t info;
};

/* Sense data sizes we produce: fixed (SPC-4 4.5.3) and descriptor (4.5.2)
 * with an information descriptor and a sense-key-specific descriptor. */
#define SENSE_FIXED_LEN 18
#define SENSE_DESC_LEN_MAX 28

/** The SCSI status a reason ends the command with. */
uint8_t sense_status(enum sense_reason reason);
/** True for unit attention reasons (sense key UNIT ATTENTION). */
bool sense_is_ua(enum sense_reason reason);
/** Unit attentions of the 29h family (power on, reset, nexus loss) clear
 * every other queued unit attention (SAM-5 5.14). */
bool sense_is_reset_ua(enum sense_reason reason);
/**
 * Build sense data for \p reason into \p out (\p cap bytes).
 * \param field  sense-key-specific field pointer and INFORMATION, or NULL
 * \param desc   descriptor format (0x72) instead of fixed (0x70)
 * \return bytes written (0 for reasons without sense data: SENSE_BUSY,
 * SENSE_RESERVATION_CONFLICT, SENSE_ASYNC, or cap too small). SENSE_OK
 * builds NO SENSE data, as REQUEST SENSE returns it.
 */
size_t sense_build(enum sense_reason reason, const struct sense_field *field, bool desc,
		   uint8_t *out, size_t cap);

#endif
