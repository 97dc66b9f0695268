/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Replication messages between hatgtd members over corosync CPG: a pure
 * codec (no corosync, no sockets), so the decoder can be fuzzed.
 *
 * Every message starts with a 24-byte header, big-endian:
 *   u16 type, u16 version, u32 total length (header included),
 *   u32 origin nodeid, u32 origin pid, u64 seq (origin's counter)
 * followed by a type-specific body. Decoding is strict: a wrong version,
 * a length that does not match, or a body of the wrong size is rejected.
 */
#ifndef HATGT_HA_REPL_MSG_H
#define HATGT_HA_REPL_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "util/buf.h"

#define REPL_VERSION 1
#define REPL_HDR_LEN 24
#define REPL_DIGEST_LEN 32
#define REPL_MAX_MSG (64u * 1024 * 1024)

enum repl_type {
	REPL_HELLO = 1,	   /* a member's view: config digest, state position, role */
	REPL_CMD = 2,	   /* an encoded PR command (scsi/pr_commit.h) */
	REPL_ACK = 3,	   /* "I applied CMD (origin, seq)" */
	REPL_SNAPSHOT = 4, /* the whole PR state, for members that are syncing */
	REPL_EPOCH = 5,	   /* a member was promoted: a new epoch begins */
	REPL_CONNS = 6,	   /* hint: iSCSI connections the promoted member serves */
};

#define REPL_HELLO_SYNCED 0x01
#define REPL_HELLO_PROMOTED 0x02

/*
 * REPL_CONNS (docs/replication.md "Connection hints"): the TCP connections
 * of logged-in iSCSI sessions on the promoted member, so that the member
 * promoted after it can send each a tickle ACK (ha/tickle.h). Body:
 *   u64 epoch (the sender's serving epoch), u8 op, u8 reserved (0),
 *   u16 count, then count entries of REPL_CONN_LEN bytes:
 *   u8 family (4 or 6), u8 reserved (0), u16 portal port, u16 initiator port,
 *   u16 reserved (0), 16 bytes portal address, 16 bytes initiator address
 *   (an IPv4 address in the first 4 bytes, the other 12 zero).
 * ADD and DEL carry 1..REPL_CONNS_MAX entries, FULL 0..REPL_CONNS_MAX (all
 * of the sender's connections: the receiver replaces what it had from it).
 */
enum repl_conns_op {
	REPL_CONNS_ADD = 1,
	REPL_CONNS_DEL = 2,
	REPL_CONNS_FULL = 3,
};

#define REPL_CONN_LEN 40
#define REPL_CONNS_MAX 4096

struct repl_conn {
	uint8_t family; /* 4 or 6 */
	uint16_t portal_port;
	uint16_t initiator_port;
	uint8_t portal_addr[16];
	uint8_t initiator_addr[16];
};

struct repl_hdr {
	uint16_t type;
	uint16_t version;
	uint32_t len;
	uint32_t nodeid;
	uint32_t pid;
	uint64_t seq;
};

struct repl_msg {
	struct repl_hdr hdr;
	union {
		struct {
			uint8_t digest[REPL_DIGEST_LEN];
			uint64_t epoch;
			uint64_t generation;
			uint8_t flags;
		} hello;
		struct {
			const uint8_t *payload; /* points into the decoded buffer */
			uint32_t len;
		} cmd;
		struct {
			uint32_t nodeid;
			uint32_t pid;
			uint64_t seq;
		} ack;
		struct {
			uint64_t epoch;
			uint64_t generation;
			const uint8_t *payload;
			uint32_t len;
		} snapshot;
		struct {
			uint64_t epoch;
		} epoch;
		struct {
			uint64_t epoch;
			uint8_t op; /* enum repl_conns_op */
			uint16_t count;
			const struct repl_conn *list; /* encode: count entries */
			const uint8_t *raw;	      /* decode: into the buffer, see
							 repl_conn_decode() */
		} conns;
	} u;
};

/** Encode msg (header fields type, nodeid, pid, seq and the body; len and
 * version are filled in) into out. \return 0 or -ENOMEM/-EMSGSIZE. */
int repl_msg_encode(const struct repl_msg *msg, struct buf *out);
/** Decode; pointers in *msg point into buf. \return 0, or -EINVAL with a
 * static reason in *why. */
int repl_msg_decode(const uint8_t *buf, size_t len, struct repl_msg *msg, const char **why);
const char *repl_type_name(uint16_t type);
/** Entry \p i of a decoded REPL_CONNS message (already validated). */
void repl_conn_decode(const struct repl_msg *msg, size_t i, struct repl_conn *out);
/** Fill \p c from a connection's local (portal) and peer (initiator)
 * addresses, both AF_INET or both AF_INET6. \return 0 or -EAFNOSUPPORT. */
int repl_conn_set(struct repl_conn *c, const struct sockaddr *portal,
		  const struct sockaddr *initiator);
/** Same portal address and port, same initiator address and port. */
bool repl_conn_equal(const struct repl_conn *a, const struct repl_conn *b);

#endif
