/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internals of the iSCSI service shared by server.c (portals), conn.c
 * (connection I/O state machine, login), session.c (sessions, text,
 * logout, NOP) and task.c (SCSI commands, R2T/Data-Out, Data-In, TMF).
 *
 * Error recovery level 0 and one connection per session (RFC 7143 section
 * 7.1.5): a session has exactly one connection, and any connection error
 * ends the session.
 */
#ifndef HATGT_ISCSI_CONN_H
#define HATGT_ISCSI_CONN_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

#include <qb/qbloop.h>

#include "iscsi/iscsi.h"
#include "iscsi/iscsi_spec.h"
#include "iscsi/login.h"
#include "iscsi/param.h"
#include "scsi/scsi.h"
#include "util/buf.h"
#include "util/list.h"

/* Commands the initiator may have outstanding: MaxCmdSN - ExpCmdSN + 1. */
#define ISCSI_CMD_WINDOW 128
/* Receive staging buffer per connection; pieces this large or larger are
 * received straight into their destination instead. */
#define CONN_RX_STAGE (32u * 1024)
/* The largest write we buffer; matches the SCSI layer's maximum transfer. */
#define ISCSI_MAX_XFER (8u * 1024 * 1024)

enum iscsi_rx_state {
	RX_BHS,
	RX_AHS,
	RX_HDIGEST,
	RX_DATA,
	RX_PAD,
	RX_DDIGEST,
};

enum iscsi_conn_state {
	CONN_LOGIN,	 /* login phase */
	CONN_FFP,	 /* full feature phase */
	CONN_LOGGED_OUT, /* Logout Response queued: close when sent */
	CONN_CLOSED,	 /* socket closed; waiting for tasks in the backend */
};

struct iscsi_conn;
struct iscsi_tmf;

/* Objects freed by a connection, kept for its next commands (at most
 * CONN_POOL_MAX each), linked through their first bytes. */
#define CONN_POOL_MAX 64
struct conn_pool {
	void *head;
	unsigned int n;
};

/* A PDU on the transmit queue. */
struct iscsi_txpdu {
	struct list_head node;
	uint8_t bhs[ISCSI_BHS_LEN];
	uint8_t hdigest[ISCSI_DIGEST_LEN];
	uint8_t ddigest[ISCSI_DIGEST_LEN];
	const uint8_t *data;
	uint32_t data_len;
	uint8_t *owned;		 /* freed after sending (data copied for us) */
	struct iscsi_task *task; /* holds a tx reference on the task */
	struct iovec iov[5];
	int iovcnt;
	size_t total;
	size_t sent;
};

/* How iscsi_txq_send() writes to the socket, so that tests can script it. */
struct iscsi_tx_ops {
	/* sendmsg of \p cnt iovecs. \return bytes sent or -errno (-EAGAIN:
	 * socket full). */
	ssize_t (*send_iov)(void *ctx, const struct iovec *iov, int cnt);
	/* \p tx is sent in full and off the queue: free it. */
	void (*sent)(void *ctx, struct iscsi_txpdu *tx);
	void *ctx;
};

enum iscsi_task_state {
	TASK_DATA_OUT, /* collecting write data */
	TASK_EXEC,     /* in the SCSI layer */
	TASK_DONE,     /* response queued */
};

struct iscsi_task {
	struct scsi_task scsi; /* first: the SCSI layer sees only this */
	struct list_head node; /* conn->tasks */
	struct iscsi_conn *conn;
	enum iscsi_task_state state;
	uint32_t itt;
	uint32_t cmdsn;
	uint64_t lun_field; /* the LUN field as sent, echoed in responses */
	uint8_t *wbuf;	    /* write data, EDTL bytes */
	uint32_t wlen;	    /* bytes received, in order (DataSequenceInOrder) */
	uint32_t unsol_end; /* end of the unsolicited burst */
	uint32_t data_sn;   /* expected DataSN of the current Data-Out sequence */
	uint32_t r2t_next;  /* next offset to solicit */
	uint32_t r2t_sn;
	uint32_t r2t_out;     /* outstanding R2Ts */
	uint32_t ttt;	      /* TTT of the R2T being answered */
	uint32_t r2t_end;     /* end offset of the oldest outstanding R2T */
	unsigned int tx_refs; /* queued PDUs pointing into in_buf */
	bool aborted;
	struct iscsi_tmf *tmf; /* a TMF waiting for this task to finish */
	uint64_t start_us;     /* CLOCK_MONOTONIC_COARSE at arrival */
};

