/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The SCSI layer's interface to transports (daemon/iscsi) and to the daemon.
 *
 * The SCSI layer knows nothing of iSCSI: a transport embeds struct scsi_task
 * as the first member of its own task, fills the "in" fields, calls
 * scsi_task_exec() and gets exactly one call of task->done, always on the
 * event-loop thread (possibly from inside scsi_task_exec()).
 *
 * Threading: everything here runs on the one event-loop thread. Backing I/O
 * runs elsewhere and completes through the completion fd (see
 * scsi_completion_fd()), which the daemon polls and drains with
 * scsi_completion_run().
 */
#ifndef HATGT_SCSI_H
#define HATGT_SCSI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCSI_CDB_MAX 32
#define SCSI_SENSE_MAX 252
/* SPC-4 7.5.4: iSCSI initiator port name "<name>,i,0x<isid>", at most 223 + 17 bytes. */
#define SCSI_PORT_NAME_MAX 256

enum scsi_status {
	SCSI_STATUS_GOOD = 0x00,
	SCSI_STATUS_CHECK_CONDITION = 0x02,
	SCSI_STATUS_CONDITION_MET = 0x04,
	SCSI_STATUS_BUSY = 0x08,
	SCSI_STATUS_RESERVATION_CONFLICT = 0x18,
	SCSI_STATUS_TASK_SET_FULL = 0x28,
	SCSI_STATUS_TASK_ABORTED = 0x40,
};

enum scsi_dir {
	SCSI_DIR_NONE = 0,
	SCSI_DIR_READ,	/* data to the initiator (Data-In) */
	SCSI_DIR_WRITE, /* data from the initiator (Data-Out) */
};

struct scsi_lu;	 /* a logical unit: a backing store plus its SCSI state */
struct scsi_itn; /* an I_T nexus: UA and reservation state hang off it */

/*
 * Identity of an I_T nexus, by value: the initiator port's TransportID name
 * (SPC-4 7.5.4.6 iSCSI: "iqn...,i,0x<12 hex digits of ISID>") and the
 * relative target port identifier. Values, never pointers, so PR state can
 * be serialized and replicated.
 */
struct scsi_itn_id {
	char initiator_port[SCSI_PORT_NAME_MAX];
	uint16_t rtpi;
};

/* Everything a logical unit needs to exist. Identity derives from config. */
struct scsi_lu_config {
	const char *path;     /* regular file or block device */
	uint64_t create_size; /* >0: create a sparse file of this size if missing */
	bool readonly;
	uint32_t block_size; /* 0: 512 */
	/* SBC-3 6.5.2 / 5.16: a power of two multiple of block_size, at most
	 * 2^15 blocks (LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT); 0: block_size. */
	uint32_t physical_block_size;
	/* SPC-4 6.6.2 RMB: removable medium, ejected and loaded with START STOP
	 * UNIT LOEJ (SBC-3 5.25), held in with PREVENT ALLOW MEDIUM REMOVAL. */
	bool removable;
	/* Non-NULL: encrypted at rest with the key in this file (backend.h);
	 * SANITIZE CRYPTOGRAPHIC ERASE is offered only then. */
	const char *key_file;
	char vendor[9]; /* T10 vendor id, space padded by the SCSI layer */
	char product[17];
	char revision[5];
	char serial[33];	 /* VPD 0x80 unit serial number */
	uint8_t naa[16];	 /* VPD 0x83 NAA designator bytes */
	uint8_t naa_len;	 /* 8 (NAA 5/3) or 16 (NAA 6) */
	const char *target_name; /* for the SCSI name string designators */
	uint16_t rtpi;		 /* relative target port identifier */
	uint16_t tpgt;		 /* target portal group tag */
	/* Create without opening the backing store (cluster mode: only the
	 * promoted node opens it, with scsi_lu_attach()). */
	bool detached;
};

/** Set up a logical unit and, unless cfg->detached, open its backing store
 * (as scsi_lu_attach()). Call scsi_init() first. A detached LU keeps its
 * identity, reservations, unit attentions and mode pages; every command to it
 * gets NOT READY, LOGICAL UNIT NOT ACCESSIBLE, TARGET PORT IN STANDBY STATE.
 * \return 0 and *out, or -errno (-ENOENT missing file, -EINVAL bad config:
 * block size not a power of two in 512..4096, physical block size not a
 * power of two multiple of it (up to 2^15 blocks), naa_len not 8 or 16, INQUIRY
 * strings not printable ASCII, store smaller than one block, or scsi_init()
 * not called; -ENOMEM; open errors such as -EACCES, -EROFS). */
