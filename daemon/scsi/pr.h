/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SPC-4 persistent reservations (and SPC-2 RESERVE/RELEASE) as a pure state
 * machine: libc only, no globals, clocks, sockets or logging.
 *
 *   pr_out_parse()  CDB + parameter list -> struct pr_cmd (validated)
 *   pr_cmd_encode() / pr_cmd_decode()     versioned bytes that the committer
 *                                         replicates (design.md section 3)
 *   pr_apply()      state + command -> new state + result (status, unit
 *                   attentions, nexuses to abort, whether to persist)
 *   pr_check()      does a command of a class conflict for this nexus?
 *   pr_in_build()   PERSISTENT RESERVE IN data
 *   pr_state_encode() / pr_state_decode() versioned state (APTPL, snapshot)
 *
 * Registrants are I_T nexuses identified by value: the iSCSI initiator
 * port name ("<iSCSI name>,i,0x<ISID>", SPC-4 7.6.4.6 format 01b) plus the
 * relative target port identifier. A registration made through a format
 * 00b TransportID (iSCSI name without ISID) covers every initiator port of
 * that iSCSI node. hatgt has one target port per target, so ALL_TG_PT
 * registers on that one port (the bit is kept for READ FULL STATUS).
 *
 * Clause numbers are those of SPC-4 r37 (5.12 Reservations, 6.15
 * PERSISTENT RESERVE IN, 6.16 PERSISTENT RESERVE OUT, 7.6.4 TransportIDs).
 */
#ifndef HATGT_SCSI_PR_H
#define HATGT_SCSI_PR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Initiator port name with its NUL, as SCSI_PORT_NAME_MAX (scsi.h). */
#define PR_PORT_MAX 256
/* SPC-4 7.6.4.6: an iSCSI name is at most 223 bytes. */
#define PR_ISCSI_NAME_MAX 223
/* Registrations per LU before INSUFFICIENT REGISTRATION RESOURCES. */
#define PR_REGS_MAX 128
/* TransportIDs in one SPEC_I_PT parameter list. */
#define PR_TIDS_MAX PR_REGS_MAX
/* PERSISTENT RESERVE OUT parameter lists longer than this are refused. */
#define PR_PARAM_MAX (28 + PR_TIDS_MAX * 264)
/* Byte format versions. */
#define PR_CMD_VERSION 1
#define PR_STATE_VERSION 1

/* SPC-4 6.16.2 Table 217: PERSISTENT RESERVE OUT service actions. */
enum pr_sa {
	PR_SA_REGISTER = 0x0,
	PR_SA_RESERVE = 0x1,
	PR_SA_RELEASE = 0x2,
	PR_SA_CLEAR = 0x3,
	PR_SA_PREEMPT = 0x4,
	PR_SA_PREEMPT_ABORT = 0x5,
	PR_SA_REGISTER_IGNORE = 0x6,
	PR_SA_REGISTER_MOVE = 0x7,
};

/* SPC-4 6.15.1 Table 199: PERSISTENT RESERVE IN service actions. */
enum pr_in_sa {
	PR_IN_READ_KEYS = 0x0,
	PR_IN_READ_RESERVATION = 0x1,
	PR_IN_REPORT_CAPABILITIES = 0x2,
	PR_IN_READ_FULL_STATUS = 0x3,
};

/* SPC-4 6.15.3.4 Table 205: persistent reservation types. */
enum pr_type {
	PR_TYPE_NONE = 0x0,
	PR_TYPE_WE = 0x1,   /* Write Exclusive */
	PR_TYPE_EA = 0x3,   /* Exclusive Access */
	PR_TYPE_WERO = 0x5, /* Write Exclusive, Registrants Only */
	PR_TYPE_EARO = 0x6, /* Exclusive Access, Registrants Only */
	PR_TYPE_WEAR = 0x7, /* Write Exclusive, All Registrants */
	PR_TYPE_EAAR = 0x8, /* Exclusive Access, All Registrants */
};

