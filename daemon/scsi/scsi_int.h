/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internals shared by the files of the SCSI layer (scsi.c dispatch, spc.c,
 * sbc.c, lu.c, itn.c). Nothing outside daemon/scsi/ includes this.
 */
#ifndef HATGT_SCSI_INT_H
#define HATGT_SCSI_INT_H

#include "backend/backend.h"
#include "scsi/scsi.h"
#include "scsi/sense.h"
#include "util/buf.h"

/* VPD B0h MAXIMUM TRANSFER LENGTH, in bytes; longer transfers get INVALID FIELD IN CDB. */
#define SCSI_MAX_XFER_BYTES (8u * 1024 * 1024)
/* Unit attentions queued per (LU, I_T nexus) before new ones are dropped. */
#define SCSI_UA_QUEUE_MAX 8

/* EXTENDED COPY (LID1) results kept per LU for RECEIVE COPY RESULTS (SPC-4 6.18.3). */
#define SCSI_COPY_RESULTS_MAX 8

struct scsi_copy_result {
	bool used;
	uint8_t list_id;
	uint8_t status;	       /* SPC-4 Table 209 COPY MANAGER STATUS: 01h done, 02h failed */
	uint16_t segments;     /* SEGMENTS PROCESSED */
	uint64_t transfer;     /* TRANSFER COUNT in blocks */
	struct scsi_itn_id id; /* the nexus that sent the EXTENDED COPY */
};

/*
 * A range of blocks that a write-class command holds while it runs, so that
 * COMPARE AND WRITE (SBC-3 5.3: atomic against other writes) and ORWRITE
 * read-modify-write without another write landing in between. Overlapping
 * requests wait in FIFO order; granted() runs when the range is taken.
 */
struct scsi_range {
	uint64_t lba;
	uint64_t blocks;
	struct scsi_range *next;
	void (*granted)(struct scsi_range *range);
};

/* Unit attention state of one I_T nexus on one LU, keyed by the nexus identity. */
struct scsi_ua_slot {
	struct scsi_itn_id id;
	uint64_t instance; /* scsi_itn instance that last used the slot */
	uint8_t count;
	uint8_t queue[SCSI_UA_QUEUE_MAX]; /* enum sense_reason, oldest first */
	/* SBC-3 5.13: this nexus prevents medium removal (PREVENT 01b). The slot
	 * goes with the nexus, so I_T nexus loss allows removal again. */
	bool prevent;
};

struct pr_state;

struct scsi_lu {
	unsigned int refs;
	struct backend *be; /* NULL while detached (scsi_lu_attach/detach) */
	char *path;
	char *key_file; /* backend config kept for scsi_lu_attach() */
	uint64_t create_size;
	char *target_name;
	uint64_t nblocks;
	uint32_t block_size;
	unsigned int block_shift;
	/* SBC-3 5.16: LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT. */
	unsigned int pb_exp;
	bool readonly;
	/* SPC-4 6.6.2 RMB; SBC-3 5.25: the medium was ejected (LOEJ, START 0):
	 * media access commands get NOT READY, MEDIUM NOT PRESENT. */
	bool removable;
	bool medium_absent;
	/* SPC-4 6.6.2 standard INQUIRY strings: space padded, not NUL terminated. */
	char vendor[8];
	char product[16];
	char revision[4];
	char serial[33];
	uint8_t naa[16];
	uint8_t naa_len;
	uint16_t rtpi;
	uint16_t tpgt;
	struct scsi_ua_slot *ua;
	size_t ua_count;
	size_t ua_cap;
	/* Changeable mode parameters (MODE SELECT, SPC-4 6.9): caching page WCE,
	 * control page D_SENSE and SWP. Not saved: they reset on restart. */
	bool wce;
	bool d_sense;
	bool swp;
	/* SBC-3 4.11: a SANITIZE is running; most commands get NOT READY. */
	bool sanitizing;
	/* Write ranges held and waiting (sbc_job.c). */
	struct scsi_range *ranges_held;
	struct scsi_range *ranges_wait;
	struct scsi_copy_result copies[SCSI_COPY_RESULTS_MAX];
	struct pr_state *pr; /* persistent and SPC-2 reservations (spc_pr.c) */
	/* Every live LU, so that I_T nexus loss can drop its slots. */
	struct scsi_lu *prev;
	struct scsi_lu *next;
};

