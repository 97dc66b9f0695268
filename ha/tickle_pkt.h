/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tickle ACK packets (docs/replication.md "Connection hints"): what the
 * newly promoted member sends from the portal to each connection the
 * previous promoted member served. Pure: libc only, so it is unit-tested.
 *
 * The packet is a TCP ACK (RFC 9293 3.1) with sequence and acknowledgement
 * numbers 0, no options and one zero byte of data. Out of the initiator's
 * receive window, it makes the initiator's TCP answer with an ACK of its
 * own (RFC 9293 3.10.7.4); that answer reaches the new node, whose kernel
 * has no such connection and resets it, and the initiator reconnects at
 * once. The byte of data is there because Linux answers a segment without
 * data outside the window at most once per net.ipv4.tcp_invalid_ratelimit
 * (500 ms) per connection, but every one that carries data: an answer lost
 * while the initiator's neighbour cache still pointed at the old node
 * would otherwise silence the next ACKs for half a second. (The byte would
 * only ever be taken as stream data if 0 were exactly the initiator's next
 * expected sequence number: a chance of 2^-32, on a dead connection.)
 */
#ifndef HATGT_HA_TICKLE_PKT_H
#define HATGT_HA_TICKLE_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ha/repl_msg.h"

#define TICKLE_PKT_MAX 41 /* IPv4 header + TCP header + 1 byte */
#define TICKLE_TCP_WINDOW 4096

/**
 * Build the tickle for \p c, from its portal to its initiator.
 * IPv4: the IPv4 header (RFC 791, for IP_HDRINCL; header checksum filled)
 * then the TCP segment: 41 bytes. IPv6: the TCP segment only (the kernel
 * adds the IPv6 header): 21 bytes, its checksum over the IPv6
 * pseudo-header (RFC 8200 8.1).
 * \return the length, -EINVAL (unknown family) or -ENOSPC (\p cap too small).
 */
int tickle_pkt_build(const struct repl_conn *c, uint8_t *out, size_t cap);

/** The Internet checksum (RFC 1071) of \p len bytes, starting from the
 * partial sum \p sum (0, or a pseudo-header's). */
uint16_t tickle_pkt_csum(uint32_t sum, const uint8_t *p, size_t len);

/** Is \p c a connection to \p portal (same family and port; same address,
 * or a portal bound to the wildcard address)? */
bool tickle_portal_match(const struct repl_conn *c, const struct sockaddr *portal);

#endif
