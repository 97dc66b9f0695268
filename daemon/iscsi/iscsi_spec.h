/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iSCSI wire format (RFC 7143 section 11): opcodes, flags and the byte
 * offsets of fields in the 48-byte Basic Header Segment. Fields are read and
 * written with the accessors in util/be.h; nothing here is cast onto a
 * buffer, so there are no alignment or padding questions.
 */
#ifndef HATGT_ISCSI_SPEC_H
#define HATGT_ISCSI_SPEC_H

#include <stdint.h>

#define ISCSI_BHS_LEN 48
#define ISCSI_DIGEST_LEN 4
#define ISCSI_RSVD_TAG 0xffffffffu /* reserved ITT/TTT value (11.1) */

/* Opcodes (11.1.1). Initiator opcodes 0x00-0x1f, target 0x20-0x3f. */
enum iscsi_opcode {
	ISCSI_OP_NOP_OUT = 0x00,
	ISCSI_OP_SCSI_CMD = 0x01,
	ISCSI_OP_TMF_REQ = 0x02,
	ISCSI_OP_LOGIN_REQ = 0x03,
	ISCSI_OP_TEXT_REQ = 0x04,
	ISCSI_OP_DATA_OUT = 0x05,
	ISCSI_OP_LOGOUT_REQ = 0x06,
	ISCSI_OP_SNACK = 0x10,
	ISCSI_OP_NOP_IN = 0x20,
	ISCSI_OP_SCSI_RSP = 0x21,
	ISCSI_OP_TMF_RSP = 0x22,
	ISCSI_OP_LOGIN_RSP = 0x23,
	ISCSI_OP_TEXT_RSP = 0x24,
	ISCSI_OP_DATA_IN = 0x25,
	ISCSI_OP_LOGOUT_RSP = 0x26,
	ISCSI_OP_R2T = 0x31,
	ISCSI_OP_ASYNC = 0x32,
	ISCSI_OP_REJECT = 0x3f,
};

/* Byte 0 */
#define ISCSI_BHS_IMMEDIATE 0x40
#define ISCSI_BHS_OPCODE_MASK 0x3f

/* Byte 1 flags */
#define ISCSI_FLAG_FINAL 0x80
#define ISCSI_FLAG_CONTINUE 0x40 /* Login/Text C bit */
#define ISCSI_FLAG_TRANSIT 0x80	 /* Login T bit */
#define ISCSI_CMD_READ 0x40	 /* SCSI Command R bit */
#define ISCSI_CMD_WRITE 0x20	 /* SCSI Command W bit */
#define ISCSI_CMD_ATTR_MASK 0x07
#define ISCSI_RSP_BIDI_OVERFLOW 0x10
#define ISCSI_RSP_BIDI_UNDERFLOW 0x08
#define ISCSI_RSP_OVERFLOW 0x04	 /* SCSI Response and Data-In O bit */
#define ISCSI_RSP_UNDERFLOW 0x02 /* U bit */
#define ISCSI_DATAIN_ACK 0x40
#define ISCSI_DATAIN_STATUS 0x01
#define ISCSI_LOGIN_CSG_SHIFT 2
#define ISCSI_LOGIN_STAGE_MASK 0x03
#define ISCSI_TMF_FUNC_MASK 0x7f
#define ISCSI_LOGOUT_REASON_MASK 0x7f

/* Common offsets (11.2.1) */
#define ISCSI_OFF_OPCODE 0
#define ISCSI_OFF_FLAGS 1
#define ISCSI_OFF_BYTE2 2
#define ISCSI_OFF_BYTE3 3
#define ISCSI_OFF_AHSLEN 4 /* TotalAHSLength, in 4-byte words */
#define ISCSI_OFF_DSLEN 5  /* DataSegmentLength, 24 bits */
#define ISCSI_OFF_LUN 8
#define ISCSI_OFF_ITT 16
#define ISCSI_OFF_TTT 20
#define ISCSI_OFF_SN 24	   /* CmdSN (initiator) / StatSN (target) */
#define ISCSI_OFF_EXPSN 28 /* ExpStatSN (initiator) / ExpCmdSN (target) */
#define ISCSI_OFF_MAXCMDSN 32
#define ISCSI_OFF_DATASN 36 /* DataSN, R2TSN, ExpDataSN */
#define ISCSI_OFF_BUFOFF 40
#define ISCSI_OFF_RESID 44 /* Residual Count, R2T Desired Data Transfer Length */