/* A task management request waiting for aborted tasks to leave the backend. */
struct iscsi_tmf {
	struct iscsi_conn *conn; /* holds a reference */
	uint8_t req[ISCSI_BHS_LEN];
	unsigned int waiting;
	uint8_t response;
	struct scsi_lu *reset_lu; /* LUN RESET: reset after the aborts */
	bool cold_reset;
};

struct iscsi_session {
	struct list_head node; /* srv->sessions */
	struct iscsi_server *srv;
	struct iscsi_conn *conn;
	struct hatgt_target *target; /* NULL for discovery */
	struct scsi_itn *itn;
	struct iscsi_params params;
	enum iscsi_session_type type;
	uint8_t isid[6];
	uint16_t tsih;
	char isid_str[13];
	char initiator_port[SCSI_PORT_NAME_MAX];
	uint32_t exp_cmdsn;
	uint64_t seen[ISCSI_CMD_WINDOW * 2 / 64]; /* CmdSNs received ahead of exp_cmdsn */
	time_t login_time;
	uint64_t ncmds, bytes_read, bytes_written, nerrors;
	/* SCSI command latency, arrival of the command to its response queued. */
	uint64_t nlat, lat_sum_us, lat_max_us;
};

struct iscsi_conn {
	struct list_head node; /* srv->conns */
	struct iscsi_server *srv;
	struct iscsi_session *sess;
	int fd;
	char peer[64];
	char local[64];
	char initiator[ISCSI_NAME_MAX]; /* known after the first login PDU */
	enum iscsi_conn_state state;
	unsigned int refs;
	bool polled_out;

	/* Login phase */
	struct iscsi_login *login;
	uint8_t login_isid[6];
	uint16_t cid;
	qb_loop_timer_handle login_timer;

	/* In effect (RFC defaults during login) */
	struct iscsi_params params;
	uint32_t stat_sn;

	/* Receive state machine */
	enum iscsi_rx_state rx_state;
	uint8_t bhs[ISCSI_BHS_LEN];
	uint8_t *ahs;
	uint32_t ahs_len;
	uint8_t digest[ISCSI_DIGEST_LEN];
	uint8_t pad[4];
	uint8_t *rx_ptr;  /* where the current piece goes */
	uint32_t rx_want; /* its size */
	uint32_t rx_got;
	uint8_t *rx_data; /* where the data segment goes */
	uint32_t rx_dlen;
	uint8_t *rx_owned;	    /* a buffer we allocated for this data segment */
	struct iscsi_task *rx_task; /* the task whose buffer receives the data */
	bool rx_discard;	    /* read the data segment but ignore the PDU */
	uint32_t rx_crc;	    /* running data digest */
	/* Bytes received ahead of the state machine: one recv() takes the
	 * headers and small data segments of several PDUs (CONN_RX_STAGE). */
	uint8_t *rx_stage;
	uint32_t rx_stage_len; /* bytes in rx_stage */
	uint32_t rx_stage_off; /* of which consumed */

	/* No allocation per command once warm: freed tasks and tx PDUs. */
	struct conn_pool task_pool;
	struct conn_pool tx_pool;

	/* Transmit queue */
	struct list_head txq;
	struct list_head dirty_node; /* in srv->dirty while output waits for the flush */
	bool dirty;

	/* Tasks of this connection */
	struct list_head tasks;
	uint32_t ntasks;

	/* Text response continuation (RFC 7143 section 6.2) */
	struct buf text_rsp;
	size_t text_off;
	uint32_t text_ttt;
	uint32_t text_itt;

	/* Liveness: target NOP-In pings */
	qb_loop_timer_handle nop_timer;
	time_t last_rx;
	uint32_t ping_ttt; /* outstanding ping, or ISCSI_RSVD_TAG */
	time_t ping_sent;
	uint32_t next_ttt;
};

/* conn.c */

int conn_create(struct iscsi_server *srv, int fd);
void conn_close(struct iscsi_conn *conn, const char *why);
/** Stop reading new PDUs (draining); responses still go out. */
void conn_pause_rx(struct iscsi_conn *conn);
void conn_get(struct iscsi_conn *conn);
void conn_put(struct iscsi_conn *conn);
/** A zeroed task, from the connection's pool or calloc. NULL: no memory.
 * Give it back with conn_task_recycle() (or free()). */