/* What a command is, for the conflict check (SPC-4 5.12.1, SBC-3 4.17). */
enum pr_class {
	PR_CLASS_ALLOWED, /* allowed under every reservation: INQUIRY, TUR, ... */
	PR_CLASS_READ,	  /* reads the medium */
	PR_CLASS_WRITE,	  /* writes the medium, and every other command */
	PR_CLASS_PR,	  /* PERSISTENT RESERVE IN/OUT: only SPC-2 reservations conflict */
};

/* The kinds of command message. */
enum pr_cmd_kind {
	PR_CMD_OUT = 1,	       /* PERSISTENT RESERVE OUT */
	PR_CMD_RESERVE = 2,    /* SPC-2 RESERVE(6)/(10) */
	PR_CMD_RELEASE = 3,    /* SPC-2 RELEASE(6)/(10) */
	PR_CMD_NEXUS_LOSS = 4, /* I_T nexus loss: release its SPC-2 reservation */
	PR_CMD_LU_RESET = 5,   /* LOGICAL UNIT RESET: release the SPC-2 reservation */
};

/* How a command ended (SPC-4 sense: see spc_pr.c). */
enum pr_status {
	PR_OK = 0,
	PR_CONFLICT,	    /* RESERVATION CONFLICT */
	PR_BAD_CDB,	    /* 5/24/00 INVALID FIELD IN CDB */
	PR_BAD_PARAM,	    /* 5/26/00 INVALID FIELD IN PARAMETER LIST */
	PR_BAD_PARAM_LEN,   /* 5/1A/00 PARAMETER LIST LENGTH ERROR */
	PR_NO_RESOURCES,    /* 5/55/04 INSUFFICIENT REGISTRATION RESOURCES */
	PR_INVALID_RELEASE, /* 5/26/04 INVALID RELEASE OF PERSISTENT RESERVATION */
};

/* Unit attentions a command establishes (SPC-4 Table F.1, ASC 2Ah). */
enum pr_ua {
	PR_UA_RESERVATIONS_PREEMPTED = 0x03,
	PR_UA_RESERVATIONS_RELEASED = 0x04,
	PR_UA_REGISTRATIONS_PREEMPTED = 0x05,
};

/* An I_T nexus by value. port is NUL terminated; without ",i,0x" it names
 * an iSCSI node (every initiator port of it). */
struct pr_nexus {
	char port[PR_PORT_MAX];
	uint16_t rtpi;
};

struct pr_reg {
	struct pr_nexus nexus;
	uint64_t key;
	bool all_tg_pt;
};

struct pr_state {
	uint32_t generation;	/* PRgeneration (SPC-4 6.15.2) */
	bool aptpl;		/* SPC-4 5.12.5: persist through power loss */
	uint8_t type;		/* enum pr_type; PR_TYPE_NONE: no persistent reservation */
	uint8_t scope;		/* always 0 (LU_SCOPE) while reserved */
	struct pr_nexus holder; /* the holder, unless type is an all registrants type */
	bool spc2_reserved;	/* SPC-2 RESERVE(6)/(10) */
	struct pr_nexus spc2_holder;
	struct pr_reg *regs;
	size_t nregs;
};

struct pr_cmd {
	uint8_t kind; /* enum pr_cmd_kind */
	uint8_t sa;   /* enum pr_sa (PR_CMD_OUT) */
	uint8_t scope;
	uint8_t type;
	bool spec_i_pt, all_tg_pt, aptpl, unreg;
	uint16_t move_rtpi; /* REGISTER AND MOVE: RELATIVE TARGET PORT IDENTIFIER */
	uint64_t key;	    /* RESERVATION KEY */
	uint64_t sa_key;    /* SERVICE ACTION RESERVATION KEY */
	uint8_t lu_id[16];  /* opaque to this module: which LU (its NAA) */
	uint8_t lu_id_len;
	struct pr_nexus nexus; /* the I_T nexus the command came through */
	struct pr_nexus *tids; /* SPEC_I_PT ports, or the REGISTER AND MOVE one */
	size_t ntids;
};