/* SCSI Command (11.3) */
#define ISCSI_OFF_EDTL 20
#define ISCSI_OFF_CDB 32
#define ISCSI_CDB_LEN 16
/* SCSI Response (11.4) */
#define ISCSI_OFF_RESPONSE 2
#define ISCSI_OFF_STATUS 3
#define ISCSI_OFF_BIDI_RESID 40
/* Task Management (11.5, 11.6) */
#define ISCSI_OFF_RTT 20
#define ISCSI_OFF_REFCMDSN 32
/* Login (11.12, 11.13) */
#define ISCSI_OFF_VMAX 2
#define ISCSI_OFF_VMIN 3
#define ISCSI_OFF_ISID 8
#define ISCSI_OFF_TSIH 14
#define ISCSI_OFF_CID 20
#define ISCSI_OFF_LOGIN_STATUS 36
/* Logout (11.14, 11.15) */
#define ISCSI_OFF_LOGOUT_CID 20
#define ISCSI_OFF_TIME2WAIT 40
#define ISCSI_OFF_TIME2RETAIN 42
/* Async (11.9) */
#define ISCSI_OFF_ASYNC_EVENT 36
#define ISCSI_OFF_ASYNC_VCODE 37
#define ISCSI_OFF_ASYNC_PARAM1 38
#define ISCSI_OFF_ASYNC_PARAM2 40
#define ISCSI_OFF_ASYNC_PARAM3 42

/* AHS types (11.2.1.2) */
#define ISCSI_AHS_EXTENDED_CDB 1
#define ISCSI_AHS_BIDI_READ_LEN 2

/* Reject reasons (11.17.1) */
enum iscsi_reject_reason {
	ISCSI_REJECT_DATA_DIGEST = 0x02,
	ISCSI_REJECT_SNACK = 0x03,
	ISCSI_REJECT_PROTOCOL_ERROR = 0x04,
	ISCSI_REJECT_CMD_NOT_SUPPORTED = 0x05,
	ISCSI_REJECT_IMM_CMD = 0x06,
	ISCSI_REJECT_TASK_IN_PROGRESS = 0x07,
	ISCSI_REJECT_INVALID_DATA_ACK = 0x08,
	ISCSI_REJECT_INVALID_PDU_FIELD = 0x09,
	ISCSI_REJECT_OUT_OF_RESOURCES = 0x0a,
	ISCSI_REJECT_NEGOTIATION_RESET = 0x0b,
	ISCSI_REJECT_WAITING_FOR_LOGOUT = 0x0c,
};

/* Task management functions (11.5.1) and responses (11.6.1) */
enum iscsi_tmf_func {
	ISCSI_TMF_ABORT_TASK = 1,
	ISCSI_TMF_ABORT_TASK_SET = 2,
	ISCSI_TMF_CLEAR_ACA = 3,
	ISCSI_TMF_CLEAR_TASK_SET = 4,
	ISCSI_TMF_LUN_RESET = 5,
	ISCSI_TMF_TARGET_WARM_RESET = 6,
	ISCSI_TMF_TARGET_COLD_RESET = 7,
	ISCSI_TMF_TASK_REASSIGN = 8,
};

enum iscsi_tmf_rsp {
	ISCSI_TMF_RSP_COMPLETE = 0,
	ISCSI_TMF_RSP_NO_TASK = 1,
	ISCSI_TMF_RSP_NO_LUN = 2,
	ISCSI_TMF_RSP_TASK_ALLEGIANT = 3,
	ISCSI_TMF_RSP_NO_REASSIGN = 4,
	ISCSI_TMF_RSP_NOT_SUPPORTED = 5,
	ISCSI_TMF_RSP_AUTH_FAILED = 6,
	ISCSI_TMF_RSP_REJECTED = 255,
};

/* Logout reasons (11.14.1) and responses (11.15.1) */
#define ISCSI_LOGOUT_CLOSE_SESSION 0
#define ISCSI_LOGOUT_CLOSE_CONNECTION 1
#define ISCSI_LOGOUT_REMOVE_FOR_RECOVERY 2
#define ISCSI_LOGOUT_RSP_OK 0
#define ISCSI_LOGOUT_RSP_CID_NOT_FOUND 1
#define ISCSI_LOGOUT_RSP_NO_RECOVERY 2

/* Async events (11.9.1) */
#define ISCSI_ASYNC_SCSI_EVENT 0
#define ISCSI_ASYNC_LOGOUT_REQUEST 1
#define ISCSI_ASYNC_DROP_CONNECTION 2
#define ISCSI_ASYNC_DROP_ALL 3
#define ISCSI_ASYNC_NEGOTIATE 4

/* SCSI Response "Response" field (11.4.3) */
#define ISCSI_RESPONSE_COMPLETED 0x00
#define ISCSI_RESPONSE_TARGET_FAILURE 0x01

#define ISCSI_LOGIN_MAX_DSL 8192 /* data segment limit during login (13.12) */

#endif