int scsi_lu_create(const struct scsi_lu_config *cfg, struct scsi_lu **out);
/** Open the backing store (the config given at create: path, create_size,
 * readonly, key_file) and serve it: the capacity and WCE come from it. If the
 * capacity differs from the previous attach, every I_T nexus gets CAPACITY
 * DATA HAS CHANGED (SBC-3 4.10). Already attached: 0.
 * \return 0 or -errno (-ENOENT missing file, -EINVAL store smaller than one
 * block, open errors such as -EACCES, -EROFS, -ENOMEM); on error the LU stays
 * detached and otherwise unchanged. */
int scsi_lu_attach(struct scsi_lu *lu);
/** Flush and close the backing store. No task may be in flight on the LU
 * (the caller drains the transports first). Not attached: 0.
 * \return 0, -EBUSY (a task or job still holds a reference: nothing done, try
 * again once it completed), or the
 * flush error (-EIO...): the store is closed and the LU detached anyway. */
int scsi_lu_detach(struct scsi_lu *lu);
/** True while the backing store is open. */
bool scsi_lu_attached(const struct scsi_lu *lu);
/** Take/drop a reference. The creator holds one; the LU is closed and freed
 * when the last reference goes. Tasks in flight hold a reference. */
void scsi_lu_get(struct scsi_lu *lu);
void scsi_lu_put(struct scsi_lu *lu);
/** Capacity in bytes (of the last attach; 0 if never attached). */
uint64_t scsi_lu_size(const struct scsi_lu *lu);
const char *scsi_lu_path(const struct scsi_lu *lu);
/** Flush the backing store's volatile cache (demote, shutdown). Blocking.
 * Detached: nothing to flush, 0. */
int scsi_lu_flush_sync(struct scsi_lu *lu);

/** Re-read the size of the backing store (after it was resized, e.g. by
 * hatgtadm). If the capacity changed, every I_T nexus gets the unit
 * attention CAPACITY DATA HAS CHANGED (SBC-3 4.10).
 * \return 0 or -errno (-EINVAL: now smaller than one block; the old size
 * stays; -ENODEV: detached, the new size is read at the next attach). */
int scsi_lu_resize(struct scsi_lu *lu);
/** A LUN was added to or removed from a target: queue REPORTED LUNS DATA HAS
 * CHANGED (SPC-4 6.33) for every I_T nexus known to each of \p lus, the LUs
 * the target has now (NULL entries are skipped). The daemon calls it after
 * changing the target's LUN list. */
void scsi_luns_changed(struct scsi_lu *const *lus, size_t count);

/** Reset the logical unit (LOGICAL UNIT RESET, SAM-5 7.7): release SPC-2
 * reservations, set the reset unit attention for every nexus. The transport
 * aborts the tasks itself. */
void scsi_lu_reset(struct scsi_lu *lu);

/** Create the SCSI layer's state for a new I_T nexus. \return NULL on ENOMEM. */
struct scsi_itn *scsi_itn_create(const struct scsi_itn_id *id);
/** I_T nexus loss (session closed): drop per-nexus state. Accepts NULL. */
void scsi_itn_destroy(struct scsi_itn *itn);
const struct scsi_itn_id *scsi_itn_id(const struct scsi_itn *itn);

/* The list of LUNs that the target exposes, for REPORT LUNS. Values are LUN
 * numbers: below 16384 the SCSI layer encodes them (SAM-5 4.7: peripheral
 * addressing below 256, flat space addressing above); larger values are
 * taken as 8-byte SAM-5 LUNs already. */
struct scsi_lun_list {
	const uint64_t *luns;
	size_t count;
};