struct scsi_itn {
	struct scsi_itn_id id;
	uint64_t instance; /* unique per scsi_itn_create(): tells a new nexus from an old one */
};

/* One command being decoded and executed. */
struct scsi_cmd {
	struct scsi_task *task;
	struct scsi_lu *lu;
	const struct scsi_opcode *op;
	struct sense_field field; /* where an ILLEGAL REQUEST points */
};

typedef enum sense_reason (*scsi_handler)(struct scsi_cmd *cmd);

/* Dispatch table flags: what a command does, for the generic checks. */
#define SCSI_OP_READS_MEDIUM (1u << 0)	/* reads user data (PR checks: "read" class) */
#define SCSI_OP_WRITES_MEDIUM (1u << 1) /* writes user data (PR checks: "write" class) */
#define SCSI_OP_NO_LU (1u << 2)		/* works when no LU exists at the LUN */
#define SCSI_OP_UA_EXEMPT (1u << 3)	/* SAM-5 5.14: does not report/clear a UA */
/* Reservation check (spc_pr.c); commands with none of these and no READS_MEDIUM
 * flag conflict like writes (SPC-4 5.12.1, SBC-3 4.17). */
#define SCSI_OP_PR_ALLOWED (1u << 4) /* allowed under every reservation */
#define SCSI_OP_PR_CMD (1u << 5)     /* PR IN/OUT: only SPC-2 reservations conflict */
#define SCSI_OP_PR_OWN (1u << 6)     /* RESERVE/RELEASE: the handler decides */
/* Needs the medium: NOT READY, MEDIUM NOT PRESENT while it is ejected (SBC-3 5.25). */
#define SCSI_OP_MEDIUM (1u << 7)

/* One row per operation code. */
struct scsi_opcode {
	const char *name;
	scsi_handler handler;
	uint8_t cdb_len;
	uint8_t flags;
	uint32_t sa_mask; /* non-zero: allowed SERVICE ACTION values (CDB byte 1, bits 4-0) */
};

/* scsi.c */
const struct scsi_opcode *scsi_opcode_find(uint8_t opcode);
/** True when writes to the LU are refused (read-only config or SWP). */
bool scsi_lu_write_protected(const struct scsi_lu *lu);
struct backend_engine *scsi_engine(void);
/** Point the field pointer at CDB byte \p byte, bit \p bit (-1: whole byte)
 * and return SENSE_INVALID_FIELD_IN_CDB. */
enum sense_reason scsi_cmd_bad_field(struct scsi_cmd *cmd, uint16_t byte, int8_t bit);
/** Hand the response in \p b to the task as Data-In: the CDB asks for at
 * most \p alloc_len bytes (SPC-4 4.2.5.6), the transport for at most edtl.
 * Takes \p b's memory in every case. \return SENSE_OK or SENSE_BUSY. */
enum sense_reason scsi_cmd_data_in(struct scsi_cmd *cmd, struct buf *b, uint32_t alloc_len);
/** The same for a response built in a plain array. \return SENSE_OK or SENSE_BUSY. */
enum sense_reason scsi_cmd_data_in_bytes(struct scsi_cmd *cmd, const void *p, size_t len,
					 uint32_t alloc_len);
/** Set status and sense for \p reason and call done(). */
void scsi_task_finish(struct scsi_task *task, enum sense_reason reason,
		      const struct sense_field *field);

/* itn.c: unit attentions per (LU, I_T nexus). */
/** The slot for \p itn on \p lu; a nexus new to the LU gets a POWER ON UA.
 * \return NULL on ENOMEM. */
