/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "ha/tickle_pkt.h"
#include "util/be.h"

#define TICKLE_IP4_LEN 20
#define TICKLE_TCP_LEN 20
#define TICKLE_SEG_LEN (TICKLE_TCP_LEN + 1) /* one byte of data, see tickle_pkt.h */

static uint32_t tickle_pkt_sum(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += get_be16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

uint16_t tickle_pkt_csum(uint32_t sum, const uint8_t *p, size_t len)
{
	sum = tickle_pkt_sum(sum, p, len);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* RFC 9293 3.1: ports, sequence and acknowledgement number 0, data offset
 * 5 words, ACK only, one zero byte of data; the checksum is filled in by
 * the caller. */
static void tickle_pkt_tcp(const struct repl_conn *c, uint8_t *t)
{
	memset(t, 0, TICKLE_SEG_LEN);
	put_be16(t, c->portal_port);
	put_be16(t + 2, c->initiator_port);
	t[12] = 5 << 4;
	t[13] = 0x10; /* ACK */
	put_be16(t + 14, TICKLE_TCP_WINDOW);
}

int tickle_pkt_build(const struct repl_conn *c, uint8_t *out, size_t cap)
{
	uint8_t *t;
	uint32_t pseudo;

	if (c->family == 4) {
		if (cap < TICKLE_IP4_LEN + TICKLE_SEG_LEN)
			return -ENOSPC;
		/* RFC 791 3.1: version 4, IHL 5, length, DF, TTL 64, TCP. */
		memset(out, 0, TICKLE_IP4_LEN);
		out[0] = 0x45;
		put_be16(out + 2, TICKLE_IP4_LEN + TICKLE_SEG_LEN);
		put_be16(out + 6, 0x4000);
		out[8] = 64;
		out[9] = IPPROTO_TCP;
		memcpy(out + 12, c->portal_addr, 4);
		memcpy(out + 16, c->initiator_addr, 4);
		put_be16(out + 10, tickle_pkt_csum(0, out, TICKLE_IP4_LEN));
		t = out + TICKLE_IP4_LEN;
		tickle_pkt_tcp(c, t);
		/* RFC 9293 3.1: source, destination, zero + protocol, TCP length. */
		pseudo = tickle_pkt_sum(0, out + 12, 8) + IPPROTO_TCP + TICKLE_SEG_LEN;
		put_be16(t + 16, tickle_pkt_csum(pseudo, t, TICKLE_SEG_LEN));
		return TICKLE_IP4_LEN + TICKLE_SEG_LEN;
	}
	if (c->family == 6) {
		if (cap < TICKLE_SEG_LEN)
			return -ENOSPC;
		tickle_pkt_tcp(c, out);
		/* RFC 8200 8.1: source, destination, upper-layer length, next header. */
		pseudo = tickle_pkt_sum(0, c->portal_addr, 16);
		pseudo = tickle_pkt_sum(pseudo, c->initiator_addr, 16);
		pseudo += TICKLE_SEG_LEN + IPPROTO_TCP;
		put_be16(out + 16, tickle_pkt_csum(pseudo, out, TICKLE_SEG_LEN));
		return TICKLE_SEG_LEN;
	}
	return -EINVAL;
}

bool tickle_portal_match(const struct repl_conn *c, const struct sockaddr *portal)
{
	static const uint8_t any[16];

	if (portal->sa_family == AF_INET && c->family == 4) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)portal;

		return ntohs(s->sin_port) == c->portal_port &&
		       (s->sin_addr.s_addr == htonl(INADDR_ANY) ||
			memcmp(&s->sin_addr, c->portal_addr, 4) == 0);
	}
	if (portal->sa_family == AF_INET6 && c->family == 6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)portal;

		return ntohs(s->sin6_port) == c->portal_port &&
		       (memcmp(&s->sin6_addr, any, 16) == 0 ||
			memcmp(&s->sin6_addr, c->portal_addr, 16) == 0);
	}
	return false;
}
