/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tickle ACK packets (ha/tickle_pkt.c). The expected checksums were
 * computed once, independently, with a few lines of Python (RFC 1071 over
 * the RFC 9293 / RFC 8200 pseudo-headers).
 *
 *   initiator 198.18.0.50:51234 / [2001:db8::50]:51234
 *        ^
 *        |  ACK seq 0 ack 0, from the portal
 *   portal 198.18.0.100:3260 / [2001:db8::100]:3260 (the new promoted node)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ha/tickle_pkt.h"

static struct repl_conn conn4(void)
{
	struct repl_conn c = {.family = 4, .portal_port = 3260, .initiator_port = 51234};

	inet_pton(AF_INET, "198.18.0.100", c.portal_addr);
	inet_pton(AF_INET, "198.18.0.50", c.initiator_addr);
	return c;
}

static struct repl_conn conn6(void)
{
	struct repl_conn c = {.family = 6, .portal_port = 3260, .initiator_port = 51234};

	inet_pton(AF_INET6, "2001:db8::100", c.portal_addr);
	inet_pton(AF_INET6, "2001:db8::50", c.initiator_addr);
	return c;
}

/* Build c's tickle: want_len bytes, of which want (n bytes) at offset off. */
static void expect_pkt(const struct repl_conn *c, int want_len, size_t off, const uint8_t *want,
		       size_t n)
{
	uint8_t p[TICKLE_PKT_MAX];

	assert_int_equal(tickle_pkt_build(c, p, sizeof(p)), want_len);
	assert_memory_equal(p + off, want, n);
}

/* RFC 791 3.1: IPv4 header from the portal to the initiator, for IP_HDRINCL. */
static void ipv4_header_goes_from_portal_to_initiator(void **state)
{
	const uint8_t want[20] = {0x45, 0,    0,   41, 0, 0,   0x40, 0,	 64, 6,
				  0xae, 0x14, 198, 18, 0, 100, 198,  18, 0,  50};
	struct repl_conn c = conn4();

	expect_pkt(&c, 41, 0, want, sizeof(want));
}

/* RFC 9293 3.1: ports, SEQ 0, ACK 0, offset 5, ACK flag, one zero byte of
 * data (tickle_pkt.h: not rate-limited by the initiator), known checksum. */
static void ipv4_tcp_ack_matches_known_vector(void **state)
{
	const uint8_t want[21] = {0x0c, 0xbc, 0xc8, 0x22, 0,	0,    0,    0, 0, 0, 0,
				  0,	0x50, 0x10, 0x10, 0x00, 0x3e, 0x3a, 0, 0, 0};
	struct repl_conn c = conn4();

	expect_pkt(&c, 41, 20, want, sizeof(want));
}

/* RFC 8200 8.1: IPv6 is the TCP header only, checksum over the pseudo-header. */
static void ipv6_tcp_ack_matches_known_vector(void **state)
{
	const uint8_t want[21] = {0x0c, 0xbc, 0xc8, 0x22, 0,	0,    0,    0, 0, 0, 0,
				  0,	0x50, 0x10, 0x10, 0x00, 0x6e, 0x33, 0, 0, 0};
	struct repl_conn c = conn6();

	expect_pkt(&c, 21, 0, want, sizeof(want));
}

/* RFC 1071: a header with its checksum in place sums to zero. */
static void ipv4_header_checksum_verifies(void **state)
{
	struct repl_conn c = conn4();
	uint8_t p[TICKLE_PKT_MAX];

	assert_int_equal(tickle_pkt_build(&c, p, sizeof(p)), 41);
	assert_int_equal(tickle_pkt_csum(0, p, 20), 0);
}

/* RFC 1071 4.1: an odd length is padded with a zero byte. */
static void checksum_of_odd_length_pads_with_zero(void **state)
{
	const uint8_t odd[3] = {0x12, 0x34, 0x56}, even[4] = {0x12, 0x34, 0x56, 0};

	assert_int_equal(tickle_pkt_csum(0, odd, 3), tickle_pkt_csum(0, even, 4));
	assert_int_equal(tickle_pkt_csum(0, odd, 3), (uint16_t) ~(0x1234 + 0x5600));
}

static void too_small_buffer_is_refused(void **state)
{
	struct repl_conn c4 = conn4(), c6 = conn6();
	uint8_t p[TICKLE_PKT_MAX];

	assert_int_equal(tickle_pkt_build(&c4, p, 40), -ENOSPC);
	assert_int_equal(tickle_pkt_build(&c6, p, 20), -ENOSPC);
}

static void unknown_family_is_refused(void **state)
{
	struct repl_conn c = conn4();
	uint8_t p[TICKLE_PKT_MAX];

	c.family = 5;
	assert_int_equal(tickle_pkt_build(&c, p, sizeof(p)), -EINVAL);
}

/* Only connections to one of our portals are tickled; a wildcard portal
 * takes any address of its family on its port. */
static void portal_match_needs_family_port_and_address(void **state)
{
	struct repl_conn c = conn4(), c6 = conn6();
	struct sockaddr_in s = {.sin_family = AF_INET, .sin_port = htons(3260)};
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons(3260)};

	inet_pton(AF_INET, "198.18.0.100", &s.sin_addr);
	assert_true(tickle_portal_match(&c, (struct sockaddr *)&s));
	assert_false(tickle_portal_match(&c6, (struct sockaddr *)&s));
	s.sin_port = htons(3261);
	assert_false(tickle_portal_match(&c, (struct sockaddr *)&s));
	s.sin_port = htons(3260);
	inet_pton(AF_INET, "198.18.0.101", &s.sin_addr);
	assert_false(tickle_portal_match(&c, (struct sockaddr *)&s));
	s.sin_addr.s_addr = htonl(INADDR_ANY);
	assert_true(tickle_portal_match(&c, (struct sockaddr *)&s));
	assert_true(tickle_portal_match(&c6, (struct sockaddr *)&s6)); /* [::]:3260 */
	inet_pton(AF_INET6, "2001:db8::101", &s6.sin6_addr);
	assert_false(tickle_portal_match(&c6, (struct sockaddr *)&s6));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ipv4_header_goes_from_portal_to_initiator),
		cmocka_unit_test(ipv4_tcp_ack_matches_known_vector),
		cmocka_unit_test(ipv6_tcp_ack_matches_known_vector),
		cmocka_unit_test(ipv4_header_checksum_verifies),
		cmocka_unit_test(checksum_of_odd_length_pads_with_zero),
		cmocka_unit_test(too_small_buffer_is_refused),
		cmocka_unit_test(unknown_family_is_refused),
		cmocka_unit_test(portal_match_needs_family_port_and_address),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