struct scsi_ua_slot *scsi_ua_slot_get(struct scsi_lu *lu, const struct scsi_itn *itn);
/** Queue \p reason for the nexus \p id (NULL: every nexus known to the LU). */
void scsi_ua_establish(struct scsi_lu *lu, const struct scsi_itn_id *id, enum sense_reason reason);
void scsi_ua_slot_queue(struct scsi_ua_slot *slot, enum sense_reason reason);
/** Take the oldest unit attention. \return SENSE_OK when none is pending. */
enum sense_reason scsi_ua_slot_pop(struct scsi_ua_slot *slot);
/** Drop the slot of the nexus \p instance (I_T nexus loss). */
void scsi_ua_slot_drop(struct scsi_lu *lu, uint64_t instance);
void scsi_ua_release(struct scsi_lu *lu);
/** SBC-3 5.13: true while any I_T nexus prevents medium removal. */
bool scsi_lu_removal_prevented(const struct scsi_lu *lu);
/** Allow medium removal for every nexus (LU reset, target reset). */
void scsi_lu_prevent_clear(struct scsi_lu *lu);

/** Queue \p reason for every nexus known to \p lu except the nexus \p itn. */
void scsi_ua_establish_others(struct scsi_lu *lu, const struct scsi_itn *itn,
			      enum sense_reason reason);

/* lu.c */
/** I_T nexus loss: drop the nexus' unit attention slots in every LU. */
void scsi_lu_all_itn_gone(const struct scsi_itn *itn);
/** Walk the live LUs: NULL gives the first. */
struct scsi_lu *scsi_lu_next(struct scsi_lu *lu);

/* spc_pr.c: reservations (SPC-4 5.12, SPC-2 RESERVE/RELEASE). */
enum sense_reason spc_cmd_pr_in(struct scsi_cmd *cmd);
enum sense_reason spc_cmd_pr_out(struct scsi_cmd *cmd);
enum sense_reason spc_cmd_reserve(struct scsi_cmd *cmd);
enum sense_reason spc_cmd_release(struct scsi_cmd *cmd);
/** RESERVATION CONFLICT or SENSE_OK for the command (dispatch path). */
enum sense_reason scsi_pr_check(struct scsi_cmd *cmd);
/** At LU creation: empty state, or the APTPL state from state_dir.
 * \return 0 or -errno (-EINVAL: corrupt state file, logged). */
int scsi_lu_pr_init(struct scsi_lu *lu);
void scsi_lu_pr_fini(struct scsi_lu *lu);
/** I_T nexus loss / LU reset: release the SPC-2 reservation (through the committer). */
void scsi_lu_pr_itn_gone(struct scsi_lu *lu, const struct scsi_itn_id *id);
void scsi_lu_pr_reset(struct scsi_lu *lu);
/** A nexus new to \p lu took its unit attention slot: queue the UAs kept for
 * its initiator port while it was not logged in here (spc_pr.c). */
void scsi_pr_ua_pending_deliver(struct scsi_lu *lu, struct scsi_ua_slot *slot);

/* pr_store.c: APTPL state files. \return 0 or -errno (logged). */
int pr_store_path(const char *dir, const uint8_t *naa, size_t naa_len, char *out, size_t cap);
int pr_store_write(const char *dir, const uint8_t *naa, size_t naa_len, uint64_t epoch,
		   uint64_t gen, const struct pr_state *s);
int pr_store_remove(const char *dir, const uint8_t *naa, size_t naa_len);
/** -ENOENT: no file; -EINVAL: corrupt or truncated (logged with the reason). */
int pr_store_read(const char *dir, const uint8_t *naa, size_t naa_len, uint64_t *epoch,
		  uint64_t *gen, struct pr_state **out);
int pr_store_parse(const uint8_t *file, size_t flen, const uint8_t *naa, size_t naa_len,
		   uint64_t *epoch, uint64_t *gen, struct pr_state **out, const char **why);
/** The live LU whose NAA designator is \p naa (\p len bytes), or NULL. */
struct scsi_lu *scsi_lu_find_naa(const uint8_t *naa, size_t len);

/* sbc_job.c: multi-step asynchronous commands and write range locks. */
/** Take \p range on \p lu. \return true when taken now; false when queued:
 * range->granted() runs once it is taken. */
