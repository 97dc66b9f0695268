/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <netinet/in.h>
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
	case REPL_CONNS:
		return 12 + (size_t)m->u.conns.count * REPL_CONN_LEN;
	default:
		return 0;
	}
}

static void repl_conn_encode(const struct repl_conn *c, uint8_t *p)
{
	memset(p, 0, REPL_CONN_LEN);
	p[0] = c->family;
	put_be16(p + 2, c->portal_port);
	put_be16(p + 4, c->initiator_port);
	memcpy(p + 8, c->portal_addr, c->family == 4 ? 4 : 16);
	memcpy(p + 24, c->initiator_addr, c->family == 4 ? 4 : 16);
}

static bool repl_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

/* One entry, strictly: known family, reserved bytes zero, no port 0, an
 * IPv4 address padded with zeros. */
static const char *repl_conn_check(const uint8_t *p)
{
	if (p[0] != 4 && p[0] != 6)
		return "connection entry with an unknown address family";
	if (p[1] || get_be16(p + 6))
		return "connection entry with reserved bytes set";
	if (get_be16(p + 2) == 0 || get_be16(p + 4) == 0)
		return "connection entry with port 0";
	if (p[0] == 4 && (!repl_zero(p + 12, 12) || !repl_zero(p + 28, 12)))
		return "IPv4 connection entry with bytes after the address";
	return NULL;
}

void repl_conn_decode(const struct repl_msg *m, size_t i, struct repl_conn *c)
{
	const uint8_t *p = m->u.conns.raw + i * REPL_CONN_LEN;

	memset(c, 0, sizeof(*c));
	c->family = p[0];
	c->portal_port = get_be16(p + 2);
	c->initiator_port = get_be16(p + 4);
	memcpy(c->portal_addr, p + 8, 16);
	memcpy(c->initiator_addr, p + 24, 16);
}

static void repl_conn_fill(struct repl_conn *c, uint8_t family, const void *portal,
			   const void *initiator, size_t alen, uint16_t portal_port,
			   uint16_t initiator_port)
{
	c->family = family;
	memcpy(c->portal_addr, portal, alen);
	memcpy(c->initiator_addr, initiator, alen);
	c->portal_port = ntohs(portal_port);
	c->initiator_port = ntohs(initiator_port);
}

int repl_conn_set(struct repl_conn *c, const struct sockaddr *portal,
		  const struct sockaddr *initiator)
{
	memset(c, 0, sizeof(*c));
	if (portal->sa_family == AF_INET && initiator->sa_family == AF_INET) {
		const struct sockaddr_in *l = (const struct sockaddr_in *)portal;
		const struct sockaddr_in *r = (const struct sockaddr_in *)initiator;

		repl_conn_fill(c, 4, &l->sin_addr, &r->sin_addr, 4, l->sin_port, r->sin_port);
		return 0;
	}
	if (portal->sa_family == AF_INET6 && initiator->sa_family == AF_INET6) {
		const struct sockaddr_in6 *l = (const struct sockaddr_in6 *)portal;
		const struct sockaddr_in6 *r = (const struct sockaddr_in6 *)initiator;

		repl_conn_fill(c, 6, &l->sin6_addr, &r->sin6_addr, 16, l->sin6_port, r->sin6_port);
		return 0;
	}
	return -EAFNOSUPPORT;
}

bool repl_conn_equal(const struct repl_conn *a, const struct repl_conn *b)
{
	return a->family == b->family && a->portal_port == b->portal_port &&
	       a->initiator_port == b->initiator_port &&
	       memcmp(a->portal_addr, b->portal_addr, 16) == 0 &&
	       memcmp(a->initiator_addr, b->initiator_addr, 16) == 0;
}

int repl_msg_encode(const struct repl_msg *m, struct buf *out)
{
	size_t total = REPL_HDR_LEN + repl_body_len(m);
	uint8_t *p;
	int rc;

	if (total > REPL_MAX_MSG)
		return -EMSGSIZE;
	if (m->hdr.type == REPL_CONNS && m->u.conns.count > REPL_CONNS_MAX)
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
	case REPL_CONNS: {
		uint16_t i;

		put_be64(p, m->u.conns.epoch);
		p[8] = m->u.conns.op;
		p[9] = 0;
		put_be16(p + 10, m->u.conns.count);
		for (i = 0; i < m->u.conns.count; i++)
			repl_conn_encode(&m->u.conns.list[i], p + 12 + (size_t)i * REPL_CONN_LEN);
		break;
	}
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
	case REPL_CONNS: {
		size_t i;

		if (blen < 12)
			goto badlen;
		m->u.conns.epoch = get_be64(b);
		m->u.conns.op = b[8];
		m->u.conns.count = get_be16(b + 10);
		m->u.conns.raw = b + 12;
		if (m->u.conns.op < REPL_CONNS_ADD || m->u.conns.op > REPL_CONNS_FULL || b[9]) {
			*why = "unknown connection hint operation";
			return -EINVAL;
		}
		if (m->u.conns.count > REPL_CONNS_MAX ||
		    (m->u.conns.count == 0 && m->u.conns.op != REPL_CONNS_FULL)) {
			*why = "connection hint count out of range";
			return -EINVAL;
		}
		if (blen != 12 + (size_t)m->u.conns.count * REPL_CONN_LEN)
			goto badlen;
		for (i = 0; i < m->u.conns.count; i++) {
			const char *bad = repl_conn_check(m->u.conns.raw + i * REPL_CONN_LEN);

			if (bad) {
				*why = bad;
				return -EINVAL;
			}
		}
		return 0;
	}
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
	case REPL_CONNS:
		return "CONNS";
	default:
		return "unknown";
	}
}