/* A unit attention to establish for every I_T nexus of nexus.port. */
struct pr_ua_entry {
	struct pr_nexus nexus;
	uint8_t ascq; /* enum pr_ua */
};

struct pr_result {
	uint8_t status; /* enum pr_status */
	bool field_valid;
	bool field_in_cdb;
	uint16_t field_byte;
	int8_t field_bit; /* -1: the whole byte */
	bool changed;	  /* the state changed */
	bool persist;	  /* changed and APTPL is (or was) in effect: write the state */
	struct pr_ua_entry *uas;
	size_t nuas;
	struct pr_nexus *aborts; /* PREEMPT AND ABORT: abort these nexuses' tasks */
	size_t naborts;
};

/* What the device server can do, for parsing and REPORT CAPABILITIES. */
struct pr_caps {
	bool ptpl; /* APTPL can be honoured (a state_dir exists) */
};

/** \return a new empty state, or NULL on ENOMEM. */
struct pr_state *pr_state_create(void);
/** Accepts NULL. */
void pr_state_destroy(struct pr_state *s);
/** Deep copy. \return 0 or -ENOMEM. */
int pr_state_clone(const struct pr_state *s, struct pr_state **out);
/** True when both states are the same (registrations in the same order). */
bool pr_state_equal(const struct pr_state *a, const struct pr_state *b);

/**
 * Decode a PERSISTENT RESERVE OUT CDB (10 bytes) and its parameter list
 * (\p len bytes) received through \p nexus into \p cmd (kind PR_CMD_OUT;
 * lu_id is left empty). Checks everything that does not depend on the state.
 * \return 0 (cmd filled; pr_cmd_release() it), -EINVAL with res->status and
 * field set (nothing to release), or -ENOMEM.
 */
int pr_out_parse(const uint8_t *cdb, const uint8_t *param, size_t len, const struct pr_nexus *nexus,
		 const struct pr_caps *caps, struct pr_cmd *cmd, struct pr_result *res);
/** Free what a command owns (tids). Accepts a zeroed command. */
void pr_cmd_release(struct pr_cmd *cmd);

/** Encode \p cmd; *out is malloc'd, the caller frees it. \return 0 or -ENOMEM. */
int pr_cmd_encode(const struct pr_cmd *cmd, uint8_t **out, size_t *len);
/** Strict decode. \return 0, -EINVAL (malformed: wrong version, length,
 * count, flag, string) or -ENOMEM; on error nothing to release. */
int pr_cmd_decode(const uint8_t *buf, size_t len, struct pr_cmd *cmd);

/**
 * Apply \p cmd to \p s (SPC-4 5.12). On success *res tells the outcome and
 * the side effects (pr_result_release() it); a command that fails with a
 * SCSI status leaves the state unchanged.
 * \return 0, or -ENOMEM (state unchanged, nothing in res).
 */
int pr_apply(struct pr_state *s, const struct pr_cmd *cmd, struct pr_result *res);
void pr_result_release(struct pr_result *res);

/** SPC-4 5.12.1 / SPC-2 5.5.1: true when a command of class \p cls from
 * \p nexus conflicts with the reservations in \p s. */
bool pr_check(const struct pr_state *s, const struct pr_nexus *nexus, enum pr_class cls);

/** True when \p reg (a registration's port) covers the initiator port \p port. */
bool pr_port_covers(const char *reg, const char *port);
/** True when \p nexus is registered / holds the persistent reservation. */
bool pr_is_registered(const struct pr_state *s, const struct pr_nexus *nexus);
bool pr_is_holder(const struct pr_state *s, const struct pr_nexus *nexus);

/**
 * PERSISTENT RESERVE IN data for service action \p sa (SPC-4 6.15), whole
 * (the caller truncates to the ALLOCATION LENGTH). *out is malloc'd.
 * \return 0, -EINVAL (unknown service action) or -ENOMEM.
 */