bool scsi_range_lock(struct scsi_lu *lu, struct scsi_range *range);
/** Release a held range; waiters that no longer overlap are granted. */
void scsi_range_unlock(struct scsi_lu *lu, struct scsi_range *range);

struct sbc_job;
/*
 * One step of a job: called first with \p res 0 (after the job's range is
 * held), then after each I/O the step submitted with its result (bytes or
 * -errno). Returns SENSE_ASYNC after submitting more I/O, else the reason
 * the command ends with.
 */
typedef enum sense_reason (*sbc_job_fn)(struct sbc_job *job, int64_t res);

struct sbc_job {
	struct backend_io bio; /* first: the completion gives us back this */
	struct scsi_task *task;
	struct scsi_lu *lu;
	sbc_job_fn step;
	struct sense_field field; /* field pointer / INFORMATION of the final sense */
	struct scsi_range range;  /* blocks > 0: held for the whole job */
	bool range_held;
	int state;    /* the step's own progress marker */
	uint8_t *buf; /* scratch, freed with the job */
	size_t buf_len;
	uint64_t lba; /* command-specific: the blocks it works on */
	uint64_t blocks;
	uint64_t pos; /* blocks done so far */
	uint32_t flags;
	bool detached;		     /* the task already finished (IMMED): end silently */
	uint8_t opcode;		     /* of the command, for the log */
	void *ctx;		     /* command-specific, freed with the job */
	void (*ctx_free)(void *ctx); /* NULL: free() */
};

/** A job for \p cmd with first step \p step. \return NULL on ENOMEM. */
struct sbc_job *sbc_job_create(struct scsi_cmd *cmd, sbc_job_fn step);
/** Start the job: take job->range if it has blocks, then run the step. The
 * task is finished through the job, whatever happens: \return SENSE_ASYNC. */
enum sense_reason sbc_job_run(struct sbc_job *job);
/** Submit one backend request for the job. \return SENSE_ASYNC or the
 * reason submission failed. */
enum sense_reason sbc_job_io(struct sbc_job *job, struct backend *be, enum backend_op op,
			     uint64_t offset, uint64_t len, uint8_t *buf, uint32_t flags);
/** The sense reason for a failed I/O of \p op with \p res (-errno). */
enum sense_reason sbc_io_reason(enum backend_op op, int64_t res);
/** Finish the job's task now with GOOD and let the job run on without it
 * (IMMED). Call from a step; the job keeps its LU reference and range. */
void sbc_job_detach(struct sbc_job *job);
/** Free a job that never ran (sbc_job_run not called). Accepts NULL. */
void sbc_job_destroy(struct sbc_job *job);

/* spc.c */
enum sense_reason spc_cmd_test_unit_ready(struct scsi_cmd *cmd);
enum sense_reason spc_cmd_inquiry(struct scsi_cmd *cmd);
enum sense_reason spc_cmd_request_sense(struct scsi_cmd *cmd);
enum sense_reason spc_cmd_report_luns(struct scsi_cmd *cmd);
enum sense_reason spc_cmd_mode_sense(struct scsi_cmd *cmd);
enum sense_reason spc_cmd_mode_select(struct scsi_cmd *cmd);

/* spc_opcodes.c: MAINTENANCE IN (REPORT SUPPORTED OPERATION CODES / TMFs). */
enum sense_reason spc_cmd_maintenance_in(struct scsi_cmd *cmd);

/* sbc.c */
enum sense_reason sbc_cmd_read(struct scsi_cmd *cmd);
enum sense_reason sbc_cmd_write(struct scsi_cmd *cmd);
enum sense_reason sbc_cmd_sync_cache(struct scsi_cmd *cmd);
enum sense_reason sbc_cmd_read_capacity10(struct scsi_cmd *cmd);
enum sense_reason sbc_cmd_service_action_in(struct scsi_cmd *cmd);
enum sense_reason sbc_cmd_start_stop_unit(struct scsi_cmd *cmd);
enum sense_reason sbc_cmd_prevent_allow(struct scsi_cmd *cmd);
enum sense_reason sbc_cmd_read_defect_data(struct scsi_cmd *cmd);
enum sense_reason sbc_cmd_prefetch(struct scsi_cmd *cmd);
/** SBC-3 4.5: [lba, lba + blocks) inside the medium. */
bool sbc_range_ok(const struct scsi_lu *lu, uint64_t lba, uint64_t blocks);

