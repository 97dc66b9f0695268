/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tickle ACK sender; see tickle.h and tickle_pkt.h.
 *
 * Why wait for the portal address before the first ACK: the initiator's
 * answer can only reach us once the address is here (and IPaddr2 has
 * announced it), and Linux answers out-of-window segments at most once per
 * net.ipv4.tcp_invalid_ratelimit (500 ms) per connection: an ACK sent
 * before the address moved would be answered into the void and make the
 * initiator ignore the next one. For the same reason the first ACK waits
 * TICKLE_ARP_GRACE_MS more: IPaddr2 announces the address (gratuitous ARP,
 * unsolicited neighbour advertisement) just after adding it, and the
 * initiator's answer goes wherever its neighbour cache says.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <qb/qblog.h>

#include "ha/tickle.h"
#include "ha/tickle_pkt.h"

#define TICKLE_MS_NS 1000000ull
#define TICKLE_ADDR_CACHE 8

struct tickle_item {
	struct repl_conn conn;
	uint64_t up_ns;	   /* its portal address was first seen up here */
	uint64_t first_ns; /* first ACK sent; 0: portal address not up yet */
	uint64_t last_ns;
	bool done;
};

struct tickle {
	qb_loop_t *loop;
	qb_loop_timer_handle timer;
	struct tickle_item *items;
	size_t n;
	size_t left;
	size_t relogged;
	int fd4, fd6;
	uint64_t start_ns;
	bool announced;
};

/* Per tick, whether each distinct portal address is up. */
struct tickle_addr_cache {
	uint8_t family[TICKLE_ADDR_CACHE];
	uint8_t addr[TICKLE_ADDR_CACHE][16];
	bool up[TICKLE_ADDR_CACHE];
	size_t n;
};

static uint64_t tickle_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The address is up here when a socket can bind to it without
 * IP_FREEBIND (an IPv6 address still in duplicate address detection
 * cannot: it would not receive the answer either). */
static bool tickle_addr_up(uint8_t family, const uint8_t *addr)
{
	struct sockaddr_storage ss;
	socklen_t len;
	bool up;
	int fd;

	memset(&ss, 0, sizeof(ss));
	if (family == 4) {
		struct sockaddr_in *s = (struct sockaddr_in *)&ss;

		s->sin_family = AF_INET;
		memcpy(&s->sin_addr, addr, 4);
		len = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;

		s->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, addr, 16);
		len = sizeof(*s);
	}
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return true; /* cannot tell: send anyway */
	up = bind(fd, (struct sockaddr *)&ss, len) == 0;
	close(fd);
	return up;
}

static bool tickle_addr_up_cached(struct tickle_addr_cache *c, const struct repl_conn *conn)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->family[i] == conn->family && memcmp(c->addr[i], conn->portal_addr, 16) == 0)
			return c->up[i];
	if (c->n == TICKLE_ADDR_CACHE)
		return tickle_addr_up(conn->family, conn->portal_addr);
	c->family[c->n] = conn->family;
	memcpy(c->addr[c->n], conn->portal_addr, 16);
	c->up[c->n] = tickle_addr_up(conn->family, conn->portal_addr);
	return c->up[c->n++];
}

static void tickle_send(struct tickle *t, const struct repl_conn *c)
{
	uint8_t pkt[TICKLE_PKT_MAX];
	int len = tickle_pkt_build(c, pkt, sizeof(pkt));
	ssize_t rc = -1;

	if (len < 0)
		return;
	if (c->family == 4 && t->fd4 >= 0) {
		struct sockaddr_in dst = {.sin_family = AF_INET};

		memcpy(&dst.sin_addr, c->initiator_addr, 4);
		rc = sendto(t->fd4, pkt, (size_t)len, 0, (struct sockaddr *)&dst, sizeof(dst));
	} else if (c->family == 6 && t->fd6 >= 0) {
		/* The source address goes in IPV6_PKTINFO; the kernel builds
		 * the IPv6 header around our TCP header. */
		struct sockaddr_in6 dst = {.sin6_family = AF_INET6};
		union {
			struct cmsghdr align;
			uint8_t buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		} ctl;
		struct iovec iov = {.iov_base = pkt, .iov_len = (size_t)len};
		struct msghdr mh = {.msg_name = &dst,
				    .msg_namelen = sizeof(dst),
				    .msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = ctl.buf,
				    .msg_controllen = sizeof(ctl.buf)};
		struct cmsghdr *cm;
		struct in6_pktinfo pi;

		memset(&ctl, 0, sizeof(ctl));
		memset(&pi, 0, sizeof(pi));
		memcpy(&dst.sin6_addr, c->initiator_addr, 16);
		memcpy(&pi.ipi6_addr, c->portal_addr, 16);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		rc = sendmsg(t->fd6, &mh, 0);
	}
	if (rc < 0)
		qb_log(LOG_DEBUG, "tickle ACK not sent: %s", strerror(errno));
}

