/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PERSISTENT RESERVE OUT parameter lists (SPC-4 6.16, TransportIDs 7.6.4.6)
 * and the PR byte formats that replication and APTPL files carry, against
 * the pure PR module (daemon/scsi/pr.c).
 *
 *   initiator "iqn.2026-11.org.example:fuzz,i,0x00023d000001", rtpi 1,
 *   on an LU whose state already has three registrations and a WERO
 *   reservation held by another initiator port.
 *
 * Input: byte 0 picks the surface:
 *   0-5  (byte 0 % 8) PR OUT: bytes 1-2 are CDB bytes 1 (service action)
 *        and 2 (scope, type); the rest is the parameter list, its length in
 *        the CDB. A list the parser accepts must survive pr_cmd_encode ->
 *        pr_cmd_decode -> pr_cmd_encode byte for byte, and pr_apply of it
 *        must leave a state that encodes, decodes and re-encodes identically.
 *   6    the rest as a command message (pr_cmd_decode): strict, and what it
 *        accepts re-encodes to the same bytes.
 *   7    the rest as a state (pr_state_decode): the same.
 * Byte 0 == 0xff instead: the rest as the table of unit attentions kept for
 * initiators not logged in (pr_ua_pending_decode, carried in the cluster
 * snapshot): strict, and what it accepts re-encodes to the same bytes.
 * Any mismatch aborts (a finding).
 *
 * Build (standalone, from a configured build dir B):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -std=gnu11 -D_GNU_SOURCE \
 *     -I$SRC/daemon -I$B -include config.h $SRC/tests/fuzz/fuzz_pr_out.c \
 *     $SRC/daemon/scsi/pr.c -o fuzz_pr_out
 *   ./fuzz_pr_out -max_total_time=120 $SRC/tests/fuzz/corpus/pr_out
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scsi/pr.h"
#include "util/be.h"

static struct pr_state *fuzz_pr_base(void)
{
	static const char *ports[] = {
		"iqn.2026-11.org.example:a,i,0x00023d000001",
		"iqn.2026-11.org.example:b,i,0x00023d000002",
		"iqn.2026-11.org.example:fuzz,i,0x00023d000001",
	};
	struct pr_state *s = pr_state_create();
	struct pr_result res;
	struct pr_cmd c;
	size_t i;

	if (!s)
		abort();
	for (i = 0; i < 3; i++) {
		memset(&c, 0, sizeof(c));
		c.kind = PR_CMD_OUT;
		c.sa = PR_SA_REGISTER_IGNORE;
		c.sa_key = 0x10 + i;
		c.nexus.rtpi = 1;
		snprintf(c.nexus.port, sizeof(c.nexus.port), "%s", ports[i]);
		if (pr_apply(s, &c, &res) < 0)
			abort();
		pr_result_release(&res);
	}
	c.sa = PR_SA_RESERVE;
	c.type = PR_TYPE_WERO;
	c.key = 0x10;
	snprintf(c.nexus.port, sizeof(c.nexus.port), "%s", ports[0]);
	if (pr_apply(s, &c, &res) < 0)
		abort();
	pr_result_release(&res);
	return s;
}

/* The state must survive encode -> decode -> encode unchanged. */
static void fuzz_pr_state_check(const struct pr_state *s)
{
	uint8_t *a = NULL, *b = NULL;
	size_t alen, blen;
	struct pr_state *d = NULL;

	if (pr_state_encode(s, &a, &alen) < 0)
		goto out;
	if (pr_state_decode(a, alen, &d) < 0)
		abort(); /* a state we made must decode */
	if (!pr_state_equal(s, d) || pr_state_encode(d, &b, &blen) < 0 || blen != alen ||
	    memcmp(a, b, alen))
		abort();
out:
	free(a);
	free(b);
	pr_state_destroy(d);
}

static void fuzz_pr_cmd_check(const struct pr_cmd *c, const uint8_t *data, size_t size)
{
	uint8_t *a = NULL, *b = NULL;
	size_t alen, blen;
	struct pr_cmd d;

	if (pr_cmd_encode(c, &a, &alen) < 0)
		goto out;
	if (data && (alen != size || memcmp(a, data, size)))
		abort(); /* accepted bytes must be canonical */
	if (pr_cmd_decode(a, alen, &d) < 0)
		abort();
	if (pr_cmd_encode(&d, &b, &blen) < 0) {
		pr_cmd_release(&d);
		goto out;
	}
	if (blen != alen || memcmp(a, b, alen))
		abort();
	pr_cmd_release(&d);
out:
	free(a);
	free(b);
}

static void fuzz_pr_out(const uint8_t *data, size_t size)
{
	struct pr_nexus n = {.port = "iqn.2026-11.org.example:fuzz,i,0x00023d000001", .rtpi = 1};
	struct pr_caps caps = {.ptpl = data[0] & 1};
	uint8_t cdb[10] = {0x5f};
	struct pr_state *s;
	struct pr_result res;
	struct pr_cmd c;

	cdb[1] = size > 1 ? data[1] : 0;
	cdb[2] = size > 2 ? data[2] : 0;
	data += size > 3 ? 3 : size;
	size -= size > 3 ? 3 : size;
	put_be32(cdb + 5, (uint32_t)size);
	if (pr_out_parse(cdb, data, size, &n, &caps, &c, &res) < 0)
		return;
	fuzz_pr_cmd_check(&c, NULL, 0);
	s = fuzz_pr_base();
	if (pr_apply(s, &c, &res) == 0) {
		if (res.nuas > PR_REGS_MAX + 1 || res.naborts > PR_REGS_MAX + 1)
			abort();
		pr_result_release(&res);
	}
	fuzz_pr_state_check(s);
	(void)pr_check(s, &n, PR_CLASS_WRITE);
	pr_state_destroy(s);
	pr_cmd_release(&c);
}

static void fuzz_pr_ua_pending(const uint8_t *data, size_t size)
{
	struct pr_ua_pending *t = NULL;
	uint8_t *a = NULL;
	size_t alen;

	if (pr_ua_pending_decode(data, size, 1024, &t) < 0) {
		if (t)
			abort(); /* nothing on error */
		return;
	}
	if (pr_ua_pending_count(t) > 1024)
		abort();
	if (pr_ua_pending_encode(t, &a, &alen) == 0 && (alen != size || memcmp(a, data, size)))
		abort(); /* accepted bytes must be canonical */
	free(a);
	pr_ua_pending_destroy(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pr_state *s = NULL;
	struct pr_cmd c;

	if (size == 0)
		return 0;
	if (data[0] == 0xff) {
		fuzz_pr_ua_pending(data + 1, size - 1);
		return 0;
	}
	switch (data[0] % 8) {
	case 6:
		if (pr_cmd_decode(data + 1, size - 1, &c) == 0) {
			fuzz_pr_cmd_check(&c, data + 1, size - 1);
			pr_cmd_release(&c);
		}
		break;
	case 7:
		if (pr_state_decode(data + 1, size - 1, &s) == 0) {
			fuzz_pr_state_check(s);
			pr_state_destroy(s);
		}
		break;
	default:
		fuzz_pr_out(data, size);
		break;
	}
	return 0;
}
