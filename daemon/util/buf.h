/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A growable byte buffer for building text and wire data (login responses,
 * SendTargets, admin replies). The buffer owns its memory; buf_release()
 * frees it and leaves an empty buffer.
 */
#ifndef HATGT_UTIL_BUF_H
#define HATGT_UTIL_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	int err; /* sticky: -ENOMEM after a failed append; later appends do nothing */
};

#define BUF_INIT                                                                                   \
	{                                                                                          \
		NULL, 0, 0, 0                                                                      \
	}

/** Make room for \p extra more bytes. \return 0 or -ENOMEM (also sets err). */
int buf_reserve(struct buf *b, size_t extra);
/** Append \p len bytes. \return 0 or -ENOMEM. */
int buf_append(struct buf *b, const void *p, size_t len);
/** Append formatted text without the terminating NUL. \return 0 or -ENOMEM. */
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** Append "key=value\0", the iSCSI text key format (RFC 7143 section 6.1). */
int buf_add_kv(struct buf *b, const char *key, const char *value);
/** Free the memory; the buffer is empty and usable again. */
void buf_release(struct buf *b);

#endif