struct scsi_task {
	/* In: set by the transport before scsi_task_exec(). */
	struct scsi_lu *lu; /* NULL: no LU at this LUN */
	struct scsi_itn *itn;
	const struct scsi_lun_list *lun_list;
	uint64_t lun;
	uint8_t cdb[SCSI_CDB_MAX];
	uint8_t cdb_len;
	uint32_t edtl; /* expected data transfer length */
	enum scsi_dir dir;
	const uint8_t *out_buf; /* all Data-Out, collected first; transport owns it */
	uint32_t out_len;
	void (*done)(struct scsi_task *task);
	/* The transport can send Data-In straight from the store (in_map
	 * below): set only when it does not need the bytes itself (no data
	 * digest). */
	bool in_direct_ok;

	/* Out: set by the SCSI layer before done(). */
	uint8_t status;
	uint8_t sense_len;
	uint8_t sense[SCSI_SENSE_MAX];
	uint8_t *in_buf;   /* Data-In, owned by the task: scsi_task_release() frees it */
	uint32_t in_len;   /* bytes in in_buf, at most edtl */
	uint32_t xfer_len; /* bytes the CDB itself asks to move (for residuals): the
			    * TRANSFER LENGTH in bytes for READ/WRITE, and for commands
			    * with an ALLOCATION LENGTH the smaller of it and the
			    * response's size (SPC-4 4.2.5.6) */
	/* Zero-copy READ (only when in_direct_ok): instead of in_buf, the
	 * Data-In is the in_len bytes at in_map, in a read-only mapping of part
	 * of the LU's store, read by the kernel when the transport sends them.
	 * in_map_ref keeps that mapping in place: once the last byte has gone,
	 * the transport calls scsi_task_unmap() and then drops its reference on
	 * task->lu, which it keeps until then (the store owns the mappings). A
	 * file that shrank since makes the send fail (EFAULT) after the Data-In
	 * header went out: the transport drops the connection. */
	const uint8_t *in_map;
	void *in_map_ref; /* opaque (backend_read_map) */

	/* Private to the SCSI layer. */
	void *priv;
};

/** Release a zero-copy READ's mapping (in_map, in_map_ref) once its Data-In
 * has been sent, before the transport drops its reference on task->lu.
 * Does nothing for a task without one. sbc.c. */
void scsi_task_unmap(struct scsi_task *task);

/** Execute a task. task->done is called exactly once. Status BUSY (no sense)
 * means out of resources for now; the initiator retries. A task whose I/O is
 * in flight cannot be cancelled: the transport waits for done(). */
void scsi_task_exec(struct scsi_task *task);
/** The transport aborts \p task (ABORT TASK, a reset, nexus loss). SBC-3
 * 4.11: a SANITIZE goes on detached (the LU stays NOT READY, SANITIZE IN
 * PROGRESS) and its task finishes now; any other task runs to its end.
 * \return true if task->done has been called (the task may be gone). */
bool scsi_task_abort(struct scsi_task *task);
/** Free what the SCSI layer attached to the task (in_buf, priv). The task
 * memory itself belongs to the transport. */
void scsi_task_release(struct scsi_task *task);

/*
 * PREEMPT AND ABORT (SPC-4 5.14.11.2.3) aborts the tasks of preempted I_T
 * nexuses: the SCSI layer asks the transport through this hook, which
 * aborts (no response) every task of nexus id on lu. The transport sets it.
 */
typedef void (*scsi_abort_nexus_fn)(void *ctx, struct scsi_lu *lu, const struct scsi_itn_id *id);
void scsi_abort_hook_set(scsi_abort_nexus_fn fn, void *ctx);

struct buf;
/** Persistent reservation state of \p lu for `hatgtadm pr TARGET LUN`, as
 * text or one JSON object, appended to \p out (spc_pr.c). */
void scsi_lu_pr_show(struct scsi_lu *lu, bool json, struct buf *out);

/** Set up the completion path for asynchronous backing I/O.
 * \return 0 or -errno. */
int scsi_init(void);
/** Tear the completion path down. No I/O may be in flight. */
void scsi_fini(void);
/** An fd that becomes readable when backing I/O has completed (an eventfd;
 * -1 before scsi_init()). */
int scsi_completion_fd(void);
/** Run done() for every completed task. Call when the fd is readable. */
void scsi_completion_run(void);
/** Batch completions and io_uring submissions until the matching release
 * (backend_engine_hold on the SCSI I/O engine). Holds nest. */
void scsi_completion_hold(void);
/** End a hold: submit what was queued, run what completed meanwhile. */
void scsi_completion_release(void);

#endif