static void tickle_tick(void *data)
{
	struct tickle *t = data;
	struct tickle_addr_cache cache = {.n = 0};
	uint64_t now = tickle_now_ns();
	size_t i, sent = 0;

	t->timer = 0;
	for (i = 0; i < t->n; i++) {
		struct tickle_item *it = &t->items[i];

		if (it->done)
			continue;
		if (it->first_ns == 0) {
			if (now - t->start_ns >= TICKLE_WAIT_IP_MS * TICKLE_MS_NS) {
				it->done = true;
				t->left--;
				continue;
			}
			if (it->up_ns == 0 && tickle_addr_up_cached(&cache, &it->conn))
				it->up_ns = now;
			if (it->up_ns == 0 || now - it->up_ns < TICKLE_ARP_GRACE_MS * TICKLE_MS_NS)
				continue;
			tickle_send(t, &it->conn);
			it->first_ns = it->last_ns = now;
			sent++;
		} else if (now - it->first_ns >= TICKLE_FOR_MS * TICKLE_MS_NS) {
			it->done = true;
			t->left--;
		} else if (now - it->last_ns >= TICKLE_EVERY_MS * TICKLE_MS_NS) {
			tickle_send(t, &it->conn);
			it->last_ns = now;
		}
	}
	if (sent && !t->announced) {
		char ini[INET6_ADDRSTRLEN] = "?", por[INET6_ADDRSTRLEN] = "?";
		const struct repl_conn *c = &t->items[0].conn;
		int af = c->family == 4 ? AF_INET : AF_INET6;

		t->announced = true;
		inet_ntop(af, c->initiator_addr, ini, sizeof(ini));
		inet_ntop(af, c->portal_addr, por, sizeof(por));
		qb_log(LOG_NOTICE,
		       "tickle ACKs sent to %zu connection(s) of the previous promoted "
		       "node (the first %llu ms after the promotion; %s port %u to %s port %u%s)",
		       t->n, (unsigned long long)((now - t->start_ns) / TICKLE_MS_NS), ini,
		       c->initiator_port, por, c->portal_port, t->n > 1 ? ", ..." : "");
	}
	if (t->left == 0) {
		if (!t->announced)
			qb_log(LOG_NOTICE,
			       "tickle ACKs: the portal address did not come up within "
			       "%u ms; %zu connection(s) not tickled",
			       TICKLE_WAIT_IP_MS, t->n);
		else
			qb_log(LOG_INFO,
			       "tickle ACKs done: %zu of %zu initiator(s) logged in again",
			       t->relogged, t->n);
		return;
	}
	qb_loop_timer_add(t->loop, QB_LOOP_HIGH, TICKLE_POLL_MS * TICKLE_MS_NS, t, tickle_tick,
			  &t->timer);
}

static int tickle_raw_open(int family, int proto)
{
	static bool logged;
	int fd = socket(family, SOCK_RAW | SOCK_CLOEXEC, proto);

	if (fd < 0 && !logged) {
		logged = true;
		qb_log(LOG_WARNING,
		       "cannot open a raw socket for tickle ACKs (%s; CAP_NET_RAW "
		       "needed): initiators notice a failover at their next TCP retransmission",
		       strerror(errno));
	}
	return fd;
}

int tickle_start(qb_loop_t *loop, const struct repl_conn *conns, size_t n, struct tickle **out)
{
	struct tickle *t = NULL;
	bool v4 = false, v6 = false;
	size_t i;
	int rc = 0;

	*out = NULL;
	if (n == 0) {
		qb_log(LOG_NOTICE, "tickle ACKs: no connection of the previous promoted node to "
				   "tickle");
		goto out;
	}
	t = calloc(1, sizeof(*t));
	if (t) {
		t->fd4 = t->fd6 = -1;
		t->items = calloc(n, sizeof(*t->items));
	}
	if (!t || !t->items) {
		rc = -ENOMEM;
		goto out;
	}
	t->loop = loop;
	t->n = t->left = n;
	t->start_ns = tickle_now_ns();
	for (i = 0; i < n; i++) {
		t->items[i].conn = conns[i];
		v4 |= conns[i].family == 4;
		v6 |= conns[i].family == 6;
	}
	/* IPPROTO_RAW: we write the IPv4 header (IP_HDRINCL), source = portal. */
	if (v4)
		t->fd4 = tickle_raw_open(AF_INET, IPPROTO_RAW);
	if (v6)
		t->fd6 = tickle_raw_open(AF_INET6, IPPROTO_TCP);
	if (t->fd4 < 0 && t->fd6 < 0) {
		qb_log(LOG_NOTICE,
		       "tickle ACKs: %zu connection(s) of the previous promoted node "
		       "not tickled (no raw socket)",
		       n);
		goto out;
	}
	if (qb_loop_timer_add(loop, QB_LOOP_HIGH, 0, t, tickle_tick, &t->timer) < 0) {
		rc = -ENOMEM;
		goto out;
	}
	*out = t;
	t = NULL;
out:
	if (rc < 0)
		qb_log(LOG_WARNING, "tickle ACKs: %s; none sent", strerror(-rc));
	tickle_stop(t);
	return rc;
}

/*
 * A login proves nothing about a connection that has not been tickled yet:
 * it can be another session of the same initiator host (a second target, a
 * discovery or an inquiry tool), and ending that connection's tickling
 * before its first ACK left it waiting for its own retransmission or
 * command timeout (the lab's iscsi-inq probe, logging in between the portal
 * address coming up and the first ACK, cost the writer 5 s). Only a
 * connection that was tickled, and so was told to reconnect, counts as
 * back when its address logs in.
 */
void tickle_login(struct tickle *t, const struct sockaddr *initiator)
{
	struct repl_conn c;
	size_t i;

	if (!t || repl_conn_set(&c, initiator, initiator) < 0)
		return;
	for (i = 0; i < t->n; i++) {
		struct tickle_item *it = &t->items[i];

		if (!it->done && it->first_ns != 0 && it->conn.family == c.family &&
		    memcmp(it->conn.initiator_addr, c.initiator_addr, 16) == 0) {
			it->done = true;
			t->left--;
			t->relogged++;
			return;
		}
	}
}

void tickle_stop(struct tickle *t)
{
	if (!t)
		return;
	if (t->timer)
		qb_loop_timer_del(t->loop, t->timer);
	if (t->fd4 >= 0)
		close(t->fd4);
	if (t->fd6 >= 0)
		close(t->fd6);
	free(t->items);
	free(t);
}
