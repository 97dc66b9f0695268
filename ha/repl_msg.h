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

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define REPL_VERSION 1
#define REPL_HDR_LEN 24
#define REPL_DIGEST_LEN 32
#define REPL_MAX_MSG (64u * 1024 * 1024)

enum repl_type {
	REPL_HELLO = 1,    /* a member's view: config digest, state position, role */
	REPL_CMD = 2,      /* an encoded PR command (scsi/pr_commit.h) */
	REPL_ACK = 3,      /* "I applied CMD (origin, seq)" */
	REPL_SNAPSHOT = 4, /* the whole PR state, for members that are syncing */
	REPL_EPOCH = 5,    /* a member was promoted: a new epoch begins */
};

#define REPL_HELLO_SYNCED 0x01
#define REPL_HELLO_PROMOTED 0x02

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
	} u;
};

/** Encode msg (header fields type, nodeid, pid, seq and the body; len and
 * version are filled in) into out. \return 0 or -ENOMEM/-EMSGSIZE. */
int repl_msg_encode(const struct repl_msg *msg, struct buf *out);
/** Decode; pointers in *msg point into buf. \return 0, or -EINVAL with a
 * static reason in *why. */
int repl_msg_decode(const uint8_t *buf, size_t len, struct repl_msg *msg, const char **why);
const char *repl_type_name(uint16_t type);

#endif
