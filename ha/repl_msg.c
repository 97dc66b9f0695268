/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>

#include "ha/repl_msg.h"
#include "util/be.h"

static size_t repl_body_len(const struct repl_msg *m)
{
	switch (m->hdr.type) {
	case REPL_HELLO:
		return REPL_DIGEST_LEN + 8 + 8 + 1;
	case REPL_CMD:
		return m->u.cmd.len;
	case REPL_ACK:
		return 4 + 4 + 8;
	case REPL_SNAPSHOT:
		return 8 + 8 + (size_t)m->u.snapshot.len;
	case REPL_EPOCH:
		return 8;
	default:
		return 0;
	}
}

int repl_msg_encode(const struct repl_msg *m, struct buf *out)
{
	size_t total = REPL_HDR_LEN + repl_body_len(m);
	uint8_t *p;
	int rc;

	if (total > REPL_MAX_MSG)
		return -EMSGSIZE;
	rc = buf_reserve(out, total);
	if (rc)
		return rc;
	p = out->data + out->len;
	put_be16(p, m->hdr.type);
	put_be16(p + 2, REPL_VERSION);
	put_be32(p + 4, (uint32_t)total);
	put_be32(p + 8, m->hdr.nodeid);
	put_be32(p + 12, m->hdr.pid);
	put_be64(p + 16, m->hdr.seq);
	p += REPL_HDR_LEN;
	switch (m->hdr.type) {
	case REPL_HELLO:
		memcpy(p, m->u.hello.digest, REPL_DIGEST_LEN);
		put_be64(p + 32, m->u.hello.epoch);
		put_be64(p + 40, m->u.hello.generation);
		p[48] = m->u.hello.flags;
		break;
	case REPL_CMD:
		if (m->u.cmd.len)
			memcpy(p, m->u.cmd.payload, m->u.cmd.len);
		break;
	case REPL_ACK:
		put_be32(p, m->u.ack.nodeid);
		put_be32(p + 4, m->u.ack.pid);
		put_be64(p + 8, m->u.ack.seq);
		break;
	case REPL_SNAPSHOT:
		put_be64(p, m->u.snapshot.epoch);
		put_be64(p + 8, m->u.snapshot.generation);
		if (m->u.snapshot.len)
			memcpy(p + 16, m->u.snapshot.payload, m->u.snapshot.len);
		break;
	case REPL_EPOCH:
		put_be64(p, m->u.epoch.epoch);
		break;
	default:
		return -EINVAL;
	}
	out->len += total;
	return 0;
}

int repl_msg_decode(const uint8_t *buf, size_t len, struct repl_msg *m, const char **why)
{
	const uint8_t *b;
	size_t blen;

	memset(m, 0, sizeof(*m));
	if (len < REPL_HDR_LEN) {
		*why = "shorter than the header";
		return -EINVAL;
	}
	m->hdr.type = get_be16(buf);
	m->hdr.version = get_be16(buf + 2);
	m->hdr.len = get_be32(buf + 4);
	m->hdr.nodeid = get_be32(buf + 8);
	m->hdr.pid = get_be32(buf + 12);
	m->hdr.seq = get_be64(buf + 16);
	if (m->hdr.version != REPL_VERSION) {
		*why = "unknown version";
		return -EINVAL;
	}
	if (m->hdr.len != len) {
		*why = "length field does not match the message";
		return -EINVAL;
	}
	b = buf + REPL_HDR_LEN;
	blen = len - REPL_HDR_LEN;
	switch (m->hdr.type) {
	case REPL_HELLO:
		if (blen != REPL_DIGEST_LEN + 17)
			goto badlen;
		memcpy(m->u.hello.digest, b, REPL_DIGEST_LEN);
		m->u.hello.epoch = get_be64(b + 32);
		m->u.hello.generation = get_be64(b + 40);
		m->u.hello.flags = b[48];
		if (m->u.hello.flags & ~(REPL_HELLO_SYNCED | REPL_HELLO_PROMOTED)) {
			*why = "unknown HELLO flags";
			return -EINVAL;
		}
		return 0;
	case REPL_CMD:
		if (blen == 0)
			goto badlen;
		m->u.cmd.payload = b;
		m->u.cmd.len = (uint32_t)blen;
		return 0;
	case REPL_ACK:
		if (blen != 16)
			goto badlen;
		m->u.ack.nodeid = get_be32(b);
		m->u.ack.pid = get_be32(b + 4);
		m->u.ack.seq = get_be64(b + 8);
		return 0;
	case REPL_SNAPSHOT:
		if (blen < 16)
			goto badlen;
		m->u.snapshot.epoch = get_be64(b);
		m->u.snapshot.generation = get_be64(b + 8);
		m->u.snapshot.payload = b + 16;
		m->u.snapshot.len = (uint32_t)(blen - 16);
		return 0;
	case REPL_EPOCH:
		if (blen != 8)
			goto badlen;
		m->u.epoch.epoch = get_be64(b);
		return 0;
	default:
		*why = "unknown message type";
		return -EINVAL;
	}
badlen:
	*why = "body length wrong for the message type";
	return -EINVAL;
}

const char *repl_type_name(uint16_t type)
{
	switch (type) {
	case REPL_HELLO:
		return "HELLO";
	case REPL_CMD:
		return "CMD";
	case REPL_ACK:
		return "ACK";
	case REPL_SNAPSHOT:
		return "SNAPSHOT";
	case REPL_EPOCH:
		return "EPOCH";
	default:
		return "unknown";
	}
}