struct iscsi_task *conn_task_alloc(struct iscsi_conn *conn);
/** Keep \p task (its buffers already released) for reuse, or free it. */
void conn_task_recycle(struct iscsi_conn *conn, struct iscsi_task *task);
/** Queue a PDU. data is copied unless task is set (then it points into the
 * task's buffer, which stays alive while queued). Fills the digests. */
int conn_send(struct iscsi_conn *conn, const uint8_t *bhs, const uint8_t *data, uint32_t len,
	      struct iscsi_task *task);
/** Fill StatSN (advancing it if advance), ExpCmdSN and MaxCmdSN. */
void conn_fill_sn(struct iscsi_conn *conn, uint8_t *bhs, bool advance);
void conn_reject(struct iscsi_conn *conn, const uint8_t *bhs, uint8_t reason);
uint32_t conn_new_ttt(struct iscsi_conn *conn);
/** Log prefix helper: "initiator,i,0x<isid> from peer" or the peer. */
const char *conn_who(const struct iscsi_conn *conn);
/** Rate limit for log lines a client can provoke at will (failed logins,
 * refused connections, Rejects): true while under the limit (docs/limits.md). */
bool conn_log_allowed(void);

/* pdu.c: the transmit queue, independent of the socket. */
/** Send from the head of \p txq as much as the socket takes, several PDUs
 * per sendmsg. Progress is kept in each PDU's sent, so a call after -EAGAIN
 * resumes where the socket stopped, in the middle of a PDU if need be.
 * \return 0 (queue empty), -EAGAIN (socket full), or another -errno from
 * the socket (fatal; -EFAULT: a zero-copy Data-In's LUN file shrank). */
int iscsi_txq_send(struct list_head *txq, const struct iscsi_tx_ops *ops);
/** May a READ on a connection with \p params send its Data-In straight
 * from the LUN's store (scsi_task.in_map)? Not with a data digest: the
 * CRC is computed over the bytes when queued, and they could change before
 * they are sent. */
bool iscsi_datain_direct_ok(const struct iscsi_params *params);
/** Busy-poll: poll(\p pfd, \p n, 0) until one of them is ready (readable,
 * hung up, in error or not open: whatever poll() reports in revents) or
 * \p now() (nanoseconds) reaches \p end; asks poll() at least once.
 * Interrupted polls are retried. In pdu.c, away from the connection code,
 * so that it is tested on its own.
 * \return the number of entries with revents set, 0 at the deadline, or
 * -errno from poll(). */
int iscsi_poll_spin(struct pollfd *pfd, unsigned int n, uint64_t end, uint64_t (*now)(void));

/* session.c */
int session_create(struct iscsi_conn *conn, const struct iscsi_params *p,
		   struct iscsi_session **out);
void session_destroy(struct iscsi_session *sess);
/** CmdSN window check (RFC 7143 4.2.2.1). \return true if the command is
 * new and inside the window; records it. Immediate commands always pass. */
bool session_cmdsn_accept(struct iscsi_session *sess, uint32_t cmdsn, bool immediate);
uint32_t session_max_cmdsn(const struct iscsi_session *sess);
void session_handle_nop_out(struct iscsi_conn *conn, const uint8_t *data, uint32_t len);
void session_handle_text(struct iscsi_conn *conn, const uint8_t *data, uint32_t len);
void session_handle_logout(struct iscsi_conn *conn);
void session_send_nop_ping(struct iscsi_conn *conn);
void session_send_async_logout(struct iscsi_conn *conn, uint16_t seconds);

/* task.c */
/** A SCSI Command header has arrived: set up where its data goes. */
void task_cmd_header(struct iscsi_conn *conn);
/** A Data-Out header has arrived: find the task, check, set the destination. */
void task_data_out_header(struct iscsi_conn *conn);
/** The PDU's data segment is in (or there was none). */
void task_cmd_done(struct iscsi_conn *conn);
void task_data_out_done(struct iscsi_conn *conn);
void task_handle_tmf(struct iscsi_conn *conn);
/** Abort every task of the I_T nexus id on lu (scsi_abort_hook_set). */
void task_abort_nexus(struct iscsi_server *srv, struct scsi_lu *lu, const struct scsi_itn_id *id);
/** Draining: drop commands still collecting write data (never executed,
 * never acknowledged: the initiator retries them elsewhere). */
void task_abort_unstarted(struct iscsi_conn *conn);
/** Connection closing: free tasks not in the backend, abort the others. */
void task_abort_all(struct iscsi_conn *conn);
void task_tx_release(struct iscsi_task *task);

#endif