int pr_in_build(const struct pr_state *s, uint8_t sa, const struct pr_caps *caps, uint8_t **out,
		size_t *len);

/** Encode \p s; *out is malloc'd. \return 0 or -ENOMEM. */
int pr_state_encode(const struct pr_state *s, uint8_t **out, size_t *len);
/** Strict decode. \return 0 and *out, -EINVAL (malformed) or -ENOMEM. */
int pr_state_decode(const uint8_t *buf, size_t len, struct pr_state **out);

/** Parse one iSCSI TransportID (SPC-4 7.6.4.6) at \p p (\p avail bytes).
 * \return its length (> 0) and the port name in \p port, or -EINVAL. */
int pr_tid_parse(const uint8_t *p, size_t avail, char *port);
/** Build the TransportID of \p port (format 01b with an ISID, else 00b).
 * \return its length, or -EINVAL when \p cap is too small. */
int pr_tid_build(const char *port, uint8_t *out, size_t cap);

/** Short name of a type ("WE", "EARO"...) or "none" / "invalid". */
const char *pr_type_name(uint8_t type);

/*
 * Unit attentions kept for I_T nexuses that are not connected to this
 * node (SAM-5 5.14: a UA belongs to the I_T nexus, initiator port name +
 * relative target port id, which is the same on every node of a cluster).
 * A PR change applied on a standby raises UAs for nexuses logged in to the
 * promoted node; kept here, they reach the initiator when it logs in after
 * a failover. Entries are keyed by LU id and nexus, oldest first, without
 * duplicates, bounded: the oldest is dropped to make room.
 */
#define PR_UA_PENDING_MAX 4096

struct pr_ua_pending;

/** \return an empty table of at most \p max (1..PR_UA_PENDING_MAX) entries,
 * or NULL (ENOMEM, or max out of range). */
struct pr_ua_pending *pr_ua_pending_create(size_t max);
/** Accepts NULL. */
void pr_ua_pending_destroy(struct pr_ua_pending *t);
/** Entries held; 0 for NULL. */
size_t pr_ua_pending_count(const struct pr_ua_pending *t);
/** Keep \p ua for LU \p lu_id. \return 0 (kept, or already pending), 1 (kept,
 * the oldest entry was dropped to make room), -EINVAL (bad LU id length,
 * ASCQ or port) or -ENOMEM (table unchanged). */
int pr_ua_pending_add(struct pr_ua_pending *t, const uint8_t *lu_id, uint8_t lu_id_len,
		      const struct pr_ua_entry *ua);
/** Remove the entries of LU \p lu_id that cover \p nexus (same rtpi; the
 * entry's port is the nexus' port or its iSCSI node) and store their ASCQs
 * (enum pr_ua), oldest first, in \p ascq (at most \p cap). \return how many. */
size_t pr_ua_pending_take(struct pr_ua_pending *t, const uint8_t *lu_id, uint8_t lu_id_len,
			  const struct pr_nexus *nexus, uint8_t *ascq, size_t cap);
/** Remove every entry of LU \p lu_id (the LU is gone). Accepts NULL. */
void pr_ua_pending_forget(struct pr_ua_pending *t, const uint8_t *lu_id, uint8_t lu_id_len);
/** Deep copy. \return 0, or -ENOMEM with *out NULL. */
int pr_ua_pending_clone(const struct pr_ua_pending *t, struct pr_ua_pending **out);
/** Versioned bytes (for the cluster snapshot); *out is malloc'd. \return 0 or -ENOMEM. */
int pr_ua_pending_encode(const struct pr_ua_pending *t, uint8_t **out, size_t *len);
/** Strict decode into a table of at most \p max entries. \return 0 and *out,
 * -EINVAL (malformed: version, count, LU id, ASCQ, port, duplicate, trailing
 * bytes) or -ENOMEM; on error *out is NULL. */
int pr_ua_pending_decode(const uint8_t *buf, size_t len, size_t max, struct pr_ua_pending **out);

#endif