/* The LBA, TRANSFER LENGTH and flags of a block command's CDB. */
struct sbc_rw {
	uint64_t lba;
	uint32_t blocks;
	bool fua;
	uint8_t protect;  /* RDPROTECT / WRPROTECT / VRPROTECT / ORPROTECT */
	uint8_t len_byte; /* where TRANSFER LENGTH starts, for the field pointer */
};

/** Decode by the CDB's group code (SBC-3 4.2.2): 6, 10, 12 or 16 bytes. */
void sbc_rw_decode(const uint8_t *cdb, struct sbc_rw *rw);
/** Check PROTECT, the transfer limit and the range; set task->xfer_len to
 * the blocks in bytes. \return SENSE_OK or the reason to fail with. */
enum sense_reason sbc_rw_check(struct scsi_cmd *cmd, const struct sbc_rw *rw, bool write);
/** Start writing \p bytes of Data-Out at \p offset as a job holding the range. */
enum sense_reason sbc_write_job(struct scsi_cmd *cmd, const struct sbc_rw *rw);
/** Backend flags for a write: FUA when asked, or always when WCE is off. */
uint32_t sbc_write_flags(const struct scsi_lu *lu, bool fua);

/* sbc_cmp.c: commands that compare or merge with the medium. */
enum sense_reason sbc_cmd_verify(struct scsi_cmd *cmd);
enum sense_reason sbc_cmd_write_verify(struct scsi_cmd *cmd);
enum sense_reason sbc_cmd_compare_and_write(struct scsi_cmd *cmd);
enum sense_reason sbc_cmd_orwrite(struct scsi_cmd *cmd);
enum sense_reason sbc_cmd_write_atomic(struct scsi_cmd *cmd);

/* sbc_thin.c: thin provisioning and whole-medium commands. */
enum sense_reason sbc_cmd_write_same(struct scsi_cmd *cmd);
enum sense_reason sbc_cmd_unmap(struct scsi_cmd *cmd);
enum sense_reason sbc_cmd_get_lba_status(struct scsi_cmd *cmd);
enum sense_reason sbc_cmd_sanitize(struct scsi_cmd *cmd);
/* VPD B0h MAXIMUM WRITE SAME LENGTH: the same bytes as MAXIMUM TRANSFER LENGTH. */
#define SBC_WRITE_SAME_MAX_BLOCKS(lu) (SCSI_MAX_XFER_BYTES >> (lu)->block_shift)
/* SBC-3 5.3: VPD B0h MAXIMUM COMPARE AND WRITE LENGTH in blocks (one byte). */
#define SBC_CAW_MAX_BLOCKS 255
/* SBC-4 6.6.4: MAXIMUM ATOMIC TRANSFER LENGTH in bytes. */
#define SBC_ATOMIC_MAX_BYTES (1024u * 1024)

/* sbc_xcopy.c: EXTENDED COPY (LID1) and RECEIVE COPY RESULTS. */
enum sense_reason sbc_cmd_extended_copy(struct scsi_cmd *cmd);
enum sense_reason sbc_cmd_receive_copy_results(struct scsi_cmd *cmd);
/** SBC-3 VPD pages (B0h, B1h, B2h) into \p b, header included. */
void sbc_vpd_block_limits(const struct scsi_lu *lu, struct buf *b);
void sbc_vpd_block_characteristics(const struct scsi_lu *lu, struct buf *b);
void sbc_vpd_provisioning(const struct scsi_lu *lu, struct buf *b);
/** True when the LU can deallocate (the backend can, and the command exists). */
bool sbc_lu_unmap_supported(const struct scsi_lu *lu);
/** MODE SENSE caching page (SBC-3 6.4.5): WCE reflects a volatile cache. */
void sbc_mode_page_caching(const struct scsi_lu *lu, bool changeable, struct buf *b);

#endif
