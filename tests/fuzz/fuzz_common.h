/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers shared by the libFuzzer targets: a reader that takes fields off
 * the front of the fuzzer's input. Taking past the end yields zeros and
 * empty slices, so a target never reads outside the input and short inputs
 * are still meaningful.
 */
#ifndef HATGT_FUZZ_COMMON_H
#define HATGT_FUZZ_COMMON_H

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/be.h"

struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

/** Take up to \p want bytes; *got says how many there were. */
static inline const uint8_t *fuzz_take(struct fuzz_in *in, size_t want, size_t *got)
{
	const uint8_t *p = in->p;

	if (want > in->n)
		want = in->n;
	in->p += want;
	in->n -= want;
	*got = want;
	return p;
}

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
	size_t got;
	const uint8_t *p = fuzz_take(in, 1, &got);

	return got ? p[0] : 0;
}

static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
	return (uint16_t)((fuzz_u8(in) << 8) | fuzz_u8(in));
}

static inline uint32_t fuzz_u32(struct fuzz_in *in)
{
	return ((uint32_t)fuzz_u16(in) << 16) | fuzz_u16(in);
}

/* An invariant the code under test broke: print it and abort, so libFuzzer
 * records the input as a crash. */
#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__,       \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/*
 * Wait until \p fd (a completion eventfd) is readable. libFuzzer's -timeout
 * alarm interrupts poll(): EINTR is not a finding, the wait goes on.
 * *\p waited_ms adds up the quiet time over the calls for one request; past
 * \p limit_ms the request never completed, which is one.
 */
static inline void fuzz_wait_readable(int fd, int *waited_ms, int limit_ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	int rc;

	for (;;) {
		rc = poll(&pfd, 1, 100);
		if (rc > 0)
			return;
		if (rc < 0 && errno == EINTR)
			continue;
		FUZZ_CHECK(rc == 0);
		*waited_ms += 100;
		FUZZ_CHECK(*waited_ms < limit_ms);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
